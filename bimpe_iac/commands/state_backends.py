"""`bimpe-iac state history|pull|migrate|lock status|force-unlock`: the stored versions of a
stack's state, moving it between backends, and its lock."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from bimpe_iac.commands.options import lock_timeout_option, requested_vars
from bimpe_iac.commands.state import open_state, stack_arguments, state_group
from bimpe_iac.commands.workspace import open_store, state_backend
from bimpe_iac.errors import StateError
from bimpe_iac.manifest import LocalStateBackend, PostgresStateBackend, Stack, load_stack
from bimpe_iac.manifest.models import DEFAULT_STATE_DSN_ENV
from bimpe_iac.manifest.settings import StateBackend
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.codec import encode_state
from bimpe_iac.state.identity import timestamp, utc_now
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.lockfile import LockInfo
from bimpe_iac.state.model import StateDocument
from bimpe_iac.state.moved import MovedMarker
from bimpe_iac.state.transfer import transfer

F = TypeVar("F", bound=Callable[..., Any])

LOCAL_VERSIONS = 2
"""The local backend keeps the current version and the one before it."""


@click.command("history")
@stack_arguments
def history_command(stack_dir: Path, env: str | None) -> None:
    """List the stored versions of the state, oldest first.

    The local backend keeps only the current version and the one before it (its .backup).
    """
    stack, store = open_state(stack_dir, env)
    with store:
        versions = store.history(stack.name, stack.environment)
    if not versions:
        click.echo(f"No state yet: {store.location}")
        return
    click.echo(f"Versions of {store.location}:")
    click.echo(f"{'SERIAL':>8}  {'WRITTEN':<24}  {'LINEAGE':<8}  {'RESOURCES':>9}  WRITER")
    for v in versions:
        w = v.writer
        writer = f"{w.user}@{w.host} pid {w.pid} '{w.command}'" if w else "-"
        click.echo(
            f"{v.serial:>8}  {v.written_at or '-':<24}  {v.lineage[:8]:<8}  {v.resources:>9}  "
            f"{writer}"
        )


@click.command("pull")
@stack_arguments
@click.option("--serial", type=click.IntRange(0), default=None, help="This version, not the last.")
def pull_command(stack_dir: Path, env: str | None, serial: int | None) -> None:
    """Print the state (or one earlier version of it) as JSON."""
    stack, store = open_state(stack_dir, env)
    with store:
        if serial is not None:
            doc = store.read_version(stack.name, stack.environment, serial)
        elif not store.history(stack.name, stack.environment):
            raise StateError(f"no state yet: {store.location}")
        else:
            doc = store.read(stack.name, stack.environment)
    click.echo(encode_state(doc).decode(), nl=False)


@click.command("migrate")
@stack_arguments
@click.option(
    "--to", "to", type=click.Choice(["local", "postgres"]), required=True, help="The backend."
)
@click.option(
    "--dsn-env",
    default=None,
    metavar="NAME",
    help=f"With --to postgres: the variable holding the DSN ({DEFAULT_STATE_DSN_ENV} by default).",
)
@lock_timeout_option
def migrate_command(
    stack_dir: Path,
    env: str | None,
    to: Literal["local", "postgres"],
    dsn_env: str | None,
    lock_timeout: float,
) -> None:
    """Move the state to another backend, keeping its versions, serial and lineage.

    \b
    Examples:
      BIMPE_STATE_DSN=postgresql://ci@db/infra bimpe-iac state migrate stacks/prod --to postgres
      bimpe-iac state migrate stacks/prod --env prod --to local
    """
    stack = load_stack(stack_dir, env, sections=REGISTRY.sections, overrides=requested_vars())
    target_backend = _target(stack.state, to, dsn_env)
    source_backend = _source(stack.state, target_backend, os.environ)
    source = open_store(source_backend, stack, os.environ)
    target = open_store(target_backend, stack, os.environ)
    keep = LOCAL_VERSIONS if to == "local" else None
    with (
        source,
        target,
        source.lock("state migrate", timeout_s=lock_timeout),
        target.lock("state migrate", timeout_s=lock_timeout),
    ):
        marker = target.moved() if isinstance(target, LocalStateStore) else None
        if isinstance(target, LocalStateStore) and marker is not None:
            target.restore_moved()  # the state comes back: its newer versions go on top
        try:
            copied = transfer(source, target, stack.name, stack.environment, keep=keep)
        except BaseException:
            if isinstance(target, LocalStateStore) and marker is not None:
                target.mark_moved(marker)
            raise
        current = target.read(stack.name, stack.environment)
        left = f"{source.location} is left as it was."
        if isinstance(source, LocalStateStore) and isinstance(target_backend, PostgresStateBackend):
            source.mark_moved(_moved_marker(target_backend, current, os.environ))
            left = (
                f"{source.path} now says where the state went, so that a run without "
                f"{target_backend.dsn_env} stops there; the old state is in {source.migrated_path}."
            )
    count = f"{len(copied)} version{'' if len(copied) == 1 else 's'}"
    click.echo(
        f"Migrated {count} from {source.location} to {target.location}: serial "
        f"{current.serial}, lineage {current.lineage}, {len(current.resources)} resources."
    )
    click.echo(f"{left} {_next_step(stack, target_backend)}")


def _moved_marker(
    target: PostgresStateBackend, current: StateDocument, environ: Mapping[str, str]
) -> MovedMarker:
    from bimpe_iac.state.pg_connection import describe_dsn

    return MovedMarker(
        dsn_env=target.dsn_env,
        location=describe_dsn(environ.get(target.dsn_env, "").strip()),
        serial=current.serial,
        lineage=current.lineage,
        moved_at=timestamp(utc_now()),
    )


@click.group("lock")
def lock_group() -> None:
    """The state's lock."""


@lock_group.command("status")
@stack_arguments
def lock_status_command(stack_dir: Path, env: str | None) -> None:
    """Show who holds the state's lock, and until when its lease runs."""
    _, store = open_state(stack_dir, env)
    with store:
        info = store.lock_status()
    if info is None:
        click.echo(f"Not locked: {store.location}")
        return
    click.echo(f"Locked: {store.location}")
    click.echo(_describe_lock(info))


@click.command("force-unlock")
@click.argument("lock_id")
@stack_arguments
def force_unlock_command(lock_id: str, stack_dir: Path, env: str | None) -> None:
    """Break the state's lock, if its id is LOCK_ID. Only for a run known to be dead: a
    crashed run's lock also expires by itself once its lease runs out."""
    _, store = open_state(stack_dir, env)
    with store:
        info = store.force_unlock(lock_id)
    click.echo(f"Unlocked {store.location}; the lock was held by {info.holder()}.")


def _describe_lock(info: LockInfo) -> str:
    left = (info.expires_at - utc_now()).total_seconds()
    when = f"in {left:.0f}s" if left > 0 else "expired: the next run takes it over"
    return "\n".join(
        [
            f"  holder:     {info.holder()}",
            f"  lock id:    {info.id}",
            f"  heartbeat:  {timestamp(info.heartbeat_at)}",
            f"  expires:    {timestamp(info.expires_at)} ({when})",
        ]
    )


def _target(declared: StateBackend, to: str, dsn_env: str | None) -> StateBackend:
    if to == "local":
        if dsn_env is not None:
            raise click.UsageError("--dsn-env goes with --to postgres")
        return LocalStateBackend(declared.path)
    if dsn_env is None:
        declared_env = declared.dsn_env if isinstance(declared, PostgresStateBackend) else None
        dsn_env = declared_env or DEFAULT_STATE_DSN_ENV
    return PostgresStateBackend(dsn_env, declared.path)


def _source(
    declared: StateBackend, target: StateBackend, environ: Mapping[str, str]
) -> StateBackend:
    """The backend in use, unless that is the target, as when `BIMPE_STATE_DSN` is set to
    migrate a stack whose stack.yaml has no `state:`: then the one stack.yaml names."""
    for candidate in (state_backend(declared, environ), declared):
        if not _same_place(candidate, target, environ):
            return candidate
    raise StateError("the state is already there: the target is the backend the stack uses")


def _same_place(a: StateBackend, b: StateBackend, environ: Mapping[str, str]) -> bool:
    if isinstance(a, LocalStateBackend) and isinstance(b, LocalStateBackend):
        return a.path.absolute() == b.path.absolute()
    if isinstance(a, PostgresStateBackend) and isinstance(b, PostgresStateBackend):
        return environ.get(a.dsn_env, "").strip() == environ.get(b.dsn_env, "").strip()
    return False


def _next_step(stack: Stack, target: StateBackend) -> str:
    implicit = isinstance(stack.state, LocalStateBackend) and not stack.state.declared
    if isinstance(target, LocalStateBackend):
        if implicit:
            return f"Runs without {DEFAULT_STATE_DSN_ENV} set use it now."
        return "To use it, set `state: {backend: local}` in stack.yaml."
    if target.dsn_env == DEFAULT_STATE_DSN_ENV and implicit:
        return f"Runs with {DEFAULT_STATE_DSN_ENV} set use it now."
    setting = "{backend: postgres" + (
        "" if target.dsn_env == DEFAULT_STATE_DSN_ENV else f", dsn_env: {target.dsn_env}"
    )
    return f"To use it, set `state: {setting}}}` in stack.yaml."


for command in (history_command, pull_command, migrate_command, lock_group, force_unlock_command):
    state_group.add_command(command)
