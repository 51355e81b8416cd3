"""Phone numbers and provisioning requests through the official SDK.

Covers: numbers assigned by the admin API appearing in phone_numbers.list (search, sort,
pagination), phone_numbers.retrieve (detail; unknown id), phone_numbers.update (link to an
agent, visible in the agent's channels and test code; unlink with agent_id=None; label;
unknown agent → 404; validation), phone_numbers.requests.create (returns nothing; validation
field paths; unknown submitting agent) and requests.list, and an admin fulfilment making the
number appear for the team.
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


REQUEST: dict[str, Any] = {
    "business_name": "Bimpe Bakery",
    "intended_use": "Order line for cake pick-ups",
    "region": "ng",
    "agent_count": 2,
    "outbound_minutes": 500,
}


def test_assigned_numbers_are_listed(
    sdk: BimpeAI, admin: Admin, team: Team, new_e164: Callable[[], str]
) -> None:
    first = admin.assign_number(team, new_e164(), "Sales")
    second = admin.assign_number(team, new_e164(), "Support")
    listed = list(sdk.phone_numbers.list())
    assert [(n.id, n.e164, n.label, n.agent_id) for n in listed] == [
        (first["id"], first["e164"], "Sales", None),
        (second["id"], second["e164"], "Support", None),
    ]
    assert [n.label for n in sdk.phone_numbers.list(sort="-label")] == ["Support", "Sales"]
    assert [n.id for n in sdk.phone_numbers.list(search="supp")] == [second["id"]]
    page = sdk.phone_numbers.list(limit=1)
    assert page.meta is not None
    assert (page.meta.total_count, page.meta.page_count) == (2, 2)
    assert len(list(page.pages())) == 2


def test_retrieve(sdk: BimpeAI, admin: Admin, team: Team, new_e164: Callable[[], str]) -> None:
    number = admin.assign_number(team, new_e164(), "Main")
    detail = sdk.phone_numbers.retrieve(number["id"])
    assert (detail.id, detail.e164, detail.label, detail.agent_id) == (
        number["id"],
        number["e164"],
        "Main",
        None,
    )
    assert detail.inbound_enabled is True
    assert detail.created_at
    with pytest.raises(NotFoundError) as caught:
        sdk.phone_numbers.retrieve("pn_missing")
    assert caught.value.code == "not_found"


def test_link_relabel_and_unlink(
    sdk: BimpeAI,
    admin: Admin,
    team: Team,
    agent: AgentCreateResponse,
    new_e164: Callable[[], str],
) -> None:
    number = admin.assign_number(team, new_e164())
    linked = sdk.phone_numbers.update(number["id"], agent_id=agent.id)
    assert linked.agent_id == agent.id
    assert linked.updated_at > number["updated_at"]
    channels = {c.type: c.is_connected for c in sdk.agents.channels.list(agent.id)}
    assert channels["telephony"] is True
    assert sdk.agents.get_test_code(agent.id).channels.telephony.is_enabled is True

    labelled = sdk.phone_numbers.update(number["id"], label="Front desk")
    assert (labelled.label, labelled.agent_id) == ("Front desk", agent.id)
    assert [(n.label, n.agent_id) for n in sdk.phone_numbers.list()] == [("Front desk", agent.id)]

    unlinked = sdk.phone_numbers.update(number["id"], agent_id=None)
    assert (unlinked.agent_id, unlinked.label) == (None, "Front desk")
    assert sdk.phone_numbers.retrieve(number["id"]).agent_id is None
    channels = {c.type: c.is_connected for c in sdk.agents.channels.list(agent.id)}
    assert channels["telephony"] is False


def test_update_errors(sdk: BimpeAI, admin: Admin, team: Team, new_e164: Callable[[], str]) -> None:
    number = admin.assign_number(team, new_e164(), "Main")
    with pytest.raises(NotFoundError):
        sdk.phone_numbers.update(number["id"], agent_id="agt_missing")
    with pytest.raises(NotFoundError):
        sdk.phone_numbers.update("pn_missing", label="x")
    with pytest.raises(ValidationError) as caught:
        sdk.phone_numbers.update(number["id"], label="x" * 201)
    assert paths(caught.value) == {"label"}
    with pytest.raises(ValidationError) as caught:
        sdk.phone_numbers.update(number["id"], e164="+15550000000")  # type: ignore[call-arg]
    assert caught.value.field_errors == [{"path": "e164", "message": "unknown field"}]
    assert sdk.phone_numbers.retrieve(number["id"]).label == "Main"


def test_requests_create_and_list(sdk: BimpeAI, agent: AgentCreateResponse) -> None:
    assert list(sdk.phone_numbers.requests.list()) == []
    assert sdk.phone_numbers.requests.create(**REQUEST) is None
    sdk.phone_numbers.requests.create(
        **{**REQUEST, "region": "uk", "submitted_by_agent_id": agent.id}
    )
    requests = list(sdk.phone_numbers.requests.list())
    assert [(r.status, r.region, r.e164) for r in requests] == [
        ("pending", "ng", None),
        ("pending", "uk", None),
    ]
    first = requests[0]
    assert (first.business_name, first.intended_use, first.agent_count, first.outbound_minutes) == (
        "Bimpe Bakery",
        "Order line for cake pick-ups",
        2,
        500,
    )


def test_requests_create_validation(sdk: BimpeAI) -> None:
    body: dict[str, Any] = {**REQUEST, "region": "mars", "agent_count": 0}
    del body["business_name"]
    with pytest.raises(ValidationError) as caught:
        sdk.phone_numbers.requests.create(**body)
    assert paths(caught.value) == {"business_name", "region", "agent_count"}
    with pytest.raises(ValidationError) as caught:
        sdk.phone_numbers.requests.create(**REQUEST, submitted_by_agent_id="agt_missing")
    assert paths(caught.value) == {"submitted_by_agent_id"}
    assert list(sdk.phone_numbers.requests.list()) == []


def test_fulfilled_request_adds_the_number(
    sdk: BimpeAI, admin: Admin, new_e164: Callable[[], str]
) -> None:
    sdk.phone_numbers.requests.create(**REQUEST)
    (pending,) = list(sdk.phone_numbers.requests.list())
    assert list(sdk.phone_numbers.list()) == []
    e164 = new_e164()
    number = admin.call("POST", f"/phone-number-requests/{pending.id}/fulfil", {"e164": e164})
    listed = list(sdk.phone_numbers.list())
    assert [(n.id, n.e164, n.agent_id) for n in listed] == [(number["id"], e164, None)]
    (fulfilled,) = list(sdk.phone_numbers.requests.list())
    assert (fulfilled.id, fulfilled.status, fulfilled.e164) == (pending.id, "fulfilled", e164)
    assert sdk.phone_numbers.retrieve(number["id"]).e164 == e164
