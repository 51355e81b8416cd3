"""The Console API envelope: success bodies, error bodies and the error exception handlers raise."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.responses import Response


class ApiError(Exception):
    """An error answer: HTTP status, the SDK's error code, and a message (or list of them)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | list[str],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(what: str, object_id: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} {object_id} not found")


def invalid(*messages: str) -> ApiError:
    """400 validation_error; each message is `path: what is wrong`."""
    return ApiError(400, "validation_error", list(messages))


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def _json(body: Any) -> bytes:
    return orjson.dumps(body)


def ok(
    data: Any, message: str = "OK", status: int = 200, meta: dict[str, Any] | None = None
) -> Response:
    body: dict[str, Any] = {"message": message, "data": data}
    if meta is not None:
        body["meta"] = meta
    return Response(_json(body), status_code=status, media_type="application/json")


def page(items: list[Any], total: int, current: int, limit: int, message: str = "OK") -> Response:
    page_count = max(1, math.ceil(total / limit)) if limit else 1
    meta = {
        "total_count": total,
        "page_count": page_count,
        "current_page": current,
        "limit": limit,
        "has_next_page": current < page_count,
        "has_previous_page": current > 1,
    }
    return ok(items, message=message, meta=meta)


def error_response(error: ApiError, request_id: str) -> Response:
    body = {"message": error.message, "code": error.code, "request_id": request_id}
    return Response(
        _json(body), status_code=error.status, media_type="application/json", headers=error.headers
    )
