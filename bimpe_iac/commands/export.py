"""`bimpe-iac export`: write a team's live configuration as a stack directory."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import click

from bimpe_iac.commands.export_stack import export_stack
from bimpe_iac.commands.options import (
    emulator_option,
    emulator_requested,
    parallelism_option,
    requested_vars,
    say_notices,
    var_options,
)
from bimpe_iac.connection import DEFAULT_KEY_ENV, Target, resolve_target
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
from bimpe_iac.manifest.overrides import NO_OVERRIDES
from bimpe_iac.manifest.settings import DEFAULT_ENVIRONMENT
from bimpe_iac.resources import REGISTRY
from bimpe_iac.resources.export_keys import slugify


def check_key(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.match(KEY_PATTERN, value):
        raise click.BadParameter(f"'{value}' is not a valid key: use letters, digits, '-' and '_'")
    return value


def team_target(api_key_env: str | None, base_url: str | None, parallelism: int) -> Target:
    """The team named on the command line or by BIMPE_API_KEY; never, unasked, an empty
    local emulator."""
    emulator = emulator_requested()
    variable = api_key_env or DEFAULT_KEY_ENV
    if not emulator and not base_url and not os.environ.get(variable, "").strip():
        raise ConfigError(
            f"no team named: {variable} is not set, so export would read an empty local"
            " emulator; name the team with --api-key-env NAME or BIMPE_API_KEY (and"
            " --base-url), or export a stack's environment with --stack STACK --env ENV;"
            " pass --emulator to read the local emulator"
        )
    return resolve_target(
        base_url=base_url,
        api_key_env=variable,
        named=bool(api_key_env or base_url),
        emulator=emulator,
        parallelism=parallelism,
    )


@click.command("export")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The stack directory to write (with --stack, by default STACK-ENV beside STACK).",
)
@click.option(
    "--stack",
    "stack_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Export the team this stack's environment targets, as this stack writes it.",
)
@click.option(
    "--env",
    default=None,
    callback=check_key,
    help="The environment the stack declares (default: default); with --stack, its"
    " environment to read.",
)
@click.option(
    "--api-key-env",
    default=None,
    metavar="NAME",
    help="The environment variable holding the team's API key (default: BIMPE_API_KEY).",
)
@click.option("--base-url", default=None, help="The API's URL (default: BIMPE_BASE_URL).")
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
@var_options
def export_command(
    out: Path | None,
    stack_dir: Path | None,
    env: str | None,
    api_key_env: str | None,
    base_url: str | None,
    name: str | None,
    agent_ids: tuple[str, ...],
    force: bool,
    parallelism: int,
) -> None:
    """Write the team's workflows, agents, knowledge bases and phone links as a stack.

    The team is the one BIMPE_API_KEY (or --api-key-env) and BIMPE_BASE_URL (or --base-url)
    name, or the local emulator's with --emulator. The stack written names no target.
    With --stack, the team of that stack's environment, written as that stack writes it:
    `diff -r STACK OUT` shows what differs on the team.

    \b
    Examples:
      bimpe-iac export --out stacks/support
      bimpe-iac export --env prod --out prod-copy --agent agt_4f1c9e2a
      bimpe-iac export --stack stacks/kora --env prod --out /tmp/kora-prod
    """
    if stack_dir is not None:
        if agent_ids or name or api_key_env or base_url:
            raise click.UsageError(
                "--stack exports the stack's environment: --agent, --name, --api-key-env and"
                " --base-url do not apply"
            )
        export_stack(stack_dir, env, out, force=force, parallelism=parallelism)
        return
    if out is None:
        raise click.UsageError("Missing option '--out' (or name the stack with --stack).")
    if requested_vars() != NO_OVERRIDES:
        raise click.UsageError("--var and --var-file are the vars of a stack: give --stack")
    env = env or DEFAULT_ENVIRONMENT
    if not force and not is_empty(out):
        raise ConfigError(f"{out} is not empty; choose an empty directory or pass --force")
    target = team_target(api_key_env, base_url, parallelism)
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
