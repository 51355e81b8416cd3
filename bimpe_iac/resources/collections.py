"""The live listings resource kinds read, and how each is fetched through the SDK."""

from __future__ import annotations

from typing import Any

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import BaseModel

from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection

Page = tuple[list[dict[str, Any]], int, int | None]

PAGE_SIZE = 100


def _dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items if isinstance(item, BaseModel)]


def _page(result: Any) -> Page:
    meta = result.meta
    if meta is None:
        return _dicts(result.data), 1, None
    return _dicts(result.data), int(meta.page_count), int(meta.total_count)


async def _workflows(client: AsyncBimpeAI, page: int) -> Page:
    return _page(await client.workflows.list(page=page, limit=PAGE_SIZE, scope="accessible"))


async def _agents(client: AsyncBimpeAI, page: int) -> Page:
    return _page(await client.agents.list(page=page, limit=PAGE_SIZE))


async def _phone_numbers(client: AsyncBimpeAI, page: int) -> Page:
    return _page(await client.phone_numbers.list(page=page, limit=PAGE_SIZE))


async def _one(read: Any, id: str) -> dict[str, Any] | None:
    try:
        obj = await read(in_path(id))
    except NotFoundError:
        return None
    return obj.model_dump(mode="json") if isinstance(obj, BaseModel) else None


async def _workflow(client: AsyncBimpeAI, id: str) -> dict[str, Any] | None:
    return await _one(client.workflows.retrieve, id)


async def _agent(client: AsyncBimpeAI, id: str) -> dict[str, Any] | None:
    return await _one(client.agents.retrieve, id)


async def _phone_number(client: AsyncBimpeAI, id: str) -> dict[str, Any] | None:
    return await _one(client.phone_numbers.retrieve, id)


async def _knowledge_bases(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    return _dicts(await client.agents.knowledge_bases.list(in_path(agent_id)))


async def _actions(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    return _dicts(await client.agents.actions.list(in_path(agent_id)))


def _owned(obj: dict[str, Any]) -> bool:
    """The team's own workflows; the listing holds the public catalog too."""
    return bool(obj.get("is_owner"))


def _linked(obj: dict[str, Any]) -> bool:
    """A number linked to an agent; an idle number is not a phone link."""
    return obj.get("agent_id") is not None


WORKFLOWS = Collection(
    "workflows",
    fetch_page=_workflows,
    fetch_one=_workflow,
    manages="workflow",
    manageable=_owned,
)
AGENTS = Collection("agents", fetch_page=_agents, fetch_one=_agent, manages="agent")
PHONE_NUMBERS = Collection(
    "phone_numbers",
    fetch_page=_phone_numbers,
    fetch_one=_phone_number,
    manages="phone_link",
    manageable=_linked,
)
KNOWLEDGE_BASES = Collection(
    "knowledge_bases", fetch_children=_knowledge_bases, parent_kind="agent"
)
# Every agent gets the platform's built-in actions: one agent's list tells a new one's.
ACTIONS = Collection("actions", fetch_children=_actions, parent_kind="agent", sampled=True)
