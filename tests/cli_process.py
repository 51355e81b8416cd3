"""`bimpe-iac` in a process of its own, against a served emulator: for the tests that
interrupt or kill a run, which an in-process runner cannot survive."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from bimpe_iac.emulator.server import RunningEmulator


def start_cli(
    running: RunningEmulator,
    command: str,
    stack: Path,
    *,
    capture: bool = False,
    args: Sequence[str] | None = None,
    stdin: int | IO[str] | None = None,
) -> subprocess.Popen[str]:
    """Start `bimpe-iac COMMAND STACK ARGS` (ARGS by default --auto-approve for apply); with
    `capture`, its output is piped, line by line, else discarded."""
    env = {
        **os.environ,
        "BIMPE_API_KEY": running.emulator.api_key,
        "BIMPE_BASE_URL": running.url,
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
    }
    if args is None:
        args = ["--auto-approve"] if command == "apply" else []
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", command, str(stack), *args],
        env=env,
        stdin=stdin,
        stdout=output,
        stderr=output,
        text=True,
    )
