"""`bimpe-iac drift`: what changed on BimpeAI outside bimpe-iac since the last apply."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from bimpe_iac.commands.options import color_enabled, open_stack, stack_options
from bimpe_iac.connection import open_client
from bimpe_iac.engine.drift import DriftReport
from bimpe_iac.engine.run import drift_report
from bimpe_iac.render.drift import render_drift_json, render_drift_markdown, render_drift_text
from bimpe_iac.resources import REGISTRY


@click.command("drift")
@stack_options
@click.option(
    "--unmanaged",
    is_flag=True,
    help="Also list the team's workflows, agents and phone links that this stack does not manage.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
def drift_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    unmanaged: bool,
    fmt: str,
) -> None:
    """Compare BimpeAI with the last apply; exit 0 when nothing drifted, 2 when something did.

    \b
    Examples:
      bimpe-iac drift examples/stacks/support
      bimpe-iac drift stacks/prod --env prod --unmanaged --format json
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    with workspace.store as store:
        state = store.read(stack.name, stack.environment)

    async def run() -> DriftReport:
        async with open_client(workspace.target) as client:
            return await drift_report(
                client, REGISTRY, stack, state, parallelism=parallelism, unmanaged=unmanaged
            )

    report = asyncio.run(run())
    if fmt == "json":
        click.echo(render_drift_json(report, mask=stack.mask), nl=False)
    elif fmt == "markdown":
        click.echo(render_drift_markdown(report, mask=stack.mask), nl=False)
    else:
        click.echo(render_drift_text(report, color=color_enabled(), mask=stack.mask))
    if report.has_drift:
        sys.exit(2)
