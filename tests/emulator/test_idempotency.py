"""Idempotency keys, through the official SDK and on the wire.

Covers: the same key and body replaying the stored answer (same id, `Idempotent-Replayed: true`,
one object afterwards) for agents, workflows, knowledge bases and messages; the same key with a
different body or on another path → 409 conflict; a replay after the object was deleted still
returning the stored answer (and creating nothing); error answers replayed too; keys being per
team (same key in two teams → two objects); and writes without a caller key (the SDK's own
uuid per call) never colliding.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bimpeai import AgentCreateResponse, BimpeAI, ConflictError, NotFoundError, Workflow

WORKFLOW: dict[str, Any] = {"name": "Idempotent flow", "system_prompt": "Be brief."}


def test_same_key_same_body_replays(sdk: BimpeAI, workflow: Workflow) -> None:
    body: dict[str, Any] = {"workflow_id": workflow.id, "name": "Once", "description": "d"}
    first = sdk.agents.create(idempotency_key="create-once", **body)
    second = sdk.agents.create(idempotency_key="create-once", **body)
    assert second.id == first.id
    assert second == first
    assert [a.id for a in sdk.agents.list()] == [first.id]


def test_replay_header_on_the_wire(sdk: BimpeAI, http: httpx.Client) -> None:
    headers = {"Idempotency-Key": "wire-key"}
    first = http.post("/workflows", json=WORKFLOW, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    second = http.post("/workflows", json=WORKFLOW, headers=headers)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    reordered = http.post(
        "/workflows", json=dict(reversed(list(WORKFLOW.items()))), headers=headers
    )
    assert reordered.headers["idempotent-replayed"] == "true"
    assert reordered.json()["data"]["id"] == first.json()["data"]["id"]
    assert [w.id for w in sdk.workflows.list(scope="owned")] == [first.json()["data"]["id"]]


def test_same_key_different_body_is_a_conflict(sdk: BimpeAI) -> None:
    created = sdk.workflows.create(idempotency_key="k-conflict", **WORKFLOW)
    with pytest.raises(ConflictError) as caught:
        sdk.workflows.create(idempotency_key="k-conflict", name="Other", system_prompt="p")
    assert caught.value.status == 409
    assert caught.value.code == "conflict"
    assert [w.id for w in sdk.workflows.list(scope="owned")] == [created.id]


def test_same_key_on_another_path_is_a_conflict(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    sdk.workflows.create(idempotency_key="k-path", **WORKFLOW)
    with pytest.raises(ConflictError):
        sdk.agents.knowledge_bases.create(
            agent.id, {"type": "text", "name": "n", "content": "c"}, idempotency_key="k-path"
        )
    assert sdk.agents.knowledge_bases.list(agent.id) == []


def test_replay_after_delete_returns_the_stored_answer(sdk: BimpeAI) -> None:
    created = sdk.workflows.create(idempotency_key="k-deleted", **WORKFLOW)
    sdk.workflows.delete(created.id)
    replayed = sdk.workflows.create(idempotency_key="k-deleted", **WORKFLOW)
    assert replayed.id == created.id
    with pytest.raises(NotFoundError):
        sdk.workflows.retrieve(created.id)
    assert list(sdk.workflows.list(scope="owned")) == []
    fresh = sdk.workflows.create(idempotency_key="k-deleted-2", **WORKFLOW)
    assert fresh.id != created.id
    assert [w.id for w in sdk.workflows.list(scope="owned")] == [fresh.id]


def test_error_answers_are_replayed(http: httpx.Client, sdk: BimpeAI) -> None:
    headers = {"Idempotency-Key": "k-invalid"}
    first = http.post("/workflows", json={"name": "No prompt"}, headers=headers)
    assert first.status_code == 400
    second = http.post("/workflows", json={"name": "No prompt"}, headers=headers)
    assert second.status_code == 400
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["message"] == first.json()["message"]
    assert list(sdk.workflows.list(scope="owned")) == []


def test_keys_are_per_team(sdk: BimpeAI, other_sdk: BimpeAI) -> None:
    mine = sdk.workflows.create(idempotency_key="shared-key", **WORKFLOW)
    theirs = other_sdk.workflows.create(idempotency_key="shared-key", **WORKFLOW)
    assert mine.id != theirs.id
    assert [w.id for w in sdk.workflows.list(scope="owned")] == [mine.id]
    assert [w.id for w in other_sdk.workflows.list(scope="owned")] == [theirs.id]


def test_sub_resource_writes_replay(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    body: Any = {"type": "text", "name": "Hours", "content": "9 to 5"}
    kb = sdk.agents.knowledge_bases.create(agent.id, body, idempotency_key="kb-1")
    again = sdk.agents.knowledge_bases.create(agent.id, body, idempotency_key="kb-1")
    assert again.id == kb.id
    assert len(sdk.agents.knowledge_bases.list(agent.id)) == 1

    sent = sdk.conversations.send(
        agent.id,
        message="Hello",
        channel_type="webchat",
        channel_user_id="v1",
        idempotency_key="msg-1",
    )
    resent = sdk.conversations.send(
        agent.id,
        message="Hello",
        channel_type="webchat",
        channel_user_id="v1",
        idempotency_key="msg-1",
    )
    assert resent.id == sent.id
    conversation = next(iter(sdk.conversations.list(agent.id)))
    assert len(list(sdk.conversations.messages.list(agent.id, conversation.id))) == 2

    call = sdk.calls.make(
        agent.id, {"destination": "+2348012345678", "is_test_call": True}, idempotency_key="c-1"
    )
    recall = sdk.calls.make(
        agent.id, {"destination": "+2348012345678", "is_test_call": True}, idempotency_key="c-1"
    )
    assert recall.call_id == call.call_id
    assert len(list(sdk.calls.list(agent.id))) == 1


def test_writes_without_a_caller_key_do_not_collide(sdk: BimpeAI) -> None:
    first = sdk.workflows.create(**WORKFLOW)
    second = sdk.workflows.create(**WORKFLOW)
    assert first.id != second.id
    assert len(list(sdk.workflows.list(scope="owned"))) == 2
