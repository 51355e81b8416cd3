"""Conversations, messages and the message stream (a single-use ticket, then SSE).

A user message gets a deterministic AI reply unless the AI is paused on that conversation; an
assistant (human) message is only accepted while the AI is paused."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from bimpeai import Conversation, ConversationDetail, Message, StreamTicket
from bimpeai.types.conversations import ConversationAiStatus
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from bimpe_iac.emulator.bodies import CreateConversationMessage, SendMessage, SetAiStatus
from bimpe_iac.emulator.common import ListQuery, list_query, new_id, store_of, team_of
from bimpe_iac.emulator.envelopes import Envelope, Paged
from bimpe_iac.emulator.hub import MessageHub
from bimpe_iac.emulator.replies import ai_reply
from bimpe_iac.emulator.responses import ApiError, conflict, invalid, not_found, ok
from bimpe_iac.emulator.routes.agents import owned_agent
from bimpe_iac.emulator.routes.connectors import enabled_tools
from bimpe_iac.emulator.store import Store, now_iso

router = APIRouter(prefix="/agents/{agent_id}/conversations", tags=["conversations"])
KIND = "conversation"
MESSAGE = "message"
SORTABLE = ("created_at", "updated_at", "last_message_at")
Channel = Literal[
    "whatsapp", "webchat", "telephony", "test_whatsapp", "test_webchat", "test_telephony"
]


def hub_of(request: Request) -> MessageHub:
    hub: MessageHub = request.app.state.hub
    return hub


def _conversation(store: Store, team: str, agent_id: str, conversation_id: str) -> dict[str, Any]:
    conversation = store.get(KIND, conversation_id, (team,), parent_id=agent_id)
    if conversation is None:
        raise not_found("conversation", conversation_id)
    return conversation


def _public_message(message: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != "conversation_id"}


def _append(
    request: Request, team: str, conversation: dict[str, Any], role: str, text: str
) -> dict[str, Any]:
    store = store_of(request)
    message = {
        "id": new_id("msg"),
        "conversation_id": conversation["id"],
        "role": role,
        "message": text,
        "message_type": "text",
        "created_at": now_iso(),
        "attachments": None,
    }
    store.insert(MESSAGE, team, message, parent_id=conversation["id"])
    conversation.update(
        last_message_at=message["created_at"],
        last_message_preview=text[:100],
        updated_at=message["created_at"],
    )
    hub_of(request).publish(conversation["id"], message)
    return message


def _post(
    request: Request,
    team: str,
    agent: dict[str, Any],
    conversation: dict[str, Any],
    text: str,
    role: str,
) -> dict[str, Any]:
    """Append a message and, for a user message while the AI runs, the AI's reply."""
    store = store_of(request)
    if role == "assistant" and not conversation["is_ai_chat_paused"]:
        raise conflict("pause the AI on this conversation before sending a human reply")
    with store.transaction():
        sent = _append(request, team, conversation, role, text)
        # A paused agent, like a paused conversation, leaves the customer to a person.
        ai_off = conversation["is_ai_chat_paused"] or agent.get("status") == "paused"
        if role == "user" and ai_off:
            conversation["needs_attention"] = True
        elif role == "user":
            workflow = store.get("workflow", agent.get("workflow_id") or "", (team, ""))
            reply = ai_reply(agent, workflow, text, enabled_tools(store, agent["id"]))
            _append(request, team, conversation, "assistant", reply)
        store.replace(conversation)
    return _public_message(sent)


@router.get("", response_model=Paged[Conversation])
async def list_conversations(
    request: Request,
    agent_id: str,
    q: Annotated[ListQuery, Depends(list_query)],
    channel: Annotated[Channel | None, Query()] = None,
    is_test_channel: Annotated[bool | None, Query()] = None,
    is_ai_chat_paused: Annotated[bool | None, Query()] = None,
    needs_attention: Annotated[bool | None, Query()] = None,
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    filters: dict[str, Any] = {}
    if channel is not None:
        filters["channel_type"] = channel
    for name, value in (
        ("is_test_channel", is_test_channel),
        ("is_ai_chat_paused", is_ai_chat_paused),
        ("needs_attention", needs_attention),
    ):
        if value is not None:
            filters[name] = int(value)
    field, descending = q.order(SORTABLE)
    listing = store.query(
        KIND,
        (team,),
        parent_id=agent_id,
        search=q.search,
        search_fields=("channel_user_id", "channel_user_username", "last_message_preview"),
        filters=filters,
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond(listing.items, listing.total)


@router.post("/messages", response_model=Envelope[Message], status_code=201)
async def send_to_channel(
    request: Request, agent_id: str, body: CreateConversationMessage
) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    if body.conversation_id is not None:
        conversation = _conversation(store, team, agent_id, body.conversation_id)
    else:
        if body.channel_type is None or body.channel_user_id is None:
            raise invalid(
                "channel_type: required when conversation_id is not given",
                "channel_user_id: required when conversation_id is not given",
            )
        is_test = bool(body.is_test_channel) or body.channel_type.startswith("test_")
        channel_type = body.channel_type.removeprefix("test_")
        channel_type = f"test_{channel_type}" if is_test else channel_type
        found = store.find(
            KIND,
            team,
            agent_id=agent_id,
            channel_type=channel_type,
            channel_user_id=body.channel_user_id,
        )
        if found:
            conversation = found[0]
        else:
            at = now_iso()
            conversation = {
                "id": new_id("conv"),
                "agent_id": agent_id,
                "channel_type": channel_type,
                "channel_id": None,
                "channel_user_id": body.channel_user_id,
                "channel_user_username": body.channel_username,
                "is_test_channel": is_test,
                "is_ai_chat_paused": False,
                "needs_attention": False,
                "last_message_at": None,
                "last_seen": None,
                "last_message_preview": None,
                "full_name": body.channel_username,
                "email": None,
                "phone_number": body.channel_user_id if "telephony" in channel_type else None,
                "profile_picture": None,
                "created_at": at,
                "updated_at": at,
            }
            store.insert(KIND, team, conversation, parent_id=agent_id)
    message = _post(request, team, agent, conversation, body.message, body.role or "user")
    return ok(message, "Message sent", status=201)


@router.get("/{conversation_id}", response_model=Envelope[ConversationDetail])
async def retrieve_conversation(request: Request, agent_id: str, conversation_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    return ok(_conversation(store, team, agent_id, conversation_id))


@router.patch("/{conversation_id}/ai-status", response_model=Envelope[ConversationAiStatus])
async def set_ai_status(
    request: Request, agent_id: str, conversation_id: str, body: SetAiStatus
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    conversation = _conversation(store, team, agent_id, conversation_id)
    conversation.update(is_ai_chat_paused=body.is_ai_chat_paused, updated_at=now_iso())
    if not body.is_ai_chat_paused:
        conversation["needs_attention"] = False
    store.replace(conversation)
    return ok({"is_ai_chat_paused": conversation["is_ai_chat_paused"]}, "AI status updated")


@router.get("/{conversation_id}/messages", response_model=Paged[Message])
async def list_messages(
    request: Request,
    agent_id: str,
    conversation_id: str,
    q: Annotated[ListQuery, Depends(list_query)],
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    _conversation(store, team, agent_id, conversation_id)
    field, descending = q.order(("created_at",))
    listing = store.query(
        MESSAGE,
        (team,),
        parent_id=conversation_id,
        search=q.search,
        search_fields=("message",),
        sort_field=field,
        descending=descending,
        offset=q.offset,
        limit=q.limit,
    )
    return q.respond([_public_message(m) for m in listing.items], listing.total)


@router.post("/{conversation_id}/messages", response_model=Envelope[Message], status_code=201)
async def send_message(
    request: Request, agent_id: str, conversation_id: str, body: SendMessage
) -> Response:
    team = team_of(request)
    store = store_of(request)
    agent = owned_agent(store, team, agent_id)
    conversation = _conversation(store, team, agent_id, conversation_id)
    message = _post(request, team, agent, conversation, body.message, body.role or "user")
    return ok(message, "Message sent", status=201)


@router.get("/{conversation_id}/messages/{message_id}", response_model=Envelope[Message])
async def retrieve_message(
    request: Request, agent_id: str, conversation_id: str, message_id: str
) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    _conversation(store, team, agent_id, conversation_id)
    message = store.get(MESSAGE, message_id, (team,), parent_id=conversation_id)
    if message is None:
        raise not_found("message", message_id)
    return ok(_public_message(message))


@router.post(
    "/{conversation_id}/stream-ticket", response_model=Envelope[StreamTicket], status_code=201
)
async def stream_ticket(request: Request, agent_id: str, conversation_id: str) -> Response:
    team = team_of(request)
    store = store_of(request)
    owned_agent(store, team, agent_id)
    _conversation(store, team, agent_id, conversation_id)
    hub = hub_of(request)
    token = f"tk_{secrets.token_urlsafe(24)}"
    hub.issue(token, team, agent_id, conversation_id)
    return ok({"ticket": token, "expires_in": hub.ticket_ttl_s}, "Ticket issued", status=201)


def _event(message: dict[str, Any]) -> bytes:
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    return f"id: {message['id']}\nevent: message\ndata: {payload}\n\n".encode()


def _backlog(store: Store, team: str, conversation_id: str, after: str) -> list[dict[str, Any]]:
    messages = store.children(MESSAGE, conversation_id)
    ids = [m["id"] for m in messages]
    if after in ids:
        return messages[ids.index(after) + 1 :]
    return [m for m in messages if m["created_at"] > after]


@router.get(
    "/{conversation_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    agent_id: str,
    conversation_id: str,
    ticket: Annotated[str, Query()],
    after: Annotated[str | None, Query()] = None,
) -> Response:
    hub = hub_of(request)
    redeemed = hub.redeem(ticket)
    if redeemed is None or (redeemed.agent_id, redeemed.conversation_id) != (
        agent_id,
        conversation_id,
    ):
        raise ApiError(401, "unauthorized", "the stream ticket is invalid, used or expired")
    store = store_of(request)
    queue = hub.subscribe(conversation_id)
    backlog = _backlog(store, redeemed.team_id, conversation_id, after) if after else []

    async def events() -> AsyncIterator[bytes]:
        sent: set[str] = set()
        deadline = time.monotonic() + hub.max_stream_s
        try:
            yield b": connected\n\n"
            for message in backlog:
                sent.add(message["id"])
                yield _event(message)
            while time.monotonic() < deadline:
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=hub.heartbeat_s)
                except TimeoutError:
                    yield f'event: heartbeat\ndata: {{"ts":{int(time.time() * 1000)}}}\n\n'.encode()
                    continue
                if message["id"] not in sent:
                    sent.add(message["id"])
                    yield _event(message)
        finally:
            hub.unsubscribe(conversation_id, queue)

    return StreamingResponse(events(), media_type="text/event-stream")
