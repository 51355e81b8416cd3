"""Read the live state with the fewest requests: each top-level collection once (its pages a
few at a time after the first, `engine/listing.py`), each managed object it lacks by id (to
prove it gone), and each per-parent collection once for every managed (or adopted)
parent that still exists. Requests run concurrently, bounded by the run's parallelism.

A `ReadProgress` callback, when given, hears how far reading has come after every page and
listing: the command decides how to show it (a slow API must not look hung)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bimpeai import AsyncBimpeAI, NotFoundError

from bimpe_iac.engine.listing import read_listing, unique
from bimpe_iac.engine.retry import once_more
from bimpe_iac.errors import ApiFailure
from bimpe_iac.model.ids import is_id
from bimpe_iac.model.kind import Collection, Fetched, ResourceKind
from bimpe_iac.state.model import ResourceState


@dataclass(frozen=True)
class ReadCounts:
    """How far reading the live state has come."""

    collections: int = 0
    """Top-level collections read in full."""
    collections_total: int = 0
    objects: int = 0
    """Live objects listed so far, in every collection."""
    parents: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Per parent kind (agents): how many parents have all their listings read, of how many
    are to be read so far."""


ReadProgress = Callable[[ReadCounts], None]


class _Tally:
    """The counts of one reading, reported after each change."""

    def __init__(self, progress: ReadProgress | None, start: ReadCounts | None = None) -> None:
        self.counts = start or ReadCounts()
        self._progress = progress

    def add(self, **changes: Any) -> None:
        self.counts = replace(self.counts, **changes)
        if self._progress is not None:
            self._progress(self.counts)

    def parent(self, kind: str, *, done: int = 0, total: int = 0) -> None:
        was_done, was_total = self.counts.parents.get(kind, (0, 0))
        self.add(parents={**self.counts.parents, kind: (was_done + done, was_total + total)})


def _collections(kinds: Iterable[ResourceKind]) -> list[Collection]:
    seen: dict[str, Collection] = {}
    for kind in kinds:
        for collection in kind.collections:
            seen.setdefault(collection.name, collection)
    return list(seen.values())


async def _top(
    client: AsyncBimpeAI,
    collection: Collection,
    limit: asyncio.Semaphore,
    window: int,
    tally: _Tally,
) -> dict[str, dict[str, Any]]:
    assert collection.fetch_page is not None
    fetch = collection.fetch_page

    async def page(number: int) -> tuple[list[dict[str, Any]], int, int | None]:
        async with limit:
            found = await once_more(lambda: fetch(client, number))
        tally.add(objects=tally.counts.objects + len(found[0]))
        return found

    listing = await read_listing(collection.name, page, window)
    tally.add(collections=tally.counts.collections + 1)
    return listing


async def _prove_absent(
    client: AsyncBimpeAI,
    top: list[Collection],
    fetched: Fetched,
    state: Mapping[str, ResourceState],
    limit: asyncio.Semaphore,
) -> None:
    """A managed object that a listing lacks is read by id before it counts as gone: a listing
    read page by page can miss an object that moved between pages. One found is added."""
    jobs = [
        (collection, entry.id)
        for collection in top
        if collection.fetch_one is not None
        for entry in state.values()
        if entry.kind == collection.manages
        and entry.id not in fetched.of(collection.name)
        # The planner refuses an entry whose id is no id, with the reason: it is never sent.
        and is_id(entry.id)
    ]

    async def one(collection: Collection, id: str) -> dict[str, Any] | None:
        fetch = collection.fetch_one
        assert fetch is not None
        async with limit:
            return await once_more(lambda: fetch(client, id))

    found = await asyncio.gather(*(one(c, id) for c, id in jobs))
    for (collection, id), obj in zip(jobs, found, strict=True):
        if obj is None or (collection.manageable is not None and not collection.manageable(obj)):
            continue
        if obj.get("id") != id:
            raise ApiFailure(f"BimpeAI answered a read of {collection.name} {id} with another id")
        fetched.top[collection.name][id] = obj


async def _children(
    client: AsyncBimpeAI, collection: Collection, parent_id: str, limit: asyncio.Semaphore
) -> dict[str, dict[str, Any]] | None:
    fetch = collection.fetch_children
    assert fetch is not None
    async with limit:
        try:
            items = await once_more(lambda: fetch(client, parent_id))
        except NotFoundError:
            return None
    return unique(f"{collection.name} of {parent_id}", items)


async def read_live(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    state: Mapping[str, ResourceState],
    parallelism: int,
    progress: ReadProgress | None = None,
    needed: Mapping[str, frozenset[str]] | None = None,
) -> Fetched:
    """Every collection; `progress` hears the counts as they grow. `needed`: for each
    per-parent collection with `needed_by`, the ids of the parents to read it for."""
    kinds = list(kinds)
    limit = asyncio.Semaphore(parallelism)
    fetched = Fetched()
    top = [c for c in _collections(kinds) if c.parent_kind is None]
    tally = _Tally(progress, ReadCounts(collections_total=len(top)))
    results = await asyncio.gather(*(_top(client, c, limit, parallelism, tally) for c in top))
    fetched.top = {c.name: result for c, result in zip(top, results, strict=True)}
    await _prove_absent(client, top, fetched, state, limit)
    await _read_children(client, kinds, state.values(), fetched, parallelism, tally, needed)
    return fetched


async def read_children(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    parents: Iterable[ResourceState],
    fetched: Fetched,
    parallelism: int,
    progress: ReadProgress | None = None,
) -> None:
    """Add to `fetched` the per-parent listings of `parents` not read yet."""
    await _read_children(client, kinds, parents, fetched, parallelism, _Tally(progress))


async def _read_children(
    client: AsyncBimpeAI,
    kinds: Iterable[ResourceKind],
    parents: Iterable[ResourceState],
    fetched: Fetched,
    parallelism: int,
    tally: _Tally,
    needed: Mapping[str, frozenset[str]] | None = None,
) -> None:
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
            and (
                needed is None
                or collection.needed_by is None
                or entry.id in needed.get(collection.name, frozenset())
            )
        }
        jobs += [(collection, parent_id) for parent_id in sorted(ids)]
    pending: dict[tuple[str, str], int] = {}
    for collection, parent_id in jobs:
        assert collection.parent_kind is not None
        key = (collection.parent_kind, parent_id)
        pending[key] = pending.get(key, 0) + 1
    for kind in sorted({kind for kind, _ in pending}):
        tally.parent(kind, total=sum(1 for k, _ in pending if k == kind))

    async def read_one(collection: Collection, parent_id: str) -> dict[str, dict[str, Any]] | None:
        result = await _children(client, collection, parent_id, limit)
        assert collection.parent_kind is not None
        key = (collection.parent_kind, parent_id)
        pending[key] -= 1
        tally.add(objects=tally.counts.objects + len(result or ()))
        if not pending[key]:
            tally.parent(collection.parent_kind, done=1)
        return result

    child_results = await asyncio.gather(
        *(read_one(collection, parent_id) for collection, parent_id in jobs)
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
