"""Read one paged listing so that what it says can be trusted, or fail clearly.

Pages are read by offset, so a listing that changes while it is read shifts: an object
deleted on page 1 moves the first of page 2 onto page 1, which was read already, and that
object is missed; one inserted repeats an object. The server's `total_count` changes with
such a shift, and a repeated id shows it: the listing is then read again from page 1, a few
times at most.

The server's `page_count` is a claim, not a plan: pages are read `window` at a time from what
has been seen, an empty page or one that repeats the last ends the listing, and a claim beyond
`MAX_PAGES` is refused before anything else is sent. Every id is checked (`model/ids.py`), and
an id twice in a steady listing is an error that names it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from bimpe_iac.errors import ApiFailure
from bimpe_iac.model.ids import is_id

Obj = dict[str, Any]
PageReader = Callable[[int], Awaitable[tuple[list[Obj], int, int | None]]]
"""Page N (from 1): its items, the claimed page count and the claimed total count."""

MAX_PAGES = 10_000
"""More pages than this (a million objects at 100 a page) is not a team this tool manages."""
READS = 3
"""How many times a listing that shifts while it is read is read from the start."""


class _Shifted(Exception):
    pass


def checked_ids(name: str, items: list[Obj]) -> list[str]:
    """The ids of `items`, each checked."""
    ids = []
    for item in items:
        id = item.get("id") if isinstance(item, dict) else None
        if not is_id(id):
            raise ApiFailure(f"BimpeAI listed {name} with an id that no object can have: {id!r}")
        ids.append(str(id))
    return ids


def duplicates_error(name: str, ids: list[str]) -> ApiFailure:
    twice = sorted(id for id, count in Counter(ids).items() if count > 1)
    shown = ", ".join(twice[:5]) + (f" and {len(twice) - 5} more" if len(twice) > 5 else "")
    return ApiFailure(f"BimpeAI listed {name} with the same id twice: {shown}")


def unique(name: str, items: list[Obj]) -> dict[str, Obj]:
    """`items` by id; an id twice is an error naming it."""
    ids = checked_ids(name, items)
    if len(set(ids)) != len(ids):
        raise duplicates_error(name, ids)
    return dict(zip(ids, items, strict=True))


async def read_listing(name: str, read_page: PageReader, window: int) -> dict[str, Obj]:
    """Every object of the listing `name`, by id."""
    for attempt in range(1, READS + 1):
        try:
            return await _read_once(name, read_page, max(1, window), last=attempt == READS)
        except _Shifted:
            continue
    raise ApiFailure(f"the listing of {name} kept changing while it was read ({READS} times)")


async def _read_once(
    name: str, read_page: PageReader, window: int, *, last: bool
) -> dict[str, Obj]:
    first, claimed, total = await read_page(1)
    if claimed > MAX_PAGES:
        raise ApiFailure(
            f"BimpeAI claims {claimed} pages of {name}; more than {MAX_PAGES} is not believed"
        )
    pages = [first]
    ids = checked_ids(name, first)
    if len(set(ids)) != len(ids):
        raise duplicates_error(name, ids)
    number = 2
    ended = not first
    while not ended and number <= claimed:
        batch = range(number, min(claimed, number + window - 1) + 1)
        results = await asyncio.gather(*(read_page(n) for n in batch))
        for items, _, page_total in results:
            page_ids = checked_ids(name, items)
            last_ids = {str(item["id"]) for item in pages[-1]}
            if not items or set(page_ids) <= last_ids:
                ended = True  # empty, or the same page again: the listing ends here
                break
            if page_total != total:
                raise _Shifted
            if set(page_ids) & set(ids) and not last:
                # An id seen before with a steady total: a shift that kept the count, or a
                # server that lists one object twice; reading again tells them apart.
                raise _Shifted
            pages.append(items)
            ids += page_ids
        number = batch.stop
    items = [item for page in pages for item in page]
    if len(set(ids)) != len(ids):
        raise duplicates_error(name, ids)
    return dict(zip(ids, items, strict=True))
