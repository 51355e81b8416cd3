"""A stack opened for a command: the loaded manifests, the target to talk to and the state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bimpe_iac.connection import Target, resolve_target
from bimpe_iac.manifest import Stack, load_stack
from bimpe_iac.state.local import LocalStateStore


@dataclass(frozen=True)
class Workspace:
    stack: Stack
    target: Target
    state_path: Path

    @property
    def store(self) -> LocalStateStore:
        return LocalStateStore(self.state_path)


def open_workspace(
    stack_dir: Path,
    env: str | None,
    *,
    parallelism: int = 16,
    debug_http: bool = False,
) -> Workspace:
    stack = load_stack(stack_dir, env)
    target = resolve_target(
        base_url=stack.target.base_url,
        api_key_env=stack.target.api_key_env,
        emulator_db=stack.directory / ".bimpe" / "emulator.db",
        parallelism=parallelism,
        debug_http=debug_http,
    )
    return Workspace(stack=stack, target=target, state_path=stack.state.path)
