"""A create whose answer never came back leaves an intent in the state; the next run finds what
that create made before creating anything, so an address never gets a second object, whatever
the user did in between: edited the manifest (the object is updated), renamed it (found by the
replayed request), deleted it by hand (made once again), or destroyed the stack (nothing left).

Each answer is lost by the emulator's aimed fault: `POST /agents` is committed, then the
connection drops, for every try of that run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe

LOSE_AGENT_CREATES = [{"route": "POST /agents", "kind": "drop_after_commit", "count": 100}]


def _write(stack: Path, *, name: str = "Bot", description: str = "First") -> Path:
    stack.mkdir(exist_ok=True)
    (stack / "stack.yaml").write_text("name: lost\nenvironments:\n  test: {}\n")
    (stack / "resources.yaml").write_text(
        "workflows:\n"
        "  main: {name: Triage, system_prompt: Help.}\n"
        "agents:\n"
        "  bot:\n"
        "    workflow: main\n"
        f"    name: {name}\n"
        f"    description: {description}\n"
    )
    return stack


def _state(stack: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (stack / ".bimpe" / "state" / "lost" / "test.json").read_text()
    )
    return document


def _lose_the_create(bimpe: Bimpe, stack: Path) -> str:
    """Apply with every answer to the agent's create lost; the id of the agent it made."""
    admin = Admin(bimpe.running)
    admin.set_faults(aimed=LOSE_AGENT_CREATES)
    outcome = bimpe("apply", stack, "--auto-approve")
    admin.set_faults()
    assert outcome.exit_code == 1, outcome.output
    assert "agents.bot" in _state(stack)["intents"]
    (agent,) = bimpe.sdk.agents.list().data
    return agent.id


def _agents(bimpe: Bimpe) -> list[Any]:
    return list(bimpe.sdk.agents.list(limit=100).data)


def test_an_edited_manifest_updates_the_agent_the_lost_create_made(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    _write(stack, description="Second")

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert (agent.id, agent.name, agent.description) == (made, "Bot", "Second")
    state = _state(stack)
    assert state["intents"] == {} and state["resources"]["agents.bot"]["id"] == made
    assert "No changes." in bimpe("plan", stack).output


def test_a_saved_plan_applies_the_update_of_the_agent_the_lost_create_made(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    _write(stack, description="Second")
    saved = tmp_path / "lost.plan"

    assert bimpe("plan", stack, "--out", saved).exit_code == 0
    outcome = bimpe("apply", stack, "--plan", saved)

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert (agent.id, agent.description) == (made, "Second")


def test_an_edited_name_still_finds_the_agent_the_lost_create_made(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    _write(stack, name="Renamed bot", description="Second")

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert (agent.id, agent.name, agent.description) == (made, "Renamed bot", "Second")
    assert "No changes." in bimpe("plan", stack).output


def test_the_replayed_request_tells_which_namesake_the_lost_create_made(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    """Another agent of the same name, made by hand meanwhile: the listing cannot tell them
    apart, the replayed request (its key, its body) can."""
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    (workflow,) = bimpe.sdk.workflows.list(scope="owned").data
    other = bimpe.sdk.agents.create(name="Bot", description="By hand", workflow_id=workflow.id).id
    _write(stack, description="Second")

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    agents = {a.id: a for a in _agents(bimpe)}
    assert sorted(agents) == sorted([made, other])
    assert agents[made].description == "Second"
    assert _state(stack)["resources"]["agents.bot"]["id"] == made


@pytest.mark.parametrize("edited", [False, True])
def test_an_agent_deleted_by_hand_after_a_lost_create_is_made_once(
    bimpe: Bimpe, tmp_path: Path, edited: bool
) -> None:
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    bimpe.sdk.agents.delete(made)
    if edited:
        _write(stack, description="Second")

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert agent.id != made
    assert agent.description == ("Second" if edited else "First")
    assert _state(stack)["resources"]["agents.bot"]["id"] == agent.id
    assert "No changes." in bimpe("plan", stack).output


def test_destroy_after_a_lost_create_leaves_nothing(bimpe: Bimpe, tmp_path: Path) -> None:
    stack = _write(tmp_path / "lost")
    _lose_the_create(bimpe, stack)

    outcome = bimpe("destroy", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    assert _agents(bimpe) == []
    assert list(bimpe.sdk.workflows.list(scope="owned").data) == []
    state = _state(stack)
    assert state["resources"] == {} and state["intents"] == {}


def test_a_moved_address_takes_its_pending_create_along(bimpe: Bimpe, tmp_path: Path) -> None:
    stack = _write(tmp_path / "lost")
    made = _lose_the_create(bimpe, stack)
    resources = (stack / "resources.yaml").read_text().replace("  bot:", "  helper:")
    (stack / "resources.yaml").write_text(
        resources + "moved:\n  - {from: agents.bot, to: agents.helper}\n"
    )

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert agent.id == made
    state = _state(stack)
    assert state["resources"]["agents.helper"]["id"] == made and state["intents"] == {}
    assert "agents.bot" not in state["resources"]


def test_a_create_that_never_arrived_is_made_once(bimpe: Bimpe, tmp_path: Path) -> None:
    stack = _write(tmp_path / "lost")
    admin = Admin(bimpe.running)
    admin.set_faults(aimed=[{"route": "POST /agents", "kind": "drop_before", "count": 100}])
    assert bimpe("apply", stack, "--auto-approve").exit_code == 1
    admin.set_faults()
    assert _agents(bimpe) == [] and "agents.bot" in _state(stack)["intents"]
    _write(stack, description="Second")

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (agent,) = _agents(bimpe)
    assert agent.description == "Second"
    assert _state(stack)["resources"]["agents.bot"]["id"] == agent.id
    assert "No changes." in bimpe("plan", stack).output


def test_a_knowledge_base_whose_create_answer_was_lost_is_updated(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    stack = _write(tmp_path / "lost")
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    resources = stack / "resources.yaml"
    base = resources.read_text()
    resources.write_text(
        base + "    knowledge_bases:\n      faq: {type: text, name: FAQ, content: Open at 8.}\n"
    )
    admin = Admin(bimpe.running)
    route = "POST /agents/{agent_id}/knowledge_bases"
    admin.set_faults(aimed=[{"route": route, "kind": "drop_after_commit", "count": 100}])
    assert bimpe("apply", stack, "--auto-approve").exit_code == 1
    admin.set_faults()
    (agent,) = _agents(bimpe)
    (made,) = bimpe.sdk.agents.knowledge_bases.list(agent.id)
    resources.write_text(
        base + "    knowledge_bases:\n      faq: {type: text, name: FAQ, content: Open at 9.}\n"
    )

    plan = bimpe("plan", stack)
    assert "import" in plan.output and made.id in plan.output, plan.output
    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    (kb,) = bimpe.sdk.agents.knowledge_bases.list(agent.id)
    assert kb.id == made.id
    state = _state(stack)
    assert state["intents"] == {}
    assert state["resources"]["agents.bot.knowledge_bases.faq"]["id"] == made.id
    assert "No changes." in bimpe("plan", stack).output


def test_a_lost_answer_that_left_things_as_wanted_is_recorded(bimpe: Bimpe, tmp_path: Path) -> None:
    """The actions were enabled, then the run was killed before the answer (the state holds
    the intent, no entry): the next plan has nothing to change, and apply still records them,
    leaving no intent behind."""
    stack = _write(tmp_path / "lost")
    resources = stack / "resources.yaml"
    resources.write_text(resources.read_text() + "    actions: [send_email]\n")
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    state = stack / ".bimpe" / "state" / "lost" / "test.json"
    document = json.loads(state.read_text())
    entry = document["resources"].pop("agents.bot.actions")
    document["intents"]["agents.bot.actions"] = {
        "operation": "create",
        "idempotency_key": "bimpe-iac-killed",
        "body_hash": "",
        "started_at": "2026-01-01T00:00:00Z",
        "kind": "actions",
        "parent_id": entry["parent_id"],
        "body": {"enabled": ["send_email"]},
    }
    state.write_text(json.dumps(document))

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 0, outcome.output
    assert "No changes." in outcome.output
    recorded = _state(stack)
    assert recorded["intents"] == {}
    assert recorded["resources"]["agents.bot.actions"]["values"] == {"enabled": ["send_email"]}
