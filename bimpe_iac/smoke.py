"""Post-apply smoke checks: every managed agent must answer a test chat, agents with a phone
link must complete a test call, and (where asked) one tool of each managed custom API must be
called from a test chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

from bimpeai import APIConnectionError, APIError, AsyncBimpeAI

from bimpe_iac.state.model import ResourceState

SMOKE_USER = "bimpe-iac-smoke"
SMOKE_MESSAGE = "Hello! This is a bimpe-iac smoke check. Are you there?"
TEST_DESTINATION = "+15550109000"


@dataclass(frozen=True)
class CheckResult:
    address: str
    check: str
    ok: bool
    detail: str
    seconds: float


def agents_of(state: Mapping[str, ResourceState]) -> dict[str, str]:
    """Managed agents (address -> id)."""
    return {a: e.id for a, e in sorted(state.items()) if e.kind == "agent"}


def linked_agents(state: Mapping[str, ResourceState]) -> set[str]:
    """Addresses of agents that a managed phone link points at."""
    return {
        dep for entry in state.values() if entry.kind == "phone_link" for dep in entry.depends_on
    }


@dataclass(frozen=True)
class ToolCheck:
    """One tool of a managed custom API to call from a test chat."""

    api: str
    """The custom API's address."""
    agent_id: str
    api_id: str
    tool_ids: tuple[str, ...]
    """The managed tools' ids, those that only read (GET) first."""


def tool_checks(state: Mapping[str, ResourceState]) -> list[ToolCheck]:
    """A check for each managed custom API that has managed tools."""
    out = []
    for address, entry in sorted(state.items()):
        if entry.kind != "custom_api" or entry.parent_id is None:
            continue
        tools = [
            (e.values.get("http_method") != "GET", a, e.id)
            for a, e in state.items()
            if e.kind == "custom_api_tool" and a.startswith(address + ".")
        ]
        if tools:
            ids = tuple(id for _, _, id in sorted(tools))
            out.append(ToolCheck(address, entry.parent_id, entry.id, ids))
    return out


async def _tool(client: AsyncBimpeAI, check: ToolCheck, timeout_s: float) -> CheckResult:
    actions = await client.agents.actions.list(check.agent_id)
    by_id = {a.id: a for a in actions if a.integration_id == check.api_id and a.is_enabled}
    action = next((by_id[id] for id in check.tool_ids if id in by_id), None)
    if action is None or not action.action_name:
        detail = "no tool of this custom API has its action enabled"
        return CheckResult(check.api, "tool", False, detail, 0.0)
    name = action.action_name
    message = f"Please use {name} to help me. This is a bimpe-iac smoke check."
    result = await _chat(
        client, check.api, check.agent_id, timeout_s, message, f"{SMOKE_USER}-{check.api_id}"
    )
    if not result.ok:
        return CheckResult(check.api, "tool", False, result.detail, result.seconds)
    called = name in result.detail
    detail = f"{name}: {result.detail}" if called else f"{name} was not called: {result.detail}"
    return CheckResult(check.api, "tool", called, detail, result.seconds)


async def _chat(
    client: AsyncBimpeAI,
    address: str,
    agent_id: str,
    timeout_s: float,
    message: str = SMOKE_MESSAGE,
    user: str = SMOKE_USER,
) -> CheckResult:
    started = time.monotonic()
    sent = await client.conversations.send(
        agent_id,
        message=message,
        channel_type="webchat",
        channel_user_id=user,
        is_test_channel=True,
    )
    found = await client.conversations.list(agent_id, channel="test_webchat", search=user)
    conversation = next((c for c in found.data if c.channel_user_id == user), None)
    if conversation is None:
        return CheckResult(address, "chat", False, "the test conversation was not found", 0.0)
    while True:
        page = await client.conversations.messages.list(
            agent_id, conversation.id, sort="-created_at", limit=10
        )
        replies = [
            m for m in page.data if m.role == "assistant" and m.created_at >= sent.created_at
        ]
        elapsed = time.monotonic() - started
        if replies:
            reply = (replies[0].message or "").replace("\n", " ")
            preview = reply if len(reply) <= 90 else reply[:87] + "..."
            return CheckResult(address, "chat", True, f'replied "{preview}"', elapsed)
        if elapsed > timeout_s:
            paused = (
                await client.conversations.retrieve(agent_id, conversation.id)
            ).is_ai_chat_paused
            why = " (the AI is paused on the test conversation)" if paused else ""
            return CheckResult(
                address, "chat", False, f"no AI reply within {timeout_s:g}s{why}", elapsed
            )
        await asyncio.sleep(0.5)


async def _why_silent(client: AsyncBimpeAI, agent_id: str, conversation_id: str) -> str:
    if (await client.conversations.retrieve(agent_id, conversation_id)).is_ai_chat_paused:
        return " (the AI is paused on the test conversation)"
    if (await client.agents.retrieve(agent_id)).status == "paused":
        return " (the agent's live status is paused)"
    return ""


async def _call(client: AsyncBimpeAI, address: str, agent_id: str) -> CheckResult:
    started = time.monotonic()
    result = await client.calls.make(
        agent_id, {"destination": TEST_DESTINATION, "is_test_call": True}
    )
    if result.status != "initiated" or result.call_id is None:
        detail = f"the test call was {result.status}: {result.detail or 'no detail'}"
        return CheckResult(address, "call", False, detail, time.monotonic() - started)
    call = await client.calls.retrieve(agent_id, result.call_id)
    elapsed = time.monotonic() - started
    if call.status in ("failed", "busy", "cancelled") or not call.conversation_logs:
        return CheckResult(address, "call", False, f"the test call ended {call.status}", elapsed)
    return CheckResult(
        address, "call", True, f"{call.status}, {len(call.conversation_logs)} turns", elapsed
    )


async def _guarded(check: str, address: str, job: asyncio.Future[CheckResult]) -> CheckResult:
    try:
        return await job
    except (APIError, APIConnectionError) as error:
        request_id = getattr(error, "request_id", None)
        suffix = f" (request id {request_id})" if request_id else ""
        return CheckResult(address, check, False, f"{error}{suffix}", 0.0)


async def run_smoke(
    client: AsyncBimpeAI,
    state: Mapping[str, ResourceState],
    *,
    timeout_s: float,
    tools: bool = False,
) -> list[CheckResult]:
    """`tools`: also call one tool of each managed custom API from a test chat (reading ones
    first), which on a real API calls that API for real."""
    agents = agents_of(state)
    linked = linked_agents(state)
    jobs = []
    if tools:
        jobs += [
            _guarded("tool", check.api, asyncio.ensure_future(_tool(client, check, timeout_s)))
            for check in tool_checks(state)
        ]
    for address, agent_id in agents.items():
        jobs.append(
            _guarded(
                "chat", address, asyncio.ensure_future(_chat(client, address, agent_id, timeout_s))
            )
        )
        if address in linked:
            jobs.append(
                _guarded("call", address, asyncio.ensure_future(_call(client, address, agent_id)))
            )
    return list(await asyncio.gather(*jobs))
