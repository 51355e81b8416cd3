"""A hostile BimpeAI: an HTTP proxy in front of a served emulator that misbehaves on cue.

Why it exists: the emulator answers as the contract says, so it cannot show what bimpe-iac does
on the API's worst day — an answer lost after the server committed, a listing that shifts
between two page reads, a page count of a billion, an id that climbs out of its path, a body that
is HTML or broken JSON, framing no server should send. The proxy forwards every request to the
emulator (with httpx) and, for requests that a `Rule` matches by method and path pattern, does
what the rule says instead of, or besides, answering honestly. It counts every request it is
sent, so tests can bound how many a run makes.

Requests are parsed with h11; honest answers are written with h11 too. Only the faults whose
point is broken framing (a negative Content-Length, a body shorter than its length) write raw
bytes, and then close the connection.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import httpx

Json = Any


@dataclass
class Rule:
    """What to do to requests matching `method` and `path` (a regex searched in the target,
    path and query). `skip` matching requests pass untouched first; then at most `times` (all
    when None) are affected."""

    method: str
    path: str
    skip: int = 0
    times: int | None = None
    before: Callable[[], None] | None = None
    """Run (in a worker thread) before the request is forwarded: shift a listing, say."""
    rewrite: Callable[[Json], Json] | None = None
    """Change the upstream's JSON answer before it is sent on."""
    drop: bool = False
    """Forward, so the upstream commits, then close the connection without answering."""
    delay_s: float = 0.0
    answer: tuple[int, str, bytes] | None = None
    """Answer (status, content type, body) instead of forwarding."""
    raw: bytes | None = None
    """Send these bytes as the whole answer instead of forwarding, then close."""
    truncate: int | None = None
    """Send the upstream's answer with its Content-Length, but only this many body bytes."""
    matched: int = 0
    applied: int = 0

    def takes(self, method: str, target: str) -> bool:
        if method != self.method or not re.search(self.path, target):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        self.applied += 1
        return True


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class HostileProxy:
    """Forwards to `upstream`; `rules` are consulted in order, the first that takes a request
    acts on it. `requests` lists every (method, target) received."""

    upstream: str
    rules: list[Rule] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str, path: str) -> int:
        """How many requests matched `method` and the regex `path` so far."""
        with self._lock:
            return sum(1 for m, t in self.requests if m == method and re.search(path, t))

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def start(self) -> HostileProxy:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready)), name="hostile-proxy", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the hostile proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(10)

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await self._connection(reader, writer, upstream)
            finally:
                tasks.discard(task)

        async with httpx.AsyncClient(base_url=self.upstream, timeout=60) as upstream:
            server = await asyncio.start_server(connection, "127.0.0.1", 0)
            self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
            ready.set()
            await self._stopping.wait()
            server.close()
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    def _rule_for(self, method: str, target: str) -> Rule | None:
        with self._lock:
            self.requests.append((method, target))
            return next((r for r in self.rules if r.takes(method, target)), None)

    async def _connection(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: httpx.AsyncClient,
    ) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while await self._exchange(conn, reader, writer, upstream):
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _exchange(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: httpx.AsyncClient,
    ) -> bool:
        """Serve one request; False when the connection is to be closed."""
        request: h11.Request | None = None
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and request is None:
                    return False
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                return False
        assert request is not None
        method, target = request.method.decode(), request.target.decode()
        rule = self._rule_for(method, target)
        if rule is not None and rule.delay_s:
            await asyncio.sleep(rule.delay_s)
        if rule is not None and rule.raw is not None:
            writer.write(rule.raw)
            await writer.drain()
            return False
        if rule is not None and rule.answer is not None:
            status, content_type, payload = rule.answer
            answer = Answer(status, [("content-type", content_type)], payload)
        else:
            if rule is not None and rule.before is not None:
                await asyncio.to_thread(rule.before)
            answer = await self._forward(upstream, request, body)
            if rule is not None and rule.drop:
                return False
            if rule is not None and rule.rewrite is not None:
                changed = rule.rewrite(json.loads(answer.body))
                answer.body = json.dumps(changed).encode()
        if rule is not None and rule.truncate is not None:
            head = f"HTTP/1.1 {answer.status} OK\r\nContent-Length: {len(answer.body)}\r\n"
            writer.write(f"{head}Content-Type: application/json\r\n\r\n".encode())
            writer.write(answer.body[: rule.truncate])
            await writer.drain()
            return False
        headers = [*answer.headers, ("content-length", str(len(answer.body)))]
        writer.write(conn.send(h11.Response(status_code=answer.status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=answer.body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _forward(
        self, upstream: httpx.AsyncClient, request: h11.Request, body: bytes
    ) -> Answer:
        headers = [
            (name.decode(), value.decode())
            for name, value in request.headers
            if name.decode().lower() not in _HOP_BY_HOP
        ]
        response = await upstream.request(
            request.method.decode(), request.target.decode(), headers=headers, content=body
        )
        kept = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-encoding"
        ]
        return Answer(response.status_code, kept, response.content)


def listing_ids(answer: Json) -> list[str]:
    """The ids of a listing answer's `data`."""
    return [item["id"] for item in answer["data"]]
