"""`bimpe-iac state ...`: inspect and edit what the state remembers.

`list` and `show` only read. `mv` and `rm` edit the state under its lock and never call
BimpeAI: a moved resource keeps its id, a removed one stays in BimpeAI, unmanaged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bimpe_iac.commands.options import lock_timeout_option, requested_vars, var_options
from bimpe_iac.commands.workspace import open_store, state_backend
from bimpe_iac.engine.state_edit import forget, moves_for, rename
from bimpe_iac.errors import StateError
from bimpe_iac.manifest import Stack, load_stack
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.model.plan import Move
from bimpe_iac.printable import visible
from bimpe_iac.render.values import block
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.model import StateDocument

F = TypeVar("F", bound=Callable[..., Any])


@click.group("state")
def state_group() -> None:
    """Inspect and edit the state of a stack."""


def stack_arguments(func: F) -> F:
    func = var_options(func)
    func = click.option("--env", "env", default=None, help="The environment of stack.yaml.")(func)
    return click.argument(
        "stack_dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".")
    )(func)


def open_state(stack_dir: Path, env: str | None) -> tuple[Stack, StateStore]:
    """The stack and its state store; no target is resolved, as these commands never call
    BimpeAI (and so need no API key)."""
    stack = load_stack(stack_dir, env, sections=REGISTRY.sections, overrides=requested_vars())
    return stack, open_store(state_backend(stack.state, os.environ), stack, os.environ)


def _edit(
    stack_dir: Path,
    env: str | None,
    command: str,
    lock_timeout: float,
    change: Callable[[StateDocument], None],
) -> None:
    """Read the state under its lock, `change` it, and write it as the next version."""
    stack, store = open_state(stack_dir, env)
    with store, store.lock(command, timeout_s=lock_timeout):
        state = store.read(stack.name, stack.environment)
        change(state)
        state.serial += 1
        store.write(state)


@state_group.command("list")
@stack_arguments
def list_command(stack_dir: Path, env: str | None) -> None:
    """List the resources the state manages: address, kind and id."""
    stack, store = open_state(stack_dir, env)
    with store:
        state = store.read(stack.name, stack.environment)
    if not state.resources:
        click.echo(f"The state of {stack.name} ({stack.environment}) manages nothing yet.")
        return
    rows = sorted(state.resources.items())
    address_width = max(len(address) for address, _ in rows)
    kind_width = max(len(entry.kind) for _, entry in rows)
    for address, entry in rows:
        click.echo(visible(f"{address:<{address_width}}  {entry.kind:<{kind_width}}  {entry.id}"))


@state_group.command("show")
@click.argument("address")
@stack_arguments
def show_command(address: str, stack_dir: Path, env: str | None) -> None:
    """Show what the state remembers of ADDRESS.

    Sensitive values are masked, as the state stores them.
    """
    stack, store = open_state(stack_dir, env)
    with store:
        state = store.read(stack.name, stack.environment)
    entry = state.resources.get(address)
    if entry is None:
        hint = did_you_mean(address, sorted(state.resources))
        raise StateError(f"{address} is not in the state{hint}")
    facts = [
        ("kind", entry.kind),
        ("id", entry.id),
        ("parent id", entry.parent_id or "-"),
        ("depends on", ", ".join(entry.depends_on) or "-"),
        ("prevent_destroy", json.dumps(entry.prevent_destroy)),
        ("generation", str(entry.generation)),
    ]
    click.echo(visible(f"# {address}"))
    for name, value in facts:
        click.echo(f"{name + ':':<17}{visible(stack.mask(value))}")
    click.echo("values (as last applied):")
    for line in block(entry.values) if entry.values else ["(none)"]:
        click.echo(f"  {stack.mask(line)}")


@state_group.command("mv")
@click.argument("old")
@click.argument("new")
@stack_arguments
@lock_timeout_option
def mv_command(old: str, new: str, stack_dir: Path, env: str | None, lock_timeout: float) -> None:
    """Rename OLD to NEW, children too; nothing is recreated.

    The id stays: the next plan compares the same object under its new address.

    \b
    Example:
      bimpe-iac state mv agents.support agents.helpdesk stacks/support --env prod
    """
    done: list[Move] = []

    def move(state: StateDocument) -> None:
        done.extend(rename(state, moves_for(state, old, new, REGISTRY.sections)))

    _edit(stack_dir, env, "state mv", lock_timeout, move)
    for item in done:
        click.echo(f"Moved {item.source} to {item.target}")


@state_group.command("rm")
@click.argument("address")
@stack_arguments
@lock_timeout_option
def rm_command(address: str, stack_dir: Path, env: str | None, lock_timeout: float) -> None:
    """Forget ADDRESS and its children; BimpeAI keeps them.

    They stay in BimpeAI, unmanaged. The next plan proposes to create what the manifests still
    declare: remove it from them too, or adopt it again with `bimpe-iac import` or
    `plan --adopt`.
    """
    gone: list[str] = []

    def remove(state: StateDocument) -> None:
        gone.extend(forget(state, address))

    _edit(stack_dir, env, "state rm", lock_timeout, remove)
    for item in gone:
        click.echo(f"Removed {item}")
    what = "1 resource; it stays" if len(gone) == 1 else f"{len(gone)} resources; they stay"
    click.echo(f"Forgot {what} in BimpeAI, unmanaged.")
