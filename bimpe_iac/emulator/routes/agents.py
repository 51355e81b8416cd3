"""Agents and their sub-resources: live status, test code, integrations, channels, actions and
knowledge bases. Deleting an agent removes everything under it and unlinks its phone numbers."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from bimpeai import (
    Agent,
    AgentAction,
    AgentChannel,
    AgentCreateResponse,
    AgentDetail,
    AgentIntegration,
    AgentLiveStatus,
    AgentTestCode,
    BulkActionUpdate,
    KnowledgeBaseItem,
)
from fastapi import APIRouter, Body, Depends, Request
from starlette.responses import Response

from bimpe_iac.emulator.bodies import (
    ActionIds,
    CreateAgent,
    CreateKnowledgeBase,
    UpdateAgent,
    UpdateKnowledgeBase,
    UpdateLiveStatus,
)
from bimpe_iac.emulator.catalog import BUILTIN_INTEGRATIONS
from bimpe_iac.emulator.common import (
    ListQuery,
    list_query,
    new_id,
    normalise_text,
    store_of,
    team_of,
)
from bimpe_iac.emulator.envelopes import Envelope, ErrorBody, Paged
from bimpe_iac.emulator.responses import ApiError, invalid, not_found, ok
from bimpe_iac.emulator.routes import workflows
from bimpe_iac.emulator.store import Store, now_iso

router = APIRouter(prefix="/agents", tags=["agents"])
KIND = "agent"
SORTABLE = ("created_at", "updated_at", "name", "status")
AGENT_FIELDS = (
    "name",
    "description",
    "language",
    "persona",
    "workflow_id",
    "timezone",
    "logo",
    "business_name",
    "business_address",
    "business_email",
    "business_description",
    "escalation_email",
)


def owned_agent(store: Store, team_id: str, agent_id: str) -> dict[str, Any]:
    agent = store.get(KIND, agent_id, (team_id,))
    if agent is None:
        raise not_found("agent", agent_id)
    return agent


def delete_agent_tree(store: Store, agent_id: str, team_id: str) -> None:
    """Remove an agent with its knowledge bases, actions, conversations and calls."""
    for conversation in store.children("conversation", agent_id):
        store.delete_children(conversation["id"])
    store.delete_children(agent_id)
    for number in store.find("phone_number", team_id, agent_id=agent_id):
        number.update(agent_id=None, updated_at=now_iso())
        store.replace(number)
    store.delete(agent_id)


def _builtin_rows(agent_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    integrations: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for kind, name, connected, catalog in BUILTIN_INTEGRATIONS:
        integration_id = new_id("int")
        integrations.append(
            {
                "id": integration_id,
                "type": kind,
                "name": name,
                "status": "connected" if connected else "not_connected",
                "is_connected": connected,
                "config_fields": [],
            }
        )
        for action_name, action_title, description in catalog:
            actions.append(
                {
                    "id": new_id("act"),
                    "integration_id": integration_id,
                    "integration_type": kind,
                    "integration_name": name,
                    "name": action_title,
                    "action_name": action_name,
                    "description": description,
                    "is_enabled": False,
                }
            )
    return integrations, actions


def _linked_numbers(store: Store, team_id: str, agent_id: str) -> list[dict[str, Any]]:
    return store.find("phone_number", team_id, agent_id=agent_id)


def _channels(store: Store, team_id: str, agent: dict[str, Any]) -> list[dict[str, Any]]:
    telephony = bool(_linked_numbers(store, team_id, agent["id"]))
    kinds = [
        ("webchat", "Web chat", True),
        ("whatsapp", "WhatsApp", False),
        ("instagram", "Instagram", False),
        ("messenger", "Messenger", False),
        ("telephony", "Telephony", telephony),
    ]
    return [
        {
            "id": f"ch_{agent['id']}_{kind}",
            "type": kind,
            "name": name,
            "status": "connected" if connected else "not_connected",
            "is_connected": connected,
        }
        for kind, name, connected in kinds
    ]


def _integrations(store: Store, agent_id: str) -> list[dict[str, Any]]:
    actions = store.children("action", agent_id)
    out = []
    for integration in store.children("integration", agent_id):
        own = [a for a in actions if a["integration_id"] == integration["id"]]
        out.append(
            {
                **integration,
                "actions": [
                    {
                        "action_name": a["action_name"],
                        "name": a["name"],
                        "description": a["description"],
                        "category": integration["type"],
                        "is_enabled": a["is_enabled"],
                        "require_human_approval": False,
                    }
                    for a in own
                ],
            }
        )
    return out


def _summary(integration: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "name", "status", "is_connected")
    return {k: integration[k] for k in keys}


def _kb_summary(kb: dict[str, Any]) -> dict[str, Any]:
    return {k: kb[k] for k in ("id", "type", "name", "description")}


@router.get("", response_model=Paged[Agent])
async def list_agents(request: Request, q: Annotated[ListQuery, Depends(list_query)]) -> Response:
    field, descending = q.order(SORTABLE)
    listing = store_of(request).query(
        KIND,
        (team_of(request),),
        search=q.search,
        search_fields=("name", "description"),
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond(listing.items, listing.total)


@router.post(
    "",
    response_model=Envelope[AgentCreateResponse],
    status_code=201,
    responses={403: {"model": ErrorBody, "description": "The team's agent limit is reached"}},
)
async def create_agent(request: Request, body: CreateAgent) -> Response:
    team = team_of(request)
    store = store_of(request)
    workflow = workflows.readable(store, team, body.workflow_id)
    limit = (store.team(team) or {}).get("agent_limit")
    if limit is not None and store.count(KIND, team) >= limit:
        raise ApiError(403, "agent_limit_reached", f"the team's limit of {limit} agents is reached")
    at = now_iso()
    agent: dict[str, Any] = {field: None for field in AGENT_FIELDS}
    agent.update(body.model_dump(exclude_none=True))
    agent.update(
        id=new_id("agt"),
        test_channel_code=f"TEST-{secrets.token_hex(3).upper()}",
        status="development",
        status_reason=None,
        created_at=at,
        updated_at=at,
    )
    integrations, actions = _builtin_rows(agent["id"])
    with store.transaction():
        store.insert(KIND, team, agent)
        store.insert_many("integration", team, integrations, parent_id=agent["id"])
        store.insert_many("action", team, actions, parent_id=agent["id"])
    created = {**agent, "workflow": workflows.present(workflow, team)}
    return ok(created, "Agent created", status=201)


@router.get("/{agent_id}", response_model=Envelope[AgentDetail])
async def retrieve_agent(request: Request, agent_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    detail = {
        **agent,
        "knowledge_bases": [_kb_summary(kb) for kb in store.children("knowledge_base", agent_id)],
        "integrations": [_summary(i) for i in store.children("integration", agent_id)],
        "channels": _channels(store, team, agent),
    }
    return ok(detail)


@router.patch("/{agent_id}", response_model=Envelope[Agent])
async def update_agent(request: Request, agent_id: str, body: UpdateAgent) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("workflow_id") is not None:
        workflows.readable(store, team, changes["workflow_id"])
    for field in ("workflow_id", "name", "description"):
        if field in changes and changes[field] is None:
            raise invalid(f"{field}: may not be null")
    agent.update(changes)
    agent["updated_at"] = now_iso()
    store.replace(agent)
    return ok(agent, "Agent updated")


@router.delete("/{agent_id}", response_model=Envelope[None])
async def delete_agent(request: Request, agent_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    with store.transaction():
        delete_agent_tree(store, agent_id, team)
    return ok(None, "Agent deleted")


@router.patch("/{agent_id}/live-status", response_model=Envelope[AgentLiveStatus])
async def update_live_status(request: Request, agent_id: str, body: UpdateLiveStatus) -> Response:
    store = store_of(request)
    agent = owned_agent(store, team_of(request), agent_id)
    agent.update(status=body.status, status_reason=body.status_reason, updated_at=now_iso())
    store.replace(agent)
    return ok({"status": agent["status"], "status_reason": agent["status_reason"]})


@router.get("/{agent_id}/deployment/agent-test-code", response_model=Envelope[AgentTestCode])
async def get_test_code(request: Request, agent_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    code = agent["test_channel_code"]
    numbers = _linked_numbers(store, team, agent_id)
    start = f"Hi! {code}"
    data = {
        "code": code,
        "channels": {
            "whatsapp": {
                "is_enabled": True,
                "start_message": start,
                "phone_number": "+15550100000",
                "url": f"https://wa.me/15550100000?text={code}",
            },
            "instagram": {"is_enabled": False, "start_message": start},
            "messenger": {"is_enabled": False, "start_message": start},
            "telephony": {"is_enabled": bool(numbers)},
        },
    }
    return ok(data)


@router.get("/{agent_id}/integrations", response_model=Envelope[list[AgentIntegration]])
async def list_integrations(request: Request, agent_id: str) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    return ok(_integrations(store, agent_id))


@router.get("/{agent_id}/channels", response_model=Envelope[list[AgentChannel]])
async def list_channels(request: Request, agent_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    return ok(_channels(store, team, owned_agent(store, team, agent_id)))


@router.get("/{agent_id}/actions", response_model=Envelope[list[AgentAction]])
async def list_actions(request: Request, agent_id: str) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    return ok(store.children("action", agent_id))


def _set_actions(request: Request, agent_id: str, body: ActionIds, enabled: bool) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    actions = {a["id"]: a for a in store.children("action", agent_id)}
    unknown = [
        f"action_ids.{i}: no action {action_id} on agent {agent_id}"
        for i, action_id in enumerate(body.action_ids)
        if action_id not in actions
    ]
    if unknown:
        raise invalid(*unknown)
    chosen = [actions[i] for i in dict.fromkeys(body.action_ids)]
    for action in chosen:
        action["is_enabled"] = enabled
    with store.transaction():
        store.replace_many(chosen)
    return ok({"updated_count": len(chosen)}, "Actions updated")


@router.post("/{agent_id}/actions/enable", response_model=Envelope[BulkActionUpdate])
async def enable_actions(request: Request, agent_id: str, body: ActionIds) -> Response:
    return _set_actions(request, agent_id, body, True)


@router.post("/{agent_id}/actions/disable", response_model=Envelope[BulkActionUpdate])
async def disable_actions(request: Request, agent_id: str, body: ActionIds) -> Response:
    return _set_actions(request, agent_id, body, False)


def _owned_kb(store: Store, agent_id: str, kb_id: str) -> dict[str, Any]:
    kb = store.get("knowledge_base", kb_id, (store.owner(agent_id) or "",), parent_id=agent_id)
    if kb is None:
        raise not_found("knowledge base", kb_id)
    return kb


@router.get("/{agent_id}/knowledge_bases", response_model=Envelope[list[KnowledgeBaseItem]])
async def list_knowledge_bases(request: Request, agent_id: str) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    return ok(store.children("knowledge_base", agent_id))


@router.post(
    "/{agent_id}/knowledge_bases", response_model=Envelope[KnowledgeBaseItem], status_code=201
)
async def create_knowledge_base(
    request: Request, agent_id: str, body: Annotated[CreateKnowledgeBase, Body()]
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    at = now_iso()
    fields = body.model_dump()
    kb: dict[str, Any] = {
        "id": new_id("kb"),
        "type": fields["type"],
        "name": fields["name"],
        "description": fields.get("description"),
        "url": fields.get("url"),
        "content": normalise_text(fields["content"]) if "content" in fields else None,
        "created_at": at,
        "updated_at": at,
    }
    store.insert("knowledge_base", team, kb, parent_id=agent_id)
    return ok(kb, "Knowledge base created", status=201)


@router.patch("/{agent_id}/knowledge_bases/{kb_id}", response_model=Envelope[KnowledgeBaseItem])
async def update_knowledge_base(
    request: Request, agent_id: str, kb_id: str, body: UpdateKnowledgeBase
) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    kb = _owned_kb(store, agent_id, kb_id)
    changes = body.model_dump(exclude_unset=True)
    if kb["type"] == "url" and "content" in changes:
        raise invalid("content: a url knowledge base has no content; change its url")
    if kb["type"] == "text" and "url" in changes:
        raise invalid("url: a text knowledge base has no url; change its content")
    if "name" in changes and changes["name"] is None:
        raise invalid("name: may not be null")
    if changes.get("content") is not None:
        changes["content"] = normalise_text(changes["content"])
    kb.update(changes)
    kb["updated_at"] = now_iso()
    store.replace(kb)
    return ok(kb, "Knowledge base updated")


@router.delete("/{agent_id}/knowledge_bases/{kb_id}", response_model=Envelope[None])
async def delete_knowledge_base(request: Request, agent_id: str, kb_id: str) -> Response:
    store = store_of(request)
    owned_agent(store, team_of(request), agent_id)
    _owned_kb(store, agent_id, kb_id)
    store.delete(kb_id)
    return ok(None, "Knowledge base deleted")
