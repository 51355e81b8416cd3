"""The message stream (single-use ticket, then server-sent events) through the official SDK.

Covers: conversations.messages.stream_ticket (issued; unknown conversation → 404),
conversations.messages.stream delivering a message sent by another client after the stream
opened (and the AI reply that follows), `after=` replaying earlier messages, and a used or
mismatched ticket being rejected with 401 on the wire.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from bimpeai import AgentCreateResponse, BimpeAI, NotFoundError, StreamMessageEvent

from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from conftest import Team

STREAM_TIMEOUT_S = 10.0


@pytest.fixture
def conversation(sdk: BimpeAI, agent: AgentCreateResponse) -> str:
    sdk.conversations.send(
        agent.id, message="First question", channel_type="webchat", channel_user_id="v1"
    )
    return next(iter(sdk.conversations.list(agent.id))).id


def stream_path(agent_id: str, conversation_id: str) -> str:
    return f"{API_PREFIX}/agents/{agent_id}/conversations/{conversation_id}/stream"


@pytest.fixture
def listener(emulator: RunningEmulator, team: Team) -> Iterator[tuple[BimpeAI, threading.Event]]:
    """A second SDK client for the same team whose `opened` event is set once a stream has
    answered (the server subscribes the stream before it answers)."""
    opened = threading.Event()

    def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/stream") and response.status_code == 200:
            opened.set()

    with (
        httpx.Client(event_hooks={"response": [on_response]}) as http,
        BimpeAI(api_key=team.api_key, base_url=emulator.url, http_client=http) as client,
    ):
        yield client, opened


def test_stream_ticket(sdk: BimpeAI, agent: AgentCreateResponse, conversation: str) -> None:
    ticket = sdk.conversations.messages.stream_ticket(agent.id, conversation)
    assert ticket.ticket
    assert ticket.expires_in > 0
    assert sdk.conversations.messages.stream_ticket(agent.id, conversation).ticket != ticket.ticket
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.stream_ticket(agent.id, "conv_missing")
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.stream_ticket("agt_missing", conversation)


def test_stream_delivers_a_message_sent_after_it_opened(
    sdk: BimpeAI,
    agent: AgentCreateResponse,
    conversation: str,
    listener: tuple[BimpeAI, threading.Event],
) -> None:
    client, opened = listener
    received: list[StreamMessageEvent] = []
    failures: list[BaseException] = []

    def listen() -> None:
        try:
            for event in client.conversations.messages.stream(
                agent.id, conversation, reconnect=False, timeout=STREAM_TIMEOUT_S
            ):
                received.append(event)
                if len(received) == 2:
                    break
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert opened.wait(STREAM_TIMEOUT_S), "the stream did not open"
    sent = sdk.conversations.messages.send(agent.id, conversation, message="Are you there?")
    thread.join(STREAM_TIMEOUT_S)
    assert not thread.is_alive(), "the stream delivered nothing"
    assert failures == []

    user, reply = received
    assert user.id == sent.id
    assert user.conversation_id == conversation
    assert (user.role, user.message) == ("user", "Are you there?")
    assert user.created_at == sent.created_at
    assert reply.role == "assistant"
    assert reply.conversation_id == conversation
    stored = list(sdk.conversations.messages.list(agent.id, conversation))
    assert [m.id for m in stored[-2:]] == [user.id, reply.id]


def test_stream_after_replays_earlier_messages(
    sdk: BimpeAI, agent: AgentCreateResponse, conversation: str
) -> None:
    sdk.conversations.messages.send(agent.id, conversation, message="Second question")
    history = list(sdk.conversations.messages.list(agent.id, conversation))
    assert len(history) == 4
    replayed: list[StreamMessageEvent] = []
    for event in sdk.conversations.messages.stream(
        agent.id, conversation, after=history[0].id, reconnect=False, timeout=STREAM_TIMEOUT_S
    ):
        replayed.append(event)
        if len(replayed) == 3:
            break
    assert [e.id for e in replayed] == [m.id for m in history[1:]]
    assert [e.role for e in replayed] == ["assistant", "user", "assistant"]
    assert replayed[1].message == "Second question"
    assert {e.conversation_id for e in replayed} == {conversation}


def test_stream_of_an_unknown_conversation_is_not_found(
    sdk: BimpeAI, agent: AgentCreateResponse
) -> None:
    with pytest.raises(NotFoundError):
        next(iter(sdk.conversations.messages.stream(agent.id, "conv_missing", reconnect=False)))


def test_a_used_ticket_is_rejected(
    emulator: RunningEmulator, sdk: BimpeAI, agent: AgentCreateResponse, conversation: str
) -> None:
    ticket = sdk.conversations.messages.stream_ticket(agent.id, conversation).ticket
    url = emulator.url + stream_path(agent.id, conversation)
    with httpx.Client(timeout=STREAM_TIMEOUT_S) as http:
        with http.stream("GET", url, params={"ticket": ticket}) as first:
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
        again = http.get(url, params={"ticket": ticket})
        assert again.status_code == 401
        assert again.json()["code"] == "unauthorized"
        unknown = http.get(url, params={"ticket": "tk_made_up"})
        assert unknown.status_code == 401


def test_a_ticket_only_opens_its_own_conversation(
    emulator: RunningEmulator, sdk: BimpeAI, agent: AgentCreateResponse, conversation: str
) -> None:
    sdk.conversations.send(agent.id, message="Hi", channel_type="webchat", channel_user_id="v2")
    other = next(c.id for c in sdk.conversations.list(agent.id) if c.id != conversation)
    ticket = sdk.conversations.messages.stream_ticket(agent.id, conversation).ticket
    with httpx.Client(timeout=STREAM_TIMEOUT_S) as http:
        response = http.get(emulator.url + stream_path(agent.id, other), params={"ticket": ticket})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
