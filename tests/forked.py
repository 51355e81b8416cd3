"""Child processes forked from the test process: they start in milliseconds, with everything
already imported, and can be killed at any moment (lock and crash tests)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import signal
from collections.abc import Callable
from typing import Any

_fork = multiprocessing.get_context("fork")


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

    def join(self, timeout_s: float = 10) -> int | None:
        self.process.join(timeout_s)
        return self.process.exitcode
