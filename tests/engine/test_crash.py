"""An apply killed with SIGKILL at any moment loses nothing: the state file stays readable, and
the next apply converges with no duplicate, because creates replay their idempotency keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bimpeai import BimpeAI

from bimpe_iac.emulator.server import RunningEmulator


def _apply(stack: Path, running: RunningEmulator) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BIMPE_API_KEY": running.emulator.api_key,
        "BIMPE_BASE_URL": running.url,
        "NO_COLOR": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", "apply", str(stack), "--auto-approve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


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
        process = _apply(full_stack, running)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if _managed(state) >= reached:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        managed_after_kill.append(_managed(state))
    assert any(0 < count < 8 for count in managed_after_kill), managed_after_kill
    final = _apply(full_stack, running)
    assert final.wait(timeout=120) == 0

    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        assert Counter(w.name for w in sdk.workflows.list(scope="owned").data) == {
            "Main workflow": 1
        }
        agents = sdk.agents.list().data
        assert Counter(a.name for a in agents) == {"Full bot": 1, "Catalog bot": 1}
        bot = next(a for a in agents if a.name == "Full bot")
        kbs = Counter(kb.name for kb in sdk.agents.knowledge_bases.list(bot.id))
        assert kbs == {"FAQ": 1, "Site": 1}
    document = json.loads(state.read_text())
    assert document["intents"] == {}
    assert len(document["resources"]) == 8
