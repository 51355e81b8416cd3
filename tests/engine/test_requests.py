"""A plan reads each collection once: one list per top-level collection and, per managed
agent, its knowledge bases and its actions; nothing is fetched twice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from conftest import Bimpe


def _counters(bimpe: Bimpe, method: str = "GET") -> dict[str, int]:
    admin = {"Authorization": f"Bearer {bimpe.running.emulator.admin_token}"}
    data = httpx.get(f"{bimpe.running.url}/_emulator/counters", headers=admin).json()["data"]
    return {k: v for k, v in data["requests"].items() if k.startswith(method)}


def _reset(bimpe: Bimpe) -> None:
    admin = {"Authorization": f"Bearer {bimpe.running.emulator.admin_token}"}
    httpx.delete(f"{bimpe.running.url}/_emulator/counters", headers=admin).raise_for_status()


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
