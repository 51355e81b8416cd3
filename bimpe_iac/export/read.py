"""Read everything a team has that a stack can describe, through the async SDK: every
collection the kinds name, top-level listings in full and per-parent listings for each parent
(only the chosen ones, with `--agent`). Listings are plain dicts, as the engine reads them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.listing import read_listing, unique
from bimpe_iac.engine.retry import once_more
from bimpe_iac.errors import ConfigError
from bimpe_iac.model.export import ExportedTeam, Obj
from bimpe_iac.model.kind import Collection, ResourceKind
from bimpe_iac.resources.collections import (
    PHONE_NUMBERS,
)


@dataclass(frozen=True)
class Selection:
    """Export only these objects of one top-level kind (and what they hold and need)."""

    kind: str
    ids: tuple[str, ...]


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
    client: AsyncBimpeAI, collection: Collection, parent_id: str, limit: asyncio.Semaphore
) -> list[Obj]:
    assert collection.fetch_children is not None
    fetch = collection.fetch_children
    async with limit:
        items = await once_more(lambda: fetch(client, parent_id))
    return list(unique(f"{collection.name} of {parent_id}", items).values())


async def read_phone_numbers(client: AsyncBimpeAI, parallelism: int = 16) -> list[Obj]:
    return await _all_pages(client, PHONE_NUMBERS, asyncio.Semaphore(parallelism), parallelism)


def _collections(kinds: Iterable[ResourceKind]) -> list[Collection]:
    found: dict[str, Collection] = {}
    for kind in kinds:
        for collection in kind.collections:
            found.setdefault(collection.name, collection)
    return list(found.values())


async def read_team(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    *,
    selection: Selection | None = None,
    parallelism: int = 16,
) -> ExportedTeam:
    """The whole team, or with `selection` only the chosen objects' children."""
    limit = asyncio.Semaphore(parallelism)
    collections = _collections(kinds)
    paged = [c for c in collections if c.fetch_page is not None]
    listings = await asyncio.gather(*(_all_pages(client, c, limit, parallelism) for c in paged))
    top = {c.name: items for c, items in zip(paged, listings, strict=True)}
    parents = {c.manages: top[c.name] for c in paged if c.manages is not None}
    chosen: set[str] | None = None
    if selection is not None:
        known = {obj["id"] for obj in parents.get(selection.kind, [])}
        unknown = [i for i in selection.ids if i not in known]
        if unknown:
            noun = selection.kind.replace("_", " ")
            raise ConfigError(f"the team has no {noun} {', '.join(unknown)}")
        chosen = set(selection.ids)
    reads = []
    for collection in collections:
        if collection.fetch_children is None or collection.parent_kind is None:
            continue
        for parent in parents.get(collection.parent_kind, []):
            wanted = selection is None or collection.parent_kind != selection.kind
            if wanted or (chosen is not None and parent["id"] in chosen):
                reads.append((collection, str(parent["id"])))
    found = await asyncio.gather(*(_children(client, c, i, limit) for c, i in reads))
    children = {(c.name, i): items for (c, i), items in zip(reads, found, strict=True)}
    return ExportedTeam(top=top, children=children)
