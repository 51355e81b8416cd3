"""A server on 127.0.0.1 that is not the BimpeAI API.

It exists so that tests can point bimpe-iac at a URL that answers, but not as the API does (an
HTML page, a 404 on the API's paths, JSON of another shape), and so that they can prove no
request (and so no API key) was sent somewhere: it records every request it is sent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    """By lower-case name: header names are case-insensitive, and clients differ."""


@dataclass
class StrayServer:
    url: str
    received: list[Received] = field(default_factory=list)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up early (a run that stopped at the first bad answer)


@contextmanager
def stray_server(
    status: int = 200, content_type: str = "text/html", body: str = "<html>Welcome</html>"
) -> Iterator[StrayServer]:
    """Serve one canned answer to every request until the block ends; `{authorization}` in
    `body` is replaced by the request's Authorization header, as a server that echoes what it
    was sent would answer."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            named = {name.lower(): value for name, value in self.headers.items()}
            served.received.append(Received(self.command, self.path, named))
            echoed = self.headers.get("Authorization", "")
            payload = body.replace("{authorization}", echoed).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the test reads `received`

    server = _QuietServer(("127.0.0.1", 0), Handler)
    served = StrayServer(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
