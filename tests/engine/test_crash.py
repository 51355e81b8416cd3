"""An apply killed with SIGKILL at any moment loses nothing: the state file stays readable, and
the next apply converges with no duplicate, because creates replay their idempotency keys."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from cli_process import start_cli
from full_stack_checks import assert_applied_once

from bimpe_iac.emulator.server import RunningEmulator


def _managed(state: Path) -> int:
    """How many resources the state holds; it must parse at every moment."""
    if not state.exists():
        return 0
    return len(json.loads(state.read_text())["resources"])


def test_killed_applies_converge_without_duplicates(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path
) -> None:
    running = start_emulator(latency_ms=150)
    state = full_stack / ".bimpe" / "state" / "full" / "test.json"
    managed_after_kill = []
    for reached in (1, 3, 5):
        process = start_cli(running, "apply", full_stack)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if _managed(state) >= reached:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        managed_after_kill.append(_managed(state))
    assert any(0 < count < 8 for count in managed_after_kill), managed_after_kill
    final = start_cli(running, "apply", full_stack)
    assert final.wait(timeout=120) == 0

    assert_applied_once(running, state)
