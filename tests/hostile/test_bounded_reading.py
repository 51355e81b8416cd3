"""Finding 3: the server's `page_count` is a claim. A page count of a billion, or of a hundred
thousand, ends in seconds with a clear error and a handful of requests; a smaller false claim
or a server that ignores `page` ends at the first empty or repeated page with the right
result. Requests are counted at the proxy."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Hostile

from bimpe_iac import answers


def _claiming(pages: int) -> Any:
    def rewrite(answer: Any) -> Any:
        answer["meta"]["page_count"] = pages
        answer["meta"]["has_next_page"] = True
        return answer

    return rewrite


@pytest.mark.parametrize("pages", [10**9, 10**5])
@pytest.mark.parametrize("command", ["plan", "export"])
def test_an_absurd_page_count_is_refused_in_seconds(
    hostile: Hostile, small_stack: Path, tmp_path: Path, pages: int, command: str
) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    hostile.rule("GET", r"/agents\?", rewrite=_claiming(pages))
    before, listings = len(hostile.proxy.requests), hostile.count("GET", r"/agents\?")
    started = time.monotonic()
    args = [small_stack] if command == "plan" else ["--out", tmp_path / "out"]
    outcome = hostile(command, *args)
    elapsed = time.monotonic() - started

    assert outcome.exit_code == 1, outcome.text
    assert f"BimpeAI claims {pages} pages of agents" in outcome.stderr
    assert "Traceback" not in outcome.text
    assert elapsed < 10
    assert hostile.count("GET", r"/agents\?") - listings == 1
    assert len(hostile.proxy.requests) - before < 20


def test_a_false_page_count_ends_at_the_first_empty_page(
    hostile: Hostile, small_stack: Path
) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")
    hostile.rule("GET", r"/agents\?", rewrite=_claiming(5_000))
    outcome = hostile("plan", small_stack, "--parallelism", "4")
    assert outcome.exit_code == 0, outcome.text
    assert "No changes." in outcome.output
    # Page 1, then one window of 4 pages, the first of them empty.
    assert hostile.count("GET", r"/agents\?") - listings == 5


def test_a_server_that_ignores_the_page_ends_at_the_repeated_page(
    hostile: Hostile, small_stack: Path
) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")
    page_one: dict[str, Any] = {}

    def remember(answer: Any) -> Any:
        page_one.update(_claiming(50)(answer))
        return page_one

    # Page 1 claims 50 pages; every other page answers as page 1 did.
    hostile.rule("GET", r"/agents\?(.*&)?page=1(&|$)", rewrite=remember)
    hostile.rule("GET", r"/agents\?", rewrite=lambda answer: page_one)
    outcome = hostile("plan", small_stack, "--parallelism", "4")
    assert outcome.exit_code == 0, outcome.text
    assert "No changes." in outcome.output
    assert hostile.count("GET", r"/agents\?") - listings == 5


def test_a_run_stops_at_its_cap_of_api_calls(
    hostile: Hostile, small_stack: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cap is 100,000 calls; a run that would pass it ends with exit 1 saying so (shown
    here with a cap of 3, below what this plan needs)."""
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    monkeypatch.setattr(answers, "MAX_REQUESTS", 3)
    before = len(hostile.proxy.requests)
    outcome = hostile("plan", small_stack)
    assert outcome.exit_code == 1, outcome.text
    assert "stopped after 3 API calls in one run" in outcome.stderr
    assert len(hostile.proxy.requests) - before == 3
