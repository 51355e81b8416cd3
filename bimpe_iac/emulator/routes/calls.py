"""Calls. A test call runs on the emulator's test telephony and completes at once with a short
conversation log; a live call needs a phone number linked to the agent. Destinations ending in
0000 are busy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from bimpeai import Call, CallDetail, MakeCallResult
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from bimpe_iac.emulator.bodies import MakeCall
from bimpe_iac.emulator.common import ListQuery, list_query, new_id, store_of, team_of
from bimpe_iac.emulator.envelopes import Envelope, Paged
from bimpe_iac.emulator.replies import ai_reply
from bimpe_iac.emulator.responses import not_found, ok
from bimpe_iac.emulator.routes.agents import owned_agent
from bimpe_iac.emulator.store import PUBLIC_TEAM

router = APIRouter(prefix="/agents/{agent_id}/calls", tags=["calls"])
KIND = "call"
TEST_LINE = "+15550109999"
SORTABLE = ("created_on", "duration_seconds", "status")
CallStatus = Literal["queued", "ringing", "answered", "ended", "busy", "failed", "cancelled"]
LIST_FIELDS = (
    "id",
    "source",
    "destination",
    "status",
    "direction",
    "created_on",
    "duration_seconds",
    "is_test_call",
    "error_reason",
    "end_reason",
    "ringing_at",
    "ended_at",
)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _log(role: str, text: str, at: datetime) -> dict[str, Any]:
    return {
        "id": new_id("msg"),
        "role": role,
        "message": text,
        "message_type": "text",
        "created_at": _iso(at),
        "attachments": None,
    }


@router.get("", response_model=Paged[Call])
async def list_calls(
    request: Request,
    agent_id: str,
    q: Annotated[ListQuery, Depends(list_query)],
    is_test_call: Annotated[bool | None, Query()] = None,
    status: Annotated[CallStatus | None, Query()] = None,
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    filters: dict[str, Any] = {}
    if is_test_call is not None:
        filters["is_test_call"] = int(is_test_call)
    if status is not None:
        filters["status"] = status
    field, descending = q.order(SORTABLE, default="created_on")
    listing = store.query(
        KIND,
        (team,),
        parent_id=agent_id,
        search=q.search,
        search_fields=("destination",),
        filters=filters,
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    items = [{k: call[k] for k in LIST_FIELDS} for call in listing.items]
    return q.respond(items, listing.total)


@router.post(
    "",
    response_model=Envelope[MakeCallResult],
    status_code=201,
    responses={200: {"model": Envelope[MakeCallResult], "description": "The call failed at once"}},
)
async def make_call(request: Request, agent_id: str, body: MakeCall) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    source = TEST_LINE
    if not body.is_test_call:
        numbers = store.find("phone_number", team, agent_id=agent_id)
        if not numbers:
            detail = "no phone number is linked to this agent; link one or make a test call"
            return ok({"status": "failed", "call_id": None, "detail": detail}, "Call failed")
        source = numbers[0]["e164"]
    start = datetime.now(UTC)
    busy = body.destination.endswith("0000")
    call: dict[str, Any] = {
        "id": new_id("call"),
        "source": source,
        "destination": body.destination,
        "direction": "outbound",
        "created_on": _iso(start),
        "is_test_call": body.is_test_call,
        "ringing_at": _iso(start),
        "error_reason": None,
        "started_at": _iso(start),
    }
    if busy:
        call.update(
            status="busy",
            duration_seconds=0,
            end_reason="busy",
            answered_at=None,
            ended_at=_iso(start + timedelta(seconds=5)),
            conversation_logs=[],
        )
    else:
        workflow = store.get("workflow", agent.get("workflow_id") or "", (team, PUBLIC_TEAM))
        greeting = f"Hello, you are speaking with {agent['name']}. How can I help?"
        question = "Hi, I would like to know your opening hours."
        logs = [
            _log("assistant", greeting, start + timedelta(seconds=2)),
            _log("user", question, start + timedelta(seconds=6)),
            _log("assistant", ai_reply(agent, workflow, question), start + timedelta(seconds=8)),
        ]
        call.update(
            status="ended",
            duration_seconds=12,
            end_reason="completed",
            answered_at=_iso(start + timedelta(seconds=1)),
            ended_at=_iso(start + timedelta(seconds=12)),
            conversation_logs=logs,
        )
    store.insert(KIND, team, call, parent_id=agent_id)
    result_status = "busy" if busy else "initiated"
    return ok({"status": result_status, "call_id": call["id"], "detail": None}, "Call placed", 201)


@router.get("/{call_id}", response_model=Envelope[CallDetail])
async def retrieve_call(request: Request, agent_id: str, call_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    call = store.get(KIND, call_id, (team,), parent_id=agent_id)
    if call is None:
        raise not_found("call", call_id)
    return ok(call)
