"""Workflows: the team's own, plus the public catalog that every team can read and clone."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from bimpeai import Workflow
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from bimpe_iac.emulator.bodies import CloneWorkflow, CreateWorkflow, UpdateWorkflow
from bimpe_iac.emulator.common import (
    ListQuery,
    list_query,
    new_id,
    normalise_text,
    readable_teams,
    store_of,
    team_of,
)
from bimpe_iac.emulator.envelopes import Envelope, Paged
from bimpe_iac.emulator.responses import conflict, invalid, not_found, ok
from bimpe_iac.emulator.store import PUBLIC_TEAM, Store, now_iso

router = APIRouter(prefix="/workflows", tags=["workflows"])
KIND = "workflow"
SORTABLE = ("created_at", "updated_at", "name")
# Fields a workflow always has a value for: an update may change them, not null them.
NOT_NULL = ("name", "system_prompt", "rules", "flows", "setup_steps")


def present(workflow: dict[str, Any], team_id: str) -> dict[str, Any]:
    return {**workflow, "is_owner": workflow["visibility"] == "private" and team_id != PUBLIC_TEAM}


def readable(store: Store, team_id: str, workflow_id: str) -> dict[str, Any]:
    workflow = store.get(KIND, workflow_id, readable_teams(team_id))
    if workflow is None:
        raise not_found("workflow", workflow_id)
    return workflow


def _owned(store: Store, team_id: str, workflow_id: str) -> dict[str, Any]:
    workflow = store.get(KIND, workflow_id, (team_id,))
    if workflow is None:
        raise not_found("workflow", workflow_id)
    return workflow


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    if "system_prompt" in body:
        body["system_prompt"] = normalise_text(body["system_prompt"])
    for flow in body.get("flows") or []:
        flow.setdefault("is_active", True)
        flow.setdefault("priority", 0)
    for rule in body.get("rules") or []:
        rule.setdefault("condition", None)
        rule.setdefault("action", None)
    return body


@router.get("", response_model=Paged[Workflow])
async def list_workflows(
    request: Request,
    q: Annotated[ListQuery, Depends(list_query)],
    scope: Annotated[Literal["owned", "public", "accessible"], Query()] = "accessible",
) -> Response:
    team = team_of(request)
    teams = {"owned": (team,), "public": (PUBLIC_TEAM,), "accessible": readable_teams(team)}
    field, descending = q.order(SORTABLE)
    listing = store_of(request).query(
        KIND,
        teams[scope],
        search=q.search,
        search_fields=("name", "description"),
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond([present(w, team) for w in listing.items], listing.total)


@router.post("", response_model=Envelope[Workflow], status_code=201)
async def create_workflow(request: Request, body: CreateWorkflow) -> Response:
    team = team_of(request)
    at = now_iso()
    workflow: dict[str, Any] = {
        "id": new_id("wf"),
        "description": None,
        "category": None,
        "visibility": "private",
        "rules": [],
        "flows": [],
        "tags": [],
        "integrations": [],
        "channels": [],
        "actions": [],
        "guide": None,
        "faq": [],
        "setup_steps": [],
        "setup_time": None,
        "video_url": None,
        **_fields(body.model_dump(exclude_none=True)),
        "created_at": at,
        "updated_at": at,
    }
    store_of(request).insert(KIND, team, workflow)
    return ok(present(workflow, team), "Workflow created", status=201)


@router.post("/clone", response_model=Envelope[Workflow], status_code=201)
async def clone_workflow(request: Request, body: CloneWorkflow) -> Response:
    team = team_of(request)
    store = store_of(request)
    source = readable(store, team, body.source_workflow_id)
    at = now_iso()
    copy = {**source, "id": new_id("wf"), "visibility": "private", "created_at": at}
    copy["updated_at"] = at
    store.insert(KIND, team, copy)
    return ok(present(copy, team), "Workflow cloned", status=201)


@router.get("/{workflow_id}", response_model=Envelope[Workflow])
async def retrieve_workflow(request: Request, workflow_id: str) -> Response:
    team = team_of(request)
    return ok(present(readable(store_of(request), team, workflow_id), team))


@router.patch("/{workflow_id}", response_model=Envelope[Workflow])
async def update_workflow(request: Request, workflow_id: str, body: UpdateWorkflow) -> Response:
    team = team_of(request)
    store = store_of(request)
    workflow = _owned(store, team, workflow_id)
    changes = body.model_dump(exclude_unset=True)
    nulled = [field for field in NOT_NULL if field in changes and changes[field] is None]
    if nulled:
        raise invalid(*(f"{field}: may not be null" for field in nulled))
    workflow.update(_fields(changes))
    workflow["updated_at"] = now_iso()
    store.replace(workflow)
    return ok(present(workflow, team), "Workflow updated")


@router.delete("/{workflow_id}", response_model=Envelope[None])
async def delete_workflow(request: Request, workflow_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    _owned(store, team, workflow_id)
    users = store.find("agent", team, workflow_id=workflow_id)
    if users:
        names = ", ".join(a["id"] for a in users[:5])
        raise conflict(f"workflow {workflow_id} is used by {len(users)} agent(s): {names}")
    store.delete(workflow_id)
    return ok(None, "Workflow deleted")
