"""`bimpe-iac import ADDRESS ID`: record an existing BimpeAI object under a manifest address.

The state gets the object's live values (projected onto what the manifest writes), not the
manifest's, so the next plan shows exactly how the object differs from the manifest.
"""

from __future__ import annotations

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.diff import project
from bimpe_iac.engine.moves import follow_moved, stack_moves
from bimpe_iac.engine.planner import desired_resources
from bimpe_iac.engine.run import read_context, secrecy_for
from bimpe_iac.engine.session import StateSession
from bimpe_iac.errors import PlanError, StateError
from bimpe_iac.manifest import Stack
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.model.plan import Desired
from bimpe_iac.model.registry import Registry
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.model import ResourceState, StateDocument


def _check_free(address: str, id: str, want: Desired, stack: Stack, state: StateDocument) -> None:
    moved, _ = follow_moved(stack_moves(stack, state), state, stack.sections)
    entry = moved.resources.get(address)
    if entry is not None:
        raise StateError(
            f"{address} is already in the state (id {entry.id}); to manage another object"
            f" there, forget this one first with `bimpe-iac state rm {address}`"
        )
    for other, known in moved.resources.items():
        if (known.kind, known.id) == (want.kind, id):
            raise StateError(f"{id} is already in the state, as {other}")


async def import_resource(
    client: AsyncBimpeAI,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    address: str,
    id: str,
    *,
    store: StateStore,
    parallelism: int,
) -> list[str]:
    """Check that `id` is a live object that `address` can be, then record it in `state` and
    store it. The manifest's resources under `address` that the state does not hold yet
    (an agent's knowledge bases, say) are left to import."""
    context = await read_context(client, registry, stack, state, parallelism=parallelism)
    desired = desired_resources(registry.kinds, context)
    want = desired.get(address)
    if want is None:
        hint = did_you_mean(address, sorted(desired))
        raise PlanError(
            f"{address} is not in the manifests of {stack.name} ({stack.environment}){hint};"
            " declare it first"
        )
    _check_free(address, id, want, stack, state)
    kind = registry.kinds[want.kind]
    parent_id = None
    if want.parent is not None:
        parent = state.resources.get(want.parent)
        if parent is None:
            raise StateError(f"{address} belongs to {want.parent}: import {want.parent} first")
        parent_id = parent.id
    live = kind.read(address, ResourceState(kind=want.kind, id=id, parent_id=parent_id), context)
    if live is None:
        where = f" in {want.parent} ({parent_id})" if want.parent else ""
        raise PlanError(f"BimpeAI has no {kind.name} {id}{where} that {address} could be")
    if live.id != id:
        if want.parent is not None:
            raise PlanError(f"{address} has the id of {want.parent}: import it as {live.id}")
        raise PlanError(f"{address} is {live.id} in BimpeAI, not {id}")
    values = {field: project(value, live.values.get(field)) for field, value in want.values.items()}
    # A live leaf where the manifests put a secret may hold one they no longer give.
    secrecy = secrecy_for(client, stack, state)
    values = secrecy.live_view(values, None, want.values)
    async with StateSession(state, store, stack.mask, secrecy) as session:
        await session.record(
            address,
            kind=want.kind,
            id=id,
            parent_id=parent_id,
            values=values,
            depends_on=want.depends_on,
            prevent_destroy=want.lifecycle.prevent_destroy,
            created=False,
            ignore_changes=want.lifecycle.ignore_changes,
        )
    return sorted(a for a in desired if a.startswith(address + ".") and a not in state.resources)
