"""Agents through the official SDK.

Covers: agents.create (fields echoed, defaults, embedded workflow, public workflow, validation
field paths, unknown workflow, the team's agent limit), agents.retrieve (detail with knowledge
base summaries, integrations and channels; unknown id), agents.update (fields, workflow switch,
unknown workflow, validation), agents.delete (then 404, twice 404), agents.list,
agents.update_live_status (success, validation), agents.get_test_code (success, unknown id),
and the delete cascade: knowledge bases, actions, conversations with their messages and calls
go with the agent (404 afterwards, and no rows left in the store), its phone numbers are
unlinked, and another agent of the team keeps all of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from bimpeai import (
    AgentCreateResponse,
    BimpeAI,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    Workflow,
)

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin, Team

PUBLIC_WORKFLOW = "wf_public_support_triage"


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


def test_create_returns_the_agent_with_its_workflow(sdk: BimpeAI, workflow: Workflow) -> None:
    created = sdk.agents.create(
        workflow_id=workflow.id,
        name="Front desk",
        description="Answers the front desk line",
        language="en",
        persona="friendly",
        timezone="Africa/Lagos",
        business_name="Bimpe Bakery",
        business_email="hello@bakery.example",
        escalation_email="owner@bakery.example",
    )
    assert created.id.startswith("agt_")
    assert created.name == "Front desk"
    assert created.description == "Answers the front desk line"
    assert (created.language, created.persona, created.timezone) == (
        "en",
        "friendly",
        "Africa/Lagos",
    )
    assert created.business_email == "hello@bakery.example"
    assert created.escalation_email == "owner@bakery.example"
    assert created.workflow_id == workflow.id
    assert created.status == "development"
    assert created.status_reason is None
    assert created.test_channel_code
    assert created.created_at == created.updated_at
    assert created.workflow is not None
    assert created.workflow.id == workflow.id
    assert created.workflow.system_prompt == workflow.system_prompt


def test_create_on_a_public_workflow(sdk: BimpeAI) -> None:
    created = sdk.agents.create(workflow_id=PUBLIC_WORKFLOW, name="Triage", description="d")
    assert created.workflow is not None
    assert created.workflow.visibility == "public"
    assert created.workflow.is_owner is False


def test_create_validation_errors_name_each_field(sdk: BimpeAI, workflow: Workflow) -> None:
    body: dict[str, Any] = {
        "workflow_id": workflow.id,
        "description": "d",
        "business_email": "not-an-email",
        "timezone": "Mars/Olympus_Mons",
        "persona": "rude",
        "logo": "ftp://example.com/logo.png",
    }
    with pytest.raises(ValidationError) as caught:
        sdk.agents.create(**body)
    error = caught.value
    assert error.status == 400
    assert error.code == "validation_error"
    assert paths(error) == {"name", "business_email", "timezone", "persona", "logo"}
    messages = {e["path"]: e["message"] for e in error.field_errors}
    assert messages["name"] == "field required"
    assert messages["business_email"] == "must be an email address"
    assert "Mars/Olympus_Mons" in messages["timezone"]
    assert list(sdk.agents.list()) == []


def test_create_rejects_unknown_fields(sdk: BimpeAI, workflow: Workflow) -> None:
    body: dict[str, Any] = {"workflow_id": workflow.id, "name": "n", "description": "d"}
    with pytest.raises(ValidationError) as caught:
        sdk.agents.create(**body, nickname="x")
    assert caught.value.field_errors == [{"path": "nickname", "message": "unknown field"}]


def test_create_with_an_unknown_workflow_is_not_found(sdk: BimpeAI) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.agents.create(workflow_id="wf_missing", name="n", description="d")
    assert caught.value.code == "not_found"


def test_agent_limit_of_the_team(admin: Admin, emulator: RunningEmulator) -> None:
    data = admin.call("POST", "/teams", {"name": "small team", "agent_limit": 1})
    with BimpeAI(api_key=data["api_key"], base_url=emulator.url) as client:
        client.agents.create(workflow_id=PUBLIC_WORKFLOW, name="one", description="d")
        with pytest.raises(PermissionDeniedError) as caught:
            client.agents.create(workflow_id=PUBLIC_WORKFLOW, name="two", description="d")
        assert caught.value.status == 403
        assert caught.value.code == "agent_limit_reached"
        assert [a.name for a in client.agents.list()] == ["one"]


def test_an_agent_limit_sqlite_cannot_hold_is_refused(admin: Admin) -> None:
    response = admin.http.post("/_emulator/teams", json={"name": "huge", "agent_limit": 2**70})
    assert response.status_code == 400
    assert "agent_limit" in response.text


def test_retrieve_gives_the_detail(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    kb = sdk.agents.knowledge_bases.create(
        agent.id, {"type": "text", "name": "Hours", "content": "Open 9 to 5", "description": "h"}
    )
    detail = sdk.agents.retrieve(agent.id)
    assert detail.id == agent.id
    assert detail.name == agent.name
    assert detail.test_channel_code == agent.test_channel_code
    assert [(k.id, k.type, k.name, k.description) for k in detail.knowledge_bases] == [
        (kb.id, "text", "Hours", "h")
    ]
    assert "content" not in (detail.knowledge_bases[0].model_extra or {})
    assert {i.type for i in detail.integrations} >= {"handoff", "email", "google_calendar"}
    channels = {c.type: c.is_connected for c in detail.channels}
    assert channels["webchat"] is True
    assert channels["telephony"] is False


def test_retrieve_unknown_agent_is_not_found(sdk: BimpeAI) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.agents.retrieve("agt_0000000000000000")
    assert caught.value.status == 404
    assert caught.value.code == "not_found"


def test_update_changes_only_the_given_fields(
    sdk: BimpeAI, agent: AgentCreateResponse, make_workflow: Callable[..., Workflow]
) -> None:
    other = make_workflow(name="Second flow")
    updated = sdk.agents.update(agent.id, name="Renamed", persona="concise", workflow_id=other.id)
    assert updated.name == "Renamed"
    assert updated.persona == "concise"
    assert updated.workflow_id == other.id
    assert updated.description == agent.description
    assert updated.updated_at > agent.updated_at
    assert updated.created_at == agent.created_at
    fetched = sdk.agents.retrieve(agent.id)
    assert (fetched.name, fetched.workflow_id) == ("Renamed", other.id)


def test_update_errors(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    with pytest.raises(NotFoundError):
        sdk.agents.update(agent.id, workflow_id="wf_missing")
    with pytest.raises(ValidationError) as caught:
        sdk.agents.update(agent.id, escalation_email="nobody", name="")
    assert paths(caught.value) == {"escalation_email", "name"}
    with pytest.raises(NotFoundError):
        sdk.agents.update("agt_missing", name="x")
    assert sdk.agents.retrieve(agent.id).name == agent.name


def test_delete_removes_the_agent(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    assert sdk.agents.delete(agent.id) is None
    with pytest.raises(NotFoundError):
        sdk.agents.retrieve(agent.id)
    with pytest.raises(NotFoundError):
        sdk.agents.delete(agent.id)
    assert list(sdk.agents.list()) == []


def test_list_shows_the_team_agents(
    sdk: BimpeAI, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    first = make_agent(name="First")
    second = make_agent(name="Second")
    page = sdk.agents.list()
    assert [a.id for a in page.data] == [first.id, second.id]
    assert page.meta is not None
    assert page.meta.total_count == 2


def test_update_live_status(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    live = sdk.agents.update_live_status(agent.id, status="live")
    assert (live.status, live.status_reason) == ("live", None)
    paused = sdk.agents.update_live_status(agent.id, status="paused", status_reason="Holiday")
    assert (paused.status, paused.status_reason) == ("paused", "Holiday")
    fetched = sdk.agents.retrieve(agent.id)
    assert (fetched.status, fetched.status_reason) == ("paused", "Holiday")


def test_update_live_status_validation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    body: dict[str, Any] = {"status": "retired"}
    with pytest.raises(ValidationError) as caught:
        sdk.agents.update_live_status(agent.id, **body)
    assert paths(caught.value) == {"status"}
    with pytest.raises(NotFoundError):
        sdk.agents.update_live_status("agt_missing", status="live")


def test_get_test_code(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    code = sdk.agents.get_test_code(agent.id)
    assert agent.test_channel_code is not None
    assert code.code == agent.test_channel_code
    assert code.channels.whatsapp.is_enabled is True
    assert agent.test_channel_code in code.channels.whatsapp.start_message
    assert code.channels.telephony.is_enabled is False
    with pytest.raises(NotFoundError):
        sdk.agents.get_test_code("agt_missing")


def test_delete_cascades(
    emulator: RunningEmulator,
    sdk: BimpeAI,
    admin: Admin,
    team: Team,
    workflow: Workflow,
    agent: AgentCreateResponse,
    make_agent: Callable[..., AgentCreateResponse],
    new_e164: Callable[[], str],
) -> None:
    kept = make_agent(name="Kept", workflow_id=workflow.id)
    kb = sdk.agents.knowledge_bases.create(agent.id, {"type": "text", "name": "t", "content": "c"})
    sdk.agents.knowledge_bases.create(kept.id, {"type": "text", "name": "k", "content": "c"})
    sdk.conversations.send(agent.id, message="Hi", channel_type="webchat", channel_user_id="v1")
    sdk.conversations.send(kept.id, message="Hi", channel_type="webchat", channel_user_id="v1")
    conversation = next(iter(sdk.conversations.list(agent.id)))
    message = next(iter(sdk.conversations.messages.list(agent.id, conversation.id)))
    call = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": True})
    assert call.call_id is not None
    sdk.calls.make(kept.id, {"destination": "+2348012345678", "is_test_call": True})
    number = admin.assign_number(team, new_e164(), "Line")
    kept_number = admin.assign_number(team, new_e164(), "Kept line")
    sdk.phone_numbers.update(number["id"], agent_id=agent.id)
    sdk.phone_numbers.update(kept_number["id"], agent_id=kept.id)

    sdk.agents.delete(agent.id)

    unlinked = sdk.phone_numbers.retrieve(number["id"])
    assert (unlinked.agent_id, unlinked.label) == (None, "Line")
    assert sdk.phone_numbers.retrieve(kept_number["id"]).agent_id == kept.id
    gone: list[Callable[[], object]] = [
        lambda: sdk.agents.knowledge_bases.list(agent.id),
        lambda: sdk.agents.knowledge_bases.update(agent.id, kb.id, name="x"),
        lambda: sdk.agents.actions.list(agent.id),
        lambda: sdk.conversations.retrieve(agent.id, conversation.id),
        lambda: sdk.conversations.messages.retrieve(agent.id, conversation.id, message.id),
        lambda: sdk.calls.retrieve(agent.id, call.call_id or ""),
    ]
    for attempt in gone:
        with pytest.raises(NotFoundError):
            attempt()
    # Nothing of the deleted agent is left behind, while the other agent keeps everything.
    store = emulator.emulator.store
    assert len(store.find("knowledge_base", team.id)) == 1
    assert len(store.find("integration", team.id)) == len(sdk.agents.integrations.list(kept.id))
    assert len(store.find("action", team.id)) == len(sdk.agents.actions.list(kept.id))
    assert [c["agent_id"] for c in store.find("conversation", team.id)] == [kept.id]
    assert len(store.find("message", team.id)) == 2
    assert len(store.find("call", team.id)) == 1
    assert len(sdk.agents.knowledge_bases.list(kept.id)) == 1
    assert len(list(sdk.calls.list(kept.id))) == 1
