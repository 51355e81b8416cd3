"""The emulator's HTTP server against clients that misbehave, over raw sockets on 127.0.0.1.

Covers: a request whose header grows towards 100 MB is refused (431, then closed) after a few
tens of kilobytes, while another client is answered as usual; a request sent halfway (head or
body) and then left is answered 408 and closed within the read time limit, as is a connection
that sends nothing; an idle keep-alive connection is closed; a well-formed request with a
large body and many headers is still served.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from bimpeai import BimpeAI

from bimpe_iac.emulator import http_limits
from bimpe_iac.emulator.server import RunningEmulator


@pytest.fixture
def server(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator()


def connect(running: RunningEmulator) -> socket.socket:
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=15)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def read_answer(sock: socket.socket) -> bytes:
    """One answer with a Content-Length, read whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    top, _ = data.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":")[1])
        for line in top.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(data) < len(top) + 4 + length:
        data += sock.recv(65536)
    return data


def head(running: RunningEmulator, path: str = "/api/v1/console/agents") -> bytes:
    key = running.emulator.api_key
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n".encode()


@pytest.fixture
def sdk(server: RunningEmulator) -> Iterator[BimpeAI]:
    with BimpeAI(api_key=server.emulator.api_key, base_url=server.url, max_retries=0) as client:
        yield client


def test_a_huge_header_is_refused_while_others_are_served(
    server: RunningEmulator, sdk: BimpeAI
) -> None:
    sent = 0
    sock = connect(server)

    def send_100_mb() -> None:
        nonlocal sent
        sock.sendall(head(server) + b"X-Padding: ")
        chunk = b"a" * 65536
        try:
            for _ in range(100 * 1024 * 1024 // len(chunk)):
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:  # the server closed the connection
            pass

    sender = threading.Thread(target=send_100_mb)
    started = time.monotonic()
    sender.start()
    answer = read_until_closed(sock)
    refused_after = time.monotonic() - started
    served_started = time.monotonic()
    listed = sdk.agents.list()
    served_in = time.monotonic() - served_started
    sender.join(timeout=30)
    sock.close()

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert refused_after < 2, refused_after
    assert sent < 20 * 1024 * 1024, sent  # what the kernel's buffers took before the close
    assert listed.data == [] and served_in < 1


@pytest.mark.parametrize(
    "partial",
    [
        b"",
        b"GET /api/v1/console/agents HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        b"POST /api/v1/console/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        b'KEY\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na',
    ],
    ids=["nothing", "half a head", "half a body"],
)
def test_a_half_sent_request_is_closed(server: RunningEmulator, partial: bytes) -> None:
    sock = connect(server)
    sock.sendall(partial.replace(b"KEY", server.emulator.api_key.encode()))
    started = time.monotonic()

    answer = read_until_closed(sock)

    closed_after = time.monotonic() - started
    sock.close()
    assert closed_after < http_limits.REQUEST_READ_TIMEOUT_S + 2, closed_after
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:100]


def test_an_idle_keep_alive_connection_is_closed(
    start_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_limits, "KEEP_ALIVE_S", 1)
    running = start_emulator()
    sock = connect(running)
    sock.sendall(head(running) + b"\r\n")
    first = read_answer(sock)
    started = time.monotonic()

    rest = read_until_closed(sock)

    idle_for = time.monotonic() - started
    sock.close()
    assert first.startswith(b"HTTP/1.1 200 ") and rest == b""
    assert 0.5 < idle_for < 3, idle_for


def test_large_well_formed_requests_are_still_served(server: RunningEmulator) -> None:
    sock = connect(server)
    headers = b"".join(b"X-Extra-%d: %s\r\n" % (n, b"v" * 100) for n in range(100))  # 11 KB
    body = b'{"name": "Big", "system_prompt": "' + b"p" * 190_000 + b'"}'
    key = server.emulator.api_key.encode()
    request = (
        b"POST /api/v1/console/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + key
        + b"\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        + headers
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    sock.sendall(request)

    answer = read_until_closed(sock)

    sock.close()
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 201 Created", b"HTTP/1.1 200 OK"), answer[
        :300
    ]
