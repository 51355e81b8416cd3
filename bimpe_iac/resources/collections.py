"""The live listings resource kinds read, and how each is fetched through the SDK."""

from __future__ import annotations

from typing import Any

from bimpeai import AsyncBimpeAI
from pydantic import BaseModel

from bimpe_iac.resources.base import Collection

PAGE_SIZE = 100


def _dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items if isinstance(item, BaseModel)]


def _pages(meta: Any) -> int:
    return int(meta.page_count) if meta is not None else 1


async def _workflows(client: AsyncBimpeAI, page: int) -> tuple[list[dict[str, Any]], int]:
    result = await client.workflows.list(page=page, limit=PAGE_SIZE, scope="accessible")
    return _dicts(result.data), _pages(result.meta)


async def _agents(client: AsyncBimpeAI, page: int) -> tuple[list[dict[str, Any]], int]:
    result = await client.agents.list(page=page, limit=PAGE_SIZE)
    return _dicts(result.data), _pages(result.meta)


async def _phone_numbers(client: AsyncBimpeAI, page: int) -> tuple[list[dict[str, Any]], int]:
    result = await client.phone_numbers.list(page=page, limit=PAGE_SIZE)
    return _dicts(result.data), _pages(result.meta)


async def _knowledge_bases(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    return _dicts(await client.agents.knowledge_bases.list(agent_id))


async def _actions(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    return _dicts(await client.agents.actions.list(agent_id))


def _owned(obj: dict[str, Any]) -> bool:
    """The team's own workflows; the listing holds the public catalog too."""
    return bool(obj.get("is_owner"))


def _linked(obj: dict[str, Any]) -> bool:
    """A number linked to an agent; an idle number is not a phone link."""
    return obj.get("agent_id") is not None


WORKFLOWS = Collection("workflows", fetch_page=_workflows, manages="workflow", manageable=_owned)
AGENTS = Collection("agents", fetch_page=_agents, manages="agent")
PHONE_NUMBERS = Collection(
    "phone_numbers", fetch_page=_phone_numbers, manages="phone_link", manageable=_linked
)
KNOWLEDGE_BASES = Collection(
    "knowledge_bases", fetch_children=_knowledge_bases, parent_kind="agent"
)
# Every agent gets the platform's built-in actions: one agent's list tells a new one's.
ACTIONS = Collection("actions", fetch_children=_actions, parent_kind="agent", sampled=True)
