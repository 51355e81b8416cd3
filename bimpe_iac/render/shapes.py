"""What the renderer needs to know of a kind's fields: which lists are sets.

Read from the kinds' own declarations (`ResourceKind.set_fields`), so a set field shows the
items it gains and loses (`+ "vip"`) wherever a change of it is drawn.
"""

from __future__ import annotations

from bimpe_iac.resources import REGISTRY


def set_fields(kind: str) -> frozenset[str]:
    """The fields of `kind` compared as sets; none for a kind not registered."""
    found = REGISTRY.kinds.get(kind)
    return frozenset() if found is None else found.set_fields
