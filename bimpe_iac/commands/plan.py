"""`bimpe-iac plan`: show what apply would change, optionally saving the plan."""

from __future__ import annotations

import shlex
import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import click

from bimpe_iac.commands.feedback import LockWaitNotice, ReadingProgress, phase_lines
from bimpe_iac.commands.interrupt import run as run_stoppable
from bimpe_iac.commands.interrupt import stop_on_sigterm
from bimpe_iac.commands.options import (
    allow_duplicates_option,
    color_enabled,
    lock_timeout_option,
    open_stack,
    requested_vars,
    stack_options,
    take_over_numbers_option,
)
from bimpe_iac.commands.targets import MAX_DELETIONS_HELP, TARGET_HELP
from bimpe_iac.connection import open_client
from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.engine.run import make_plan
from bimpe_iac.errors import ConfigError
from bimpe_iac.manifest import VarOverrides
from bimpe_iac.model.plan import Plan
from bimpe_iac.render.json import render_plan_json
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.outputs import ids_after, outputs_block, outputs_markdown
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.render.values import Mask
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.digests import Digests, digests_for
from bimpe_iac.state.files import write_atomic


def apply_command_line(
    stack_dir: Path, environment: str, plan_file: Path, overrides: VarOverrides, mask: Mask
) -> str:
    """The command that applies `plan_file`, for a shell in the directory where plan ran: the
    paths as the user gave them (relative to it), quoted, and the same vars, a sensitive
    value reading "(sensitive)" for the user to fill in."""
    words = ["bimpe-iac", "apply", str(stack_dir), "--env", environment, "--plan", str(plan_file)]
    for file in overrides.files:
        words += ["--var-file", str(file)]
    for name, value in overrides.assignments:
        words += ["--var", f"{name}={mask(value)}"]
    return shlex.join(words)


@click.command("plan")
@stack_options
@click.option("--target", "targets", multiple=True, help=TARGET_HELP)
@click.option("--max-deletions", type=click.IntRange(0), default=None, help=MAX_DELETIONS_HELP)
@click.option("--destroy", is_flag=True, help="Plan to destroy everything the state manages.")
@click.option("--adopt", is_flag=True, help="Import live objects of the same name, not create.")
@allow_duplicates_option
@take_over_numbers_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the plan as JSON for `apply FILE`.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option(
    "--parts-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --format markdown: write each part to DIR/part-N.md (one per PR comment),"
    " replacing any part files there, instead of printing them.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 for no changes, 2 when there are changes, 1 on error.",
)
@click.option("--lock", is_flag=True, help="Hold the state lock while planning (not by default).")
@lock_timeout_option
def plan_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    targets: tuple[str, ...],
    max_deletions: int | None,
    destroy: bool,
    adopt: bool,
    allow_duplicates: bool,
    take_over_numbers: bool,
    out: Path | None,
    fmt: str,
    parts_dir: Path | None,
    detailed_exitcode: bool,
    lock: bool,
    lock_timeout: float,
) -> None:
    """Show the changes apply would make. It takes no lock unless given --lock.

    \b
    Examples:
      bimpe-iac plan examples/stacks/support
      bimpe-iac plan stacks/prod --env prod --out prod.plan.json
      bimpe-iac plan . --format markdown > plan.md
      bimpe-iac plan . --format markdown --parts-dir plan-parts
    """
    if parts_dir is not None and fmt != "markdown":
        raise click.UsageError("--parts-dir writes Markdown parts: add --format markdown")
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    vars_given = requested_vars()
    options = PlanOptions(
        destroy=destroy, targets=targets, max_deletions=max_deletions, adopt=adopt
    )
    options = replace(
        options, allow_duplicates=allow_duplicates, take_over_numbers=take_over_numbers
    )
    with (
        stop_on_sigterm(),
        workspace.store as store,
        LockWaitNotice(lock_timeout) as waiting,
        store.lock("plan", timeout_s=lock_timeout, on_wait=waiting) if lock else nullcontext(),
    ):
        waiting.acquired()
        state = store.read(stack.name, stack.environment)

        async def run() -> tuple[Plan, Digests]:
            async with open_client(workspace.target) as client:
                with ReadingProgress() as reading:
                    plan, _ = await make_plan(
                        client,
                        REGISTRY,
                        stack,
                        state,
                        options,
                        parallelism=parallelism,
                        progress=reading,
                        phases=phase_lines,
                    )
                return plan, digests_for(client, state.lineage)

        plan, digests = run_stoppable(run())
    sensitive = stack.sensitive_values
    if out is not None:
        saved = render_plan_json(
            plan, sensitive_values=sensitive, digest=digests.text, key_check=digests.check
        )
        save_plan(out, saved)
    if fmt == "json":
        click.echo(
            render_plan_json(
                plan,
                sensitive_values=sensitive,
                mask=stack.mask,
                digest=digests.text,
                key_check=digests.check,
            )
        )
    elif fmt == "markdown":
        outputs = (
            [] if destroy else outputs_markdown(stack.outputs, ids_after(plan, state), stack.mask)
        )
        parts = render_plan_markdown(plan, mask=stack.mask, appendix=outputs)
        if parts_dir is not None:
            write_parts(parts_dir, parts)
        else:
            for part in parts:
                click.echo(part)
    else:
        click.echo(render_plan_text(plan, color=color_enabled(), mask=stack.mask))
        block = (
            None if destroy else outputs_block(stack.outputs, ids_after(plan, state), stack.mask)
        )
        if block is not None:
            click.echo(block)
        if out is not None:
            click.echo(
                f"\nSaved the plan to {out}. Apply exactly it with: "
                f"{apply_command_line(stack_dir, stack.environment, out, vars_given, stack.mask)}"
            )
    if detailed_exitcode and plan.has_changes:
        sys.exit(2)


def save_plan(out: Path, text: str) -> None:
    """The plan file, mode 0600 whatever an earlier one had: a plan holds the stack's values.
    It replaces the file (or a symbolic link there) rather than writing through it."""
    try:
        write_atomic(out, text.encode())
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {out}: {exc.strerror or exc}") from None


def write_parts(directory: Path, parts: list[str]) -> None:
    """Each part in DIR/part-N.md, N from 1; part files of an earlier, longer plan are removed
    so that a recipe posting every file posts only this plan."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("part-*.md"):
        stale.unlink()
    for number, part in enumerate(parts, start=1):
        (directory / f"part-{number}.md").write_text(part + "\n", encoding="utf-8")
