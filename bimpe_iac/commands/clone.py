"""`bimpe-iac clone`: copy the live configuration of one environment's team into another's.

The source team is exported (workflows and agents by logical key, actions by `action_name`,
phone links by number) into a stack kept at STACK/.bimpe/clones/TO_ENV, which is then
planned and applied to the destination team with its own state. Running it again brings the
destination up to date with the source.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from bimpe_iac.commands.apply import run_apply
from bimpe_iac.commands.options import (
    emulator_option,
    emulator_requested,
    parallelism_option,
    requested_vars,
    var_options,
)
from bimpe_iac.commands.workspace import open_workspace
from bimpe_iac.connection import Target, open_client, resolve_target
from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.errors import ConfigError, PlanError
from bimpe_iac.export.layout import Layout
from bimpe_iac.export.read import Selection, read_phone_numbers
from bimpe_iac.export.run import export_team
from bimpe_iac.export.write import (
    TargetSettings,
    env_name,
    missing_credentials,
    render,
    schema_base,
    write_stack,
)
from bimpe_iac.manifest import InvalidStackError
from bimpe_iac.manifest.settings import StackSettings, load_settings
from bimpe_iac.resources import REGISTRY
from bimpe_iac.ui import UI


def _settings(directory: Path, env: str) -> StackSettings:
    loaded = load_settings(directory, env, os.environ, requested_vars())
    if loaded.settings is None:
        raise InvalidStackError(directory, loaded.issues)
    return loaded.settings


def _target(directory: Path, settings: StackSettings, parallelism: int) -> Target:
    target = resolve_target(
        base_url=settings.target.base_url,
        api_key_env=settings.target.api_key_env,
        named=settings.target.named,
        emulator=emulator_requested() or settings.target.emulator,
        emulator_db=directory / ".bimpe" / "emulator.db",
        parallelism=parallelism,
    )
    if not UI.quiet:
        for notice in target.notices:
            click.echo(f"{settings.environment}: {notice}", err=True)
    return target


def _written_target(settings: StackSettings) -> TargetSettings:
    """The copy names the destination's target as stack.yaml names it."""
    named = settings.target.model_fields_set
    return TargetSettings(
        api_key_env=settings.target.api_key_env if "api_key_env" in named else None,
        base_url=settings.target.base_url,
        emulator=settings.target.emulator,
    )


def _same_team(a: Target, b: Target) -> bool:
    if a.embedded or b.embedded:
        return a.embedded and b.embedded and a.emulator_db == b.emulator_db
    return a.base_url == b.base_url and a.api_key == b.api_key


async def _read(
    source: Target, destination: Target, agent_ids: Sequence[str], parallelism: int
) -> tuple[Layout, set[str]]:
    async def numbers() -> set[str]:
        async with open_client(destination) as client:
            return {str(n["e164"]) for n in await read_phone_numbers(client, parallelism)}

    layout, owned = await asyncio.gather(
        export_team(
            source,
            REGISTRY,
            selection=Selection("agent", tuple(agent_ids)) if agent_ids else None,
            parallelism=parallelism,
        ),
        numbers(),
    )
    return layout, owned


@click.command("clone")
@click.argument("stack_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--from-env", "source_env", required=True, help="The environment to copy.")
@click.option("--to-env", "destination_env", required=True, help="The environment to copy into.")
@click.option(
    "--agent",
    "agent_ids",
    multiple=True,
    metavar="ID",
    help="Only this agent of the source and what it needs; may be repeated.",
)
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@parallelism_option
@emulator_option
@var_options
def clone_command(
    stack_dir: Path,
    source_env: str,
    destination_env: str,
    agent_ids: tuple[str, ...],
    auto_approve: bool,
    parallelism: int,
) -> None:
    """Copy the team of one environment of STACK into the team of another.

    STACK's stack.yaml says where each environment's team is (target.base_url and
    target.api_key_env); its manifests are not used.

    \b
    Examples:
      bimpe-iac clone stacks/kora --from-env staging --to-env prod
      bimpe-iac clone . --from-env staging --to-env prod --agent agt_4f1c9e2a --auto-approve
    """
    if source_env == destination_env:
        raise ConfigError("--from-env and --to-env name the same environment")
    directory = stack_dir.absolute()
    source_settings = _settings(directory, source_env)
    settings = _settings(directory, destination_env)
    source = _target(directory, source_settings, parallelism)
    destination = _target(directory, settings, parallelism)
    if _same_team(source, destination):
        raise ConfigError(
            f"{source_env} and {destination_env} reach the same team ({source.describe()});"
            " give them different API keys through target.api_key_env"
        )
    layout, owned = asyncio.run(_read(source, destination, agent_ids, parallelism))
    missing = sorted(set(layout.section("phone_numbers")) - owned)
    if missing:
        many = len(missing) > 1
        raise PlanError(
            f"the team of {destination_env} does not have the phone number{'s' if many else ''}"
            f" {', '.join(missing)} linked to agents in {source_env}; get"
            f" {'them' if many else 'it'} for that team first, or clone only other agents"
            " with --agent"
        )
    unset = [
        line
        for var, line in zip(sorted(layout.variables), missing_credentials(layout), strict=True)
        if not os.environ.get(env_name(var))
    ]
    if unset:
        raise ConfigError(
            f"BimpeAI never returns credentials, so {destination_env} needs them from the"
            " environment; nothing was changed. Set: " + "; ".join(unset)
        )
    for warning in layout.warnings:
        click.echo(f"Warning: {warning}", err=True)

    copy = directory / ".bimpe" / "clones" / destination_env
    target = _written_target(settings)
    files = render(
        layout,
        name=settings.name,
        environment=destination_env,
        target=target,
        schemas=schema_base(copy),
    )
    write_stack(copy, files, replace=True)
    # The copy's own state; the destination reached as checked above.
    copied = open_workspace(
        copy, destination_env, emulator=destination.embedded, sections=REGISTRY.sections
    )
    workspace = replace(copied, target=destination)
    result = run_apply(
        workspace,
        options=PlanOptions(),
        saved_plan=None,
        auto_approve=auto_approve,
        parallelism=parallelism,
        lock_timeout=0.0,
        command="clone",
    )
    if result is not None and not result.ok:
        sys.exit(1)
    click.echo(f"Cloned {layout.summary()} from {source_env} into {destination_env}.")
    click.echo(f"The copy is the stack in {copy}.")
