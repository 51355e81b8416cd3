"""The HTTP client under the SDK for remote targets (`bimpe_iac.http_client`, httpx on
aiohttp's connections).

Most of its behaviour is exercised by every test that talks to a served emulator. These cover
what the emulator never does by itself: answers in chunks or gzip, a server that closes
kept-alive connections between requests, and one that answers nothing. The servers here are
raw asyncio sockets, because uvicorn neither chunks a buffered answer nor drops idle
connections at will.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable

import httpx
import pytest
from bimpeai import APIConnectionError, APITimeoutError, AsyncBimpeAI

from bimpe_iac.http_client import api_http_client
from bimpe_iac.pacing import Pacer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
ENVELOPE = b'{"message":"ok","data":[]}'


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


async def _answer_and_close(writer: asyncio.StreamWriter) -> None:
    """An empty page of agents, then the connection closed without a word, as a server whose
    keep-alive timeout passed."""
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(ENVELOPE), ENVELOPE)
    )
    await writer.drain()
    writer.close()


def _client(url: str, *, timeout_s: float = 5.0) -> tuple[AsyncBimpeAI, httpx.AsyncClient]:
    http = api_http_client(parallelism=4, timeout_s=timeout_s, pacer=Pacer())
    sdk = AsyncBimpeAI(
        api_key="sk_test", base_url=url, timeout=timeout_s, max_retries=0, http_client=http
    )
    return sdk, http


async def _serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _agents_listed(handler: Handler) -> int:
    """How many agents the SDK lists from a server answering with `handler`."""
    server, url = await _serve(handler)
    sdk, http = _client(url)
    try:
        return len((await sdk.agents.list()).data)
    finally:
        await http.aclose()
        server.close()


def test_a_chunked_answer_is_read_whole() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        half = len(ENVELOPE) // 2
        chunks = [ENVELOPE[:half], ENVELOPE[half:]]
        body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    assert asyncio.run(_agents_listed(handler)) == 0


def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    """The server answers each request and then closes the connection without saying so, as a
    server does when its keep-alive timeout passes: every next request still gets its answer."""
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        await _answer_and_close(writer)

    async def run() -> None:
        server, url = await _serve(handler)
        sdk, http = _client(url)
        try:
            for _ in range(3):
                await sdk.agents.list()
                await asyncio.sleep(0.05)
        finally:
            await http.aclose()
            server.close()

    asyncio.run(run())
    assert connections == 3


def test_no_answer_is_a_timeout_and_a_refused_connection_a_connection_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def run() -> None:
        server, url = await _serve(silent)
        sdk, http = _client(url, timeout_s=0.3)
        try:
            with pytest.raises(APITimeoutError):
                await sdk.agents.list()
        finally:
            await http.aclose()
            server.close()
        sdk, http = _client(url)  # nothing listens there any more
        try:
            with pytest.raises(APIConnectionError):
                await sdk.agents.list()
        finally:
            await http.aclose()

    asyncio.run(run())


def test_an_ipv6_server_gets_its_host_in_brackets() -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await _read_request(reader))
        await _answer_and_close(writer)

    async def run() -> None:
        try:
            server = await asyncio.start_server(handler, "::1", 0)
        except OSError:
            pytest.skip("no IPv6 loopback here")
        port = server.sockets[0].getsockname()[1]
        sdk, http = _client(f"http://[::1]:{port}")
        try:
            await sdk.agents.list()
        finally:
            await http.aclose()
            server.close()
        assert f"host: [::1]:{port}".encode() in heads[0].lower()

    asyncio.run(run())


def test_requests_ask_for_gzip_and_a_gzip_answer_is_read() -> None:
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await _read_request(reader))
        body = gzip.compress(ENVELOPE)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    assert asyncio.run(_agents_listed(handler)) == 0
    assert b"accept-encoding: gzip\r\n" in heads[0].lower()
