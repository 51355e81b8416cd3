"""Persistence across an emulator restart on the same database.

Covers: the default team's key, teams and keys made through the admin API, and the admin token
surviving a restart; agents, workflows, knowledge bases, enabled actions, conversations and
messages, calls and linked phone numbers still there afterwards; an idempotency key replaying
its stored answer after the restart; and new objects being creatable with fresh ids.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bimpeai import BimpeAI

if TYPE_CHECKING:
    from conftest import PrivateEmulator


def test_everything_survives_a_restart(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    db = tmp_path / "restart.db"
    first = private_emulator(db)
    admin_token = first.running.emulator.admin_token
    default_key = first.api_key
    team = first.admin.new_team("restart team")
    number = first.admin.assign_number(team, "+15557654321", "Main line")

    with BimpeAI(api_key=team.api_key, base_url=first.url) as client:
        workflow = client.workflows.create(
            idempotency_key="wf-before-restart", name="Kept", system_prompt="Stay."
        )
        agent = client.agents.create(workflow_id=workflow.id, name="Kept agent", description="d")
        kb = client.agents.knowledge_bases.create(
            agent.id, {"type": "text", "name": "Hours", "content": "9 to 5"}
        )
        action = client.agents.actions.list(agent.id)[0]
        client.agents.actions.enable(agent.id, action_ids=[action.id])
        client.agents.update_live_status(agent.id, status="live", status_reason="Launched")
        sent = client.conversations.send(
            agent.id, message="Hello", channel_type="whatsapp", channel_user_id="+2348000000000"
        )
        client.phone_numbers.update(number["id"], agent_id=agent.id)
        call = client.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": True})
    with BimpeAI(api_key=default_key, base_url=first.url) as default:
        default_workflow = default.workflows.create(name="Default team flow", system_prompt="p")
    first.running.stop()

    second = private_emulator(db)
    assert second.running.emulator.admin_token == admin_token
    assert second.api_key == default_key
    assert {t["id"] for t in second.admin.call("GET", "/teams")} >= {team.id}

    with BimpeAI(api_key=default_key, base_url=second.url) as default:
        assert [w.id for w in default.workflows.list(scope="owned")] == [default_workflow.id]

    with BimpeAI(api_key=team.api_key, base_url=second.url) as client:
        kept = client.agents.retrieve(agent.id)
        assert (kept.name, kept.workflow_id, kept.status, kept.status_reason) == (
            "Kept agent",
            workflow.id,
            "live",
            "Launched",
        )
        assert kept.test_channel_code == agent.test_channel_code
        assert client.workflows.retrieve(workflow.id).system_prompt == "Stay."
        assert [(k.id, k.content) for k in client.agents.knowledge_bases.list(agent.id)] == [
            (kb.id, "9 to 5")
        ]
        enabled = [a.id for a in client.agents.actions.list(agent.id) if a.is_enabled]
        assert enabled == [action.id]
        (conversation,) = list(client.conversations.list(agent.id))
        messages = list(client.conversations.messages.list(agent.id, conversation.id))
        assert messages[0].id == sent.id
        assert len(messages) == 2
        assert call.call_id is not None
        assert client.calls.retrieve(agent.id, call.call_id).status == "ended"
        linked = client.phone_numbers.retrieve(number["id"])
        assert (linked.agent_id, linked.label) == (agent.id, "Main line")

        replayed = client.workflows.create(
            idempotency_key="wf-before-restart", name="Kept", system_prompt="Stay."
        )
        assert replayed.id == workflow.id
        fresh = client.workflows.create(name="New after restart", system_prompt="p")
        assert fresh.id != workflow.id
        assert len(list(client.workflows.list(scope="owned"))) == 2
        assert [a.id for a in client.agents.list()] == [agent.id]
