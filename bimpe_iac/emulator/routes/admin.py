"""The emulator's own admin API (not part of BimpeAI): teams and keys, phone-number supply,
request counters, latency and fault injection, and reset. Guarded by the admin token."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from bimpe_iac.emulator.bodies import E164
from bimpe_iac.emulator.common import new_id, store_of
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.responses import conflict, invalid, not_found, ok
from bimpe_iac.emulator.seeding import seed_catalog
from bimpe_iac.emulator.store import Store, now_iso

router = APIRouter(prefix="/_emulator", tags=["emulator admin"])


class NewTeam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    agent_limit: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class NewPhoneNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")
    e164: E164
    label: str | None = None
    inbound_enabled: bool = True


class Fulfilment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    e164: E164


def create_team(store: Store, name: str, agent_limit: int | None = None) -> dict[str, Any]:
    team_id = new_id("team")
    key = f"sk_emu_{secrets.token_hex(16)}"
    store.create_team(team_id, name, agent_limit)
    store.add_key(key, team_id)
    return {"id": team_id, "name": name, "agent_limit": agent_limit, "api_key": key}


def assign_number(
    store: Store, team_id: str, e164: str, label: str | None = None, inbound: bool = True
) -> dict[str, Any]:
    if store.find("phone_number", None, e164=e164):
        raise conflict(f"{e164} is already assigned")
    at = now_iso()
    number = {
        "id": new_id("pn"),
        "agent_id": None,
        "label": label,
        "e164": e164,
        "inbound_enabled": inbound,
        "created_at": at,
        "updated_at": at,
    }
    store.insert("phone_number", team_id, number)
    return number


def _team(store: Store, team_id: str) -> dict[str, Any]:
    team = store.team(team_id)
    if team is None:
        raise not_found("team", team_id)
    return team


@router.get("/teams")
async def list_teams(request: Request) -> Response:
    return ok(store_of(request).teams())


@router.post("/teams", status_code=201)
async def new_team(request: Request, body: NewTeam) -> Response:
    return ok(create_team(store_of(request), body.name, body.agent_limit), "Team created", 201)


@router.post("/teams/{team_id}/keys", status_code=201)
async def new_key(request: Request, team_id: str) -> Response:
    store = store_of(request)
    _team(store, team_id)
    key = f"sk_emu_{secrets.token_hex(16)}"
    store.add_key(key, team_id)
    return ok({"team_id": team_id, "api_key": key}, "Key created", 201)


@router.post("/teams/{team_id}/phone-numbers", status_code=201)
async def new_phone_number(request: Request, team_id: str, body: NewPhoneNumber) -> Response:
    store = store_of(request)
    _team(store, team_id)
    number = assign_number(store, team_id, body.e164, body.label, body.inbound_enabled)
    return ok(number, "Phone number assigned", 201)


@router.post("/phone-number-requests/{request_id}/fulfil")
async def fulfil(request: Request, request_id: str, body: Fulfilment) -> Response:
    store = store_of(request)
    team_id = store.owner(request_id)
    record = store.get("phone_number_request", request_id, (team_id or "-",))
    if team_id is None or record is None:
        raise not_found("phone number request", request_id)
    if record["status"] != "pending":
        raise invalid(f"status: request {request_id} is already {record['status']}")
    number = assign_number(store, team_id, body.e164)
    record.update(status="fulfilled", e164=body.e164, updated_at=now_iso())
    store.replace(record)
    return ok(number, "Request fulfilled")


@router.get("/counters")
async def counters(request: Request) -> Response:
    gateway = request.app.state.gateway
    return ok(
        {
            "requests": dict(gateway.requests),
            "faults": dict(gateway.faults),
            "rate_limited": gateway.rate_limited,
        }
    )


@router.delete("/counters")
async def reset_counters(request: Request) -> Response:
    gateway = request.app.state.gateway
    gateway.requests.clear()
    gateway.faults.clear()
    gateway.rate_limited = 0
    return ok(None, "Counters reset")


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return ok(request.app.state.dice.settings.model_dump())


@router.put("/faults")
async def set_faults(request: Request, body: FaultSettings) -> Response:
    request.app.state.dice.configure(body)
    return ok(body.model_dump(), "Faults updated")


@router.post("/reset")
async def reset(request: Request) -> Response:
    store = store_of(request)
    store.reset()
    seed_catalog(store)
    request.app.state.gateway.forget_keys()
    request.app.state.gateway.requests.clear()
    request.app.state.gateway.faults.clear()
    return ok(None, "Emulator reset")
