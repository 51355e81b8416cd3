"""The front door of the emulator, as plain ASGI: request ids, authentication, rate limit,
latency, injected faults, idempotency keys and request counters, in that order.

Latency is modelled as a network between client and API: half of it on the way in, before the
request is handled, and the answer leaves no sooner than the whole latency after the request
arrived. The emulator's own work thus overlaps the way back, as a real API's servers work in
parallel, instead of queueing behind one process and adding to every request's time."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import MutableMapping
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bimpe_iac.emulator.faults import FaultDice, FaultKind, RateLimiter
from bimpe_iac.emulator.responses import ApiError, error_response
from bimpe_iac.emulator.store import Store

API_PREFIX = "/api/v1/console"
ADMIN_PREFIX = "/_emulator"
# A person opens onboarding URLs in a browser: no admin token, the URL's token is the key.
ONBOARDING_PREFIX = "/_emulator/onboarding/"
IDEMPOTENCY_TTL_S = 24 * 3600
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
log = logging.getLogger(__name__)


class ConnectionDropped(Exception):
    """Raised to make the client see a dropped connection instead of an answer."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        store: Store,
        dice: FaultDice,
        admin_token: str,
        *,
        drop_by_raising: bool,
    ) -> None:
        self.app = app
        self.store = store
        self.dice = dice
        self.admin_token = admin_token
        self.drop_by_raising = drop_by_raising
        self.limiter = RateLimiter()
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.rate_limited = 0
        """Answers 429 because a key went over the rate limit (not injected ones)."""
        self._last_expiry = 0.0
        self._teams_by_key: dict[str, str] = {}
        self._in_flight: dict[tuple[str, str], str] = {}

    def forget_keys(self) -> None:
        """Drop cached key lookups (after a reset)."""
        self._teams_by_key.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        request_id = _header(scope, b"x-request-id") or str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        headers: dict[str, str] = {"x-request-id": request_id}
        try:
            if path.startswith(ONBOARDING_PREFIX) and scope["method"] in ("GET", "HEAD"):
                await self._forward(scope, receive, send, headers)
            elif path.startswith(ADMIN_PREFIX):
                self._check_admin(scope)
                await self._forward(scope, receive, send, headers)
            elif path.startswith(API_PREFIX):
                send = self._answer_after_latency(send)
                await self._console(scope, receive, send, headers)
            else:
                await self._forward(scope, receive, send, headers)
        except ApiError as error:
            error.headers.update(headers)
            await error_response(error, request_id)(scope, receive, send)
        except ConnectionDropped:
            if self.drop_by_raising:
                raise
            # Start a response that never completes: the server closes the socket mid-answer.
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"64")],
                }
            )

    def _answer_after_latency(self, send: Send) -> Send:
        latency = self.dice.settings.latency_ms / 1000
        if not latency:
            return send
        loop = asyncio.get_running_loop()
        due = loop.time() + latency
        waited = False

        async def delayed(message: Message) -> None:
            nonlocal waited
            if not waited:
                waited = True
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
            await send(message)

        return delayed

    def _check_admin(self, scope: Scope) -> None:
        if _header(scope, b"authorization") != f"Bearer {self.admin_token}":
            raise ApiError(401, "unauthorized", "the admin API needs the emulator's admin token")

    def _route_of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            for candidate in getattr(self.app, "routes", ()):
                match, _ = candidate.matches(scope)
                if match == Match.FULL:
                    route = candidate
                    break
        template = getattr(route, "path", scope["path"])
        return f"{scope['method']} {str(template).removeprefix(API_PREFIX)}"

    async def _console(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        way_in = self.dice.settings.latency_ms / 2000
        if scope["method"] == "GET" and scope["path"].endswith("/stream"):
            # The stream authenticates by its ticket and is never faulted.
            self.requests[self._route_of(scope)] += 1
            if way_in:
                await asyncio.sleep(way_in)
            await self._forward(scope, receive, send, headers)
            return
        try:
            team_id, key = self._authenticate(scope)
            scope["state"]["team_id"] = team_id
            self._rate_limit(key, headers)
            if way_in:
                await asyncio.sleep(way_in)
            request = f"{scope['method']} {scope['path'].removeprefix(API_PREFIX)}"
            fault = self.dice.aimed(request) or self.dice.draw()
            if fault is not None:
                self.faults[fault] += 1
            self._fail_early(fault, headers)
            body = await _read_body(receive)
            await self._handle(scope, body, send, headers, team_id, fault)
        finally:
            self.requests[self._route_of(scope)] += 1

    def _authenticate(self, scope: Scope) -> tuple[str, str]:
        auth = _header(scope, b"authorization")
        if not auth:
            raise ApiError(401, "api_key_missing", "send your API key as 'Authorization: Bearer'")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        team_id = self._teams_by_key.get(key)
        if team_id is None and scheme.lower() == "bearer":
            team_id = self.store.team_for_key(key)
            if team_id is not None:
                self._teams_by_key[key] = team_id
        if team_id is None:
            raise ApiError(401, "api_key_invalid", "the API key is not valid")
        return team_id, key

    def _rate_limit(self, key: str, headers: dict[str, str]) -> None:
        limit = self.dice.settings.rate_limit
        if limit is None:
            return
        decision = self.limiter.take(key, limit)
        headers["x-ratelimit-limit"] = str(decision.limit)
        headers["x-ratelimit-remaining"] = str(decision.remaining)
        headers["x-ratelimit-reset"] = str(decision.reset_at)
        if not decision.allowed:
            headers["retry-after"] = str(max(1, decision.reset_at - int(time.time())))
            self.rate_limited += 1
            raise ApiError(429, "rate_limited", f"rate limit of {limit} requests per second")

    def _fail_early(self, fault: FaultKind | None, headers: dict[str, str]) -> None:
        retry_after = str(self.dice.settings.retry_after_s)
        if fault == "error_500":
            raise ApiError(500, "internal_error", "injected fault: internal error")
        if fault == "unavailable_503":
            headers["retry-after"] = retry_after
            raise ApiError(503, "internal_error", "injected fault: service unavailable")
        if fault == "throttled_429":
            # As a real throttle answers: nothing left until Retry-After has passed. The limit
            # itself is only known (and sent) when a rate limit is configured.
            headers["retry-after"] = retry_after
            headers["x-ratelimit-remaining"] = "0"
            headers["x-ratelimit-reset"] = str(int(time.time()) + self.dice.settings.retry_after_s)
            raise ApiError(429, "too_many_requests", "injected fault: too many requests")
        if fault == "drop_before":
            raise ConnectionDropped

    async def _handle(
        self,
        scope: Scope,
        body: bytes,
        send: Send,
        headers: dict[str, str],
        team_id: str,
        fault: FaultKind | None,
    ) -> None:
        key = _header(scope, b"idempotency-key")
        use_key = key is not None and scope["method"] in WRITE_METHODS
        fingerprint = ""
        if use_key:
            assert key is not None
            fingerprint = _fingerprint(scope, body)
            replay = self._idempotent_replay(team_id, key, fingerprint)
            if replay is not None:
                if fault == "drop_after_commit":
                    # Nothing new to commit: the stored answer is lost on the way, as a new one
                    # would be. (Sending it first and then dropping would start a second answer.)
                    raise ConnectionDropped
                status, stored = replay
                headers["idempotent-replayed"] = "true"
                await _send_buffered(send, status, stored, headers)
                return
            # In flight only in this process's memory: one write fewer per request.
            self._in_flight[(team_id, key)] = fingerprint
        try:
            status, response_headers, response_body = await _call(self.app, scope, body)
            if key is not None and use_key and status < 500:
                self.store.idempotency_save(
                    team_id, key, fingerprint, status, response_body, time.time()
                )
        finally:
            if key is not None and use_key:
                self._in_flight.pop((team_id, key), None)
        if fault == "drop_after_commit":
            raise ConnectionDropped
        await _send_buffered(send, status, response_body, headers, response_headers)

    def _idempotent_replay(
        self, team_id: str, key: str, fingerprint: str
    ) -> tuple[int, bytes] | None:
        now = time.time()
        if now - self._last_expiry > 60:
            self.store.idempotency_expire(now - IDEMPOTENCY_TTL_S)
            self._last_expiry = now
        in_flight = self._in_flight.get((team_id, key))
        if in_flight is not None:
            if in_flight != fingerprint:
                raise ApiError(
                    409, "conflict", "this Idempotency-Key was used with another request"
                )
            raise ApiError(409, "conflict", "a request with this Idempotency-Key is in flight")
        record = self.store.idempotency_get(team_id, key)
        if record is None or record.created_at < now - IDEMPOTENCY_TTL_S:
            return None
        if record.fingerprint != fingerprint:
            raise ApiError(409, "conflict", "this Idempotency-Key was used with another request")
        return record.status, record.body

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        extra = [(k.encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _fingerprint(scope: Scope, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True) if body else ""
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    query = scope.get("query_string", b"").decode("latin-1")
    material = f"{scope['method']} {scope['path']}?{query}\n{canonical}"
    return hashlib.sha256(material.encode()).hexdigest()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionDropped
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _call(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, list[Any], bytes]:
    """Run the app to completion and keep its answer, so it can be stored, replayed or lost."""
    delivered = False
    started = False
    status = 500
    headers: list[Any] = []
    chunks: list[bytes] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal started, status, headers
        if message["type"] == "http.response.start":
            started = True
            status = message["status"]
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:
        if not started:
            raise
        # The handler of unexpected errors answered (500, the error body), then raised again
        # for the server's log: log it here and keep that answer.
        log.exception("%s %s failed", scope["method"], scope["path"])
    return status, headers, b"".join(chunks)


async def _send_buffered(
    send: Send,
    status: int,
    body: bytes,
    headers: dict[str, str],
    response_headers: list[Any] | None = None,
) -> None:
    raw = [
        (k, v)
        for k, v in (response_headers or [(b"content-type", b"application/json")])
        if k.lower() != b"content-length"
    ]
    raw.append((b"content-length", str(len(body)).encode()))
    raw.extend((k.encode(), v.encode()) for k, v in headers.items())
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
