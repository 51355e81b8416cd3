"""The plan and apply jobs, composed from reading, planning and executing."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.adopt import find_adoptions
from bimpe_iac.engine.checks import check_plan
from bimpe_iac.engine.executor import ApplyResult, Executor, Progress
from bimpe_iac.engine.model import Desired, Plan
from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.engine.planner import PlanOptions, build_plan, desired_resources
from bimpe_iac.engine.read import read_children, read_live
from bimpe_iac.engine.session import StateSession
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
    context = replace(context, take_over_numbers=options.take_over_numbers)
    desired = desired_resources(KINDS, context)
    plan = build_plan(KINDS, context, state, options, imports=adopted, desired=desired)
    await check_plan(
        client,
        plan,
        context,
        desired,
        options,
        pending=state.intents.keys(),
        parallelism=parallelism,
    )
    return replace(plan, moved=moved), desired


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
    async with StateSession(state, store, stack.mask) as session:
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
