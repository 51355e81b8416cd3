"""The HTTP client under the SDK for a remote target.

The SDK sends every API call through `httpx.AsyncClient.request(method, url, params=, json=,
headers=, timeout=)` and reads only the status, headers and body of the answer. For that call
`ApiHttpClient` writes the request itself and sends it over its own keep-alive connections
(`http_pool`), skipping httpx's request building, which costs more CPU than the rest of a call
together: a plan of a thousand agents spends its time waiting on the network rather than in the
client. Everything else (streams, other methods, a proxy from the environment) takes httpx's
ordinary path. A request that gets no answer in time is `httpx.ReadTimeout`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import typing
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies

import httpx
import orjson

from bimpe_iac.errors import ConfigError
from bimpe_iac.http_pool import DEFAULT_PORTS, Origin
from bimpe_iac.pacing import Pacer

http_log = logging.getLogger("bimpe_iac.http")
_NOT_CHECKED = frozenset({204, 408, 429})  # no body to check, or a proxy's transient answer


def redacted(headers: typing.Iterable[tuple[str, str]]) -> dict[str, str]:
    return {
        name: ("Bearer ***" if name.lower() == "authorization" else value)
        for name, value in headers
    }


async def log_request(request: httpx.Request) -> None:
    """An httpx request hook for `--debug-http`, the key redacted."""
    request.extensions["bimpe_started"] = time.perf_counter()
    http_log.debug(
        "-> %s %s headers=%s", request.method, request.url, redacted(request.headers.items())
    )


async def log_response(response: httpx.Response) -> None:
    started = response.request.extensions.get("bimpe_started", time.perf_counter())
    _log_answer(response, response.request.method, str(response.request.url), started)


def _log_answer(response: httpx.Response, method: str, url: str, started: float) -> None:
    http_log.debug(
        "<- %s %s %s request-id=%s %.1f ms",
        response.status_code,
        method,
        url,
        response.headers.get("x-request-id"),
        (time.perf_counter() - started) * 1000,
    )


class ApiHttpClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` whose plain JSON requests take a short path (module docstring)."""

    def __init__(
        self,
        *,
        parallelism: int,
        timeout_s: float,
        pacer: Pacer,
        event_hooks: Mapping[str, list[typing.Any]],
        log_http: bool = False,
    ) -> None:
        """`event_hooks` (the pacer's, and logging's with `log_http`) serve httpx's path; the
        short path paces and logs by itself."""
        limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
        super().__init__(
            timeout=timeout_s,
            limits=limits,
            transport=_LazyTransport(limits),
            event_hooks=event_hooks,
        )
        self._parallelism = parallelism
        self._timeout_s = timeout_s
        self._pacer = pacer
        self._log_http = log_http
        self._origins: dict[tuple[str, str, int], Origin] = {}
        self._proxied = bool(getproxies())

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: httpx._types.RequestContent | None = None,
        data: httpx._types.RequestData | None = None,
        files: httpx._types.RequestFiles | None = None,
        json: typing.Any | None = None,
        params: httpx._types.QueryParamTypes | None = None,
        headers: httpx._types.HeaderTypes | None = None,
        cookies: httpx._types.CookieTypes | None = None,
        auth: httpx._types.AuthTypes | httpx._client.UseClientDefault | None = (
            httpx.USE_CLIENT_DEFAULT
        ),
        follow_redirects: bool | httpx._client.UseClientDefault = httpx.USE_CLIENT_DEFAULT,
        timeout: httpx._types.TimeoutTypes | httpx._client.UseClientDefault = (
            httpx.USE_CLIENT_DEFAULT
        ),
        extensions: httpx._types.RequestExtensions | None = None,
    ) -> httpx.Response:
        plain = (
            isinstance(url, str)
            and content is None
            and data is None
            and files is None
            and cookies is None
            and auth is httpx.USE_CLIENT_DEFAULT
            and follow_redirects is httpx.USE_CLIENT_DEFAULT
            and extensions is None
            and (params is None or isinstance(params, Mapping))
            and not self._proxied
        )
        if plain:
            assert isinstance(url, str)
            seconds = timeout if isinstance(timeout, int | float) else self._timeout_s
            query = typing.cast("Mapping[str, str] | None", params)
            answer = await self._plain(method, url, query, json, headers, float(seconds))
            return check_api_answer(answer, method, url)
        response = await super().request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            auth=auth,
            follow_redirects=follow_redirects,
            timeout=timeout,
            extensions=extensions,
        )
        return check_api_answer(response, method, str(url))

    async def _plain(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: typing.Any,
        headers: httpx._types.HeaderTypes | None,
        timeout_s: float,
    ) -> httpx.Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise httpx.UnsupportedProtocol(f"cannot send a request to {url!r}")
        port = parts.port or DEFAULT_PORTS[scheme]
        key = (scheme, parts.hostname, port)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = Origin(scheme, parts.hostname, port, self._parallelism)
        target = parts.path or "/"
        query = "&".join(q for q in (parts.query, urlencode(params) if params else "") if q)
        if query:
            target = f"{target}?{query}"
        raw = _raw_headers(headers)
        payload = b"" if body is None else orjson.dumps(body)
        lines = [f"{method} {target} HTTP/1.1\r\nHost: {origin.authority}".encode()]
        lines += [name + b": " + value for name, value in raw]
        if body is not None and not any(name.lower() == b"content-type" for name, _ in raw):
            lines.append(b"Content-Type: application/json")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d" % len(payload))
        message = b"\r\n".join(lines) + b"\r\n\r\n" + payload

        async with origin.slots:
            # Counted once it has a connection, so that the pacer sees what is really sent.
            sent = await self._pacer.acquire()
            started = time.perf_counter()
            if self._log_http:
                named = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]
                http_log.debug("-> %s %s headers=%s", method, url, redacted(named))
            try:
                async with asyncio.timeout(timeout_s):
                    answer = await origin.exchange(method, message)
            except TimeoutError as exc:
                waited = f"no answer from {origin.authority} in {timeout_s:g} s"
                raise httpx.ReadTimeout(waited) from exc
        response = httpx.Response(answer.status, headers=answer.headers, content=answer.body)
        if not any(b"charset=" in value.lower() for _, value in answer.headers):
            # JSON is UTF-8 (RFC 8259); saying so spares httpx parsing Content-Type per answer.
            response.encoding = "utf-8"
        limits = {
            name.lower().decode("latin-1"): value.decode("latin-1")
            for name, value in answer.headers
            if name[:12].lower() == b"x-ratelimit-"
        }
        self._pacer.observe(limits, sent)
        if self._log_http:
            _log_answer(response, method, url, started)
        return response

    async def aclose(self) -> None:
        for origin in self._origins.values():
            origin.close()
        self._origins.clear()
        await super().aclose()


def check_api_answer(response: httpx.Response, method: str, url: str) -> httpx.Response:
    """The response, if it is a BimpeAI API answer: a JSON object with a `message`, as every
    answer of the API is, success or error. Anything else (an HTML page, a 404 of another
    server, JSON of another shape) means the base URL names some other server, which the user
    can fix; but a proxy's 5xx or 429 page in front of the real API is left to the SDK, which
    retries it."""
    if response.status_code >= 500 or response.status_code in _NOT_CHECKED:
        return response
    if response.content.lstrip()[:10] == b'{"message"':
        return response  # the envelope as the API writes it, without parsing the body twice
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict) and "message" in body:
        return response
    parts = urlsplit(url)
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if body is not None:
        what = "JSON that is not a BimpeAI answer"
    elif kind == "text/html":
        what = "an HTML page"
    else:
        what = f"a {kind} body" if kind else "a body that is not JSON"
    raise ConfigError(
        f"{parts.scheme}://{parts.netloc} answered {method} {parts.path} with {what}"
        f" (HTTP {response.status_code}), not as the BimpeAI API does: is this the API URL?"
    )


def _raw_headers(headers: httpx._types.HeaderTypes | None) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    raw = headers.raw if isinstance(headers, httpx.Headers) else httpx.Headers(headers).raw
    written = b"".join(name + value for name, value in raw)
    if b"\r" in written or b"\n" in written:
        raise httpx.LocalProtocolError("a request header holds a line break")
    return raw


class _LazyTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, built on first use: most runs never need it, and building it
    loads a trust store."""

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            self._transport = httpx.AsyncHTTPTransport(limits=self._limits)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
