"""The emulator answers as its OpenAPI document says, under generated requests (schemathesis).

Every Console API operation of schemas/bimpe-console-api.openapi.json (not the /_emulator admin
API) gets 15 generated requests, valid and invalid ones, sent over loopback HTTP to a private
emulator with a valid API key. Each request goes twice: with the path ids (and the ids in its
body) as generated, which mostly reach no object, and pointed at real objects of the team, so the
handlers run past their lookups. Every answer must:

- not be a server error (5xx);
- have a status code and a content type the document lists for the operation;
- match the document's schema for that status: the envelope with a string `message` and its
  `data`, or the error body (`message`, `code`, `request_id`).

Generation is derandomized, so a run is repeatable; the whole file takes well under 90 s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from console_world import OPENAPI, World, build_world, console_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import start_in_thread

SCHEMA = schemathesis.openapi.from_path(OPENAPI).include(path_regex=f"^{API_PREFIX}/")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15


@dataclass
class Target:
    url: str
    headers: dict[str, str]
    client: httpx.Client
    world: World
    session: requests.Session

    def rebuild(self) -> None:
        """Objects anew, after a request may have deleted some."""
        self.world = build_world(self.client, "pn_demo_1")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A private emulator for the module, with the default team's objects (pn_demo_1 is one of
    the numbers it owns from the start)."""
    running = start_in_thread(create_emulator(tmp_path_factory.mktemp("schemathesis") / "e.db"))
    key = running.emulator.api_key
    try:
        with console_client(running.url, key) as client, requests.Session() as session:
            world = build_world(client, "pn_demo_1")
            yield Target(running.url, {"Authorization": f"Bearer {key}"}, client, world, session)
    finally:
        running.stop()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_answers_conform_to_the_document(operation: APIOperation, target: Target) -> None:
    send: dict[str, Any] = {
        "base_url": target.url,
        "headers": target.headers,
        "session": target.session,
        "checks": CHECKS,
    }

    @given(
        case=st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )
    )
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers(case: Case) -> None:
        case.call_and_validate(**send)
        generated = dict(case.path_parameters or {})
        case.path_parameters = {**generated, **target.world.path_parameters(case.path)}
        case.body = target.world.references(case.body)
        response = case.call_and_validate(**send)
        if case.method.upper() == "DELETE" and response.status_code < 300:
            target.rebuild()

    answers()
