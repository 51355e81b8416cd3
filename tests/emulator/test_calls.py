"""Calls through the official SDK.

Covers: calls.make (a test call is initiated and completes with a conversation log; a busy
destination; a live call with no linked number → status failed with a detail and nothing
recorded; a live call from a linked number → initiated; validation field paths; unknown
agent), calls.retrieve (detail with started_at, answered_at, conversation_logs; unknown call;
another agent's call), calls.list (filters is_test_call and status, search, sort, validation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from bimpeai import AgentCreateResponse, BimpeAI, NotFoundError, ValidationError

if TYPE_CHECKING:
    from emulator_admin import Admin, Team


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


def test_a_test_call_completes_with_a_conversation_log(
    sdk: BimpeAI, agent: AgentCreateResponse
) -> None:
    result = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": True})
    assert result.status == "initiated"
    assert result.call_id is not None
    assert result.detail is None
    call = sdk.calls.retrieve(agent.id, result.call_id)
    assert call.id == result.call_id
    assert call.destination == "+2348012345678"
    assert call.is_test_call is True
    assert call.direction == "outbound"
    assert call.status == "ended"
    assert call.end_reason == "completed"
    assert call.duration_seconds is not None and call.duration_seconds > 0
    assert call.started_at is not None
    assert call.answered_at is not None
    assert call.ended_at is not None and call.ended_at > call.answered_at
    assert [m.role for m in call.conversation_logs] == ["assistant", "user", "assistant"]
    assert call.conversation_logs[0].message is not None
    assert agent.name in call.conversation_logs[0].message
    listed = list(sdk.calls.list(agent.id))
    assert [(c.id, c.status) for c in listed] == [(call.id, "ended")]


def test_a_busy_destination(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    result = sdk.calls.make(agent.id, {"destination": "+15550100000", "is_test_call": True})
    assert result.status == "busy"
    assert result.call_id is not None
    call = sdk.calls.retrieve(agent.id, result.call_id)
    assert (call.status, call.end_reason, call.answered_at) == ("busy", "busy", None)
    assert call.conversation_logs == []


def test_a_live_call_needs_a_linked_number(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    result = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": False})
    assert result.status == "failed"
    assert result.call_id is None
    assert result.detail is not None
    assert "phone number" in result.detail
    assert list(sdk.calls.list(agent.id)) == []


def test_a_live_call_from_a_linked_number(
    sdk: BimpeAI,
    admin: Admin,
    team: Team,
    agent: AgentCreateResponse,
    new_e164: Callable[[], str],
) -> None:
    number = admin.assign_number(team, new_e164(), "Main line")
    sdk.phone_numbers.update(number["id"], agent_id=agent.id)
    result = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": False})
    assert result.status == "initiated"
    assert result.call_id is not None
    call = sdk.calls.retrieve(agent.id, result.call_id)
    assert call.is_test_call is False
    assert call.source == number["e164"]
    sdk.phone_numbers.update(number["id"], agent_id=None)
    again = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": False})
    assert again.status == "failed"


def test_make_validation(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"destination": "08012345678", "is_test_call": True}, {"destination"}),
        ({"destination": "+2348012345678"}, {"is_test_call"}),
        ({"is_test_call": "sometimes"}, {"destination", "is_test_call"}),
    ]
    for body, expected in cases:
        with pytest.raises(ValidationError) as caught:
            sdk.calls.make(agent.id, body)  # type: ignore[arg-type]
        assert paths(caught.value) == expected, body
    assert list(sdk.calls.list(agent.id)) == []
    with pytest.raises(NotFoundError):
        sdk.calls.make("agt_missing", {"destination": "+2348012345678", "is_test_call": True})


def test_retrieve_errors(
    sdk: BimpeAI, agent: AgentCreateResponse, make_agent: Callable[..., AgentCreateResponse]
) -> None:
    result = sdk.calls.make(agent.id, {"destination": "+2348012345678", "is_test_call": True})
    assert result.call_id is not None
    other = make_agent(name="Other")
    with pytest.raises(NotFoundError):
        sdk.calls.retrieve(other.id, result.call_id)
    with pytest.raises(NotFoundError) as caught:
        sdk.calls.retrieve(agent.id, "call_missing")
    assert caught.value.code == "not_found"
    with pytest.raises(NotFoundError):
        sdk.calls.list("agt_missing")


def test_list_filters(
    sdk: BimpeAI,
    admin: Admin,
    team: Team,
    agent: AgentCreateResponse,
    new_e164: Callable[[], str],
) -> None:
    number = admin.assign_number(team, new_e164())
    sdk.phone_numbers.update(number["id"], agent_id=agent.id)
    test_ended = sdk.calls.make(agent.id, {"destination": "+2348011111111", "is_test_call": True})
    test_busy = sdk.calls.make(agent.id, {"destination": "+2348010000000", "is_test_call": True})
    live = sdk.calls.make(agent.id, {"destination": "+2348022222222", "is_test_call": False})

    def ids(**filters: Any) -> list[str]:
        return [c.id for c in sdk.calls.list(agent.id, **filters)]

    assert ids() == [test_ended.call_id, test_busy.call_id, live.call_id]
    assert ids(is_test_call=True) == [test_ended.call_id, test_busy.call_id]
    assert ids(is_test_call=False) == [live.call_id]
    assert ids(status="busy") == [test_busy.call_id]
    assert ids(status="ended") == [test_ended.call_id, live.call_id]
    assert ids(status="ended", is_test_call=False) == [live.call_id]
    assert ids(status="ringing") == []
    assert ids(search="+23480222") == [live.call_id]
    assert ids(sort="-created_on") == [live.call_id, test_busy.call_id, test_ended.call_id]
    page = sdk.calls.list(agent.id, limit=2)
    assert page.meta is not None
    assert (page.meta.total_count, page.meta.page_count, page.meta.has_next_page) == (3, 2, True)
    with pytest.raises(ValidationError) as caught:
        sdk.calls.list(agent.id, status="lost")  # type: ignore[arg-type]
    assert paths(caught.value) == {"status"}
    with pytest.raises(ValidationError) as caught:
        sdk.calls.list(agent.id, sort="-loudness")
    assert paths(caught.value) == {"sort"}
