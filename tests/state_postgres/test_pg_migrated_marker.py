"""After `state migrate --to postgres`, the stack's old local state file cannot be used by mistake.

Covers: a run without the DSN (the variable unset in a new shell or a CI job that lacks it)
stops with exit 1, naming PostgreSQL and the variable, and creates nothing on the team, where it
used to read the stale local file and plan to re-create what exists; the old state is kept
beside the marker (`<env>.json.migrated`); with the DSN the stack has no changes; `state
migrate --to local` brings the state back and runs without the DSN use it again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from pg_support import run_cli, write_stack

from bimpe_iac.emulator.server import RunningEmulator

STACK_YAML = "name: support\nenvironments: {prod: {}}\n"
RESOURCES = """
workflows:
  triage: {name: Triage, system_prompt: You route support questions.}
agents:
  bot: {workflow: triage, name: Bot, description: Support bot}
"""


@pytest.fixture
def emulator(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator()


def team(emulator: RunningEmulator) -> Counter[str]:
    with BimpeAI(api_key=emulator.emulator.api_key, base_url=emulator.url) as sdk:
        names = [f"agent {a.name}" for a in sdk.agents.list()]
        names += [f"workflow {w.name}" for w in sdk.workflows.list() if w.name == "Triage"]
    return Counter(names)


def test_a_run_without_the_dsn_after_migrating_is_refused(
    tmp_path: Path, dsn: str, emulator: RunningEmulator
) -> None:
    stack = write_stack(tmp_path / "support", STACK_YAML, RESOURCES)
    api = {"BIMPE_API_KEY": emulator.emulator.api_key, "BIMPE_BASE_URL": emulator.url}
    local_only = {**api, "BIMPE_STATE_DSN": None}
    shared = {**api, "BIMPE_STATE_DSN": dsn}
    assert run_cli("apply", stack, "--auto-approve", env=local_only).exit_code == 0
    migrated = run_cli("state", "migrate", stack, "--to", "postgres", env=shared)
    assert migrated.exit_code == 0, migrated.stderr
    # A colleague, sharing the state now, renames the agent.
    (stack / "resources.yaml").write_text(RESOURCES.replace("name: Bot,", "name: Bot 2,"))
    assert run_cli("apply", stack, "--auto-approve", env=shared).exit_code == 0
    expected = Counter({"agent Bot 2": 1, "workflow Triage": 1})
    assert team(emulator) == expected

    for command in (("plan",), ("apply", "--auto-approve")):
        outcome = run_cli(*command, stack, env=local_only)
        assert outcome.exit_code == 1, outcome.text
        error = outcome.stderr.strip()
        assert len(error.splitlines()) == 1, error
        assert "moved to PostgreSQL" in error and "BIMPE_STATE_DSN" in error, error
        assert "Traceback" not in outcome.text
    assert team(emulator) == expected

    state_dir = stack / ".bimpe" / "state" / "support"
    kept = json.loads((state_dir / "prod.json.migrated").read_text())
    assert set(kept["resources"]) == {"workflows.triage", "agents.bot"}
    assert run_cli("plan", stack, env=shared).output.startswith("No changes.")

    back = run_cli("state", "migrate", stack, "--to", "local", env=shared)
    assert back.exit_code == 0, back.stderr
    again = run_cli("plan", stack, env=local_only)
    assert again.exit_code == 0, again.stderr
    assert again.output.startswith("No changes."), again.output
    assert not (state_dir / "prod.json.migrated").exists()
