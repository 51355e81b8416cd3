"""`bimpe-iac` in a process of its own, against a served emulator: for the tests that
interrupt or kill a run, which an in-process runner cannot survive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bimpe_iac.emulator.server import RunningEmulator


def start_cli(
    running: RunningEmulator, command: str, stack: Path, *, capture: bool = False
) -> subprocess.Popen[str]:
    """Start `bimpe-iac COMMAND STACK` (apply with --auto-approve); with `capture`, its output
    is piped, line by line, else discarded."""
    env = {
        **os.environ,
        "BIMPE_API_KEY": running.emulator.api_key,
        "BIMPE_BASE_URL": running.url,
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
    }
    args = ["--auto-approve"] if command == "apply" else []
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", command, str(stack), *args],
        env=env,
        stdout=output,
        stderr=output,
        text=True,
    )
