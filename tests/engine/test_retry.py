"""One more try after the SDK gave up (`engine/retry.py`).

Covers: connection errors, 408, 429 and 5xx other than 501 are transient, other answers are
not; a transient failure runs the operation once more after the pause, and a second failure is
the one raised; an answer that is not transient is raised at once.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from bimpeai import APIConnectionError, APIError

from bimpe_iac.engine.retry import once_more, transient


def answer(status: int) -> APIError:
    return APIError(
        f"HTTP {status}", status=status, code=None, request_id="r", headers=httpx.Headers(), body={}
    )


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_answers(status: int) -> None:
    assert transient(answer(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
def test_answers_that_another_try_would_meet_again(status: int) -> None:
    assert not transient(answer(status))


def test_a_lost_connection_is_transient() -> None:
    assert transient(APIConnectionError("network error"))
    assert not transient(ValueError("a bug"))


def test_a_transient_failure_is_tried_once_more() -> None:
    calls = []

    async def operation() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise answer(503)
        return "done"

    assert asyncio.run(once_more(operation, pause_s=0)) == "done"
    assert len(calls) == 2


def test_only_once_more() -> None:
    calls = []

    async def operation() -> str:
        calls.append(1)
        raise answer(501 + len(calls))

    with pytest.raises(APIError) as caught:
        asyncio.run(once_more(operation, pause_s=0))
    assert caught.value.status == 503 and len(calls) == 2


def test_an_answer_that_is_not_transient_is_raised_at_once() -> None:
    calls = []

    async def operation() -> str:
        calls.append(1)
        raise answer(422)

    with pytest.raises(APIError):
        asyncio.run(once_more(operation, pause_s=0))
    assert len(calls) == 1
