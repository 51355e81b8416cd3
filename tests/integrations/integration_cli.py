"""Helpers for the integration tests: the CLI run over loopback HTTP as a fresh team of the
session's emulator, stack directories written from text, every file below a directory as raw
bytes, and the emulator's admin call that completes onboardings as the person opening the URL
would."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from emulator_admin import Admin, Team

from bimpe_iac.emulator.server import RunningEmulator

PLAN_SUMMARY = re.compile(r"^(Plan: .*|No changes\..*)$", re.MULTILINE)


@dataclass
class Cli:
    """The CLI in-process, with the team's key, the emulator's URL and `env` set."""

    running: RunningEmulator
    team: Team
    admin: Admin
    sdk: BimpeAI
    env: dict[str, str | None] = field(default_factory=dict)

    @property
    def environ(self) -> dict[str, str | None]:
        return {
            "BIMPE_API_KEY": self.team.api_key,
            "BIMPE_BASE_URL": self.running.url,
            "NO_COLOR": "1",
            **self.env,
        }

    def __call__(self, *args: str | Path) -> Outcome:
        return invoke(*args, env=self.environ)

    def apply(self, stack: Path) -> Outcome:
        outcome = self("apply", stack, "--auto-approve")
        assert outcome.exit_code == 0, outcome.text
        return outcome

    def actionable(self, stack: Path) -> list[tuple[str, str]]:
        """(address, action) of every change a plan would make now."""
        planned = self("plan", stack, "--format", "json")
        assert planned.exit_code == 0, planned.text
        document = json.loads(planned.output)
        return [(c["address"], c["action"]) for c in document["changes"] if c["action"] != "noop"]

    def summary(self, stack: Path) -> tuple[str, Outcome]:
        planned = self("plan", stack)
        assert planned.exit_code == 0, planned.text
        found = PLAN_SUMMARY.search(planned.output)
        assert found, planned.output
        return found.group(1), planned

    def complete_onboarding(self, integration_id: str | None = None) -> list[Any]:
        """What a person opening the onboarding URL does, through the emulator's admin API."""
        body = None if integration_id is None else {"integration_id": integration_id}
        done: list[Any] = self.admin.call(
            "POST", f"/teams/{self.team.id}/onboarding/complete", body
        )
        return done

    def agent_id(self, name: str) -> str:
        return next(a.id for a in self.sdk.agents.list().data if a.name == name)


def write_stack(directory: Path, files: dict[str, str]) -> Path:
    """A stack directory holding `files` (relative path -> text)."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def raw_bytes_under(directory: Path) -> dict[str, bytes]:
    """Every file below `directory` (state, plan files, logs, .bimpe/), as raw bytes."""
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }
