"""`bimpe-iac apply` and `bimpe-iac destroy`: make BimpeAI match the manifests (or a saved
plan exactly), under the state lock, with progress and a summary."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import click

from bimpe_iac.commands.feedback import LockWaitNotice, ReadingProgress, phase_lines
from bimpe_iac.commands.interrupt import finish_on_interrupt, run, signals_raise, stop_on_sigterm
from bimpe_iac.commands.options import (
    allow_duplicates_option,
    color_enabled,
    lock_timeout_option,
    open_stack,
    stack_options,
    take_over_numbers_option,
)
from bimpe_iac.commands.saved_plan import environment_of_plan, load_saved_plan
from bimpe_iac.commands.targets import (
    APPLY_TARGET_HELP,
    DESTROY_TARGET_HELP,
    MAX_DELETIONS_HELP,
)
from bimpe_iac.commands.workspace import Workspace
from bimpe_iac.connection import open_client
from bimpe_iac.engine.executor import ApplyResult, Progress, Status
from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.engine.run import (
    PhaseDone,
    apply_plan,
    make_plan,
    needs_digests,
    settles_intents,
)
from bimpe_iac.errors import BimpeIacError, ManifestError
from bimpe_iac.model.plan import Change
from bimpe_iac.printable import one_line, visible
from bimpe_iac.render.outputs import ids_in, outputs_block
from bimpe_iac.render.progress import LiveProgress, format_apply_summary, format_progress
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.resources import REGISTRY
from bimpe_iac.ui import UI


class _ProgressLines:
    """One line per operation, for logs and CI: written in batches, at least every quarter of a
    second, because a thousand separate writes to a pipe cost more than the operations."""

    FLUSH_EVERY_S = 0.25

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._flushed_at = time.monotonic()

    def __call__(
        self, change: Change, status: Status, elapsed: float | None, detail: str | None
    ) -> None:
        line = format_progress(change.address, change.action, status, elapsed, detail)
        self._pending.append(visible(line))
        if time.monotonic() - self._flushed_at >= self.FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            click.echo("\n".join(self._pending))
            self._pending.clear()
        self._flushed_at = time.monotonic()


@contextmanager
def _progress_display() -> Iterator[Progress]:
    """A live table on a terminal; one line per operation otherwise (logs, CI)."""
    if UI.quiet:
        yield lambda change, status, elapsed, detail: None
        return
    if not sys.stdout.isatty():
        lines = _ProgressLines()
        try:
            yield lines
        finally:
            lines.flush()
        return
    with LiveProgress() as live:

        def update(
            change: Change, status: Status, elapsed: float | None, detail: str | None
        ) -> None:
            live.update(
                visible(change.address), status, None if detail is None else visible(detail)
            )

        yield update


class _Cancelled(Exception):
    """The answer at the prompt was not "yes"."""


def _after(progress: Progress, phases: PhaseDone) -> PhaseDone:
    """`phases`, each line after the progress lines written so far (a log shows them in order)."""

    def phase(name: str, seconds: float, counts: Mapping[str, int]) -> None:
        if isinstance(progress, _ProgressLines):
            progress.flush()
        phases(name, seconds, counts)

    return phase


def _confirm(auto_approve: bool, question: str) -> None:
    """Go on only after "yes"; any other answer (or the end of input) raises _Cancelled."""
    if auto_approve:
        return
    if not UI.can_prompt():
        raise BimpeIacError(
            "not running in a terminal: pass --auto-approve to apply without asking"
        )
    with signals_raise():  # before the question: a signal right after it must not be lost
        click.echo(f"{question}\n  Only 'yes' will be accepted: ", nl=False)
        try:
            answer = input()
        except EOFError:
            answer = ""
    if answer.strip() != "yes":
        raise _Cancelled


@contextmanager
def _cancelled_exits_1(command: str) -> Iterator[None]:
    """An answer but "yes" at the prompt: say so and exit 1, once the lock is released."""
    try:
        yield
    except _Cancelled:
        click.echo(f"{command.capitalize()} cancelled.", err=True)
        sys.exit(1)


def run_apply(
    workspace: Workspace,
    *,
    options: PlanOptions,
    saved_plan: Path | None,
    auto_approve: bool,
    parallelism: int,
    lock_timeout: float,
    command: str,
) -> ApplyResult | None:
    stack = workspace.stack
    with (
        _cancelled_exits_1(command),
        stop_on_sigterm(),
        workspace.store as store,
        LockWaitNotice(lock_timeout) as waiting,
        store.lock(command, timeout_s=lock_timeout, on_wait=waiting),
    ):
        waiting.acquired()
        state = store.read(stack.name, stack.environment)

        async def plan_and_apply() -> ApplyResult | None:
            async with open_client(workspace.target) as client:
                with ReadingProgress() as reading:
                    if saved_plan is not None:
                        plan, desired = await load_saved_plan(
                            client,
                            saved_plan,
                            stack,
                            state,
                            parallelism=parallelism,
                            progress=reading,
                            allow_duplicates=options.allow_duplicates,
                            take_over_numbers=options.take_over_numbers,
                        )
                    else:
                        plan, desired = await make_plan(
                            client,
                            REGISTRY,
                            stack,
                            state,
                            options,
                            parallelism=parallelism,
                            progress=reading,
                            phases=phase_lines,
                        )
                click.echo(render_plan_text(plan, color=color_enabled(), mask=stack.mask))
                if not plan.has_changes:
                    # After an API key change, or a lost answer to a create that made the
                    # object as wanted: record what is there.
                    if needs_digests(plan, state, stack, client) or settles_intents(plan, state):
                        await apply_plan(
                            client,
                            REGISTRY,
                            plan,
                            desired,
                            state,
                            store,
                            stack,
                            parallelism=parallelism,
                            progress=lambda *_: None,
                        )
                    return None
                if saved_plan is None:
                    verb = "perform these actions"
                    if options.destroy:
                        verb = (
                            "destroy these resources"
                            if options.targets
                            else "destroy everything this stack manages"
                        )
                    _confirm(
                        auto_approve,
                        f"\nDo you want to {verb} in {stack.name} ({stack.environment})?",
                    )
                click.echo("")
                started = time.perf_counter()
                stop = asyncio.Event()
                with _progress_display() as progress, finish_on_interrupt(stop):
                    result = await apply_plan(
                        client,
                        REGISTRY,
                        plan,
                        desired,
                        state,
                        store,
                        stack,
                        parallelism=parallelism,
                        progress=progress,
                        stop=stop,
                        phases=_after(progress, phase_lines),
                    )
                for address, reason in sorted(result.failed.items()):
                    click.echo(visible(f"Error: {address}: {reason}"), err=True)
                click.echo("")
                summary = format_apply_summary(
                    result.counts(),
                    failed=len(result.failed),
                    skipped=len(result.skipped),
                    interrupted=result.interrupted,
                    destroy=plan.destroy,
                )
                click.echo(f"{summary} ({time.perf_counter() - started:.1f}s)")
                if result.notices:
                    click.echo("\nAction needed by a person:")
                    for notice in result.notices:
                        click.echo(f"  {one_line(stack.mask(notice))}")
                return result

        result = run(plan_and_apply())
        applied = result is None or (result.ok and not result.interrupted)
        if applied and not options.destroy and stack.outputs:
            # The ids of the state just written.
            ids = ids_in(store.read(stack.name, stack.environment))
            click.echo(outputs_block(stack.outputs, ids, stack.mask))
    if result is not None and result.interrupted:
        raise KeyboardInterrupt  # as Ctrl-C anywhere: exit 130 (143 after SIGTERM)
    return result


@click.command("apply")
@stack_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--target", "targets", multiple=True, help=APPLY_TARGET_HELP)
@click.option("--max-deletions", type=click.IntRange(0), default=None, help=MAX_DELETIONS_HELP)
@click.option("--adopt", is_flag=True, help="Import live objects of the same name, not create.")
@allow_duplicates_option
@take_over_numbers_option
@lock_timeout_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Apply exactly this saved plan (from plan --out), in its environment.",
)
def apply_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    auto_approve: bool,
    targets: tuple[str, ...],
    max_deletions: int | None,
    adopt: bool,
    allow_duplicates: bool,
    take_over_numbers: bool,
    lock_timeout: float,
    plan_file: Path | None,
) -> None:
    """Make BimpeAI match the manifests.

    \b
    Examples:
      bimpe-iac apply examples/stacks/support --auto-approve
      bimpe-iac plan stacks/prod --env prod --out prod.plan.json
      bimpe-iac apply stacks/prod --env prod --plan prod.plan.json
    """
    if stack_dir.is_file() and plan_file is None:
        # `apply PLAN_FILE`, Terraform style: run from the stack directory.
        plan_file, stack_dir = stack_dir, Path(".")
    from_plan = plan_file is not None and env is None
    if plan_file is not None:
        env = environment_of_plan(plan_file, env)
    try:
        workspace = open_stack(stack_dir, env, parallelism, debug_http)
    except ManifestError as error:
        if not from_plan:
            raise
        raise ManifestError(
            f"{error}\n(the environment {env!r} is the one {plan_file} names)"
        ) from None
    result = run_apply(
        workspace,
        options=PlanOptions(
            targets=targets,
            max_deletions=max_deletions,
            adopt=adopt,
            allow_duplicates=allow_duplicates,
            take_over_numbers=take_over_numbers,
        ),
        saved_plan=plan_file,
        auto_approve=auto_approve or plan_file is not None,
        parallelism=parallelism,
        lock_timeout=lock_timeout,
        command="apply",
    )
    if result is not None and not result.ok:
        sys.exit(1)


@click.command("destroy")
@stack_options
@click.option("--auto-approve", is_flag=True, help="Destroy without asking.")
@click.option("--target", "targets", multiple=True, help=DESTROY_TARGET_HELP)
@lock_timeout_option
def destroy_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    auto_approve: bool,
    targets: tuple[str, ...],
    lock_timeout: float,
) -> None:
    """Destroy everything the stack's state manages (with --target, only part of it).

    \b
    Examples:
      bimpe-iac destroy examples/stacks/support --auto-approve
      bimpe-iac destroy . --target agents.support-bot.knowledge_bases.returns
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    result = run_apply(
        workspace,
        options=PlanOptions(destroy=True, targets=targets),
        saved_plan=None,
        auto_approve=auto_approve,
        parallelism=parallelism,
        lock_timeout=lock_timeout,
        command="destroy",
    )
    if result is not None and not result.ok:
        sys.exit(1)
