"""`bimpe-iac export`: write a team's live configuration as a stack directory."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import click

from bimpe_iac.commands.options import (
    emulator_option,
    emulator_requested,
    parallelism_option,
    say_notices,
)
from bimpe_iac.connection import resolve_target
from bimpe_iac.errors import ConfigError
from bimpe_iac.export.read import Selection
from bimpe_iac.export.run import export_team
from bimpe_iac.export.write import (
    TargetSettings,
    is_empty,
    missing_credentials,
    render,
    schema_base,
    write_stack,
)
from bimpe_iac.manifest.fields import KEY_PATTERN
from bimpe_iac.resources import REGISTRY
from bimpe_iac.resources.export_keys import slugify


def check_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.match(KEY_PATTERN, value):
        raise click.BadParameter(f"'{value}' is not a valid key: use letters, digits, '-' and '_'")
    return value


@click.command("export")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The stack directory to write.",
)
@click.option(
    "--env",
    default="default",
    show_default=True,
    callback=check_key,
    help="The environment the stack declares.",
)
@click.option(
    "--name", default=None, callback=check_key, help="The stack's name (default: from --out)."
)
@click.option(
    "--agent",
    "agent_ids",
    multiple=True,
    metavar="ID",
    help="Only this agent and what it needs; may be repeated.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a directory that is not empty, replacing its manifests, prompts/ and kb/.",
)
@parallelism_option
@emulator_option
def export_command(
    out: Path,
    env: str,
    name: str | None,
    agent_ids: tuple[str, ...],
    force: bool,
    parallelism: int,
) -> None:
    """Write the team's workflows, agents, knowledge bases and phone links as a stack.

    The team is the one BIMPE_API_KEY (and BIMPE_BASE_URL) names, or the local emulator's
    when no key is set or --emulator is given. The stack written names no target.

    \b
    Examples:
      bimpe-iac export --out stacks/support
      bimpe-iac export --env prod --out prod-copy --agent agt_4f1c9e2a
    """
    if not force and not is_empty(out):
        raise ConfigError(f"{out} is not empty; choose an empty directory or pass --force")
    target = resolve_target(parallelism=parallelism, emulator=emulator_requested())
    say_notices(target)
    selection = Selection("agent", agent_ids) if agent_ids else None
    job = export_team(target, REGISTRY, selection=selection, parallelism=parallelism)
    layout = asyncio.run(job)
    for warning in layout.warnings:
        click.echo(f"Warning: {warning}", err=True)
    files = render(
        layout,
        name=name or slugify(out.absolute().name, "exported"),
        environment=env,
        target=TargetSettings(),
        schemas=schema_base(out),
    )
    write_stack(out, files, replace=force)
    click.echo(f"Exported {layout.summary()} to {out}.")
    needed = missing_credentials(layout)
    if needed:
        click.echo(
            "\nBimpeAI never returns credentials: set these environment variables (sensitive"
            " vars in stack.yaml read them) before planning the exported stack:"
        )
        for line in needed:
            click.echo(f"  {line}")
    click.echo(f"Check it with: bimpe-iac validate {out} --env {env}")
