"""`pull` as one job: read the team and the state, find what changed in the Console
(`engine/pull.py`), write it into the stack's files, and record in the state that the
manifests and the team agree again.

Nothing is written before the result is known to load: the changed files are first laid
over a copy of the stack (beside it, removed afterwards), which must load, and the state
records as agreed only the fields that the loaded copy gives the live value of. Files are
written before the state: an interrupted pull leaves files that already say what the team
has, and the next pull, finding the manifests and the team alike, records them in the state.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.moves import follow_moved, stack_moves
from bimpe_iac.engine.planner import desired_resources
from bimpe_iac.engine.pull import PullReport, Take, agreed_fields, find_pulls, record_pulled, taking
from bimpe_iac.engine.run import read_context, secrecy_for
from bimpe_iac.engine.session import StateSession
from bimpe_iac.export.against import flatten
from bimpe_iac.export.layout import Layout, lay_out
from bimpe_iac.export.read import read_team
from bimpe_iac.export.run import known_addresses
from bimpe_iac.export.templates import environment_templates
from bimpe_iac.manifest import Stack, load_stack
from bimpe_iac.manifest.overrides import VarOverrides
from bimpe_iac.manifest.settings import WORK_DIR
from bimpe_iac.model.kind import PlanContext
from bimpe_iac.model.registry import Registry
from bimpe_iac.pull.new_entries import NewEntries, find_new
from bimpe_iac.pull.write import Pulled, write_pulls
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.model import StateDocument


@dataclass(frozen=True)
class PullOptions:
    take: Take | None = None
    targets: Collection[str] | None = None
    unmanaged: bool = False
    check: bool = False


@dataclass
class PullResult:
    report: PullReport
    new: NewEntries
    pulled: Pulled = field(default_factory=Pulled)
    recorded: int = 0
    """How many fields and new entries the state now records as the team has them."""

    @property
    def files(self) -> dict[str, str]:
        return {**self.pulled.files, **self.new.files}

    @property
    def something(self) -> bool:
        """Whether there is anything to pull (or a conflict to settle)."""
        return bool(self.report.fields or self.new.addresses)


async def _read(
    client: AsyncBimpeAI, registry: Registry, stack: Stack, state: StateDocument, parallelism: int
) -> tuple[PlanContext, Layout]:
    kinds = registry.kinds.values()
    team, context = await asyncio.gather(
        read_team(client, kinds, parallelism=parallelism),
        read_context(client, registry, stack, state, parallelism=parallelism),
    )
    return context, lay_out(
        team, registry.sections, known=known_addresses(state, registry.sections)
    )


def _copy_with(stack: Stack, files: Mapping[str, str], copy: Path) -> Path:
    """A copy of the stack directory at `copy` with `files` laid over it."""
    shutil.copytree(stack.directory, copy, ignore=shutil.ignore_patterns(WORK_DIR, ".git"))
    for relative, text in files.items():
        path = copy / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return copy


def _write_files(directory: Path, files: Mapping[str, str]) -> None:
    """Each file replaced whole (a temporary file renamed over it), never half written."""
    for relative, text in sorted(files.items()):
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.pull-{os.getpid()}")
        temporary.write_bytes(text.encode("utf-8"))
        os.replace(temporary, path)


async def pull(
    client: AsyncBimpeAI,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    store: StateStore,
    options: PullOptions,
    *,
    overrides: VarOverrides,
    schema: str | None,
    parallelism: int,
) -> PullResult:
    state, _ = follow_moved(stack_moves(stack, state), state, stack.sections)
    context, layout = await _read(client, registry, stack, state, parallelism)
    desired = desired_resources(registry.kinds, context)
    secrecy = secrecy_for(client, stack, state)
    report = find_pulls(registry.kinds, context, state, desired, secrecy, targets=options.targets)
    report = taking(report, options.take, options.targets)
    new = find_new(stack, state, layout, unmanaged=options.unmanaged, schema=schema)
    result = PullResult(report, new)
    if options.check or report.conflicts:
        return result
    templates = environment_templates(
        stack.directory, stack.environment, os.environ, overrides=overrides
    )
    result.pulled = write_pulls(stack, report, flatten_layout(layout, stack), templates, new)
    # Beside the stack, so that paths leading out of it (a module's source) lead alike.
    name = f".{stack.directory.name}.pull-{os.getpid()}-{secrets.token_hex(4)}"
    copy = stack.directory.parent / name
    try:
        pulled_stack = load_stack(
            _copy_with(stack, result.files, copy),
            stack.environment,
            sections=registry.sections,
            overrides=overrides,
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    after = replace(context, stack=pulled_stack)
    wanted = desired_resources(registry.kinds, after)
    agreed = agreed_fields(registry.kinds, after, state, wanted, secrecy)
    _write_files(stack.directory, result.files)
    async with StateSession(state, store, stack.mask, secrecy) as session:
        result.recorded = await record_pulled(
            session, registry.kinds, after, wanted, agreed, new.addresses
        )
    return result


def flatten_layout(layout: Layout, stack: Stack) -> dict[str, dict[str, object]]:
    return {address: data for address, (_, data) in flatten(layout, stack.sections).items()}
