"""A stack opened for a command: the loaded manifests, the target to talk to and the state."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bimpe_iac import secrets
from bimpe_iac.connection import Target, resolve_target
from bimpe_iac.errors import ConfigError
from bimpe_iac.manifest import LocalStateBackend, PostgresStateBackend, Stack, load_stack
from bimpe_iac.manifest.models import DEFAULT_STATE_DSN_ENV
from bimpe_iac.manifest.overrides import NO_OVERRIDES, VarOverrides
from bimpe_iac.manifest.settings import WORK_DIR, StateBackend
from bimpe_iac.model.sections import Sections
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.local import LocalStateStore


@dataclass(frozen=True)
class Workspace:
    stack: Stack
    target: Target
    state_path: Path
    """The state file, when the state is local."""

    @property
    def backend(self) -> StateBackend:
        return state_backend(self.stack.state, os.environ)

    @property
    def store(self) -> StateStore:
        """A new store of the stack's state; close it (or use it in a `with`) when done."""
        backend = self.backend
        if isinstance(backend, LocalStateBackend):
            return LocalStateStore(self.state_path)
        return open_store(backend, self.stack, os.environ)


def state_backend(declared: StateBackend, environ: Mapping[str, str]) -> StateBackend:
    """The backend stack.yaml names; when it has no `state:`, PostgreSQL if `BIMPE_STATE_DSN`
    is set, so that a team or a CI runner can share state without editing the stack."""
    implicit = isinstance(declared, LocalStateBackend) and not declared.declared
    if implicit and environ.get(DEFAULT_STATE_DSN_ENV, "").strip():
        return PostgresStateBackend(DEFAULT_STATE_DSN_ENV, declared.path)
    return declared


def open_store(backend: StateBackend, stack: Stack, environ: Mapping[str, str]) -> StateStore:
    if isinstance(backend, LocalStateBackend):
        return LocalStateStore(backend.path)
    dsn = environ.get(backend.dsn_env, "").strip()
    if not dsn:
        raise ConfigError(
            f"the state backend is postgres, but {backend.dsn_env} is not set: set it to the "
            "state database's connection string (postgresql://user:password@host:5432/db)"
        )
    secrets.remember([dsn])  # it may hold a password
    from bimpe_iac.state.postgres import PostgresStateStore  # psycopg loads only when used

    return PostgresStateStore(dsn, stack.name, stack.environment)


def _check_inside(directory: Path, path: Path) -> None:
    """Refuse a file of the stack's own that a symbolic link leads elsewhere
    (`BIMPE_EMULATOR_DB` names a database anywhere, on purpose)."""
    try:
        inside = path.resolve().is_relative_to(directory.resolve())
    except (OSError, RuntimeError):  # a loop of symbolic links
        inside = False
    if not inside:
        raise ConfigError(
            f"{path} leads outside the stack directory through a symbolic link; bimpe-iac keeps"
            " its state and emulator data inside the stack"
        )


def open_workspace(
    stack_dir: Path,
    env: str | None,
    *,
    parallelism: int = 16,
    debug_http: bool = False,
    emulator: bool = False,
    sections: Sections,
    overrides: VarOverrides = NO_OVERRIDES,
) -> Workspace:
    """The stack and its target, resolved before anything is read or written: a missing key
    stops here. `emulator`: use the embedded emulator whatever the environment names;
    `overrides`: the vars given on the command line."""
    stack = load_stack(stack_dir, env, sections=sections, overrides=overrides)
    default_db = stack.directory / WORK_DIR / "emulator.db"
    target = resolve_target(
        base_url=stack.target.base_url,
        api_key_env=stack.target.api_key_env,
        named=stack.target.named,
        emulator=emulator or stack.target.emulator,
        emulator_db=default_db,
        parallelism=parallelism,
        debug_http=debug_http,
    )
    if target.embedded and target.emulator_db == default_db:
        _check_inside(stack.directory, default_db)
    return Workspace(stack=stack, target=target, state_path=stack.state.path)
