"""The emulator's own admin API (not part of BimpeAI): teams and keys, phone-number supply,
connector onboarding, request counters, latency and fault injection, and reset. Guarded by the
admin token, except the onboarding page a person opens (its unguessable token is the key)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import HTMLResponse, Response

from bimpe_iac.emulator.bodies import E164
from bimpe_iac.emulator.common import new_id, store_of
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.responses import conflict, invalid, not_found, ok
from bimpe_iac.emulator.routes.connectors import (
    complete_onboardings,
    onboarding_by_token,
    onboarding_page,
    pending_onboardings,
)
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


class OnboardingCompletion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    integration_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


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


@router.delete("/phone-numbers/{e164}")
async def release_phone_number(request: Request, e164: str) -> Response:
    """Give a number up, whichever team holds it, so that another team can be assigned it
    (the demo numbers start in the default team)."""
    store = store_of(request)
    found = store.find("phone_number", None, e164=e164)
    if not found:
        raise not_found("phone number", e164)
    for number in found:
        store.delete(number["id"])
    return ok({"e164": e164}, "Phone number released")


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


@router.get("/onboarding/{token}", response_class=HTMLResponse)
async def open_onboarding(request: Request, token: str) -> Response:
    """What a person sees on opening an onboarding URL: it completes the onboarding. No admin
    token is needed (the gateway lets GET through): the URL's token is unguessable."""
    store = store_of(request)
    row = onboarding_by_token(store, token)
    team_id = store.owner(row["id"]) if row is not None else None
    if row is None or team_id is None:
        page = onboarding_page("Link not valid", "This onboarding link is unknown or was revoked.")
        return HTMLResponse(page, status_code=404)
    done = row["status"] != "pending"
    complete_onboardings(store, team_id, [row])
    text = "was already connected" if done else "is now connected"
    page = onboarding_page(
        f"{row['label']} connected", f"{row['label']} {text}. You can close this page."
    )
    return HTMLResponse(page)


@router.post("/teams/{team_id}/onboarding/complete")
async def complete_onboarding(
    request: Request, team_id: str, body: OnboardingCompletion | None = None
) -> Response:
    """Complete the team's pending connector onboardings (all, or the one of `integration_id`),
    as a person opening each onboarding URL would; answers what was completed."""
    store = store_of(request)
    _team(store, team_id)
    integration_id = body.integration_id if body is not None else None
    rows = pending_onboardings(store, team_id, integration_id)
    if integration_id is not None and not rows:
        raise not_found("pending onboarding of integration", integration_id)
    complete_onboardings(store, team_id, rows)
    done = [
        {"integration_id": r["integration_id"], "agent_id": r["agent_id"], "family": r["family"]}
        for r in rows
    ]
    return ok(done, "Onboarding completed")


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
