"""The official async client (AsyncBimpeAI) against the emulator.

Covers: workflow and agent create / retrieve / update / delete flows, `async for` over an
AsyncPage across several pages and AsyncPage.pages(), knowledge bases and actions, a
conversation with messages, a test call, phone numbers, concurrent creates with
asyncio.gather, errors (404, 400 with field paths, 409, 401), and an async message stream
delivering a message sent after it opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, cast

import httpx
import pytest
from bimpeai import (
    AsyncBimpeAI,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    StreamMessageEvent,
    ValidationError,
)

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin, Team

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_workflow_and_agent_lifecycle(async_sdk: AsyncBimpeAI) -> None:
    async with async_sdk as client:
        workflow = await client.workflows.create(name="Async flow", system_prompt="Be quick.")
        assert (await client.workflows.retrieve(workflow.id)).name == "Async flow"
        renamed = await client.workflows.update(workflow.id, name="Async flow v2")
        assert renamed.name == "Async flow v2"

        agent = await client.agents.create(
            workflow_id=workflow.id, name="Async agent", description="d", persona="concise"
        )
        assert agent.workflow is not None
        assert agent.workflow.name == "Async flow v2"
        detail = await client.agents.retrieve(agent.id)
        assert (detail.name, detail.persona) == ("Async agent", "concise")
        updated = await client.agents.update(agent.id, description="Updated")
        assert updated.description == "Updated"
        status = await client.agents.update_live_status(agent.id, status="live")
        assert status.status == "live"
        code = await client.agents.get_test_code(agent.id)
        assert code.code == agent.test_channel_code

        with pytest.raises(ConflictError):
            await client.workflows.delete(workflow.id)
        await client.agents.delete(agent.id)
        with pytest.raises(NotFoundError):
            await client.agents.retrieve(agent.id)
        await client.workflows.delete(workflow.id)
        with pytest.raises(NotFoundError):
            await client.workflows.retrieve(workflow.id)


async def test_async_pagination(async_sdk: AsyncBimpeAI) -> None:
    async with async_sdk as client:
        workflow = await client.workflows.create(name="Paging", system_prompt="p")
        created = await asyncio.gather(
            *(
                client.agents.create(workflow_id=workflow.id, name=f"Agent {n}", description="d")
                for n in range(7)
            )
        )
        assert len({a.id for a in created}) == 7
        page = await client.agents.list(limit=3, sort="name")
        assert page.meta is not None
        assert (page.meta.total_count, page.meta.page_count, page.meta.has_next_page) == (
            7,
            3,
            True,
        )
        names = [agent.name async for agent in page]
        assert names == [f"Agent {n}" for n in range(7)]
        sizes = [len(p.data) async for p in page.pages()]
        assert sizes == [3, 3, 1]
        last = await (await page.get_next_page()).get_next_page()  # type: ignore[union-attr]
        assert last is not None
        assert await last.get_next_page() is None
        newest = await client.agents.list(sort="-created_at", limit=100)
        assert len(newest.data) == 7


async def test_async_sub_resources(
    async_sdk: AsyncBimpeAI, admin: Admin, team: Team, new_e164: Callable[[], str]
) -> None:
    async with async_sdk as client:
        agent = await client.agents.create(
            workflow_id="wf_public_support_triage", name="Async agent", description="d"
        )
        kb = await client.agents.knowledge_bases.create(
            agent.id, {"type": "url", "name": "Docs", "url": "https://docs.example"}
        )
        assert [k.id for k in await client.agents.knowledge_bases.list(agent.id)] == [kb.id]
        edited = await client.agents.knowledge_bases.update(agent.id, kb.id, name="Help")
        assert edited.name == "Help"
        await client.agents.knowledge_bases.delete(agent.id, kb.id)
        assert await client.agents.knowledge_bases.list(agent.id) == []

        actions = await client.agents.actions.list(agent.id)
        result = await client.agents.actions.enable(agent.id, action_ids=[actions[0].id])
        assert result.updated_count == 1
        result = await client.agents.actions.disable(agent.id, action_ids=[actions[0].id])
        assert result.updated_count == 1
        assert len(await client.agents.integrations.list(agent.id)) == 8
        assert len(await client.agents.channels.list(agent.id)) == 5

        sent = await client.conversations.send(
            agent.id, message="I need a human", channel_type="webchat", channel_user_id="v1"
        )
        conversations = [c async for c in await client.conversations.list(agent.id)]
        assert len(conversations) == 1
        conversation = await client.conversations.retrieve(agent.id, conversations[0].id)
        messages = [
            m async for m in await client.conversations.messages.list(agent.id, conversation.id)
        ]
        assert messages[0].id == sent.id
        assert messages[1].message == "Let me connect you with a member of our team."
        fetched = await client.conversations.messages.retrieve(agent.id, conversation.id, sent.id)
        assert fetched == sent
        await client.conversations.set_ai_status(agent.id, conversation.id, is_ai_chat_paused=True)
        reply = await client.conversations.messages.send(
            agent.id, conversation.id, message="Hi, Tolu here.", role="assistant"
        )
        assert reply.role == "assistant"

        call = await client.calls.make(
            agent.id, {"destination": "+2348012345678", "is_test_call": True}
        )
        assert call.call_id is not None
        detail = await client.calls.retrieve(agent.id, call.call_id)
        assert len(detail.conversation_logs) == 3
        assert [c.id async for c in await client.calls.list(agent.id, is_test_call=True)] == [
            call.call_id
        ]

        number = admin.assign_number(team, new_e164())
        linked = await client.phone_numbers.update(number["id"], agent_id=agent.id)
        assert linked.agent_id == agent.id
        assert [n.id async for n in await client.phone_numbers.list()] == [number["id"]]
        assert (await client.phone_numbers.retrieve(number["id"])).agent_id == agent.id
        await client.phone_numbers.requests.create(
            business_name="Async",
            intended_use="Calls",
            region="eu",
            agent_count=1,
            outbound_minutes=10,
        )
        assert [r.region async for r in await client.phone_numbers.requests.list()] == ["eu"]


async def test_async_errors(async_sdk: AsyncBimpeAI, emulator: RunningEmulator) -> None:
    async with async_sdk as client:
        with pytest.raises(ValidationError) as caught:
            await client.workflows.create(name="", system_prompt="p")
        assert [e["path"] for e in caught.value.field_errors] == ["name"]
        with pytest.raises(NotFoundError):
            await client.calls.list("agt_missing")
    async with AsyncBimpeAI(api_key="sk_emu_nope", base_url=emulator.url) as stranger:
        with pytest.raises(AuthenticationError) as denied:
            await stranger.agents.list()
        assert denied.value.code == "api_key_invalid"


async def test_async_stream(emulator: RunningEmulator, team: Team, async_sdk: AsyncBimpeAI) -> None:
    opened = asyncio.Event()

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/stream") and response.status_code == 200:
            opened.set()

    async with (
        async_sdk as client,
        httpx.AsyncClient(event_hooks={"response": [on_response]}) as http,
        AsyncBimpeAI(api_key=team.api_key, base_url=emulator.url, http_client=http) as listener,
    ):
        agent = await client.agents.create(
            workflow_id="wf_public_support_triage", name="Streamer", description="d"
        )
        await client.conversations.send(
            agent.id, message="Hello", channel_type="webchat", channel_user_id="v1"
        )
        conversation = (await client.conversations.list(agent.id)).data[0]

        async def listen() -> StreamMessageEvent:
            stream = listener.conversations.messages.stream(
                agent.id, conversation.id, reconnect=False, timeout=10
            )
            async with aclosing(cast(AsyncGenerator[StreamMessageEvent, None], stream)) as events:
                async for event in events:
                    return event
            raise AssertionError("the stream ended without an event")

        task = asyncio.create_task(listen())
        await asyncio.wait_for(opened.wait(), 10)
        sent = await client.conversations.messages.send(
            agent.id, conversation.id, message="Still there?"
        )
        event = await asyncio.wait_for(task, 10)
        assert (event.id, event.role, event.message) == (sent.id, "user", "Still there?")
        assert event.conversation_id == conversation.id
