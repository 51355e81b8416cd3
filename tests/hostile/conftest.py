"""Fixtures for runs of the CLI through the hostile proxy (`proxy.py`) in front of a private,
served emulator: `hostile` runs the CLI against the proxy, `hostile.sdk` sees the team as it
is, straight from the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from proxy import HostileProxy, Rule

from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import RunningEmulator

SMALL_STACK = {
    "stack.yaml": "name: small\nenvironments:\n  test: {}\n",
    "resources.yaml": """
workflows:
  main:
    name: Main workflow
    system_prompt: You answer briefly.
agents:
  bot:
    workflow: main
    name: Managed bot
    description: Managed here
    knowledge_bases:
      faq: {type: text, name: FAQ, content: "Q: hours? A: 8 to 8."}
""",
}


@dataclass
class Hostile:
    """The CLI, run in-process against the proxy with the emulator's key."""

    running: RunningEmulator
    proxy: HostileProxy
    sdk: BimpeAI

    def __call__(self, *args: str | Path) -> Outcome:
        return invoke(
            *args,
            env={
                "BIMPE_API_KEY": self.running.emulator.api_key,
                "BIMPE_BASE_URL": self.proxy.url,
                "NO_COLOR": "1",
            },
        )

    def rule(self, method: str, path: str, **what: Any) -> Rule:
        """Add a rule for API `path` (a regex after the API's prefix)."""
        return self.proxy.add(Rule(method, f"^{API_PREFIX}{path}", **what))

    def count(self, method: str, path: str) -> int:
        return self.proxy.count(method, f"^{API_PREFIX}{path}")


@pytest.fixture
def hostile(start_emulator: Callable[..., RunningEmulator]) -> Iterator[Hostile]:
    running = start_emulator()
    proxy = HostileProxy(running.url).start()
    try:
        with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
            yield Hostile(running, proxy, sdk)
    finally:
        proxy.stop()


@pytest.fixture
def small_stack(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    for name, text in SMALL_STACK.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root
