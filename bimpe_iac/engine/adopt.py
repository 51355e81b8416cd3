"""Adoption (`plan --adopt`): a resource the manifest wants and the state does not know is
matched by name with a live object, which the plan then imports instead of creating a twin.

Parents are matched before their children, so the knowledge bases, actions and status of an
adopted agent are looked for in that agent. An object the state manages at another address is
never adopted, and a name that several live objects share is an error rather than a guess.
"""

from __future__ import annotations

from collections.abc import Container, Mapping

from bimpe_iac.errors import PlanError
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import Desired
from bimpe_iac.state.model import ResourceState


def find_adoptions(
    kinds: Mapping[str, ResourceKind], desired: Mapping[str, Desired], context: PlanContext
) -> dict[str, ResourceState]:
    """For each address the plan would create, the state entry of the live object to import."""
    managed = {(entry.kind, entry.id): address for address, entry in context.state.items()}
    found: dict[str, ResourceState] = {}
    claimed: dict[tuple[str, str], str] = {}
    for address in sorted(desired, key=lambda a: (desired[a].parent is not None, a)):
        want = desired[address]
        kind = kinds[want.kind]
        if address in context.state or kind.read(address, None, context) is not None:
            continue
        parent_id = None
        if want.parent is not None:
            parent = context.state.get(want.parent) or found.get(want.parent)
            if parent is None:
                continue
            parent_id = parent.id
        ids = namesakes(kind, want, parent_id, context, managed)
        if not ids:
            continue
        name = want.values.get("name")
        named = f" named {name!r}" if isinstance(name, str) else ""
        if len(ids) > 1:
            raise PlanError(
                f"{address}: cannot adopt: {len(ids)} live {kind.name}s{named} match it"
                f" ({', '.join(sorted(ids))}); choose one with `bimpe-iac import {address} ID`"
            )
        other = claimed.get((want.kind, ids[0]))
        if other is not None:
            raise PlanError(
                f"{other} and {address} both match the live {kind.name} {ids[0]}{named};"
                f" import it for one of them with `bimpe-iac import ADDRESS {ids[0]}`"
            )
        claimed[(want.kind, ids[0])] = address
        found[address] = ResourceState(kind=want.kind, id=ids[0], parent_id=parent_id)
    return found


def namesakes(
    kind: ResourceKind,
    want: Desired,
    parent_id: str | None,
    context: PlanContext,
    managed: Container[tuple[str, str]],
) -> list[str]:
    """The ids of the live objects named as `want` is that no state entry in `managed`
    ((kind, id) pairs) holds."""
    return [i for i in kind.adoptable(want, parent_id, context) if (want.kind, i) not in managed]
