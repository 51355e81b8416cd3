"""Keep-alive HTTP/1.1 connections to one origin: send a request as bytes, read its answer.

What `http_client.ApiHttpClient` needs and no more: Content-Length and chunked bodies, 1xx
answers skipped, `Connection: close` honoured. Errors are httpx's, as the SDK expects: a refused
connection is `httpx.ConnectError`, a dropped one `httpx.ReadError`, a malformed answer
`httpx.RemoteProtocolError`. A request on a kept-alive connection that the server closed before
answering is sent again once on a new connection, as browsers and urllib3 do.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import NamedTuple

import httpx

MAX_HEAD_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
_HEAD_END = b"\r\n\r\n"


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Stale(Exception):
    """A kept-alive connection closed before any byte of the answer arrived."""


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class Origin:
    """Keep-alive connections to one scheme, host and port, at most `size` at a time."""

    def __init__(self, scheme: str, host: str, port: int, size: int) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port
        named = f"[{host}]" if ":" in host else host  # an IPv6 address goes in brackets
        self.authority = named if port == DEFAULT_PORTS[scheme] else f"{named}:{port}"
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(size)
        self._tls: ssl.SSLContext | None = None

    async def _connect(self) -> _Connection:
        tls: ssl.SSLContext | None = None
        if self.scheme == "https":
            if self._tls is None:
                # The trust store httpx would use: certifi, or SSL_CERT_FILE / SSL_CERT_DIR.
                self._tls = httpx.create_ssl_context(trust_env=True)
            tls = self._tls
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=tls, limit=MAX_HEAD_BYTES
            )
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {self.authority}: {exc}") from exc
        return _Connection(reader, writer)

    def close(self) -> None:
        while self.idle:
            self.idle.popleft().close()

    async def exchange(self, method: str, message: bytes) -> Answer:
        """Send one request (`message`, head and body) and read its answer, on an idle
        connection if there is one. The caller holds one of `slots`."""
        for _ in range(2):
            reused = bool(self.idle)
            connection = self.idle.pop() if reused else await self._connect()
            keep = False
            try:
                connection.writer.write(message)
                answer, keep = await _read_answer(connection, method, reused)
                return answer
            except _Stale:
                self.close()  # the server dropped this idle connection, and likely the others
                continue
            finally:
                if keep:
                    self.idle.append(connection)
                else:
                    connection.close()
        raise httpx.ReadError(f"{self.authority} closed every connection before answering")


async def _read_answer(connection: _Connection, method: str, reused: bool) -> tuple[Answer, bool]:
    """The answer, and whether the connection may be kept."""
    reader = connection.reader
    while True:
        try:
            head = await reader.readuntil(_HEAD_END)
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _Stale from exc
            raise httpx.ReadError("the server closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("the answer's headers are too long") from exc
        except ConnectionError as exc:
            if reused:
                raise _Stale from exc
            raise httpx.ReadError(str(exc)) from exc
        lines = head[:-4].split(b"\r\n")
        status_line = lines[0].split(b" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/1."):
            raise httpx.RemoteProtocolError(f"not an HTTP/1.1 answer: {lines[0]!r:.80}")
        try:
            status = int(status_line[1])
        except ValueError as exc:
            raise httpx.RemoteProtocolError(f"bad status line: {lines[0]!r:.80}") from exc
        if 100 <= status < 200:
            continue  # informational answers precede the real one
        break
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    keep = status_line[0] == b"HTTP/1.1"
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise httpx.RemoteProtocolError(f"bad header line: {line!r:.80}")
        value = value.strip()
        lower = name.strip().lower()
        headers.append((name.strip(), value))
        if lower == b"content-length":
            try:
                length = int(value)
            except ValueError as exc:
                raise httpx.RemoteProtocolError("bad Content-Length") from exc
        elif lower == b"transfer-encoding":
            chunked = value.lower().endswith(b"chunked")
        elif lower == b"connection":
            tokens = value.lower()
            keep = b"close" not in tokens and (keep or b"keep-alive" in tokens)
    try:
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif chunked:
            body = await _read_chunked(reader)
            headers = [(n, v) for n, v in headers if n.lower() != b"transfer-encoding"]
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            keep = False
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise httpx.ReadError("the server closed the connection mid-answer") from exc
    return Answer(status, headers, body), keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise httpx.RemoteProtocolError("bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers, which nothing here uses
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
