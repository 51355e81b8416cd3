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


def test_an_insertion_between_pages_is_read_again_not_taken_for_a_duplicate(
    hostile: Hostile, small_stack: Path
) -> None:
    """An object inserted ahead while page 2 is read pushes the last of page 1 onto page 2:
    the total grows and an id repeats. The listing is read again, not refused."""
    others = _unmanaged_agents(hostile, 100)
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")

    def pushed(answer: dict) -> dict:  # type: ignore[type-arg]
        answer["data"].insert(0, hostile.sdk.agents.retrieve(others[-1]).model_dump(mode="json"))
        answer["meta"]["total_count"] += 1
        return answer

    hostile.rule("GET", r"/agents\?.*page=2", times=1, rewrite=pushed)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
    # Two pages, then the same two pages again.
    assert hostile.count("GET", r"/agents\?") - listings == 4


def test_a_listing_that_never_settles_is_exit_1(hostile: Hostile, small_stack: Path) -> None:
    _unmanaged_agents(hostile, 100)
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0

    def growing(answer: dict) -> dict:  # type: ignore[type-arg]
        answer["meta"]["total_count"] += 1
        return answer

    hostile.rule("GET", r"/agents\?.*page=2", rewrite=growing)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 1, plan.text
    assert "the listing of agents kept changing while it was read (3 times)" in plan.stderr
