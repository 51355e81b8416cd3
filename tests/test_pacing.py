"""Client-side pacing to the API's rate limit (`bimpe_iac/pacing.py`).

Covers: with a fake clock, requests pass while the window has some left, the next waits for
the reset and then passes; the lower of the counted and the answered figure is kept; a reset
too far away, an answer without the headers, or a throttled answer whose reset is already past
hold nothing back. Against a served emulator that allows 20 requests a second, 60 requests
through `open_client`, 16 at a time, take about three windows and meet no (or hardly any) 429.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import pytest
from bimpeai import AsyncBimpeAI

from bimpe_iac.connection import Target, open_client
from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.pacing import MAX_WAIT_S, Pacer
from bimpe_iac.secrets import Secret

REQUEST = httpx.Request("GET", "https://api.example/agents")


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def answer(remaining: int | None, reset: float | None, limit: int | None = 10) -> httpx.Response:
    headers = {}
    if remaining is not None:
        headers["X-RateLimit-Remaining"] = str(remaining)
    if reset is not None:
        headers["X-RateLimit-Reset"] = str(reset)
    if limit is not None:
        headers["X-RateLimit-Limit"] = str(limit)
    return httpx.Response(200, headers=headers, request=REQUEST)


def paced() -> tuple[Pacer, FakeTime]:
    fake = FakeTime()
    return Pacer(clock=fake.clock, sleep=fake.sleep), fake


def test_requests_wait_for_the_reset_once_none_are_left() -> None:
    pacer, fake = paced()

    async def run() -> None:
        await pacer.before(REQUEST)
        await pacer.after(answer(remaining=2, reset=1001))
        await pacer.before(REQUEST)
        await pacer.before(REQUEST)
        assert fake.slept == []
        await pacer.before(REQUEST)

    asyncio.run(run())
    assert fake.slept == [1.0] and pacer.waits == 1


def test_the_lower_figure_counts() -> None:
    pacer, fake = paced()

    async def run() -> None:
        await pacer.after(answer(remaining=5, reset=1001))
        for _ in range(4):
            await pacer.before(REQUEST)
        await pacer.after(answer(remaining=3, reset=1001))  # answered before the last four left
        await pacer.before(REQUEST)
        assert fake.slept == []
        await pacer.after(answer(remaining=0, reset=1001))
        await pacer.before(REQUEST)

    asyncio.run(run())
    assert fake.slept == [1.0]


@pytest.mark.parametrize(
    "response",
    [
        answer(remaining=0, reset=1000 + MAX_WAIT_S + 1),
        answer(remaining=None, reset=None),
        answer(remaining=0, reset=1000, limit=None),  # a throttled answer: Retry-After 0
    ],
    ids=["reset-too-far", "no-headers", "reset-past"],
)
def test_nothing_is_held_back(response: httpx.Response) -> None:
    pacer, fake = paced()

    async def run() -> None:
        await pacer.after(response)
        for _ in range(3):
            await pacer.before(REQUEST)

    asyncio.run(run())
    assert fake.slept == []


def test_a_run_at_the_rate_limit_paces_itself(
    start_emulator: Callable[..., RunningEmulator], caplog: pytest.LogCaptureFixture
) -> None:
    running = start_emulator(rate_limit=20)
    target = Target(
        base_url=running.url,
        api_key=Secret(running.emulator.api_key),
        parallelism=16,
        debug_http=True,
    )
    caplog.set_level(logging.DEBUG, logger="bimpe_iac.http")

    async def run() -> None:
        limit = asyncio.Semaphore(target.parallelism)  # as the engine keeps to its parallelism

        async def one(client: AsyncBimpeAI) -> None:
            async with limit:
                await client.agents.list()

        async with open_client(target) as client:
            await asyncio.gather(*(one(client) for _ in range(60)))

    started = time.monotonic()
    asyncio.run(run())
    elapsed = time.monotonic() - started

    answers = [r.getMessage() for r in caplog.records if r.getMessage().startswith("<- ")]
    throttled = [a for a in answers if a.startswith("<- 429")]
    assert len(answers) - len(throttled) == 60
    assert len(throttled) <= 2, throttled
    # 60 requests in 1 s windows of 20 span at least two window boundaries, so more than
    # 1 s unless the run started at the very end of a window.
    assert 0.9 < elapsed < 10
