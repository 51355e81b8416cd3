"""Workflows through the official SDK.

Covers: workflows.list by scope (owned, public, accessible; is_owner flags), workflows.create
(full body round trip, defaults, system-prompt normalisation, validation field paths including
nested rules), workflows.retrieve (own, public, unknown), workflows.update (partial update,
validation), workflows.delete (then 404; 409 conflict while an agent uses it, allowed once the
agent is gone), workflows.clone (public and own sources, unknown source), and public catalog
workflows being read-only (update, delete → 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bimpeai import (
    AgentCreateResponse,
    BimpeAI,
    ConflictError,
    NotFoundError,
    ValidationError,
    Workflow,
)

PUBLIC_IDS = {
    "wf_public_support_triage",
    "wf_public_appointment_booking",
    "wf_public_sales_assistant",
}


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


FULL_BODY: dict[str, Any] = {
    "name": "Bakery orders",
    "system_prompt": "You take cake orders.\r\nBe warm.   \n\n",
    "description": "Orders for the bakery",
    "category": "sales",
    "rules": [
        {
            "id": "rule_allergy",
            "name": "Allergies",
            "trigger": "allergy",
            "response": "All our cakes may contain nuts.",
            "enabled": True,
        }
    ],
    "flows": [
        {
            "name": "Order a cake",
            "trigger_keywords": [{"keyword": "cake", "weight": "high"}],
            "conversation_steps": [{"type": "ask", "content": "Which flavour?"}],
        }
    ],
    "tags": ["bakery", "orders"],
    "actions": ["send_email"],
    "guide": {"steps": ["Write the menu"], "youtube_url": "https://youtu.be/abc"},
    "faq": [{"question": "Do you deliver?", "answer": "Yes, in town."}],
    "setup_time": 15,
    "video_url": "https://example.com/video",
}


def test_create_round_trips_the_body(sdk: BimpeAI) -> None:
    created = sdk.workflows.create(**FULL_BODY)
    assert created.id.startswith("wf_")
    assert created.visibility == "private"
    assert created.is_owner is True
    assert created.name == "Bakery orders"
    assert created.system_prompt == "You take cake orders.\nBe warm."
    assert created.description == "Orders for the bakery"
    assert created.category == "sales"
    assert [(r.id, r.trigger, r.response, r.enabled) for r in created.rules] == [
        ("rule_allergy", "allergy", "All our cakes may contain nuts.", True)
    ]
    assert created.flows[0].name == "Order a cake"
    assert created.flows[0].is_active is True
    assert created.flows[0].trigger_keywords is not None
    assert created.flows[0].trigger_keywords[0].keyword == "cake"
    assert created.tags == ["bakery", "orders"]
    assert created.actions == ["send_email"]
    assert created.guide is not None
    assert created.guide.steps == ["Write the menu"]
    assert created.faq is not None
    assert (created.faq[0].question, created.faq[0].answer) == ("Do you deliver?", "Yes, in town.")
    assert created.setup_time == 15
    assert created.video_url == "https://example.com/video"
    assert sdk.workflows.retrieve(created.id) == created


def test_create_defaults(sdk: BimpeAI) -> None:
    created = sdk.workflows.create(name="Bare", system_prompt="Prompt")
    assert created.rules == []
    assert created.flows == []
    assert created.tags == []
    assert created.faq == []
    assert created.description is None
    assert created.guide is None


def test_create_validation_errors(sdk: BimpeAI) -> None:
    body: dict[str, Any] = {
        "name": "",
        "rules": [{"id": "r1", "name": "n", "trigger": "t", "response": "r"}],
        "video_url": "not a url",
        "setup_time": -1,
    }
    with pytest.raises(ValidationError) as caught:
        sdk.workflows.create(**body)
    assert caught.value.code == "validation_error"
    assert paths(caught.value) == {
        "name",
        "system_prompt",
        "rules.0.enabled",
        "video_url",
        "setup_time",
    }
    assert list(sdk.workflows.list(scope="owned")) == []


def test_list_by_scope(sdk: BimpeAI, make_workflow: Callable[..., Workflow]) -> None:
    mine = make_workflow(name="Mine")
    owned = list(sdk.workflows.list(scope="owned"))
    assert [w.id for w in owned] == [mine.id]
    assert owned[0].is_owner is True
    public = list(sdk.workflows.list(scope="public"))
    assert {w.id for w in public} == PUBLIC_IDS
    assert all(w.visibility == "public" and w.is_owner is False for w in public)
    accessible = {w.id for w in sdk.workflows.list(scope="accessible")}
    assert accessible == PUBLIC_IDS | {mine.id}
    assert {w.id for w in sdk.workflows.list()} == accessible


def test_list_scope_is_validated(sdk: BimpeAI) -> None:
    scope: Any = "everything"
    with pytest.raises(ValidationError) as caught:
        sdk.workflows.list(scope=scope)
    assert paths(caught.value) == {"scope"}


def test_retrieve(sdk: BimpeAI, workflow: Workflow) -> None:
    assert sdk.workflows.retrieve(workflow.id).name == workflow.name
    public = sdk.workflows.retrieve("wf_public_sales_assistant")
    assert public.name == "Sales Assistant"
    assert public.visibility == "public"
    assert public.is_owner is False
    with pytest.raises(NotFoundError) as caught:
        sdk.workflows.retrieve("wf_missing")
    assert caught.value.code == "not_found"


def test_update_is_partial(sdk: BimpeAI) -> None:
    created = sdk.workflows.create(**FULL_BODY)
    updated = sdk.workflows.update(created.id, name="Bakery v2", tags=["bakery"])
    assert updated.name == "Bakery v2"
    assert updated.tags == ["bakery"]
    assert updated.system_prompt == created.system_prompt
    assert updated.rules == created.rules
    assert updated.updated_at > created.updated_at
    assert sdk.workflows.retrieve(created.id).name == "Bakery v2"


def test_update_validation_and_unknown(sdk: BimpeAI, workflow: Workflow) -> None:
    body: dict[str, Any] = {"faq": [{"question": "q"}], "system_prompt": ""}
    with pytest.raises(ValidationError) as caught:
        sdk.workflows.update(workflow.id, **body)
    assert paths(caught.value) == {"faq.0.answer", "system_prompt"}
    with pytest.raises(NotFoundError):
        sdk.workflows.update("wf_missing", name="x")


def test_delete(sdk: BimpeAI, workflow: Workflow) -> None:
    assert sdk.workflows.delete(workflow.id) is None
    with pytest.raises(NotFoundError):
        sdk.workflows.retrieve(workflow.id)
    with pytest.raises(NotFoundError):
        sdk.workflows.delete(workflow.id)


def test_delete_of_a_workflow_in_use_is_a_conflict(
    sdk: BimpeAI, workflow: Workflow, agent: AgentCreateResponse
) -> None:
    with pytest.raises(ConflictError) as caught:
        sdk.workflows.delete(workflow.id)
    assert caught.value.status == 409
    assert caught.value.code == "conflict"
    assert agent.id in str(caught.value)
    assert sdk.workflows.retrieve(workflow.id).id == workflow.id
    sdk.agents.delete(agent.id)
    sdk.workflows.delete(workflow.id)
    with pytest.raises(NotFoundError):
        sdk.workflows.retrieve(workflow.id)


def test_clone_a_public_workflow(sdk: BimpeAI) -> None:
    source = sdk.workflows.retrieve("wf_public_appointment_booking")
    copy = sdk.workflows.clone(source_workflow_id=source.id)
    assert copy.id != source.id
    assert copy.visibility == "private"
    assert copy.is_owner is True
    assert (copy.name, copy.system_prompt) == (source.name, source.system_prompt)
    assert copy.rules == source.rules
    assert copy.flows == source.flows
    assert [w.id for w in sdk.workflows.list(scope="owned")] == [copy.id]
    edited = sdk.workflows.update(copy.id, name="Our booking")
    assert edited.name == "Our booking"
    assert sdk.workflows.retrieve(source.id).name == "Appointment Booking"


def test_clone_an_own_workflow_and_unknown_source(sdk: BimpeAI, workflow: Workflow) -> None:
    copy = sdk.workflows.clone(source_workflow_id=workflow.id)
    assert copy.id != workflow.id
    assert copy.system_prompt == workflow.system_prompt
    with pytest.raises(NotFoundError):
        sdk.workflows.clone(source_workflow_id="wf_missing")
    body: dict[str, Any] = {}
    with pytest.raises(ValidationError) as caught:
        sdk.workflows.clone(**body)
    assert paths(caught.value) == {"source_workflow_id"}


@pytest.mark.parametrize("workflow_id", sorted(PUBLIC_IDS))
def test_public_workflows_are_read_only(sdk: BimpeAI, workflow_id: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.workflows.update(workflow_id, name="Hijacked")
    assert caught.value.code == "not_found"
    with pytest.raises(NotFoundError):
        sdk.workflows.delete(workflow_id)
    assert sdk.workflows.retrieve(workflow_id).name != "Hijacked"
