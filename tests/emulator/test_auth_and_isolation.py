"""Authentication, request ids and team isolation through the official SDK.

Covers: a missing API key (401 api_key_missing, on the wire and through the SDK), an unknown
or malformed key (401 api_key_invalid) on reads and writes, the admin API refusing API keys,
X-Request-Id echoed on success and in errors, and cross-team isolation: every object kind and
sub-resource of one team (agent, its integrations, channels, actions, knowledge bases,
conversations, messages, stream ticket, calls, workflow, phone number) answers 404 not_found to
another team's key, and another team's objects never show up in lists, clones, agent creation,
agent updates or number linking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from bimpeai import AuthenticationError, BimpeAI, NotFoundError

from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin, Team


def test_missing_key_on_the_wire(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url + API_PREFIX) as http:
        response = http.get("/agents", headers={"X-Request-Id": "req-missing-key"})
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "api_key_missing"
    assert isinstance(body["message"], str)
    assert body["request_id"] == "req-missing-key"
    assert response.headers["x-request-id"] == "req-missing-key"


def test_missing_key_through_the_sdk(sdk: BimpeAI) -> None:
    with pytest.raises(AuthenticationError) as caught:
        sdk.workflows.create(
            name="n", system_prompt="p", headers={"Authorization": ""}, max_retries=0
        )
    assert caught.value.status == 401
    assert caught.value.code == "api_key_missing"
    assert list(sdk.workflows.list(scope="owned")) == []


@pytest.mark.parametrize("key", ["sk_emu_unknown", "sk_emu_" + "0" * 32])
def test_unknown_key(emulator: RunningEmulator, key: str) -> None:
    with BimpeAI(api_key=key, base_url=emulator.url) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.agents.list()
        assert caught.value.code == "api_key_invalid"
        with pytest.raises(AuthenticationError) as caught:
            client.workflows.create(name="n", system_prompt="p")
        assert caught.value.code == "api_key_invalid"


def test_the_admin_api_needs_the_admin_token(emulator: RunningEmulator, team: Team) -> None:
    with httpx.Client(base_url=emulator.url) as http:
        assert http.get("/_emulator/teams").status_code == 401
        response = http.get("/_emulator/teams", headers={"Authorization": f"Bearer {team.api_key}"})
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


def test_key_must_be_a_bearer_token(emulator: RunningEmulator, admin: Admin) -> None:
    team = admin.new_team()
    with httpx.Client(base_url=emulator.url + API_PREFIX) as http:
        response = http.get("/agents", headers={"Authorization": f"Basic {team.api_key}"})
        assert response.status_code == 401
        assert response.json()["code"] == "api_key_invalid"
        response = http.get("/agents", headers={"Authorization": f"Bearer {team.api_key}"})
        assert response.status_code == 200


def test_request_id_is_echoed(sdk: BimpeAI, http: httpx.Client) -> None:
    """The server echoes the caller's X-Request-Id, or makes one up."""
    response = http.get("/agents", headers={"X-Request-Id": "req-abc"})
    assert response.headers["x-request-id"] == "req-abc"
    assert http.get("/agents").headers["x-request-id"]
    assert sdk.agents.list().request_id


def test_error_request_id_matches_the_request(sdk: BimpeAI) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.agents.update_live_status(
            "agt_missing", status="live", headers={"X-Request-Id": "req-live-status"}
        )
    assert caught.value.request_id == "req-live-status"
    assert caught.value.body["request_id"] == "req-live-status"


# --- cross-team isolation -------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Everything one team owns, as ids another team's key will try to reach."""

    agent: str
    workflow: str
    knowledge_base: str
    action: str
    conversation: str
    message: str
    call: str
    phone_number: str
    intruder_agent: str


@pytest.fixture(scope="module")
def owner_and_intruder(
    emulator: RunningEmulator, admin: Admin, new_e164: Callable[[], str]
) -> Iterator[tuple[BimpeAI, BimpeAI, World]]:
    owner_team = admin.new_team("owner")
    intruder_team = admin.new_team("intruder")
    with (
        BimpeAI(api_key=owner_team.api_key, base_url=emulator.url) as owner,
        BimpeAI(api_key=intruder_team.api_key, base_url=emulator.url) as intruder,
    ):
        workflow = owner.workflows.create(name="Private flow", system_prompt="Secret prompt")
        agent = owner.agents.create(workflow_id=workflow.id, name="Owner agent", description="d")
        kb = owner.agents.knowledge_bases.create(
            agent.id, {"type": "text", "name": "Secrets", "content": "The recipe"}
        )
        action = owner.agents.actions.list(agent.id)[0]
        message = owner.conversations.send(
            agent.id, message="Hi", channel_type="webchat", channel_user_id="v1"
        )
        conversation = next(iter(owner.conversations.list(agent.id)))
        call = owner.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": True})
        assert call.call_id is not None
        number = admin.assign_number(owner_team, new_e164())
        intruder_agent = intruder.agents.create(
            workflow_id="wf_public_support_triage", name="Intruder agent", description="d"
        )
        world = World(
            agent=agent.id,
            workflow=workflow.id,
            knowledge_base=kb.id,
            action=action.id,
            conversation=conversation.id,
            message=message.id,
            call=call.call_id,
            phone_number=number["id"],
            intruder_agent=intruder_agent.id,
        )
        yield owner, intruder, world


KB_BODY: Any = {"type": "text", "name": "n", "content": "c"}
CALL_BODY: Any = {"destination": "+2348012345678", "is_test_call": True}

FOREIGN_OPERATIONS: dict[str, Callable[[BimpeAI, World], object]] = {
    "agents.retrieve": lambda c, w: c.agents.retrieve(w.agent),
    "agents.update": lambda c, w: c.agents.update(w.agent, name="Taken"),
    "agents.delete": lambda c, w: c.agents.delete(w.agent),
    "agents.update_live_status": lambda c, w: c.agents.update_live_status(w.agent, status="live"),
    "agents.get_test_code": lambda c, w: c.agents.get_test_code(w.agent),
    "agents.integrations.list": lambda c, w: c.agents.integrations.list(w.agent),
    "agents.channels.list": lambda c, w: c.agents.channels.list(w.agent),
    "agents.actions.list": lambda c, w: c.agents.actions.list(w.agent),
    "agents.actions.enable": lambda c, w: c.agents.actions.enable(w.agent, action_ids=[w.action]),
    "agents.actions.disable": lambda c, w: c.agents.actions.disable(w.agent, action_ids=[w.action]),
    "agents.knowledge_bases.list": lambda c, w: c.agents.knowledge_bases.list(w.agent),
    "agents.knowledge_bases.create": lambda c, w: c.agents.knowledge_bases.create(w.agent, KB_BODY),
    "agents.knowledge_bases.update": lambda c, w: c.agents.knowledge_bases.update(
        w.agent, w.knowledge_base, name="Taken"
    ),
    "agents.knowledge_bases.delete": lambda c, w: c.agents.knowledge_bases.delete(
        w.agent, w.knowledge_base
    ),
    "workflows.retrieve": lambda c, w: c.workflows.retrieve(w.workflow),
    "workflows.update": lambda c, w: c.workflows.update(w.workflow, name="Taken"),
    "workflows.delete": lambda c, w: c.workflows.delete(w.workflow),
    "workflows.clone": lambda c, w: c.workflows.clone(source_workflow_id=w.workflow),
    "agents.create on a foreign workflow": lambda c, w: c.agents.create(
        workflow_id=w.workflow, name="n", description="d"
    ),
    "agents.update to a foreign workflow": lambda c, w: c.agents.update(
        w.intruder_agent, workflow_id=w.workflow
    ),
    "conversations.list": lambda c, w: c.conversations.list(w.agent),
    "conversations.retrieve": lambda c, w: c.conversations.retrieve(w.agent, w.conversation),
    "conversations.send": lambda c, w: c.conversations.send(
        w.agent, message="Hi", conversation_id=w.conversation
    ),
    "conversations.send new channel user": lambda c, w: c.conversations.send(
        w.agent, message="Hi", channel_type="webchat", channel_user_id="intruder"
    ),
    "conversations.set_ai_status": lambda c, w: c.conversations.set_ai_status(
        w.agent, w.conversation, is_ai_chat_paused=True
    ),
    "conversations.messages.list": lambda c, w: c.conversations.messages.list(
        w.agent, w.conversation
    ),
    "conversations.messages.send": lambda c, w: c.conversations.messages.send(
        w.agent, w.conversation, message="Hi"
    ),
    "conversations.messages.retrieve": lambda c, w: c.conversations.messages.retrieve(
        w.agent, w.conversation, w.message
    ),
    "conversations.messages.stream_ticket": lambda c, w: c.conversations.messages.stream_ticket(
        w.agent, w.conversation
    ),
    "conversations.messages.stream": lambda c, w: next(
        iter(c.conversations.messages.stream(w.agent, w.conversation, reconnect=False))
    ),
    "calls.list": lambda c, w: c.calls.list(w.agent),
    "calls.make": lambda c, w: c.calls.make(w.agent, CALL_BODY),
    "calls.retrieve": lambda c, w: c.calls.retrieve(w.agent, w.call),
    "phone_numbers.retrieve": lambda c, w: c.phone_numbers.retrieve(w.phone_number),
    "phone_numbers.update": lambda c, w: c.phone_numbers.update(w.phone_number, label="Taken"),
}


@pytest.mark.parametrize("operation", sorted(FOREIGN_OPERATIONS))
def test_another_teams_objects_are_not_found(
    owner_and_intruder: tuple[BimpeAI, BimpeAI, World], operation: str
) -> None:
    _, intruder, world = owner_and_intruder
    with pytest.raises(NotFoundError) as caught:
        FOREIGN_OPERATIONS[operation](intruder, world)
    assert caught.value.status == 404
    assert caught.value.code == "not_found"


def test_the_owner_still_sees_everything_unchanged(
    owner_and_intruder: tuple[BimpeAI, BimpeAI, World],
) -> None:
    owner, _, world = owner_and_intruder
    agent = owner.agents.retrieve(world.agent)
    assert (agent.name, agent.status) == ("Owner agent", "development")
    assert owner.workflows.retrieve(world.workflow).name == "Private flow"
    assert [k.name for k in owner.agents.knowledge_bases.list(world.agent)] == ["Secrets"]
    assert not any(a.is_enabled for a in owner.agents.actions.list(world.agent))
    conversation = owner.conversations.retrieve(world.agent, world.conversation)
    assert conversation.is_ai_chat_paused is False
    assert len(list(owner.conversations.list(world.agent))) == 1
    assert len(list(owner.conversations.messages.list(world.agent, world.conversation))) == 2
    assert len(list(owner.calls.list(world.agent))) == 1
    number = owner.phone_numbers.retrieve(world.phone_number)
    assert (number.label, number.agent_id) == (None, None)


def test_lists_show_only_the_own_team(
    owner_and_intruder: tuple[BimpeAI, BimpeAI, World],
) -> None:
    owner, intruder, world = owner_and_intruder
    assert [a.id for a in intruder.agents.list()] == [world.intruder_agent]
    assert intruder.agents.retrieve(world.intruder_agent).workflow_id == (
        "wf_public_support_triage"
    )
    assert list(intruder.phone_numbers.list()) == []
    assert list(intruder.workflows.list(scope="owned")) == []
    assert world.workflow not in {w.id for w in intruder.workflows.list(scope="accessible")}
    assert world.workflow in {w.id for w in owner.workflows.list(scope="accessible")}
    owner.phone_numbers.requests.create(
        business_name="Owner",
        intended_use="Calls",
        region="us",
        agent_count=1,
        outbound_minutes=0,
    )
    assert list(intruder.phone_numbers.requests.list()) == []


def test_a_number_cannot_be_linked_to_another_teams_agent(
    owner_and_intruder: tuple[BimpeAI, BimpeAI, World],
    emulator: RunningEmulator,
    admin: Admin,
    new_e164: Callable[[], str],
) -> None:
    _, _, world = owner_and_intruder
    intruder_team = admin.new_team("intruder with a number")
    number = admin.assign_number(intruder_team, new_e164())
    with BimpeAI(api_key=intruder_team.api_key, base_url=emulator.url) as client:
        with pytest.raises(NotFoundError):
            client.phone_numbers.update(number["id"], agent_id=world.agent)
        assert client.phone_numbers.retrieve(number["id"]).agent_id is None
