"""Read the live state with the fewest requests: each top-level collection once (its pages in
parallel after the first), and each per-parent collection once for every managed (or adopted)
parent that still exists. Requests run concurrently, bounded by the run's parallelism."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from bimpeai import AsyncBimpeAI, NotFoundError

from bimpe_iac.resources.base import Collection, Fetched, ResourceKind
from bimpe_iac.state.model import ResourceState


def _collections(kinds: Iterable[ResourceKind]) -> list[Collection]:
    seen: dict[str, Collection] = {}
    for kind in kinds:
        for collection in kind.collections:
            seen.setdefault(collection.name, collection)
    return list(seen.values())


async def _top(
    client: AsyncBimpeAI, collection: Collection, limit: asyncio.Semaphore
) -> dict[str, dict[str, Any]]:
    assert collection.fetch_page is not None
    fetch = collection.fetch_page
    async with limit:
        first, pages = await fetch(client, 1)

    async def page(number: int) -> list[dict[str, Any]]:
        async with limit:
            return (await fetch(client, number))[0]

    rest = await asyncio.gather(*(page(n) for n in range(2, pages + 1)))
    items = first + [item for chunk in rest for item in chunk]
    return {item["id"]: item for item in items}


async def _children(
    client: AsyncBimpeAI, collection: Collection, parent_id: str, limit: asyncio.Semaphore
) -> dict[str, dict[str, Any]] | None:
    assert collection.fetch_children is not None
    async with limit:
        try:
            items = await collection.fetch_children(client, parent_id)
        except NotFoundError:
            return None
    return {item["id"]: item for item in items}


async def read_live(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    state: Mapping[str, ResourceState],
    parallelism: int,
) -> Fetched:
    kinds = list(kinds)
    limit = asyncio.Semaphore(parallelism)
    fetched = Fetched()
    top = [c for c in _collections(kinds) if c.parent_kind is None]
    results = await asyncio.gather(*(_top(client, c, limit) for c in top))
    fetched.top = {c.name: result for c, result in zip(top, results, strict=True)}
    await read_children(client, kinds, state.values(), fetched, parallelism)
    return fetched


async def read_children(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    parents: Iterable[ResourceState],
    fetched: Fetched,
    parallelism: int,
) -> None:
    """Add to `fetched` the per-parent listings of `parents` not read yet."""
    limit = asyncio.Semaphore(parallelism)
    entries = list(parents)
    jobs = []
    for collection in _collections(kinds):
        if collection.parent_kind is None:
            continue
        # Only parents that still exist live have a listing to read.
        ids = {
            entry.id
            for entry in entries
            if entry.kind == collection.parent_kind
            and any(entry.id in objects for objects in fetched.top.values())
            and (collection.name, entry.id) not in fetched.children
        }
        jobs += [(collection, parent_id) for parent_id in sorted(ids)]
    child_results = await asyncio.gather(
        *(_children(client, collection, parent_id, limit) for collection, parent_id in jobs)
    )
    for (collection, parent_id), listing in zip(jobs, child_results, strict=True):
        if listing is not None:
            fetched.children[(collection.name, parent_id)] = listing


async def read_samples(
    client: AsyncBimpeAI, kinds: Iterable[ResourceKind], fetched: Fetched, parallelism: int
) -> None:
    """For each `sampled` per-parent collection of which no listing was read, read the one of
    the team's first parent object (by id), if the team has any: at most one request each."""
    collections = _collections(kinds)
    limit = asyncio.Semaphore(parallelism)
    jobs = []
    for collection in collections:
        if not collection.sampled or any(name == collection.name for name, _ in fetched.children):
            continue
        parents = [
            parent_id
            for top in collections
            if top.manages == collection.parent_kind
            for parent_id in fetched.of(top.name)
        ]
        if parents:
            jobs.append((collection, min(parents)))
    results = await asyncio.gather(
        *(_children(client, collection, parent_id, limit) for collection, parent_id in jobs)
    )
    for (collection, parent_id), listing in zip(jobs, results, strict=True):
        if listing is not None:
            fetched.children[(collection.name, parent_id)] = listing
