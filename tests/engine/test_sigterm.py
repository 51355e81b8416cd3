"""SIGTERM (what CI sends to cancel a job) to an apply process, at each moment of its run.

Covers: mid-apply, one SIGTERM behaves as the first Ctrl-C (no new operations, those under way
finish and are stored, no intent left over); a second SIGTERM, or a Ctrl-C after it, stops at
once. Each exits 143 saying "Terminated.", without a traceback, and removes its lock file, and
the next apply converges with every object existing once. SIGTERM while reading the live state,
at the prompt, or while waiting for another run's lock stops at once with 143, changes nothing
and leaves no lock of its own (`plan --lock` too); Ctrl-C at the prompt stops at once with 130.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bimpeai import BimpeAI
from cli_process import start_cli
from full_stack_checks import assert_applied_once

from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.state.lock import hold_lock, read_lock


def _state_file(stack: Path) -> Path:
    return stack / ".bimpe" / "state" / "full" / "test.json"


def _lock_file(stack: Path) -> Path:
    return stack / ".bimpe" / "state" / "full" / "test.json.lock"


def _state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"resources": {}, "intents": {}}
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _owned_workflows(running: RunningEmulator) -> list[str]:
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        return [w.name for w in sdk.workflows.list(scope="owned").data]


def _wait_for(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _converges(stack: Path, running: RunningEmulator) -> None:
    """The next apply (which would fail on a lock left behind only if its holder lived) and a
    plan after it: everything exists once."""
    final = start_cli(running, "apply", stack, capture=True)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, out + err
    plan = start_cli(running, "plan", stack, capture=True)
    out, err = plan.communicate(timeout=120)
    assert plan.returncode == 0 and "No changes." in out, out + err
    assert_applied_once(running, _state_file(stack))


@pytest.mark.parametrize(
    "signals",
    [
        [signal.SIGTERM],
        [signal.SIGTERM, signal.SIGTERM],
        [signal.SIGTERM, signal.SIGINT],
    ],
    ids=["finish-under-way", "twice-stops-at-once", "then-ctrl-c"],
)
def test_sigterm_mid_apply_stops_cleanly_and_releases_the_lock(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path, signals: list[int]
) -> None:
    running = start_emulator(latency_ms=150)
    process = start_cli(running, "apply", full_stack, capture=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("agents.bot: Creating..."):
            for number in signals:
                time.sleep(0.03)
                process.send_signal(number)
            break
    lines.extend(process.stdout)
    out = "".join(lines)
    _, err = process.communicate(timeout=60)

    assert process.returncode == 143, out + err
    assert "Terminated." in err
    assert "Traceback" not in out + err
    assert not _lock_file(full_stack).exists()
    document = _state(_state_file(full_stack))
    done = set(re.findall(r"^(\S+): \w+ complete", out, re.MULTILINE))
    assert done <= set(document["resources"]), done - set(document["resources"])
    assert 0 < len(document["resources"]) < 8, document["resources"].keys()
    if len(signals) == 1:
        assert "Terminated: finishing the operations under way" in err
        assert "Apply interrupted:" in out
        assert document["intents"] == {}

    _converges(full_stack, running)


@pytest.mark.parametrize(
    "command", [["apply", "--auto-approve"], ["plan", "--lock"]], ids=["apply", "plan-lock"]
)
def test_sigterm_while_reading_stops_at_once(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path, command: list[str]
) -> None:
    running = start_emulator(latency_ms=3000)
    process = start_cli(running, command[0], full_stack, capture=True, args=command[1:])
    _wait_for(_lock_file(full_stack).exists)
    time.sleep(0.3)  # the first listings are under way, each answered after 3s
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 143, out + err
    assert time.monotonic() - sent < 2.5, "it waited for the listings"
    assert "Terminated." in err and "Traceback" not in out + err
    assert "Creating" not in out
    assert not _lock_file(full_stack).exists()
    assert _owned_workflows(running) == []


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: (the side the user types at, the side the command reads)."""
    user, command = pty.openpty()
    yield user, command
    for fd in (user, command):
        with contextlib.suppress(OSError):
            os.close(fd)


@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_at_the_prompt_stops_at_once(
    start_emulator: Callable[..., RunningEmulator],
    full_stack: Path,
    terminal: tuple[int, int],
    number: int,
    code: int,
) -> None:
    running = start_emulator()
    _, tty = terminal
    process = start_cli(running, "apply", full_stack, capture=True, args=[], stdin=tty)
    assert process.stdout is not None
    shown = ""
    while not shown.endswith("Only 'yes' will be accepted: "):
        character = process.stdout.read(1)
        assert character, shown
        shown += character
    process.send_signal(number)
    out, err = process.communicate(timeout=30)

    assert process.returncode == code, shown + out + err
    assert "Traceback" not in out + err
    assert not _lock_file(full_stack).exists()
    assert _owned_workflows(running) == []


def test_sigterm_while_waiting_for_the_lock_leaves_the_holder_alone(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path
) -> None:
    running = start_emulator()
    state = _state_file(full_stack)
    state.parent.mkdir(parents=True)
    with hold_lock(state, "apply (another run)") as held:
        process = start_cli(
            running,
            "apply",
            full_stack,
            capture=True,
            args=["--auto-approve", "--lock-timeout", "1m"],
        )
        assert process.stderr is not None
        said = process.stderr.readline()
        assert said.startswith("Waiting for the state lock"), said
        time.sleep(0.5)  # well into its wait
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
        err = said + err
        holder = read_lock(state)

    assert process.returncode == 143, out + err
    assert "Terminated." in err and "Traceback" not in out + err
    assert holder is not None and holder.id == held.id
    assert not _lock_file(full_stack).exists()
    assert _owned_workflows(running) == []
