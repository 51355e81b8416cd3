"""The plan and apply jobs, composed from reading, planning and executing."""

from __future__ import annotations

from collections.abc import Mapping

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.executor import ApplyResult, Executor, Progress
from bimpe_iac.engine.model import Desired, Plan
from bimpe_iac.engine.planner import PlanOptions, build_plan, desired_resources
from bimpe_iac.engine.read import read_live
from bimpe_iac.engine.session import StateSession
from bimpe_iac.errors import PlanError
from bimpe_iac.manifest import Stack
from bimpe_iac.resources import KINDS
from bimpe_iac.resources.base import PlanContext
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.model import StateDocument


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
    context = await read_context(
        client, stack, state, parallelism=parallelism, destroy=options.destroy
    )
    plan = build_plan(KINDS, context, state, options)
    return plan, desired_resources(KINDS, context)


def check_fresh(plan: Plan, context: PlanContext, state: StateDocument) -> None:
    """Refuse a saved plan when anything it touches changed since it was made."""
    if plan.lineage != state.lineage:
        raise PlanError(
            "the saved plan was made for another state (lineage differs); make a new plan"
        )
    stale = []
    for change in plan.actionable:
        kind = KINDS[change.kind]
        live = kind.read(change.address, state.resources.get(change.address), context)
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
    store: LocalStateStore,
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
