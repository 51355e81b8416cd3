"""An agent's integrations, channels, actions and knowledge bases through the official SDK.

Covers: agents.integrations.list (built-in catalog with its actions), agents.channels.list,
agents.actions.list (never empty, all disabled, ids differ per agent), agents.actions.enable /
disable (updated_count, state visible in actions and integrations; unknown ids, another
agent's ids and an empty list → 400 with field paths), agents.knowledge_bases.list / create
(text and url) / update / delete (content normalisation, type rules, validation field paths,
another agent's knowledge base → 404, unknown agent → 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bimpeai import AgentCreateResponse, BimpeAI, NotFoundError, ValidationError

BUILTIN_ACTIONS = {
    "lookup_order",
    "create_order",
    "cancel_order",
    "escalate_to_human",
    "flag_conversation",
    "send_email",
    "send_transcript",
    "check_availability",
    "book_appointment",
    "cancel_appointment",
    "append_row",
    "lookup_row",
    "create_payment_link",
    "verify_payment",
    "create_checkout_session",
    "refund_payment",
    "check_order_status",
    "list_products",
}


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


def test_integrations_list_the_builtin_catalog(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    integrations = sdk.agents.integrations.list(agent.id)
    by_type = {i.type: i for i in integrations}
    assert set(by_type) == {
        "handoff",
        "orders",
        "email",
        "google_calendar",
        "google_sheets",
        "paystack",
        "stripe",
        "bumpa",
    }
    assert by_type["handoff"].is_connected is True
    assert by_type["stripe"].is_connected is False
    assert {a.action_name for i in integrations for a in i.actions} == BUILTIN_ACTIONS
    assert all(not a.is_enabled for i in integrations for a in i.actions)
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.list("agt_missing")


def test_channels_list(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    channels = {c.type: c for c in sdk.agents.channels.list(agent.id)}
    assert set(channels) == {"webchat", "whatsapp", "instagram", "messenger", "telephony"}
    assert channels["webchat"].is_connected is True
    assert channels["telephony"].status == "not_connected"
    with pytest.raises(NotFoundError):
        sdk.agents.channels.list("agt_missing")


def test_actions_list_is_never_empty_and_all_disabled(
    sdk: BimpeAI, agent: AgentCreateResponse, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    actions = sdk.agents.actions.list(agent.id)
    assert {a.action_name for a in actions} == BUILTIN_ACTIONS
    assert len(actions) == len(BUILTIN_ACTIONS)
    assert not any(a.is_enabled for a in actions)
    integrations = {i.id: i for i in sdk.agents.integrations.list(agent.id)}
    for action in actions:
        assert integrations[action.integration_id].type == action.integration_type
        assert integrations[action.integration_id].name == action.integration_name
    other = make_agent(name="Other")
    assert {a.id for a in sdk.agents.actions.list(other.id)}.isdisjoint({a.id for a in actions})
    with pytest.raises(NotFoundError):
        sdk.agents.actions.list("agt_missing")


def test_enable_and_disable_actions(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    by_name = {a.action_name: a.id for a in sdk.agents.actions.list(agent.id)}
    chosen = [by_name["send_email"], by_name["book_appointment"], by_name["send_email"]]
    result = sdk.agents.actions.enable(agent.id, action_ids=chosen)
    assert result.updated_count == 2
    enabled = {a.action_name for a in sdk.agents.actions.list(agent.id) if a.is_enabled}
    assert enabled == {"send_email", "book_appointment"}
    integration_view = {
        a.action_name for i in sdk.agents.integrations.list(agent.id) for a in i.actions
    }
    assert integration_view == BUILTIN_ACTIONS
    assert {
        a.action_name
        for i in sdk.agents.integrations.list(agent.id)
        for a in i.actions
        if a.is_enabled
    } == {"send_email", "book_appointment"}
    result = sdk.agents.actions.disable(agent.id, action_ids=[by_name["send_email"]])
    assert result.updated_count == 1
    enabled = {a.action_name for a in sdk.agents.actions.list(agent.id) if a.is_enabled}
    assert enabled == {"book_appointment"}


def test_action_errors(
    sdk: BimpeAI, agent: AgentCreateResponse, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    mine = sdk.agents.actions.list(agent.id)[0].id
    foreign = sdk.agents.actions.list(make_agent(name="Other").id)[0].id
    with pytest.raises(ValidationError) as caught:
        sdk.agents.actions.enable(agent.id, action_ids=[mine, "act_missing", foreign])
    assert paths(caught.value) == {"action_ids.1", "action_ids.2"}
    with pytest.raises(ValidationError) as caught:
        sdk.agents.actions.disable(agent.id, action_ids=[])
    assert paths(caught.value) == {"action_ids"}
    assert not any(a.is_enabled for a in sdk.agents.actions.list(agent.id))
    with pytest.raises(NotFoundError):
        sdk.agents.actions.enable("agt_missing", action_ids=[mine])
    with pytest.raises(NotFoundError):
        sdk.agents.actions.disable("agt_missing", action_ids=[mine])


def test_knowledge_base_lifecycle(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    text = sdk.agents.knowledge_bases.create(
        agent.id,
        {"type": "text", "name": "Hours", "content": "Open 9 to 5\r\nClosed Sundays  \n"},
    )
    assert text.id.startswith("kb_")
    assert (text.type, text.name, text.description) == ("text", "Hours", None)
    assert text.content == "Open 9 to 5\nClosed Sundays"
    assert text.url is None
    url = sdk.agents.knowledge_bases.create(
        agent.id,
        {
            "type": "url",
            "name": "Menu",
            "url": "https://bakery.example/menu",
            "description": "Our menu",
        },
    )
    assert (url.type, url.url, url.content, url.description) == (
        "url",
        "https://bakery.example/menu",
        None,
        "Our menu",
    )
    listed = sdk.agents.knowledge_bases.list(agent.id)
    assert [(k.id, k.content, k.url) for k in listed] == [
        (text.id, text.content, None),
        (url.id, None, url.url),
    ]

    renamed = sdk.agents.knowledge_bases.update(agent.id, text.id, name="Opening hours")
    assert (renamed.name, renamed.content) == ("Opening hours", text.content)
    rewritten = sdk.agents.knowledge_bases.update(agent.id, text.id, content="Open 8 to 6")
    assert rewritten.content == "Open 8 to 6"
    moved = sdk.agents.knowledge_bases.update(agent.id, url.id, url="https://bakery.example/m2")
    assert moved.url == "https://bakery.example/m2"
    described = sdk.agents.knowledge_bases.update(agent.id, url.id, description=None)
    assert described.description is None

    assert sdk.agents.knowledge_bases.delete(agent.id, text.id) is None
    assert [k.id for k in sdk.agents.knowledge_bases.list(agent.id)] == [url.id]
    assert [k.id for k in sdk.agents.retrieve(agent.id).knowledge_bases] == [url.id]
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.delete(agent.id, text.id)
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.update(agent.id, text.id, name="gone")


def test_knowledge_base_create_validation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"type": "text", "name": "n"}, {"content"}),
        ({"type": "text", "name": "", "content": "c"}, {"name"}),
        ({"type": "url", "name": "n", "url": "bakery.example"}, {"url"}),
        ({"type": "pdf", "name": "n"}, {"type"}),
        ({"name": "n", "content": "c"}, {"type"}),
        ({"type": "text", "name": "n", "content": "c", "url": "https://x.example"}, {"url"}),
    ]
    for body, expected in cases:
        with pytest.raises(ValidationError) as caught:
            sdk.agents.knowledge_bases.create(agent.id, body)  # type: ignore[arg-type]
        assert paths(caught.value) == expected, body
    assert sdk.agents.knowledge_bases.list(agent.id) == []


def test_knowledge_base_update_follows_the_type(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    text = sdk.agents.knowledge_bases.create(
        agent.id, {"type": "text", "name": "t", "content": "c"}
    )
    url = sdk.agents.knowledge_bases.create(
        agent.id, {"type": "url", "name": "u", "url": "https://x.example"}
    )
    with pytest.raises(ValidationError) as caught:
        sdk.agents.knowledge_bases.update(agent.id, url.id, content="text for a url")
    assert paths(caught.value) == {"content"}
    with pytest.raises(ValidationError) as caught:
        sdk.agents.knowledge_bases.update(agent.id, text.id, url="https://y.example")
    assert paths(caught.value) == {"url"}
    with pytest.raises(ValidationError) as caught:
        sdk.agents.knowledge_bases.update(agent.id, text.id, content="")
    assert paths(caught.value) == {"content"}
    assert sdk.agents.knowledge_bases.list(agent.id)[0].content == "c"


def test_knowledge_base_belongs_to_its_agent(
    sdk: BimpeAI, agent: AgentCreateResponse, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    kb = sdk.agents.knowledge_bases.create(agent.id, {"type": "text", "name": "t", "content": "c"})
    other = make_agent(name="Other")
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.update(other.id, kb.id, name="stolen")
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.delete(other.id, kb.id)
    assert sdk.agents.knowledge_bases.list(other.id) == []
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.list("agt_missing")
    with pytest.raises(NotFoundError):
        sdk.agents.knowledge_bases.create(
            "agt_missing", {"type": "text", "name": "t", "content": "c"}
        )
    assert sdk.agents.knowledge_bases.list(agent.id)[0].name == "t"
