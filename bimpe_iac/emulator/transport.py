"""Run the emulator in-process behind httpx, so the SDK needs no server and no network."""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from bimpe_iac.emulator.gateway import ConnectionDropped


class EmulatorTransport(httpx.AsyncBaseTransport):
    """An ASGI transport where an injected dropped connection surfaces as httpx.ReadError,
    exactly as a real dropped socket would reach the SDK."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ConnectionDropped as exc:
            raise httpx.ReadError("connection dropped by the emulator", request=request) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()
