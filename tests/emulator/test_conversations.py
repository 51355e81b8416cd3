"""Conversations and messages through the official SDK.

Covers: conversations.send (opens a conversation by channel and user, reuses it, by
conversation_id; the AI replies from the workflow's rules; validation field paths; unknown
conversation), conversations.list (filters channel, is_test_channel, is_ai_chat_paused,
needs_attention; search), conversations.retrieve (detail fields; unknown id),
conversations.set_ai_status (pausing stops AI replies and flags attention; resuming clears it),
conversations.messages.list / send / retrieve (pagination, unknown message), and the 409
conflict for a human (assistant) message while the AI is not paused.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bimpeai import (
    AgentCreateResponse,
    BimpeAI,
    ConflictError,
    Message,
    NotFoundError,
    ValidationError,
    Workflow,
)


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


def open_conversation(
    sdk: BimpeAI, agent_id: str, user: str = "visitor-1", text: str = "Hello there"
) -> tuple[str, Message]:
    sent = sdk.conversations.send(
        agent_id, message=text, channel_type="webchat", channel_user_id=user
    )
    matching = [c for c in sdk.conversations.list(agent_id) if c.channel_user_id == user]
    assert len(matching) == 1
    return matching[0].id, sent


def test_send_opens_a_conversation_and_the_ai_replies(
    sdk: BimpeAI, agent: AgentCreateResponse
) -> None:
    sent = sdk.conversations.send(
        agent.id,
        message="Hello, are you open today?",
        channel_type="webchat",
        channel_user_id="visitor-1",
        channel_username="Ada",
    )
    assert sent.id.startswith("msg_")
    assert (sent.role, sent.message, sent.message_type) == (
        "user",
        "Hello, are you open today?",
        "text",
    )
    conversations = list(sdk.conversations.list(agent.id))
    assert len(conversations) == 1
    conversation = conversations[0]
    assert conversation.channel_type == "webchat"
    assert conversation.channel_user_id == "visitor-1"
    assert conversation.channel_user_username == "Ada"
    assert conversation.is_test_channel is False
    assert conversation.is_ai_chat_paused is False
    assert conversation.needs_attention is False
    assert conversation.last_message_preview is not None
    detail = sdk.conversations.retrieve(agent.id, conversation.id)
    assert detail.id == conversation.id
    assert detail.full_name == "Ada"

    messages = list(sdk.conversations.messages.list(agent.id, conversation.id))
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].id == sent.id
    assert messages[1].message is not None
    assert agent.name in messages[1].message
    assert detail.last_message_preview == messages[1].message[:100]


def test_send_reuses_the_conversation_of_a_channel_user(
    sdk: BimpeAI, agent: AgentCreateResponse
) -> None:
    conversation_id, _ = open_conversation(sdk, agent.id, "visitor-1")
    sdk.conversations.send(
        agent.id, message="Me again", channel_type="webchat", channel_user_id="visitor-1"
    )
    by_id = sdk.conversations.send(agent.id, message="And again", conversation_id=conversation_id)
    assert by_id.role == "user"
    sdk.conversations.send(
        agent.id, message="Someone else", channel_type="webchat", channel_user_id="visitor-2"
    )
    assert len(list(sdk.conversations.list(agent.id))) == 2
    messages = list(sdk.conversations.messages.list(agent.id, conversation_id))
    assert [m.message for m in messages if m.role == "user"] == [
        "Hello there",
        "Me again",
        "And again",
    ]


def test_ai_replies_from_the_workflow_rules(
    sdk: BimpeAI, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    agent = make_agent(workflow_id="wf_public_support_triage")
    conversation_id, _ = open_conversation(sdk, agent.id, text="I want a refund please")
    messages = list(sdk.conversations.messages.list(agent.id, conversation_id))
    assert messages[-1].role == "assistant"
    assert messages[-1].message == "Refunds are processed within 5 working days of approval."


def test_ai_reply_follows_a_workflow_update(
    sdk: BimpeAI, workflow: Workflow, agent: AgentCreateResponse
) -> None:
    sdk.workflows.update(
        workflow.id,
        rules=[
            {
                "id": "rule_hours",
                "name": "Hours",
                "trigger": "open",
                "response": "We open at nine.",
                "enabled": True,
            }
        ],
    )
    conversation_id, _ = open_conversation(sdk, agent.id, text="When do you open?")
    last = list(sdk.conversations.messages.list(agent.id, conversation_id))[-1]
    assert last.message == "We open at nine."


def test_send_validation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.send(agent.id, message="Hi")
    assert paths(caught.value) == {"channel_type", "channel_user_id"}
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.send(
            agent.id, message="", channel_type="webchat", channel_user_id="visitor-1"
        )
    assert paths(caught.value) == {"message"}
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.send(
            agent.id,
            message="Hi",
            channel_type="fax",  # type: ignore[typeddict-item]
            channel_user_id="visitor-1",
        )
    assert paths(caught.value) == {"channel_type"}
    assert list(sdk.conversations.list(agent.id)) == []
    with pytest.raises(NotFoundError):
        sdk.conversations.send(agent.id, message="Hi", conversation_id="conv_missing")
    with pytest.raises(NotFoundError):
        sdk.conversations.send(
            "agt_missing", message="Hi", channel_type="webchat", channel_user_id="v"
        )


def test_list_filters(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    web, _ = open_conversation(sdk, agent.id, "web-user")
    sdk.conversations.send(
        agent.id, message="Hi", channel_type="whatsapp", channel_user_id="+2348000000001"
    )
    sdk.conversations.send(
        agent.id,
        message="Testing",
        channel_type="webchat",
        channel_user_id="tester",
        is_test_channel=True,
    )
    ids = {c.channel_user_id: c.id for c in sdk.conversations.list(agent.id)}
    assert set(ids) == {"web-user", "+2348000000001", "tester"}
    sdk.conversations.set_ai_status(agent.id, web, is_ai_chat_paused=True)
    sdk.conversations.send(agent.id, message="Anyone?", conversation_id=web)

    def users(**filters: object) -> set[str | None]:
        return {c.channel_user_id for c in sdk.conversations.list(agent.id, **filters)}  # type: ignore[arg-type]

    assert users(channel="whatsapp") == {"+2348000000001"}
    assert users(channel="webchat") == {"web-user"}
    assert users(channel="test_webchat") == {"tester"}
    assert users(is_test_channel=True) == {"tester"}
    assert users(is_test_channel=False) == {"web-user", "+2348000000001"}
    assert users(is_ai_chat_paused=True) == {"web-user"}
    assert users(is_ai_chat_paused=False) == {"+2348000000001", "tester"}
    assert users(needs_attention=True) == {"web-user"}
    assert users(needs_attention=False) == {"+2348000000001", "tester"}
    assert users(channel="webchat", needs_attention=False) == set()
    assert users(search="+234800") == {"+2348000000001"}
    test_conversation = sdk.conversations.retrieve(agent.id, ids["tester"])
    assert test_conversation.is_test_channel is True
    assert test_conversation.channel_type == "test_webchat"


def test_list_filter_validation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.list(agent.id, channel="fax")  # type: ignore[arg-type]
    assert paths(caught.value) == {"channel"}
    with pytest.raises(NotFoundError):
        sdk.conversations.list("agt_missing")


def test_retrieve_unknown_conversation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.conversations.retrieve(agent.id, "conv_missing")
    assert caught.value.code == "not_found"


def test_pausing_the_ai_hands_the_conversation_to_a_human(
    sdk: BimpeAI, agent: AgentCreateResponse
) -> None:
    conversation_id, _ = open_conversation(sdk, agent.id)
    with pytest.raises(ConflictError) as caught:
        sdk.conversations.messages.send(
            agent.id, conversation_id, message="Human here", role="assistant"
        )
    assert caught.value.code == "conflict"
    with pytest.raises(ConflictError):
        sdk.conversations.send(
            agent.id, message="Human here", role="assistant", conversation_id=conversation_id
        )

    status = sdk.conversations.set_ai_status(agent.id, conversation_id, is_ai_chat_paused=True)
    assert status.is_ai_chat_paused is True
    asked = sdk.conversations.messages.send(agent.id, conversation_id, message="Is it a human?")
    detail = sdk.conversations.retrieve(agent.id, conversation_id)
    assert detail.is_ai_chat_paused is True
    assert detail.needs_attention is True
    answer = sdk.conversations.messages.send(
        agent.id, conversation_id, message="Yes, this is Tolu.", role="assistant"
    )
    assert answer.role == "assistant"
    messages = list(sdk.conversations.messages.list(agent.id, conversation_id))
    assert [(m.role, m.message) for m in messages[-2:]] == [
        ("user", "Is it a human?"),
        ("assistant", "Yes, this is Tolu."),
    ]
    assert messages[-2].id == asked.id

    resumed = sdk.conversations.set_ai_status(agent.id, conversation_id, is_ai_chat_paused=False)
    assert resumed.is_ai_chat_paused is False
    detail = sdk.conversations.retrieve(agent.id, conversation_id)
    assert (detail.is_ai_chat_paused, detail.needs_attention) == (False, False)
    sdk.conversations.messages.send(agent.id, conversation_id, message="Thanks")
    assert list(sdk.conversations.messages.list(agent.id, conversation_id))[-1].role == "assistant"


def test_set_ai_status_errors(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    conversation_id, _ = open_conversation(sdk, agent.id)
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.set_ai_status(agent.id, conversation_id)  # type: ignore[call-arg]
    assert paths(caught.value) == {"is_ai_chat_paused"}
    with pytest.raises(NotFoundError):
        sdk.conversations.set_ai_status(agent.id, "conv_missing", is_ai_chat_paused=True)


def test_messages_send_list_and_retrieve(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    conversation_id, first = open_conversation(sdk, agent.id)
    for n in range(3):
        sdk.conversations.messages.send(agent.id, conversation_id, message=f"Question {n}")
    page = sdk.conversations.messages.list(agent.id, conversation_id, limit=3)
    assert page.meta is not None
    assert (page.meta.total_count, page.meta.page_count) == (8, 3)
    everything = list(page)
    assert len(everything) == 8
    assert everything[0].id == first.id
    assert [m.role for m in everything] == ["user", "assistant"] * 4
    newest = sdk.conversations.messages.list(agent.id, conversation_id, sort="-created_at")
    assert [m.id for m in newest.data] == [m.id for m in reversed(everything)]
    found = sdk.conversations.messages.list(agent.id, conversation_id, search="question 1")
    assert [m.role for m in found.data] == ["user", "assistant"]
    assert found.data[0].message == "Question 1"
    assert all("Question 1" in (m.message or "") for m in found.data)

    fetched = sdk.conversations.messages.retrieve(agent.id, conversation_id, first.id)
    assert fetched == first
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.retrieve(agent.id, conversation_id, "msg_missing")
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.list(agent.id, "conv_missing")


def test_messages_belong_to_their_conversation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    one, first = open_conversation(sdk, agent.id, "visitor-1")
    two, _ = open_conversation(sdk, agent.id, "visitor-2")
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.retrieve(agent.id, two, first.id)
    with pytest.raises(ValidationError) as caught:
        sdk.conversations.messages.send(agent.id, one, message="x" * 10_001)
    assert paths(caught.value) == {"message"}
    with pytest.raises(NotFoundError):
        sdk.conversations.messages.send(agent.id, "conv_missing", message="Hi")
