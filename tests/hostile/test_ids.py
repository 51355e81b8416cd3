"""Finding 6: ids from the server are checked where they enter. An id that would climb out of
its request path is refused and never reaches the state; an id listed twice is an error that
names it, in plan and in export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Hostile

EVIL = "wf_x/../../workflows/wf_other"


def test_an_id_out_of_its_path_in_a_create_answer_is_refused(
    hostile: Hostile, small_stack: Path
) -> None:
    def evil_id(answer: Any) -> Any:
        answer["data"]["id"] = EVIL
        return answer

    hostile.rule("POST", r"/workflows$", times=1, rewrite=evil_id)
    applied = hostile("apply", small_stack, "--auto-approve")
    assert applied.exit_code == 1, applied.text
    assert repr(EVIL) in applied.text
    assert "Traceback" not in applied.text
    # The agent waits for its workflow's id: it was not started.
    assert hostile.sdk.agents.list().data == []
    assert not any(EVIL in p for _, p in hostile.proxy.requests)
    state = next((small_stack / ".bimpe").rglob("*.json"), None)
    assert state is None or EVIL not in state.read_text()

    # The state is not poisoned: the next run plans and applies.
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    assert "No changes." in hostile("plan", small_stack).output
    # The create sent again carries the same idempotency key: the workflow made the first
    # time is the one managed, not a twin.
    assert [w.name for w in hostile.sdk.workflows.list(scope="owned").data] == ["Main workflow"]
    assert [a.name for a in hostile.sdk.agents.list().data] == ["Managed bot"]


@pytest.mark.parametrize("command", ["plan", "export"])
def test_an_id_listed_twice_is_an_error_naming_it(
    hostile: Hostile, small_stack: Path, tmp_path: Path, command: str
) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    workflow = hostile.sdk.workflows.list(scope="owned").data[0]
    hostile.sdk.agents.create(workflow_id=workflow.id, name="Other", description="Not managed")
    agents = hostile.sdk.agents.list().data
    twice = agents[0].id

    def duplicated(answer: Any) -> Any:
        answer["data"][1]["id"] = twice
        return answer

    hostile.rule("GET", r"/agents\?", rewrite=duplicated)
    args = [small_stack] if command == "plan" else ["--out", tmp_path / "out"]
    outcome = hostile(command, *args)
    assert outcome.exit_code == 1, outcome.text
    assert f"BimpeAI listed agents with the same id twice: {twice}" in outcome.stderr
    assert not (tmp_path / "out").exists()


def test_an_id_out_of_its_path_in_a_listing_is_refused(hostile: Hostile, small_stack: Path) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0

    def evil_listing(answer: Any) -> Any:
        answer["data"][0]["id"] = EVIL
        return answer

    hostile.rule("GET", r"/agents\?", rewrite=evil_listing)
    outcome = hostile("plan", small_stack)
    assert outcome.exit_code == 1, outcome.text
    assert json.dumps(EVIL).strip('"') in outcome.stderr
    assert not any(EVIL in p for _, p in hostile.proxy.requests)
