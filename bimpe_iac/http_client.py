"""The HTTP client under the SDK for a remote target: httpx's own client and transport.

bimpe-iac writes no HTTP of its own. What it adds hangs off httpx's event hooks: pacing to
the API's rate limit (`pacing.py`), `--debug-http` logging with the key and any password in a
URL masked, and the check that an answer is the API's ("is this the API URL?"). Requests ask
for gzip. Trust for https is httpx's: certifi, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set.
Retries are the SDK's (docs/http.md); the transport itself resends nothing.
"""

from __future__ import annotations

import logging
import time
import typing
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
import httpx
import orjson
from httpx_aiohttp import HttpxAiohttpClient

from bimpe_iac.errors import ConfigError
from bimpe_iac.pacing import Pacer

http_log = logging.getLogger("bimpe_iac.http")
_NOT_CHECKED = frozenset({204, 408, 429})  # no body to check, or a proxy's transient answer
_STARTED = "bimpe_started"

RequestHook = Callable[[httpx.Request], Awaitable[None]]
ResponseHook = Callable[[httpx.Response], Awaitable[None]]


def masked_url(url: httpx.URL | str) -> str:
    """`url` with any password in it shown as `***`."""
    parsed = httpx.URL(str(url))
    if not parsed.password:
        return str(parsed)
    return str(parsed.copy_with(username=parsed.username, password="***"))


def redacted(headers: typing.Iterable[tuple[str, str]]) -> dict[str, str]:
    return {
        name: ("Bearer ***" if name.lower() == "authorization" else value)
        for name, value in headers
    }


async def log_request(request: httpx.Request) -> None:
    """An httpx request hook for `--debug-http`, the key redacted."""
    request.extensions[_STARTED] = time.perf_counter()
    http_log.debug(
        "-> %s %s headers=%s",
        request.method,
        masked_url(request.url),
        redacted(request.headers.items()),
    )


async def log_response(response: httpx.Response) -> None:
    request = response.request
    started = request.extensions.get(_STARTED, time.perf_counter())
    http_log.debug(
        "<- %s %s %s request-id=%s %.1f ms",
        response.status_code,
        request.method,
        masked_url(request.url),
        response.headers.get("x-request-id"),
        (time.perf_counter() - started) * 1000,
    )


async def check_answer(response: httpx.Response) -> None:
    """A response hook: refuse an answer that is not the API's (`check_api_answer`). Streams
    (server-sent events) are the SDK's to read."""
    if response.request.headers.get("accept") == "text/event-stream":
        return
    if response.status_code >= 500 or response.status_code in _NOT_CHECKED:
        return
    await response.aread()
    check_api_answer(response, response.request.method, response.request.url)


def check_api_answer(response: httpx.Response, method: str, url: httpx.URL | str) -> httpx.Response:
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
    parts = urlsplit(masked_url(url))
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


def api_http_client(
    *, parallelism: int, timeout_s: float, pacer: Pacer, log_http: bool = False
) -> httpx.AsyncClient:
    """httpx's client on aiohttp's connections (as many as the run has operations at once),
    paced, checked and (with `log_http`) logged through httpx's event hooks."""
    requests: list[RequestHook] = [pacer.before]
    responses: list[ResponseHook] = [pacer.after]
    if log_http:
        requests.append(log_request)
        responses.insert(0, log_response)  # logged even when the check below refuses it
    responses.append(check_answer)
    limits = httpx.Limits(max_connections=parallelism, max_keepalive_connections=parallelism)
    return _CookielessClient(
        timeout=timeout_s,
        limits=limits,
        headers={"Accept-Encoding": "gzip"},
        event_hooks={"request": requests, "response": responses},
    )


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(HttpxAiohttpClient):
    """httpx-aiohttp's client (aiohttp's transport, also to a proxy from the environment),
    its transports' errors as httpx's. It keeps no cookies: the API sets none and
    authenticates by key, and reading every answer's Set-Cookie through `http.cookiejar`
    cost a sixth of the client's CPU per request."""

    def _init_transport(self, *args: typing.Any, **kwargs: typing.Any) -> httpx.AsyncBaseTransport:
        return _AiohttpErrorsAsHttpx(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(
        self, *args: typing.Any, **kwargs: typing.Any
    ) -> httpx.AsyncBaseTransport:
        return _AiohttpErrorsAsHttpx(super()._init_proxy_transport(*args, **kwargs))

    _none = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._none

    @cookies.setter
    def cookies(self, cookies: httpx._types.CookieTypes) -> None:
        pass  # nothing is kept


class _AiohttpErrorsAsHttpx(httpx.AsyncBaseTransport):
    """`httpx_aiohttp`'s transport, with the aiohttp errors it does not map itself (a
    malformed answer, a connection dropped mid-answer) raised as httpx's, which the SDK
    reports as a network error and retries."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._transport.handle_async_request(request)
        except aiohttp.ClientResponseError as exc:  # the answer's head is not HTTP
            reason = (exc.message.splitlines() or ["malformed answer"])[0].rstrip(":")
            raise httpx.RemoteProtocolError(reason, request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CappedStream(response.stream, request)
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()


MAX_ANSWER_BYTES = 128 * 2**20
"""The largest answer body read: a page of the API's largest objects (workflows with 200,000
character prompts) is a few tens of MB; past this, the server is not answering as the API."""


class _CappedStream(httpx.AsyncByteStream):
    """An answer's body, refused once it grows past `MAX_ANSWER_BYTES` (whatever its
    Content-Length says, and for chunked answers too), so that no server can fill memory."""

    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> typing.AsyncIterator[bytes]:
        read = 0
        async for chunk in self._stream:
            read += len(chunk)
            if read > MAX_ANSWER_BYTES:
                raise httpx.RemoteProtocolError(
                    f"the answer is larger than {MAX_ANSWER_BYTES:,} bytes", request=self._request
                )
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()
