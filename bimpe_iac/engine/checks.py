"""What is knowable before any change, checked once a plan is made: the kinds' own checks
(`Registry.plan_checks`: action names, phone numbers other agents hold) and same-name twins
(`engine/twins.py`). Only the changes the plan makes are checked, so a targeted plan is not
refused for what it leaves alone. Any issue fails the plan, located where the manifests write
it, before anything is changed."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.engine.read import read_samples
from bimpe_iac.engine.twins import find_twins
from bimpe_iac.manifest.issues import InvalidStackError
from bimpe_iac.model.kind import PlanContext
from bimpe_iac.model.plan import Desired, Plan
from bimpe_iac.model.registry import Registry


async def check_plan(
    client: AsyncBimpeAI,
    registry: Registry,
    plan: Plan,
    context: PlanContext,
    desired: Mapping[str, Desired],
    options: PlanOptions,
    *,
    pending: Collection[str],
    parallelism: int,
) -> tuple[str, ...]:
    """Raise `InvalidStackError` for what the plan's changes would get wrong; the warnings
    about them, located. `pending`: the addresses whose create was sent but not recorded
    (the state's intents)."""
    if options.destroy:
        return ()
    await read_samples(client, registry.kinds.values(), context.fetched, parallelism)
    issues = [issue for check in registry.plan_checks for issue in check(context, desired)]
    if not (options.adopt or options.allow_duplicates):
        issues += find_twins(registry.kinds, desired, context, pending=pending)
    planned = {change.address for change in plan.actionable}
    # `agents.bot.actions[1]` is about the change at `agents.bot.actions`.
    issues = [issue for issue in issues if issue.address.split("[", 1)[0] in planned]
    errors = [issue for issue in issues if not issue.warning]
    if errors:
        raise InvalidStackError(context.stack.directory, errors)
    return tuple(issue.render() for issue in issues if issue.warning)
