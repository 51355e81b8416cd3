"""`bimpe-iac clone`: make the team of one environment of a stack like another's.

The source team is written as the stack that manages it (`export --stack`): the stack's
addresses for what the source's state knows, and the stack's own text wherever the source's
live value is what that text renders to in the source, so the destination renders it with its
own vars. That copy is planned and applied to the destination with the destination's state,
where the stack keeps it: a rename in the source is an update in the destination, and after a
clone the stack's own plan for the destination knows every object the clone made.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
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
from bimpe_iac.commands.targets import MAX_DELETIONS_HELP
from bimpe_iac.commands.workspace import Workspace, open_workspace
from bimpe_iac.connection import Target, open_client
from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.errors import ConfigError, PlanError
from bimpe_iac.export.against import Written, as_stack
from bimpe_iac.export.numbers import NumberMap, linked_numbers, map_numbers
from bimpe_iac.export.read import Selection, read_phone_numbers
from bimpe_iac.export.run import Managed, export_managed
from bimpe_iac.export.templates import environment_templates
from bimpe_iac.export.write import env_name, write_stack
from bimpe_iac.manifest import Stack, load_stack
from bimpe_iac.manifest.settings import WORK_DIR
from bimpe_iac.model.sections import holder_of
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.model import StateDocument
from bimpe_iac.ui import UI


def _open(directory: Path, env: str, parallelism: int) -> Workspace:
    workspace = open_workspace(
        directory,
        env,
        parallelism=parallelism,
        emulator=emulator_requested(),
        sections=REGISTRY.sections,
        overrides=requested_vars(),
    )
    if not UI.quiet:
        for notice in workspace.target.notices:
            click.echo(f"{env}: {notice}", err=True)
    return workspace


def _same_team(a: Target, b: Target) -> bool:
    if a.embedded or b.embedded:
        return a.embedded and b.embedded and a.emulator_db == b.emulator_db
    return a.base_url == b.base_url and a.api_key == b.api_key


def _state(workspace: Workspace) -> StateDocument:
    with workspace.store as store:
        return store.read(workspace.stack.name, workspace.stack.environment)


async def _read(
    source: Workspace, destination: Target, agent_ids: tuple[str, ...], parallelism: int
) -> tuple[Managed, set[str]]:
    async def numbers() -> set[str]:
        async with open_client(destination) as client:
            return {str(n["e164"]) for n in await read_phone_numbers(client, parallelism)}

    selection = Selection("agent", agent_ids) if agent_ids else None
    job = export_managed(
        source.target,
        REGISTRY,
        source.stack,
        _state(source),
        selection=selection,
        parallelism=parallelism,
    )
    managed, owned = await asyncio.gather(job, numbers())
    return managed, owned


def _check_numbers(copy: Stack, owned: set[str], source_env: str, destination_env: str) -> None:
    missing = sorted(set(linked_numbers(copy).values()) - owned)
    if missing:
        many = len(missing) > 1
        raise PlanError(
            f"the team of {destination_env} does not have the phone number{'s' if many else ''}"
            f" {', '.join(missing)} linked to agents in {source_env}; get"
            f" {'them' if many else 'it'} for that team first, map {'each' if many else 'it'}"
            " to one it has with --map-number SRC=DST, or clone only other agents with --agent"
        )


def _check_credentials(written: Written, destination_env: str) -> None:
    unset = [
        f"{env_name(var)}: {what}"
        for var, what in sorted(written.variables.items())
        if not os.environ.get(env_name(var))
    ]
    if unset:
        raise ConfigError(
            f"BimpeAI never returns credentials, so {destination_env} needs them from the"
            " environment; nothing was changed. Set: " + "; ".join(unset)
        )


def _earlier_clone(directory: Path, destination: Workspace, state: StateDocument) -> bool:
    """Say what becomes of the copy an earlier clone kept in .bimpe/clones/ENV; whether to
    adopt the objects it made (the destination's own state knows nothing yet)."""
    old = directory / WORK_DIR / "clones" / destination.stack.environment
    if not old.is_dir():
        return False
    adopt = not state.resources
    click.echo(
        f"Note: {old} is the copy an earlier clone kept, with its own state; clone no longer"
        f" uses it: {destination.stack.environment}'s state is the stack's own."
        + (
            " The objects that clone made are adopted where their names match."
            if adopt
            else " Delete that directory."
        ),
        err=True,
    )
    return adopt


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
@click.option(
    "--map-number",
    "map_number",
    multiple=True,
    metavar="SRC=DST",
    help="Link number DST in the destination where the source links SRC; may be repeated.",
)
@click.option(
    "--max-deletions",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help=MAX_DELETIONS_HELP,
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
    map_number: tuple[str, ...],
    max_deletions: int,
    auto_approve: bool,
    parallelism: int,
) -> None:
    """Make the team of one environment of STACK like the team of another.

    What the source's team holds is written as STACK writes it (its templates, rendered with
    the destination's vars), then planned and applied to the destination's team with the
    destination's state. Deleting needs --max-deletions.

    \b
    Examples:
      bimpe-iac clone stacks/kora --from-env staging --to-env prod
      bimpe-iac clone . --from-env staging --to-env prod --map-number +15550100001=+15550100009
    """
    if source_env == destination_env:
        raise ConfigError("--from-env and --to-env name the same environment")
    numbers = NumberMap.parse(map_number)
    directory = stack_dir.absolute()
    source = _open(directory, source_env, parallelism)
    destination = _open(directory, destination_env, parallelism)
    if _same_team(source.target, destination.target):
        raise ConfigError(
            f"{source_env} and {destination_env} reach the same team"
            f" ({source.target.describe()}); give them different API keys through"
            " target.api_key_env"
        )
    managed, owned = asyncio.run(_read(source, destination.target, agent_ids, parallelism))
    chosen = _chosen(managed, agent_ids)
    sensitive = environment_templates(directory, destination_env, os.environ).sensitive
    templates = environment_templates(directory, source_env, os.environ, also_sensitive=sensitive)
    written = as_stack(
        source.stack, managed.plan, managed.layout, templates, schema=None, only=chosen
    )
    _check_credentials(written, destination_env)
    for warning in (*managed.layout.warnings, *written.warnings):
        click.echo(f"Warning: {source.stack.mask(warning)}", err=True)

    # Beside the stack, so that the sources of its modules name the same directories.
    scratch = tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}-clone-")
    with scratch as copy_dir:
        copy = Path(copy_dir)
        write_stack(copy, written.files)
        copied = load_stack(copy, destination_env, sections=REGISTRY.sections)
        if map_numbers(copied, numbers):
            copied = load_stack(copy, destination_env, sections=REGISTRY.sections)
        _check_numbers(copied, owned, source_env, destination_env)
        # The copy, with the destination's target and state where the stack keeps them.
        workspace = replace(destination, stack=replace(copied, state=destination.stack.state))
        adopt = _earlier_clone(directory, destination, _state(destination))
        result = run_apply(
            workspace,
            options=PlanOptions(
                targets=tuple(sorted(chosen or ())), max_deletions=max_deletions, adopt=adopt
            ),
            saved_plan=None,
            auto_approve=auto_approve,
            parallelism=parallelism,
            lock_timeout=0.0,
            command="clone",
        )
    if result is not None and not result.ok:
        sys.exit(1)
    click.echo(f"Cloned {managed.layout.summary()} from {source_env} into {destination_env}.")


def _chosen(managed: Managed, agent_ids: tuple[str, ...]) -> frozenset[str] | None:
    """The addresses of the agents `--agent` names, in the source's layout."""
    if not agent_ids:
        return None
    ids = managed.layout.ids
    return frozenset(a for a, id in ids.items() if id in agent_ids and holder_of(a) is None)
