"""Helpers shared by the route modules: ids, team lookup, pagination and sorting, text rules."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from bimpe_iac.emulator.responses import invalid, page
from bimpe_iac.emulator.store import PUBLIC_TEAM, Store


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def team_of(request: Request) -> str:
    """The team the request's API key belongs to (set by the gateway)."""
    team: str = request.scope["state"]["team_id"]
    return team


def readable_teams(team_id: str) -> tuple[str, str]:
    return (team_id, PUBLIC_TEAM)


def normalise_text(text: str) -> str:
    """What the server stores for long text: LF line ends and no trailing whitespace at the end."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


@dataclass(frozen=True, slots=True)
class ListQuery:
    page: int
    limit: int
    search: str | None
    sort: str | None

    def order(self, allowed: tuple[str, ...], default: str = "created_at") -> tuple[str, bool]:
        """(field, descending) from `sort` such as `-created_at`; unknown fields are a 400."""
        if not self.sort:
            return default, False
        descending = self.sort.startswith("-")
        field = self.sort.lstrip("-+")
        if field not in allowed:
            raise invalid(f"sort: unknown sort field '{field}'; allowed: {', '.join(allowed)}")
        return field, descending

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def respond(self, items: list[Any], total: int) -> Response:
        return page(items, total, self.page, self.limit)


async def list_query(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    search: Annotated[str | None, Query(max_length=200)] = None,
    sort: Annotated[str | None, Query(max_length=50)] = None,
) -> ListQuery:
    return ListQuery(page=page, limit=limit, search=search, sort=sort)
