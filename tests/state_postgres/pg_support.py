"""Helpers of the PostgreSQL backend tests: state documents, forked child processes, stack
directories and the CLI run in-process."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bimpe_iac.cli import main
from bimpe_iac.state.model import ResourceState, StateDocument

STACK, ENVIRONMENT = "support", "prod"

_fork = multiprocessing.get_context("fork")


def make_state(serial: int = 1, resources: int = 3) -> StateDocument:
    doc = StateDocument(stack=STACK, environment=ENVIRONMENT, serial=serial)
    for n in range(resources):
        doc.resources[f"agents.bot_{n}"] = ResourceState(
            kind="agent",
            id=f"agt_{n:04d}",
            values={"name": f"Bot {n}", "temperature": 0.3, "tags": ["a", "b"], "api_key": "***"},
            hashes={"name": f"{n:032x}"},
            generation=1,
        )
    return doc


class Child:
    """A forked process running `target(conn, *args)`, which talks back through `conn`."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self._parent, child_end = _fork.Pipe()
        self.process: multiprocessing.process.BaseProcess = _fork.Process(
            target=target, args=(child_end, *args), daemon=True
        )
        self.process.start()
        child_end.close()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def receive(self, timeout_s: float = 20) -> Any:
        if not self._parent.poll(timeout_s):
            raise TimeoutError(f"child {self.pid} said nothing for {timeout_s}s")
        return self._parent.recv()

    def send(self, message: Any) -> None:
        self._parent.send(message)

    def kill(self) -> None:
        """SIGKILL, then reap: the process is gone when this returns."""
        if self.process.is_alive():
            os.kill(self.pid, signal.SIGKILL)
        self.process.join(10)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    stderr: str


def run_cli(*args: str | Path, env: Mapping[str, str | None] | None = None) -> Outcome:
    """The CLI in this process, through its error boundary, with `env` over os.environ."""
    runner = CliRunner()
    with runner.isolation(env={"NO_COLOR": "1", **(env or {})}) as (out, err, _):
        argv = sys.argv
        sys.argv = ["bimpe-iac", *map(str, args)]
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.argv = argv
        return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


def write_stack(directory: Path, stack_yaml: str, resources: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stack.yaml").write_text(stack_yaml)
    if resources:
        (directory / "resources.yaml").write_text(resources)
    return directory
