"""What one HTTP client may ask of the emulator's server: a bounded request head, and a time limit
for sending a request.

uvicorn caps a request's head only with its h11 parser (`h11_max_incomplete_event_size`) and has
no time limit for receiving a request at all: a client that sends a 100 MB header, or half a
request and then nothing, holds the server's memory or a connection for as long as it likes.
The emulator keeps uvicorn's faster httptools parser (a request costs the server about a fifth
less than with h11) and adds both limits to its protocol, which is the seam uvicorn offers for
this (`Config(http=...)`). Idle keep-alive connections are closed by uvicorn's own
`timeout_keep_alive`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""The request line and headers together; the SDK sends well under 2 KB."""

REQUEST_READ_TIMEOUT_S = 5.0
"""From a request's first byte to its last (head and body): loopback clients need milliseconds."""

KEEP_ALIVE_S = 30
"""How long an idle keep-alive connection stays open; longer than httpx keeps one (5 s), so that
the client, not the server, closes it first and no request races a closing connection."""


def _refusal(status: int, reason: str) -> bytes:
    """A short answer that closes the connection, written by h11."""
    body = f"{reason}\n".encode()
    headers = [
        ("content-type", "text/plain; charset=utf-8"),
        ("content-length", str(len(body))),
        ("connection", "close"),
    ]
    writer = h11.Connection(h11.SERVER)
    head = writer.send(h11.Response(status_code=status, headers=headers, reason=reason.encode()))
    return (head or b"") + (writer.send(h11.Data(data=body)) or b"")


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on each request's head (431, then close) and a
    time limit for receiving each request (408, then close)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._heads_read = 0
        self._reading: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_reading()  # a client that connects and sends nothing is a stalled request

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_reading()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        in_head, heads_read = self._in_head, self._heads_read
        if self._reading is None:
            self._start_reading()
        super().data_received(data)
        # Bytes that neither began nor ended inside a head are not counted (a body, or a body's
        # end and the next request's start): the cap is exact to within one read of the socket.
        if in_head and self._in_head and heads_read == self._heads_read:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, "Request Header Fields Too Large")

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        self._heads_read += 1
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_reading()
        self._in_head = True  # the next bytes begin the next request, and restart the clock
        super().on_message_complete()

    def _start_reading(self) -> None:
        self._reading = self.loop.call_later(REQUEST_READ_TIMEOUT_S, self._timed_out)

    def _stop_reading(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def _timed_out(self) -> None:
        self._reading = None
        self._refuse(408, "Request Timeout")

    def _refuse(self, status: int, reason: str) -> None:
        self._stop_reading()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # no answer has begun
            self.transport.write(_refusal(status, reason))
        self.transport.close()
