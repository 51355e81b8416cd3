"""Pagination, search and sort through the official SDK's Page.

Covers: 7 agents over pages of 3 (exact meta on every page, a page past the end, iteration
walking all pages in order, pages() count, get_next_page on the last page), sort by
`-created_at`, `name` and `-name`, search by name and description (case-insensitive, combined
with paging), an unknown sort field → 400 with path `sort`, out-of-range page and limit → 400
with their paths, and workflows paging within a scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from bimpeai import Agent, BimpeAI, PaginationMeta, ValidationError

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin

NAMES = ["Delta", "Alpha", "Sales Golf", "Bravo", "Sales Foxtrot", "Charlie", "Sales Echo"]


@pytest.fixture(scope="module")
def seven(emulator: RunningEmulator, admin: Admin) -> Iterator[tuple[BimpeAI, list[str]]]:
    """A team with seven agents, created in the order of NAMES; yields the client and ids."""
    team = admin.new_team("paging team")
    with BimpeAI(api_key=team.api_key, base_url=emulator.url) as client:
        workflow = client.workflows.create(name="Paging flow", system_prompt="p")
        ids = [
            client.agents.create(
                workflow_id=workflow.id, name=name, description=f"Agent number {n}"
            ).id
            for n, name in enumerate(NAMES)
        ]
        yield client, ids


def meta(**fields: Any) -> PaginationMeta:
    return PaginationMeta(**fields)


def test_first_page(seven: tuple[BimpeAI, list[str]]) -> None:
    client, ids = seven
    page = client.agents.list(limit=3)
    assert [a.id for a in page.data] == ids[:3]
    assert page.meta == meta(
        total_count=7,
        page_count=3,
        current_page=1,
        limit=3,
        has_next_page=True,
        has_previous_page=False,
    )
    assert page.has_next_page is True


def test_middle_and_last_pages(seven: tuple[BimpeAI, list[str]]) -> None:
    client, ids = seven
    middle = client.agents.list(limit=3, page=2)
    assert [a.id for a in middle.data] == ids[3:6]
    assert middle.meta == meta(
        total_count=7,
        page_count=3,
        current_page=2,
        limit=3,
        has_next_page=True,
        has_previous_page=True,
    )
    last = middle.get_next_page()
    assert last is not None
    assert [a.id for a in last.data] == ids[6:]
    assert last.meta == meta(
        total_count=7,
        page_count=3,
        current_page=3,
        limit=3,
        has_next_page=False,
        has_previous_page=True,
    )
    assert last.has_next_page is False
    assert last.get_next_page() is None


def test_a_page_past_the_end_is_empty(seven: tuple[BimpeAI, list[str]]) -> None:
    client, _ = seven
    page = client.agents.list(limit=3, page=4)
    assert page.data == []
    assert page.meta is not None
    assert (page.meta.total_count, page.meta.current_page, page.meta.has_next_page) == (7, 4, False)
    assert page.meta.has_previous_page is True
    assert list(page) == []


def test_iteration_walks_every_page(seven: tuple[BimpeAI, list[str]]) -> None:
    client, ids = seven
    page = client.agents.list(limit=3)
    assert [a.id for a in page] == ids
    pages = list(page.pages())
    assert len(pages) == 3
    assert [len(p.data) for p in pages] == [3, 3, 1]
    assert [p.meta.current_page for p in pages if p.meta] == [1, 2, 3]
    assert [a.id for a in client.agents.list(limit=3, page=2)] == ids[3:]
    assert [a.id for a in client.agents.list()] == ids


def test_sort(seven: tuple[BimpeAI, list[str]]) -> None:
    client, ids = seven

    def names(sort: str) -> list[str]:
        return [a.name for a in client.agents.list(limit=3, sort=sort)]

    assert [a.id for a in client.agents.list(limit=3, sort="-created_at")] == ids[::-1]
    assert [a.id for a in client.agents.list(limit=3, sort="created_at")] == ids
    assert names("name") == sorted(NAMES)
    assert names("-name") == sorted(NAMES, reverse=True)
    second: list[Agent] = client.agents.list(limit=3, sort="name", page=2).data
    assert [a.name for a in second] == sorted(NAMES)[3:6]


def test_search(seven: tuple[BimpeAI, list[str]]) -> None:
    client, ids = seven
    found = client.agents.list(search="sales")
    assert [a.name for a in found.data] == ["Sales Golf", "Sales Foxtrot", "Sales Echo"]
    assert found.meta is not None
    assert (found.meta.total_count, found.meta.page_count) == (3, 1)
    paged = client.agents.list(search="SALES", limit=2, sort="name")
    assert paged.meta is not None
    assert (paged.meta.total_count, paged.meta.page_count) == (3, 2)
    assert [a.name for a in paged] == ["Sales Echo", "Sales Foxtrot", "Sales Golf"]
    by_description = client.agents.list(search="number 3")
    assert [a.id for a in by_description.data] == [ids[3]]
    assert client.agents.list(search="nobody").data == []
    assert list(client.agents.list(search="100%")) == []


def test_unknown_sort_field(seven: tuple[BimpeAI, list[str]]) -> None:
    client, _ = seven
    for sort in ("colour", "-colour"):
        with pytest.raises(ValidationError) as caught:
            client.agents.list(sort=sort)
        assert caught.value.code == "validation_error"
        assert [e["path"] for e in caught.value.field_errors] == ["sort"]
        assert "colour" in caught.value.field_errors[0]["message"]


@pytest.mark.parametrize(
    ("query", "path"),
    [({"page": 0}, "page"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit")],
)
def test_out_of_range_paging(
    seven: tuple[BimpeAI, list[str]], query: dict[str, int], path: str
) -> None:
    client, _ = seven
    with pytest.raises(ValidationError) as caught:
        client.agents.list(**query)
    assert [e["path"] for e in caught.value.field_errors] == [path]


def test_workflows_page_within_their_scope(seven: tuple[BimpeAI, list[str]]) -> None:
    client, _ = seven
    owned = client.workflows.list(scope="owned", limit=1)
    assert owned.meta is not None
    assert (owned.meta.total_count, owned.meta.page_count) == (1, 1)
    accessible = client.workflows.list(limit=2, sort="name")
    assert accessible.meta is not None
    assert accessible.meta.total_count == 4
    assert len(list(accessible.pages())) == 2
    assert [w.name for w in accessible] == sorted(
        ["Appointment Booking", "Customer Support Triage", "Paging flow", "Sales Assistant"]
    )
    public = client.workflows.list(scope="public", search="booking")
    assert [w.id for w in public.data] == ["wf_public_appointment_booking"]
