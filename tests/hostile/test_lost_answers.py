"""Answers lost or cut short on the way back: the SDK tries again (with the same idempotency key
for a create), and every object exists once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import Hostile


def test_a_create_answer_dropped_after_the_server_committed_makes_no_twin(
    hostile: Hostile, small_stack: Path
) -> None:
    hostile.rule("POST", r"/agents$", times=1, drop=True)
    applied = hostile("apply", small_stack, "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert hostile.count("POST", r"/agents$") == 2
    assert Counter(a.name for a in hostile.sdk.agents.list().data) == {"Managed bot": 1}
    assert "No changes." in hostile("plan", small_stack).output


def test_a_listing_cut_short_is_read_again(hostile: Hostile, small_stack: Path) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")
    hostile.rule("GET", r"/agents\?", times=1, truncate=20)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
    assert hostile.count("GET", r"/agents\?") - listings == 2


def test_a_slow_answer_is_waited_for(hostile: Hostile, small_stack: Path) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    hostile.rule("GET", r"/agents\?", times=1, delay_s=1.5)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
