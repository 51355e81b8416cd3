"""Reading a plan saved by `plan -out` for `apply PLANFILE`: the environment it was made for,
and the plan itself once the same plan made now agrees with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from bimpeai import AsyncBimpeAI

from bimpe_iac.commands.feedback import phase_lines
from bimpe_iac.engine.read import ReadProgress
from bimpe_iac.engine.run import make_plan
from bimpe_iac.engine.saved_plan import check_lineage, check_saved, options_for
from bimpe_iac.errors import PlanError
from bimpe_iac.manifest import Stack
from bimpe_iac.model.plan import Desired, Plan
from bimpe_iac.render.json import plan_from_document, read_plan_document
from bimpe_iac.render.markers import sensitive_lookup
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.digests import digests_for
from bimpe_iac.state.model import StateDocument


def environment_of_plan(path: Path, env: str | None) -> str | None:
    """The environment to apply the saved plan at `path` in: the plan's own, which `--env`
    (when given) must name too."""
    try:
        planned = read_plan_document(path.read_bytes()).environment
    except OSError as error:
        raise PlanError(f"{path}: cannot read the saved plan: {error.strerror}") from error
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None
    if env is not None and env != planned:
        raise PlanError(
            f"{path} is a plan of the environment {planned}, not of {env} (--env {env}):"
            f" apply it without --env, or make a plan of {env}"
        )
    return planned


async def load_saved_plan(
    client: AsyncBimpeAI,
    path: Path,
    stack: Stack,
    state: StateDocument,
    *,
    parallelism: int,
    progress: ReadProgress | None = None,
    allow_duplicates: bool = False,
    take_over_numbers: bool = False,
) -> tuple[Plan, dict[str, Desired]]:
    """The saved plan at `path`, once the same plan made now agrees with it (see
    `engine/saved_plan.py`), and the resources the manifests want."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise PlanError(f"{path}: cannot read the saved plan: {error.strerror}") from error
    try:
        document = read_plan_document(text)
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None
    if (document.stack, document.environment) != (stack.name, stack.environment):
        raise PlanError(
            f"{path} is a plan of {document.stack} ({document.environment}),"
            f" not of {stack.name} ({stack.environment})"
        )
    try:
        check_lineage(document.serial, document.lineage, state)
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None
    digests = digests_for(client, state.lineage)
    if document.key_check is not None and document.key_check != digests.check:
        raise PlanError(
            f"{path}: the saved plan was made with another API key (its keyed digests cannot"
            " be checked with this one); make a new plan"
        )
    options = options_for(
        document.destroy, ((c.address, c.action) for c in document.changes), document.targets
    )
    options = replace(
        options, allow_duplicates=allow_duplicates, take_over_numbers=take_over_numbers
    )
    again, desired = await make_plan(
        client,
        REGISTRY,
        stack,
        state,
        options,
        parallelism=parallelism,
        progress=progress,
        phases=phase_lines,
    )
    # The strings holding a sensitive value, as the manifests and BimpeAI give them now (a
    # destroy plan wants nothing, but what it removes may hold one).
    sources: list[Any] = [d.values for d in desired.values()]
    for change in again.changes:
        fields = [(item.before, item.after) for item in (*change.fields, *change.drift)]
        sources += [change.before, change.after, fields]
    digest = digests.text
    lookup = sensitive_lookup(sources, stack.sensitive_values, digest)
    try:
        plan = plan_from_document(document, resolve=lookup, digest=digest)
        check_saved(plan, again, state)
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None
    return plan, desired
