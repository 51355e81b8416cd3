"""What plan and apply say before the operations start, so that a slow API or a held lock does
not look like a hang.

Covers: with -v, one line per phase on stderr (reading, planning, applying, writing state) with
counts and a duration, and none without -v; on a terminal, reading the live state shows the
counts of collections, objects and agents read so far (rendered into a terminal console while
reading a real team); an apply that waits for another process's lock says who holds it (user,
host, pid, command, since), says again every few seconds how long it has waited, and then that
it took the lock, and applies; on a terminal the wait is one live line naming the holder.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bimpeai import AsyncBimpeAI
from cli_process import start_cli
from forked import Child
from rich.console import Console

from bimpe_iac.commands.feedback import LockWaitNotice, ReadingProgress
from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.engine.read import read_live
from bimpe_iac.errors import LockError
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.identity import hostname, username
from bimpe_iac.state.lock import hold_lock
from bimpe_iac.state.model import StateDocument

if TYPE_CHECKING:
    from conftest import Bimpe

PHASES = ("reading", "planning", "applying", "writing state")


def _state_file(stack: Path) -> Path:
    return stack / ".bimpe" / "state" / "full" / "test.json"


def test_verbose_prints_one_line_per_phase(bimpe: Bimpe, full_stack: Path) -> None:
    quiet = bimpe("apply", full_stack, "--auto-approve")
    assert quiet.exit_code == 0, quiet.text
    assert not any(line.startswith(PHASES) for line in quiet.text.splitlines())

    assert bimpe("destroy", full_stack, "--auto-approve").exit_code == 0
    verbose = bimpe("-v", "apply", full_stack, "--auto-approve")

    assert verbose.exit_code == 0, verbose.text
    lines = [line for line in verbose.stderr.splitlines() if line.startswith(PHASES)]
    assert [line.split(":")[0] for line in lines] == list(PHASES), verbose.stderr
    duration = r"\(\d+(\.\d)?m?s\)$"
    assert re.match(rf"reading: 3 collections, \d+ objects {duration}", lines[0]), lines[0]
    assert re.match(rf"planning: 8 resources, \d+ changes {duration}", lines[1]), lines[1]
    assert re.match(rf"applying: 8 done, 0 failed, 0 not started {duration}", lines[2]), lines[2]
    assert re.match(rf"writing state: \d+ writes, 8 resources {duration}", lines[3]), lines[3]
    assert "Apply complete!" in verbose.output

    again = bimpe("-v", "plan", full_stack)
    reading = next(line for line in again.stderr.splitlines() if line.startswith("reading"))
    assert re.match(rf"reading: 3 collections, \d+ objects, 2 agents {duration}", reading)


def test_reading_on_a_terminal_shows_what_was_read_so_far(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    state = StateDocument.model_validate_json(_state_file(full_stack).read_text())
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)

    async def read() -> None:
        client = AsyncBimpeAI(api_key=bimpe.running.emulator.api_key, base_url=bimpe.running.url)
        async with client:
            with ReadingProgress(console) as progress:
                await read_live(client, REGISTRY.kinds.values(), state.resources, 4, progress)

    asyncio.run(read())
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert re.search(r"Reading the live state: 3/3 collections, \d+ objects, 2/2 agents", shown)


def test_waiting_for_the_lock_says_who_holds_it_and_for_how_long(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path
) -> None:
    running = start_emulator()
    state = _state_file(full_stack)
    state.parent.mkdir(parents=True)
    with hold_lock(state, "apply (another run)"):
        process = start_cli(
            running,
            "apply",
            full_stack,
            capture=True,
            args=["--auto-approve", "--lock-timeout", "1m"],
        )
        assert process.stderr is not None
        waits = [process.stderr.readline(), process.stderr.readline()]
        time.sleep(1)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 0, out + err
    holder = f"{username()}@{hostname()} pid {os.getpid()} running 'apply (another run)' since "
    assert not any(line.startswith("Waiting for the state lock") for line in err.splitlines())
    assert waits[0].startswith("Waiting for the state lock (0.")
    assert waits[1].startswith("Waiting for the state lock (5")
    assert all("of at most 1m0s): it is held by " + holder in line for line in waits), waits
    assert re.search(r"^Took the state lock after waiting 6\.\d+s$", err, re.MULTILINE), err
    assert "Apply complete!" in out


def _hold(conn: Connection, path: Path) -> None:
    with hold_lock(path, "apply (another run)"):
        conn.send("held")
        conn.recv()


def test_waiting_for_the_lock_on_a_terminal_is_a_live_line(
    tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    state = tmp_path / "prod.json"
    holder = spawn(_hold, state)
    assert holder.receive() == "held"
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    lines: list[str] = []

    with (
        pytest.raises(LockError, match=r"still locked after waiting 1\.2s"),
        LockWaitNotice(1.2, console=console, echo=lines.append) as notice,
        hold_lock(state, "apply", timeout_s=1.2, on_wait=notice),
    ):
        pass

    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "Waiting for the state lock (" in shown
    assert f"pid {holder.pid} running 'apply (another run)' since " in shown
    assert lines == []  # no log lines on a terminal
