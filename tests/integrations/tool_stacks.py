"""Helpers for the custom API and MCP server tests: a stack directory written in a test's
temporary directory, the CLI run against the shared emulator's fresh team, and the plan's
changes read from `plan --format json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bimpeai import BimpeAI
from cli_runner import Outcome, invoke

WORKFLOW = """
workflows:
  main:
    name: Shop assistant
    system_prompt: You help shoppers with their orders.
"""


@dataclass
class StackRun:
    """A stack directory and the CLI run on it against one team of the emulator."""

    directory: Path
    url: str
    api_key: str
    env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def write(self, agents: str) -> None:
        """The stack with `agents` (YAML of the `agents:` section, indented by two)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "stack.yaml").write_text("name: shop\nenvironments:\n  test: {}\n")
        (self.directory / "resources.yaml").write_text(f"{WORKFLOW}agents:\n{agents}")

    def __call__(self, *args: str | Path) -> Outcome:
        environ: dict[str, str | None] = {
            "BIMPE_API_KEY": self.api_key,
            "BIMPE_BASE_URL": self.url,
            "NO_COLOR": "1",
            **self.env,
        }
        outcome = invoke(*args, env=environ)
        self.outputs.append(outcome.text)
        return outcome

    def apply(self) -> Outcome:
        outcome = self("apply", self.directory, "--auto-approve")
        assert outcome.exit_code == 0, outcome.text
        return outcome

    def changes(self) -> dict[str, str]:
        """The address and action of every change the next plan makes (no-ops left out)."""
        outcome = self("plan", self.directory, "--format", "json")
        assert outcome.exit_code == 0, outcome.text
        plan: dict[str, Any] = json.loads(outcome.output)
        return {c["address"]: c["action"] for c in plan["changes"] if c["action"] != "noop"}


def only_agent(sdk: BimpeAI) -> str:
    agents = list(sdk.agents.list(limit=100))
    assert len(agents) == 1, agents
    return agents[0].id


def files_holding(root: Path, secret: str) -> list[str]:
    """The files under `root` whose raw bytes hold `secret`."""
    needle = secret.encode()
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    )
