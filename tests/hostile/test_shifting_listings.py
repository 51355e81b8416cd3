"""Finding 1: a listing that shifts between page reads must not make a managed object look
deleted, nor make the plan create it again."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import Hostile


def _unmanaged_agents(hostile: Hostile, count: int) -> list[str]:
    workflow = hostile.sdk.workflows.create(name="Other flow", system_prompt="Other.")
    return [
        hostile.sdk.agents.create(
            workflow_id=workflow.id, name=f"Other {n:03}", description="Not managed"
        ).id
        for n in range(count)
    ]


def test_a_deletion_between_pages_does_not_recreate_a_managed_agent(
    hostile: Hostile, small_stack: Path
) -> None:
    # 100 unmanaged agents sort first (oldest), so the managed one is the first of page 2.
    others = _unmanaged_agents(hostile, 100)
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    bot = next(a for a in hostile.sdk.agents.list(page=2, limit=100).data)
    assert bot.name == "Managed bot"

    # A colleague deletes the oldest agent after page 1 was read, before page 2 is.
    hostile.rule(
        "GET", r"/agents\?.*page=2", times=1, before=lambda: hostile.sdk.agents.delete(others[0])
    )
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
    assert "deleted outside" not in plan.text

    hostile.rule(
        "GET", r"/agents\?.*page=2", times=1, before=lambda: hostile.sdk.agents.delete(others[1])
    )
    applied = hostile("apply", small_stack, "--auto-approve")
    assert applied.exit_code == 0, applied.text
    names = Counter(a.name for p in (1, 2) for a in hostile.sdk.agents.list(page=p, limit=100).data)
    assert names["Managed bot"] == 1
    assert hostile.sdk.agents.retrieve(bot.id).name == "Managed bot"
    assert "No changes." in hostile("plan", small_stack).output


def test_a_managed_agent_missing_from_every_read_is_proven_gone_by_id(
    hostile: Hostile, small_stack: Path
) -> None:
    """A listing that lacks the managed agent on every read (a server that drops it): the
    plan reads it by id, finds it, and plans nothing; only a 404 makes it 'deleted outside'."""
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    bot = hostile.sdk.agents.list().data[0]

    def without_bot(answer: dict) -> dict:  # type: ignore[type-arg]
        answer["data"] = [a for a in answer["data"] if a["id"] != bot.id]
        return answer

    hostile.rule("GET", r"/agents\?", rewrite=without_bot)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
    assert hostile.count("GET", f"/agents/{bot.id}$") == 1

    hostile.sdk.agents.delete(bot.id)
    plan = hostile("plan", small_stack)
    assert "deleted outside" in plan.text
