"""Keeping under the API's rate limit instead of running into it.

Each answer may say how many requests are left in the current window (`X-RateLimit-Remaining`),
when the next window starts (`X-RateLimit-Reset`, in seconds since the epoch) and how many a
window allows (`X-RateLimit-Limit`). `Pacer` counts the requests sent against what is left, and
once nothing is, holds further requests back until the reset: a run at the limit paces itself
rather than collecting 429 answers and waiting out their Retry-After. A reset further away than
`MAX_WAIT_S` is not waited for (the answers then say why). The clock is this machine's.

A request is counted when it passes the request hook, which is when it is sent as long as no
more requests are under way than the client has connections: the engine keeps to its
parallelism, the size of the connection pool (`connection.open_client`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx

MAX_WAIT_S = 60.0
_SENT = "bimpe_pacer_sent"


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Pacer:
    """An httpx request hook (`before`) and response hook (`after`) for one client."""

    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._remaining: float | None = None
        """Requests left in the window that ends at `_reset_at`; None when not known."""
        self._reset_at = 0.0
        self._limit: float | None = None
        self._sent = 0
        self.waits = 0
        """How many times a request was held back."""

    async def before(self, request: httpx.Request) -> None:
        request.extensions[_SENT] = await self.acquire()

    async def after(self, response: httpx.Response) -> None:
        self.observe(response.headers, response.request.extensions.get(_SENT))

    async def acquire(self) -> int:
        """Wait until the window has room for one more request; its number in sending order."""
        while True:
            now = self._clock()
            if now >= self._reset_at and self._remaining is not None:
                self._remaining = self._limit  # a new window
            if self._remaining is None or self._remaining >= 1:
                break
            wait = self._reset_at - now
            if wait > MAX_WAIT_S:
                break
            self.waits += 1
            await self._sleep(wait)
        if self._remaining is not None:
            self._remaining -= 1
        self._sent += 1
        return self._sent - 1

    def observe(self, headers: Mapping[str, str], sent: object) -> None:
        """Take in the limit an answer reports; `sent` is its request's `acquire` number."""
        remaining = _number(headers.get("x-ratelimit-remaining"))
        reset_at = _number(headers.get("x-ratelimit-reset"))
        if remaining is None or reset_at is None:
            return
        self._limit = _number(headers.get("x-ratelimit-limit")) or self._limit
        # The figure is from when this request arrived: those sent after it use up more.
        if isinstance(sent, int):
            remaining -= self._sent - sent - 1
        if reset_at > self._reset_at:
            self._reset_at, self._remaining = reset_at, remaining
        elif reset_at == self._reset_at:
            known = self._remaining
            self._remaining = remaining if known is None else min(known, remaining)
