"""`bimpe-iac plan`: show what apply would change, optionally saving the plan."""

from __future__ import annotations

import asyncio
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from bimpe_iac.commands.options import (
    color_enabled,
    lock_timeout_option,
    open_stack,
    stack_options,
)
from bimpe_iac.connection import open_client
from bimpe_iac.engine.model import Plan
from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.engine.run import make_plan
from bimpe_iac.render.json import render_plan_json
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.state.digests import Digests, digests_for


@click.command("plan")
@stack_options
@click.option("--target", "targets", multiple=True, help="Only this address and what it needs.")
@click.option("--max-deletions", type=click.IntRange(0), default=None)
@click.option("--destroy", is_flag=True, help="Plan to destroy everything the state manages.")
@click.option("--adopt", is_flag=True, help="Import live objects of the same name, not create.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the plan as JSON for `apply FILE`.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
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
    out: Path | None,
    fmt: str,
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
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    options = PlanOptions(
        destroy=destroy, targets=targets, max_deletions=max_deletions, adopt=adopt
    )
    with (
        workspace.store as store,
        store.lock("plan", timeout_s=lock_timeout) if lock else nullcontext(),
    ):
        state = store.read(stack.name, stack.environment)

        async def run() -> tuple[Plan, Digests]:
            async with open_client(workspace.target) as client:
                plan, _ = await make_plan(client, stack, state, options, parallelism=parallelism)
                return plan, digests_for(client, state.lineage)

        plan, digests = asyncio.run(run())
    sensitive = stack.sensitive_values
    if out is not None:
        out.write_text(
            render_plan_json(
                plan, sensitive_values=sensitive, digest=digests.text, key_check=digests.check
            ),
            encoding="utf-8",
        )
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
        for part in render_plan_markdown(plan, mask=stack.mask):
            click.echo(part)
    else:
        click.echo(render_plan_text(plan, color=color_enabled(), mask=stack.mask))
        if out is not None:
            click.echo(f"\nSaved the plan to {out}. Apply exactly it with: bimpe-iac apply {out}")
    if detailed_exitcode and plan.has_changes:
        sys.exit(2)
