"""The plan and apply jobs, composed from reading, planning and executing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.adopt import find_adoptions
from bimpe_iac.engine.executor import ApplyResult, Executor, Progress
from bimpe_iac.engine.model import Desired, Plan
from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.engine.planner import PlanOptions, build_plan, desired_resources
from bimpe_iac.engine.read import read_children, read_live
from bimpe_iac.engine.session import StateSession
from bimpe_iac.engine.state_edit import rename
from bimpe_iac.errors import PlanError
from bimpe_iac.manifest import Stack
from bimpe_iac.resources import KINDS
from bimpe_iac.resources.base import PlanContext
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.model import ResourceState, StateDocument


async def read_context(
    client: AsyncBimpeAI,
    stack: Stack,
    state: StateDocument,
    *,
    parallelism: int,
    destroy: bool = False,
) -> PlanContext:
    fetched = await read_live(client, KINDS.values(), state.resources, parallelism)
    return PlanContext(stack, state.resources, fetched, destroy)


async def make_plan(
    client: AsyncBimpeAI,
    stack: Stack,
    state: StateDocument,
    options: PlanOptions,
    *,
    parallelism: int,
) -> tuple[Plan, dict[str, Desired]]:
    state, moved = follow_moved(stack.moved, state)
    context = await read_context(
        client, stack, state, parallelism=parallelism, destroy=options.destroy
    )
    adopted: dict[str, ResourceState] = {}
    if options.adopt and not options.destroy:
        adopted = await adopt(client, context, parallelism=parallelism)
        # The plan reads adopted objects as if managed; only apply records them.
        state = state.model_copy(update={"resources": {**state.resources, **adopted}})
        context = replace(context, state=state.resources)
    plan = build_plan(KINDS, context, state, options, imports=adopted)
    return replace(plan, moved=moved), desired_resources(KINDS, context)


async def adopt(
    client: AsyncBimpeAI, context: PlanContext, *, parallelism: int
) -> dict[str, ResourceState]:
    """The live objects to import (`engine.adopt`), once the children of adopted parents are
    read too."""
    desired = desired_resources(KINDS, context)
    parents = find_adoptions(KINDS, desired, context)
    await read_children(client, KINDS.values(), parents.values(), context.fetched, parallelism)
    return find_adoptions(KINDS, desired, context)


def _entries_of(plan: Plan, state: StateDocument) -> dict[str, ResourceState]:
    """The state as the saved plan sees it: renamed as it says, with its imports."""
    document = state.model_copy(deep=True)
    rename(document, plan.moved)
    entries = dict(document.resources)
    imports = {c.address: c.id for c in plan.changes if c.action == "import" and c.id}
    ids = {address: entry.id for address, entry in entries.items()} | imports
    for change in plan.changes:
        if change.address in imports:
            parent_id = ids.get(change.parent) if change.parent else None
            id = imports[change.address]
            entries[change.address] = ResourceState(kind=change.kind, id=id, parent_id=parent_id)
    return entries


async def check_fresh(
    client: AsyncBimpeAI,
    plan: Plan,
    context: PlanContext,
    state: StateDocument,
    *,
    parallelism: int,
) -> None:
    """Refuse a saved plan when anything it touches changed since it was made. A plan made
    before any state was written gives the new state its lineage."""
    if plan.serial == 0 and state.serial == 0:
        state.lineage = plan.lineage
    if plan.lineage != state.lineage:
        raise PlanError(
            "the saved plan was made for another state (lineage differs); make a new plan"
        )
    entries = _entries_of(plan, state)
    await read_children(client, KINDS.values(), entries.values(), context.fetched, parallelism)
    context = replace(context, state=entries)
    stale = []
    for change in plan.actionable:
        kind = KINDS[change.kind]
        live = kind.read(change.address, entries.get(change.address), context)
        now = live.fingerprint if live is not None else None
        if now != change.fingerprint:
            stale.append(change.address)
    if stale:
        raise PlanError(
            "the saved plan is stale: "
            + ", ".join(stale)
            + " changed since it was made; run plan again"
        )


async def apply_plan(
    client: AsyncBimpeAI,
    plan: Plan,
    desired: Mapping[str, Desired],
    state: StateDocument,
    store: StateStore,
    stack: Stack,
    *,
    parallelism: int,
    progress: Progress,
) -> ApplyResult:
    session = StateSession(state, store.write, stack.mask)
    executor = Executor(
        client, KINDS, session, plan, desired, parallelism=parallelism, progress=progress
    )
    return await executor.run()
