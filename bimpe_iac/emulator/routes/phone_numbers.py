"""Phone numbers are provisioned by BimpeAI (the admin API here); a team links them to agents and
asks for more through provisioning requests."""

from __future__ import annotations

from typing import Annotated, Any

from bimpeai import PhoneNumber, PhoneNumberDetail, PhoneNumberRequest
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from bimpe_iac.emulator.bodies import CreatePhoneNumberRequest, UpdatePhoneNumber
from bimpe_iac.emulator.common import ListQuery, list_query, new_id, store_of, team_of
from bimpe_iac.emulator.envelopes import Envelope, Paged
from bimpe_iac.emulator.responses import invalid, not_found, ok
from bimpe_iac.emulator.store import now_iso

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"])
KIND = "phone_number"
REQUEST = "phone_number_request"
SORTABLE = ("created_at", "updated_at", "e164", "label")


def _summary(number: dict[str, Any]) -> dict[str, Any]:
    return {k: number[k] for k in ("id", "agent_id", "label", "e164")}


@router.get("", response_model=Paged[PhoneNumber])
async def list_phone_numbers(
    request: Request, q: Annotated[ListQuery, Depends(list_query)]
) -> Response:
    field, descending = q.order(SORTABLE)
    listing = store_of(request).query(
        KIND,
        (team_of(request),),
        search=q.search,
        search_fields=("e164", "label"),
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond([_summary(n) for n in listing.items], listing.total)


@router.get("/request", response_model=Paged[PhoneNumberRequest])
async def list_requests(request: Request, q: Annotated[ListQuery, Depends(list_query)]) -> Response:
    field, descending = q.order(("created_at", "updated_at", "status"))
    listing = store_of(request).query(
        REQUEST,
        (team_of(request),),
        search=q.search,
        search_fields=("business_name", "intended_use"),
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond(listing.items, listing.total)


@router.post("/request", response_model=Envelope[None], status_code=201)
async def create_request(request: Request, body: CreatePhoneNumberRequest) -> Response:
    team = team_of(request)
    store = store_of(request)
    if body.submitted_by_agent_id is not None and (
        store.get("agent", body.submitted_by_agent_id, (team,)) is None
    ):
        raise invalid(f"submitted_by_agent_id: no agent {body.submitted_by_agent_id}")
    at = now_iso()
    record = {
        "id": new_id("pnr"),
        "status": "pending",
        **body.model_dump(),
        "e164": None,
        "agent_id": None,
        "label": None,
        "created_at": at,
        "updated_at": at,
    }
    store.insert(REQUEST, team, record)
    return ok(None, "Phone number request received", status=201)


@router.get("/{phone_number_id}", response_model=Envelope[PhoneNumberDetail])
async def retrieve_phone_number(request: Request, phone_number_id: str) -> Response:
    number = store_of(request).get(KIND, phone_number_id, (team_of(request),))
    if number is None:
        raise not_found("phone number", phone_number_id)
    return ok(number)


@router.patch("/{phone_number_id}", response_model=Envelope[PhoneNumberDetail])
async def update_phone_number(
    request: Request, phone_number_id: str, body: UpdatePhoneNumber
) -> Response:
    team = team_of(request)
    store = store_of(request)
    number = store.get(KIND, phone_number_id, (team,))
    if number is None:
        raise not_found("phone number", phone_number_id)
    changes = body.model_dump(exclude_unset=True)
    agent_id = changes.get("agent_id")
    if agent_id is not None and store.get("agent", agent_id, (team,)) is None:
        raise not_found("agent", agent_id)
    number.update(changes)
    number["updated_at"] = now_iso()
    store.replace(number)
    return ok(number, "Phone number updated")
