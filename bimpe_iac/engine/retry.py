"""One more try for an operation after the SDK gave up on a transient error.

The SDK retries each request itself (connection errors, 408, 429 and 5xx, with backoff). When
it has run out of tries, the engine waits a moment and runs the whole operation once more:
a long outage still fails, a burst of bad luck does not. This is safe because every operation
a resource kind performs may run twice (`model/kind.ResourceKind`): a create sends the same
idempotency key again, an update sets the same values, a delete of what is gone is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bimpeai import APIConnectionError, APIError

from bimpe_iac.answers import checked

T = TypeVar("T")

PAUSE_S = 1.0
"""The wait before the one more try."""


def transient(error: BaseException) -> bool:
    """An error that another try may not meet: no answer, 408, 429, or a server error."""
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, APIError):
        return error.status in (408, 429) or (error.status >= 500 and error.status != 501)
    return False


async def once_more(operation: Callable[[], Awaitable[T]], *, pause_s: float = PAUSE_S) -> T:
    """`operation()`, run again once after `pause_s` if it fails with a transient error (a
    malformed answer is one, `answers.py`)."""
    try:
        return await checked(operation)
    except (APIConnectionError, APIError) as error:
        if not transient(error):
            raise
    await asyncio.sleep(pause_s)
    return await checked(operation)
