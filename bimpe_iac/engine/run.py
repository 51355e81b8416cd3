"""The plan and apply jobs, composed from reading, planning and executing."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.adopt import find_adoptions
from bimpe_iac.engine.drift import unchecked_fields, unchecked_warning
from bimpe_iac.engine.executor import ApplyResult, Executor, Progress
from bimpe_iac.engine.model import Desired, Plan
from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.engine.planner import PlanOptions, build_plan, desired_resources
from bimpe_iac.engine.read import read_children, read_live
from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.engine.session import StateSession
from bimpe_iac.manifest import Stack
from bimpe_iac.resources import KINDS
from bimpe_iac.resources.base import PlanContext
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.digests import digests_for
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
    secrecy = Secrecy(stack.sensitive_values, digests_for(client, state.lineage))
    return PlanContext(stack, state.resources, fetched, destroy, secrecy)


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
    desired = desired_resources(KINDS, context)
    plan = build_plan(KINDS, context, state, options, imports=adopted, desired=desired)
    plan = context.secrecy.seal(plan, state.resources, frozenset(adopted))
    unchecked = _unchecked(plan, context)
    warnings = (*plan.warnings, unchecked_warning(unchecked)) if unchecked else plan.warnings
    return replace(plan, moved=moved, warnings=warnings), desired


def _unchecked(plan: Plan, context: PlanContext) -> list[str]:
    """The sensitive fields of the plan's changes whose drift cannot be checked."""
    found = []
    for change in plan.changes:
        entry = context.state.get(change.address)
        if entry is None or not entry.sensitive:
            continue
        live = KINDS[entry.kind].read(change.address, entry, context)
        if live is not None:
            found += [
                f"{change.address}.{f}" for f in unchecked_fields(entry, live, context.secrecy)
            ]
    return found


async def adopt(
    client: AsyncBimpeAI, context: PlanContext, *, parallelism: int
) -> dict[str, ResourceState]:
    """The live objects to import (`engine.adopt`), once the children of adopted parents are
    read too."""
    desired = desired_resources(KINDS, context)
    parents = find_adoptions(KINDS, desired, context)
    await read_children(client, KINDS.values(), parents.values(), context.fetched, parallelism)
    return find_adoptions(KINDS, desired, context)


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
    stop: asyncio.Event | None = None,
) -> ApplyResult:
    """Run the plan's changes, storing the state as they finish; its last write (canonical,
    `StateSession.close`) happens even when the run is cancelled."""
    secrecy = Secrecy(stack.sensitive_values, digests_for(client, state.lineage))
    async with StateSession(state, store, stack.mask, secrecy) as session:
        executor = Executor(
            client,
            KINDS,
            session,
            plan,
            desired,
            parallelism=parallelism,
            progress=progress,
            stop=stop,
            mask=stack.mask,
        )
        return await executor.run()


def needs_digests(plan: Plan, state: StateDocument, stack: Stack, client: AsyncBimpeAI) -> bool:
    """Whether an apply of `plan` has something to record though it changes nothing: the keyed
    digests of sensitive fields made with another API key, recorded anew."""
    secrecy = Secrecy(stack.sensitive_values, digests_for(client, state.lineage))
    return any(
        change.action == "noop"
        and change.address in state.resources
        and secrecy.needs_digests(state.resources[change.address])
        for change in plan.changes
    )
