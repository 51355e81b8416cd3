"""Read everything a team has that a stack can describe, through the async SDK: its own
workflows and the public catalog, its agents with their knowledge bases and actions, and its
phone numbers. Listings are plain dicts, as the engine reads them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.listing import read_listing, unique
from bimpe_iac.engine.retry import once_more
from bimpe_iac.errors import ConfigError
from bimpe_iac.model.kind import Collection
from bimpe_iac.resources.collections import (
    ACTIONS,
    AGENTS,
    KNOWLEDGE_BASES,
    PHONE_NUMBERS,
    WORKFLOWS,
)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Team:
    """A team's configuration as the API returns it; children are keyed by agent id."""

    workflows: list[Obj]
    public_workflows: list[Obj]
    agents: list[Obj]
    phone_numbers: list[Obj]
    knowledge_bases: dict[str, list[Obj]] = field(default_factory=dict)
    actions: dict[str, list[Obj]] = field(default_factory=dict)

    def only(self, agent_ids: Sequence[str]) -> Team:
        """The named agents and what they need: their own workflows, children and numbers."""
        known = {agent["id"] for agent in self.agents}
        unknown = [agent_id for agent_id in agent_ids if agent_id not in known]
        if unknown:
            raise ConfigError(f"the team has no agent {', '.join(unknown)}")
        chosen = set(agent_ids)
        agents = [agent for agent in self.agents if agent["id"] in chosen]
        used = {agent.get("workflow_id") for agent in agents}
        return replace(
            self,
            workflows=[w for w in self.workflows if w["id"] in used],
            agents=agents,
            phone_numbers=[n for n in self.phone_numbers if n.get("agent_id") in chosen],
            knowledge_bases={k: v for k, v in self.knowledge_bases.items() if k in chosen},
            actions={k: v for k, v in self.actions.items() if k in chosen},
        )


async def _all_pages(
    client: AsyncBimpeAI, collection: Collection, limit: asyncio.Semaphore, window: int
) -> list[Obj]:
    assert collection.fetch_page is not None
    fetch = collection.fetch_page

    async def page(number: int) -> tuple[list[Obj], int, int | None]:
        async with limit:
            return await once_more(lambda: fetch(client, number))

    return list((await read_listing(collection.name, page, window)).values())


async def _children(
    client: AsyncBimpeAI, collection: Collection, agent_id: str, limit: asyncio.Semaphore
) -> list[Obj]:
    assert collection.fetch_children is not None
    fetch = collection.fetch_children
    async with limit:
        items = await once_more(lambda: fetch(client, agent_id))
    return list(unique(f"{collection.name} of {agent_id}", items).values())


async def read_phone_numbers(client: AsyncBimpeAI, parallelism: int = 16) -> list[Obj]:
    return await _all_pages(client, PHONE_NUMBERS, asyncio.Semaphore(parallelism), parallelism)


async def read_team(
    client: AsyncBimpeAI, *, agent_ids: Sequence[str] = (), parallelism: int = 16
) -> Team:
    """The whole team, or with `agent_ids` only those agents and what they need."""
    limit = asyncio.Semaphore(parallelism)
    workflows, agents, numbers = await asyncio.gather(
        _all_pages(client, WORKFLOWS, limit, parallelism),
        _all_pages(client, AGENTS, limit, parallelism),
        _all_pages(client, PHONE_NUMBERS, limit, parallelism),
    )
    team = Team(
        workflows=[w for w in workflows if w.get("is_owner")],
        public_workflows=[
            w for w in workflows if w.get("visibility") == "public" and not w.get("is_owner")
        ],
        agents=agents,
        phone_numbers=numbers,
    )
    if agent_ids:
        team = team.only(agent_ids)
    ids = [agent["id"] for agent in team.agents]
    knowledge_bases, actions = await asyncio.gather(
        asyncio.gather(*(_children(client, KNOWLEDGE_BASES, i, limit) for i in ids)),
        asyncio.gather(*(_children(client, ACTIONS, i, limit) for i in ids)),
    )
    return replace(
        team,
        knowledge_bases=dict(zip(ids, knowledge_bases, strict=True)),
        actions=dict(zip(ids, actions, strict=True)),
    )
