"""Compare desired and live values field by field, looking only at what the manifest manages.

Live values are projected onto the shape of the desired ones: keys the manifest does not write
(server defaults, fields added by the platform) are never compared, at any depth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from bimpe_iac.model.plan import FieldChange, Ref


def project(want: Any, have: Any) -> Any:
    """`have` cut down to the keys `want` has, recursively through dicts and equal-length lists."""
    if isinstance(want, dict) and isinstance(have, dict):
        want_dict = cast("dict[str, Any]", want)
        have_dict = cast("dict[str, Any]", have)
        return {key: project(value, have_dict.get(key)) for key, value in want_dict.items()}
    if isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        return [project(w, h) for w, h in zip(want, have, strict=True)]
    return have


def resolve_refs(value: Any, lookup: Callable[[str], str | None]) -> Any:
    """Replace each Ref whose id is known; unknown ones stay Refs ("known after apply")."""
    if isinstance(value, Ref):
        known = lookup(value.address)
        return value if known is None else known
    if isinstance(value, dict):
        return {k: resolve_refs(v, lookup) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [resolve_refs(v, lookup) for v in value]
    return value


def as_set(value: Any) -> Any:
    if isinstance(value, list):
        items = value
        return sorted(set(items), key=repr) if all(isinstance(i, str) for i in items) else value
    return value


def compare(
    desired: dict[str, Any],
    live: dict[str, Any],
    *,
    set_fields: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> tuple[FieldChange, ...]:
    """The fields whose desired value differs from the live one (before = live, after = desired)."""
    sets, ignored = set(set_fields), set(ignore)
    changes = []
    for field, want in desired.items():
        if field in ignored:
            continue
        have = live.get(field)
        if field in sets:
            have, want = as_set(have), as_set(want)
        projected = project(want, have)
        if isinstance(want, Ref) or want != projected:
            changes.append(FieldChange(field, projected, want))
    return tuple(changes)
