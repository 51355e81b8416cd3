"""Serve the emulator over HTTP with uvicorn, in the foreground or on a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from bimpe_iac.emulator import http_limits
from bimpe_iac.emulator.app import Emulator


class _QuietDrops(logging.Filter):
    """Injected dropped connections are intended; uvicorn need not report each one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Name the protocol: asyncio turns Nagle off (TCP_NODELAY) only on connections accepted from
    # a socket whose proto is IPPROTO_TCP; with proto 0 every answer waits ~40 ms for an ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening at once lets clients connect (and wait) from the moment the URL is printed,
    # before the server loop starts accepting.
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class TlsFiles:
    """A PEM certificate (chain) and its private key: serve https."""

    cert: Path
    key: Path


def _server(emulator: Emulator, log_level: str, tls: TlsFiles | None = None) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    config = uvicorn.Config(
        emulator.asgi,
        http=http_limits.BoundedHttpProtocol,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=http_limits.KEEP_ALIVE_S,
        backlog=1024,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
    )
    return uvicorn.Server(config)


def serve(
    emulator: Emulator,
    sock: socket.socket,
    log_level: str = "warning",
    tls: TlsFiles | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C), over https with `tls`."""
    _server(emulator, log_level, tls).run(sockets=[sock])


@dataclass
class RunningEmulator:
    emulator: Emulator
    url: str
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.emulator.close()


def start_in_thread(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> RunningEmulator:
    """Start serving on a background thread; returns once the port accepts connections."""
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    server = _server(emulator, "warning")
    server.config.loop = "asyncio"

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, name="bimpe-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator did not start")
        time.sleep(0.01)
    return RunningEmulator(emulator, f"http://{host}:{actual}", server, thread)
