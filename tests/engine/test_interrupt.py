"""Ctrl-C during an apply: SIGINT to an apply process mid-run.

Covers: one SIGINT lets the operations under way finish, starts no more, and exits 130 saying
"Aborted." (as Ctrl-C does anywhere in the CLI) without a traceback; the state file parses,
holds every operation the run reported done, and no intent of a create that was never sent; a
second SIGINT stops at once, also with exit 130, no traceback and a readable state; either
way, the next apply converges with every resource existing once, and a plan after it has
nothing to do.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_process import start_cli
from full_stack_checks import assert_applied_once

from bimpe_iac.emulator.server import RunningEmulator


def _state(path: Path) -> dict[str, Any]:
    """The state document; it must parse at every moment."""
    if not path.exists():
        return {"resources": {}, "intents": {}}
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _interrupt(process: subprocess.Popen[str], signals: int) -> list[str]:
    """Once the apply has sent its first request that waits for another (the agent on the
    workflow), send SIGINT `signals` times while that request is under way; its output lines."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("agents.bot: Creating..."):
            for _ in range(signals):
                time.sleep(0.03)
                process.send_signal(signal.SIGINT)
            break
    lines.extend(process.stdout)
    return lines


def _assert_converges(stack: Path, running: RunningEmulator, state: Path) -> None:
    final = start_cli(running, "apply", stack, capture=True)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    plan = start_cli(running, "plan", stack, capture=True)
    out, err = plan.communicate(timeout=120)
    assert plan.returncode == 0 and "No changes." in out, out + err

    assert_applied_once(running, state)


@pytest.mark.parametrize("signals", [1, 2], ids=["finish-under-way", "stop-at-once"])
def test_ctrl_c_stops_cleanly_and_the_next_apply_converges(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path, signals: int
) -> None:
    running = start_emulator(latency_ms=150)
    state = full_stack / ".bimpe" / "state" / "full" / "test.json"
    process = start_cli(running, "apply", full_stack, capture=True)
    out = "".join(_interrupt(process, signals))
    _, err = process.communicate(timeout=60)

    assert process.returncode == 130, out + err
    assert "Aborted." in err
    assert "Traceback" not in out + err
    document = _state(state)
    done = set(re.findall(r"^(\S+): \w+ complete", out, re.MULTILINE))
    assert done <= set(document["resources"]), done - set(document["resources"])
    assert 0 < len(document["resources"]) < 8, document["resources"].keys()
    if signals == 1:
        assert "Interrupted: finishing the operations under way" in err
        assert "Apply interrupted:" in out
        assert document["intents"] == {}

    _assert_converges(full_stack, running, state)
