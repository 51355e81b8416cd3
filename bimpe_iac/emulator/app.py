"""Assemble the emulator: the FastAPI routes behind the gateway, over one SQLite store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from bimpe_iac import __version__
from bimpe_iac.emulator.envelopes import ErrorBody
from bimpe_iac.emulator.faults import FaultDice, FaultSettings
from bimpe_iac.emulator.gateway import API_PREFIX, Gateway
from bimpe_iac.emulator.hub import MessageHub
from bimpe_iac.emulator.responses import ApiError, error_response
from bimpe_iac.emulator.routes import (
    admin,
    agents,
    calls,
    connectors,
    conversations,
    phone_numbers,
    workflows,
)
from bimpe_iac.emulator.seeding import admin_token, default_key, seed_catalog
from bimpe_iac.emulator.store import Store
from bimpe_iac.emulator.validation import field_messages

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "conflict",
    429: "rate_limited",
    501: "not_implemented",
}

# The error answers any Console API operation may give, as the OpenAPI document states them.
_CONSOLE_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Invalid request: `validation_error` with `path: message` strings, or `bad_request`"),
        (401, "The API key (or a stream ticket) is missing or not valid"),
        (404, "No such object in the caller's team"),
        (409, "A conflict: the object is in use, or an Idempotency-Key was used differently"),
        (429, "Rate limited: retry after Retry-After seconds"),
        (500, "An internal error"),
        (503, "Unavailable for a moment: retry after Retry-After seconds"),
    )
}
_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    status: _CONSOLE_ERRORS[status] for status in (400, 401, 404, 409)
}


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, _request_id(request))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = ApiError(400, "validation_error", field_messages(exc.errors()))
    return error_response(error, _request_id(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _STATUS_CODES.get(exc.status_code, "internal_error")
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    return error_response(ApiError(exc.status_code, code, message), _request_id(request))


async def _unexpected(request: Request, exc: Exception) -> Response:
    error = ApiError(500, "internal_error", f"emulator error: {type(exc).__name__}")
    return error_response(error, _request_id(request))


def _without_422(api: FastAPI) -> None:
    """Validation failures answer 400 (see `_validation_error`): drop the 422 that FastAPI
    documents for every operation with parameters, and its schemas."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = generate()
            for operations in document["paths"].values():
                for operation in operations.values():
                    operation["responses"].pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def build_api() -> FastAPI:
    """The routes and error handlers, without state: also what the OpenAPI document describes."""
    api = FastAPI(
        title="BimpeAI Console API (bimpe-iac emulator)",
        version=__version__,
        description="The Console API as the official bimpeai SDK speaks it, served locally.",
        docs_url=None,
        redoc_url=None,
    )
    for router in (
        agents.router,
        connectors.router,
        workflows.router,
        conversations.router,
        calls.router,
        phone_numbers.router,
    ):
        api.include_router(router, prefix=API_PREFIX, responses=_CONSOLE_ERRORS)
    api.include_router(admin.router, responses=_ADMIN_ERRORS)
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(Exception, _unexpected)
    _without_422(api)
    return api


@dataclass
class Emulator:
    """A ready emulator: `asgi` is the application to serve; `api_key` works for the default
    team; `admin_token` opens /_emulator."""

    asgi: Gateway
    api: FastAPI
    store: Store
    dice: FaultDice
    api_key: str
    admin_token: str

    def close(self) -> None:
        self.store.close()


def create_emulator(
    db_path: Path | str,
    faults: FaultSettings | None = None,
    *,
    admin: str | None = None,
    in_process: bool = False,
    hub: MessageHub | None = None,
) -> Emulator:
    store = Store(db_path)
    seed_catalog(store)
    key = default_key(store)
    token = admin_token(store, admin)
    dice = FaultDice(faults or FaultSettings())
    api = build_api()
    gateway = Gateway(api, store, dice, token, drop_by_raising=in_process)
    state: Any = api.state
    state.store = store
    state.dice = dice
    state.gateway = gateway
    state.hub = hub or MessageHub()
    return Emulator(gateway, api, store, dice, key, token)
