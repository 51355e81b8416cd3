"""A plan reads each collection once: one list per top-level collection and, per managed
agent, its knowledge bases and its actions; nothing is fetched twice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe


def _counters(bimpe: Bimpe, method: str = "GET") -> dict[str, int]:
    requests = Admin(bimpe.running).counters()["requests"]
    return {k: v for k, v in requests.items() if k.startswith(method)}


def _reset(bimpe: Bimpe) -> None:
    Admin(bimpe.running).reset_counters()


def test_noop_plan_issues_the_fewest_requests(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    _reset(bimpe)
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0
    # Two managed agents: each has its knowledge bases and actions read once.
    assert _counters(bimpe) == {
        "GET /workflows": 1,
        "GET /agents": 1,
        "GET /phone-numbers": 1,
        "GET /agents/{agent_id}/knowledge_bases": 2,
        "GET /agents/{agent_id}/actions": 2,
    }
    assert _counters(bimpe, "P") == {}


def test_first_plan_reads_one_agents_actions_to_check_new_names(
    bimpe: Bimpe, full_stack: Path
) -> None:
    """No agent of the stack exists: its action names are checked against one agent the team
    has (one request); on an empty team there is nothing to read."""
    _reset(bimpe)
    assert bimpe("plan", full_stack).exit_code == 0
    assert "GET /agents/{agent_id}/actions" not in _counters(bimpe)

    workflow = bimpe.sdk.workflows.create(name="Console workflow", system_prompt="Help.")
    for n in range(3):
        bimpe.sdk.agents.create(workflow_id=workflow.id, name=f"Console {n}", description="d")
    _reset(bimpe)
    assert bimpe("plan", full_stack).exit_code == 0
    counters = _counters(bimpe)
    assert counters["GET /agents/{agent_id}/actions"] == 1
    assert "GET /agents/{agent_id}/knowledge_bases" not in counters
