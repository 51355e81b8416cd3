"""Finding 5: an answer that is not the API's (HTML, broken JSON, the wrong `data` shape, broken
framing) is an API error: tried again as a lost answer is, and if it persists, exit 1 with a
short reason and the request id, never an internal error. During apply, what waits for a
create whose answer was bad is not started."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Hostile

HTML = (200, "text/html", b"<html><body>Welcome to the gateway</body></html>")
BROKEN = (200, "application/json", b'{"message": "ok", "data": [{"id": "agt_1"')
WRONG_SHAPE = (200, "application/json", b'{"message": "ok", "data": {"id": "agt_1"}}')
WRONG_ITEMS = (200, "application/json", b'{"message": "ok", "data": [{"nom": "x"}]}')
NEGATIVE_LENGTH = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}"
)
NEGATIVE_CHUNK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"-5\r\n{}\r\n0\r\n\r\n"
)

ANSWERS = {"html": HTML, "broken-json": BROKEN, "data-shape": WRONG_SHAPE, "items": WRONG_ITEMS}
RAW = {"negative-length": NEGATIVE_LENGTH, "negative-chunk": NEGATIVE_CHUNK}
# Bad framing is a protocol error of the HTTP library, which the SDK retries as a lost answer.
FAULTS = [*ANSWERS, *RAW]


def _fault(hostile: Hostile, name: str, path: str, times: int | None) -> None:
    if name in ANSWERS:
        hostile.rule("GET", path, times=times, answer=ANSWERS[name])
    else:
        hostile.rule("GET", path, times=times, raw=RAW[name])


@pytest.mark.parametrize("name", [name for name in FAULTS if name != "html"])
def test_a_bad_answer_once_is_tried_again(hostile: Hostile, small_stack: Path, name: str) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")
    _fault(hostile, name, r"/agents\?", times=1)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 0, plan.text
    assert "No changes." in plan.output
    assert hostile.count("GET", r"/agents\?") - listings == 2


@pytest.mark.parametrize("name", FAULTS)
def test_a_bad_answer_that_persists_is_exit_1(
    hostile: Hostile, small_stack: Path, name: str
) -> None:
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    listings = hostile.count("GET", r"/agents\?")
    _fault(hostile, name, r"/agents\?", times=None)
    plan = hostile("plan", small_stack)
    assert plan.exit_code == 1, plan.text
    assert "Traceback" not in plan.text and "internal error" not in plan.text.lower()
    assert len(plan.stderr.strip().splitlines()) == 1, plan.stderr
    if name == "html":
        # An HTML page is what another server sends: the base URL check says so at once.
        assert "is this the API URL?" in plan.stderr
        return
    if name in RAW:
        assert "could not reach BimpeAI (" in plan.stderr
    else:
        assert "BimpeAI sent an answer that is not the API's" in plan.stderr
    if name == "broken-json":
        assert "(request id " in plan.stderr
    # Tried again, a bounded number of times.
    assert 2 <= hostile.count("GET", r"/agents\?") - listings <= 10


def test_the_children_of_a_create_with_a_bad_answer_are_not_started(
    hostile: Hostile, small_stack: Path
) -> None:
    hostile.rule("POST", r"/workflows$", answer=BROKEN)
    applied = hostile("apply", small_stack, "--auto-approve")
    assert applied.exit_code == 1, applied.text
    assert "Traceback" not in applied.text and "internal error" not in applied.text.lower()
    assert hostile.count("POST", r"/agents$") == 0
    assert hostile.sdk.agents.list().data == []
    hostile.proxy.rules.clear()
    assert hostile("apply", small_stack, "--auto-approve").exit_code == 0
    assert [a.name for a in hostile.sdk.agents.list().data] == ["Managed bot"]
