"""A relay on 127.0.0.1 in front of an emulator that frames its answers badly on purpose.

uvicorn never writes a malformed answer, nor bytes nobody asked for, so the client's handling
of those cannot be shown against the emulator alone. This relay reads each request, has the
emulator answer it, and writes the answer back with framing a test chooses: an unsolicited
extra answer after the first one on each keep-alive connection, a head of its own
(`Content-Length: +2`, `Transfer-Encoding: xchunked`, ...), or bare LF line endings. Its
sockets are plain blocking ones, one thread per connection, so that nothing between it and
the client tidies the bytes up.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

Framing = Callable[[int, bytes], bytes]
"""(status, body) -> the bytes written for that answer."""


def proper(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        len(body),
        body,
    )


def with_head(head: bytes) -> Framing:
    """Answers whose framing headers are `head` (CRLF-separated lines, without the blank one)."""
    return lambda status, body: (
        b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s\r\n\r\n%s" % (status, head, body)
    )


def bare_lf(status: int, body: bytes) -> bytes:
    return b"HTTP/1.1 %d X\nContent-Type: application/json\nContent-Length: %d\n\n%s" % (
        status,
        len(body),
        body,
    )


UNSOLICITED = proper(200, b'{"message":"ok","data":[],"meta":{"page":1,"page_count":1}}')
"""An answer no request asked for: an empty listing, which read as the next request's answer
would make every object look deleted."""


@dataclass
class Relay:
    url: str
    connections: int = 0
    answers: int = 0


@contextmanager
def misbehaving_relay(
    upstream: str, framing: Framing = proper, *, unsolicited_after_first: bool = False
) -> Iterator[Relay]:
    """Serve until the block ends; each answer is framed by `framing`, and with
    `unsolicited_after_first` the first answer on each connection is followed at once by
    `UNSOLICITED`."""
    forward = httpx.Client(base_url=upstream, timeout=30)
    lock = threading.Lock()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            with lock:
                relay.connections += 1
            buffered = b""
            first = True
            while True:
                while b"\r\n\r\n" not in buffered:
                    data = sock.recv(65536)
                    if not data:
                        return
                    buffered += data
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = dict(line.split(": ", 1) for line in lines[1:])
                length = int(
                    next((v for k, v in headers.items() if k.lower() == "content-length"), 0)
                )
                while len(buffered) < length:
                    buffered += sock.recv(65536)
                body, buffered = buffered[:length], buffered[length:]
                keep = {
                    k: v
                    for k, v in headers.items()
                    if k.lower() not in ("host", "content-length", "accept-encoding", "connection")
                }
                answer = forward.request(method, target, headers=keep, content=body)
                out = framing(answer.status_code, answer.content)
                if first and unsolicited_after_first:
                    out += UNSOLICITED
                first = False
                with lock:
                    relay.answers += 1
                try:
                    sock.sendall(out)
                except OSError:
                    return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that hung up on a malformed answer, as it should

    server = Server(("127.0.0.1", 0), Handler)
    relay = Relay(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        forward.close()
