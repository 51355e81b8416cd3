"""Answers that are not the API's are API errors, not bugs.

A 200 whose body is broken JSON, JSON without the API's envelope, or a `data` of another shape
than the SDK's models describe is what a proxy or a failing gateway in front of BimpeAI sends
on a bad day. It is raised as `MalformedAnswer`, a connection error of the SDK: the SDK tries
the request again as it does when an answer is lost, the engine's one more try
(`engine/retry.py`) applies, and if it persists the run ends with exit 1, a short reason and
the request id.

(Whether the base URL names the API at all is checked where answers arrive, in
`http_client.check_api_answer`; this module does not repeat that.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import bimpeai
import httpx
from bimpeai import APIConnectionError, AsyncBimpeAI
from pydantic import BaseModel
from pydantic import ValidationError as ModelError

from bimpe_iac.errors import ApiFailure

T = TypeVar("T")


class MalformedAnswer(APIConnectionError):
    """BimpeAI (or what stands in front of it) answered with something that is not an answer of
    the API."""

    def __init__(self, reason: str, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"BimpeAI sent an answer that is not the API's: {self.reason}{suffix}"


def _sdk_model(error: ModelError) -> bool:
    """Whether one of the SDK's models refused what an answer held."""
    model = getattr(bimpeai, error.title, None)
    return isinstance(model, type) and issubclass(model, BaseModel)


def _shape(error: ModelError) -> str:
    said = f"its data does not fit the SDK's {error.title} model"
    if not error.error_count():
        return said
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{said} ({where + ': ' if where else ''}{first['msg']})"


def malformed(error: BaseException) -> MalformedAnswer | None:
    """`error` as a malformed answer, when it is one (an SDK model that refused an answer)."""
    if isinstance(error, MalformedAnswer):
        return error
    if isinstance(error, ModelError) and _sdk_model(error):
        return MalformedAnswer(_shape(error))
    return None


async def checked(operation: Callable[[], Awaitable[T]]) -> T:
    """`operation()`, with an SDK model's refusal of an answer raised as `MalformedAnswer`."""
    try:
        return await operation()
    except ModelError as error:
        found = malformed(error)
        if found is None:
            raise
        raise found from error


MAX_REQUESTS = 100_000
"""API calls one run may make (the SDK tries each at most `max_retries` + 1 times): a plan of a
few thousand resources makes a few thousand; past this, something is answering in a loop."""


class AnswerCheckingClient(AsyncBimpeAI):
    """The SDK's client, with answers that are not the API's raised as `MalformedAnswer` where
    the SDK parses them, so that its own retries apply, and a cap on the calls of one run."""

    requests_made = 0

    async def request(self, spec: Any) -> Any:
        self.requests_made += 1
        if self.requests_made > MAX_REQUESTS:
            raise ApiFailure(
                f"stopped after {MAX_REQUESTS} API calls in one run: is BimpeAI answering in "
                f"a loop? ({spec.method} {spec.path} was next)"
            )
        return await super().request(spec)

    def parse_response(self, response: httpx.Response, request_id: str) -> Any:
        answer_id = response.headers.get("x-request-id") or request_id
        try:
            answer = super().parse_response(response, request_id)
        except (TypeError, ModelError) as error:
            raise MalformedAnswer(_reason(response), answer_id) from error
        if answer.data is not None and not isinstance(answer.data, dict | list):
            kind = type(answer.data).__name__
            raise MalformedAnswer(f"its data is a {kind}, not an object or a list", answer_id)
        return answer


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code} with a body that is not JSON"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return f"HTTP {response.status_code} with a pagination meta of another shape"
    return f"HTTP {response.status_code} with JSON that is not the API's envelope"
