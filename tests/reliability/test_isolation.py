"""Team isolation for every Console API operation of the emulator's OpenAPI document.

Each path and method under /api/v1/console in schemas/bimpe-console-api.openapi.json is one test
case, so an endpoint added later is covered without editing this file. Its path parameters hold
ids of team A's objects, its body (one the endpoint accepts) points every reference at team A's
objects, and team B's key sends it. Expected:

- an operation with an id in its path: 404 `not_found` with an error body only (message, code,
  request id), the very answer a made-up id gets; the conversation stream authenticates by a
  ticket instead of the key, so another team's ticket gets 401 there;
- a list without an id: 200 with team B's data only, which is none (/workflows also lists the
  public catalog, readable by every team);
- a create without an id: the answer it gets when the ids it references do not exist;
- in every answer, none of team A's names or texts, and no id of team A the request did not name;
- afterwards team A reads all its objects unchanged (every GET of the document, with A's key).

tests/emulator/test_auth_and_isolation.py checks the same property through the SDK, call by call,
along with lists, clones and number linking.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from console_world import MARK, World, build_world, console_client, console_operations

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin

OPERATIONS = console_operations()

# A body each endpoint accepts; `World.references` points its ids at team A's objects.
BODIES: dict[str, dict[str, Any]] = {
    "CreateAgent": {"workflow_id": "-", "name": "Intruder", "description": "d"},
    "UpdateAgent": {"name": "Taken"},
    "UpdateLiveStatus": {"status": "live"},
    "ActionIds": {"action_ids": ["-"]},
    "MakeCall": {"destination": "+2348012345671", "is_test_call": True},
    "CreateConversationMessage": {"message": "Hi", "conversation_id": "-"},
    "SendMessage": {"message": "Hi"},
    "SetAiStatus": {"is_ai_chat_paused": True},
    "ConfigureFirstParty": {"type": "google_calendar"},
    "ConfigureCustomApi": {"name": "Taken", "base_url": "https://intruder.example"},
    "CreateCustomApiTool": {"name": "Steal", "http_method": "GET", "url_template": "/x"},
    "ConfigureMcpServer": {"name": "Taken", "server_url": "https://intruder.example"},
    "ConfigurePipedream": {"app_slug": "taken"},
    "CreateTextKnowledgeBase": {"type": "text", "name": "n", "content": "c"},
    "UpdateKnowledgeBase": {"name": "Taken"},
    "CreatePhoneNumberRequest": {
        "business_name": "Intruder",
        "intended_use": "Calls",
        "region": "us",
        "agent_count": 1,
        "outbound_minutes": 0,
        "submitted_by_agent_id": "-",
    },
    "UpdatePhoneNumber": {"label": "Taken", "agent_id": "-"},
    "CreateWorkflow": {"name": "Own flow", "system_prompt": "Own prompt"},
    "CloneWorkflow": {"source_workflow_id": "-"},
    "UpdateWorkflow": {"name": "Taken"},
}


def _body_schema(operation: dict[str, Any]) -> str | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    ref = schema.get("$ref") or schema["oneOf"][0]["$ref"]
    return str(ref).rsplit("/", 1)[-1]


def _is_stream(operation: dict[str, Any]) -> bool:
    return "text/event-stream" in operation["responses"].get("200", {}).get("content", {})


@dataclass
class Setting:
    url: str
    world: World
    owner: httpx.Client
    ticket: Callable[[], str]
    """A stream ticket a third team was issued for its own conversation."""
    baseline: dict[str, Any]
    """What team A reads before anyone else calls."""


@pytest.fixture(scope="module")
def setting(
    emulator: RunningEmulator, admin: Admin, new_e164: Callable[[], str]
) -> Iterator[Setting]:
    owner_team = admin.new_team("owner")
    number = admin.assign_number(owner_team, new_e164())
    third_team = admin.new_team("third")
    with (
        console_client(emulator.url, owner_team.api_key) as owner,
        console_client(emulator.url, third_team.api_key) as third,
    ):
        world = build_world(owner, number["id"])
        agent = third.post(
            "/agents",
            json={"workflow_id": "wf_public_support_triage", "name": "Third", "description": "d"},
        ).json()["data"]["id"]
        third.post(
            f"/agents/{agent}/conversations/messages",
            json={"message": "Hi", "channel_type": "webchat", "channel_user_id": "third"},
        )
        conversation = third.get(f"/agents/{agent}/conversations").json()["data"][0]["id"]

        def ticket() -> str:
            path = f"/agents/{agent}/conversations/{conversation}/stream-ticket"
            return str(third.post(path).json()["data"]["ticket"])

        setting = Setting(emulator.url, world, owner, ticket, {})
        setting.baseline = _owner_view(setting)
        yield setting


def _owner_view(setting: Setting) -> dict[str, Any]:
    """What team A reads through every GET of the document."""
    view: dict[str, Any] = {}
    for method, path, operation in OPERATIONS:
        if method == "GET" and not _is_stream(operation):
            response = setting.owner.get(setting.world.fill(path))
            assert response.status_code == 200, f"{path}: {response.text}"
            view[path] = response.json()["data"]
    return view


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


def _request(setting: Setting, method: str, path: str, operation: dict[str, Any]) -> Request:
    query: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required"):
            assert parameter["name"] == "ticket", f"{path}: fill query '{parameter['name']}'"
            query["ticket"] = setting.ticket()
    name = _body_schema(operation)
    body = None
    if name is not None:
        assert name in BODIES, f"{method} {path}: add a body of {name} to BODIES"
        body = setting.world.references(BODIES[name])
    return Request(method, setting.world.fill(path), query, body)


def _send(client: httpx.Client, request: Request) -> httpx.Response:
    return client.request(
        request.method, request.path, params=request.query, json=request.body, timeout=10
    )


def _made_up(request: Request, world: World) -> Request:
    """The same request with every id of team A replaced by one that exists nowhere."""
    text = json.dumps([request.path, request.body])
    for kind, value in world.ids.items():
        text = text.replace(value, f"missing_{kind}")
    path, body = json.loads(text)
    return Request(request.method, path, request.query, body)


def _shape(response: httpx.Response, world: World) -> tuple[int, str | None, str]:
    """Status, error code and message, with the ids (real or made-up) left out."""
    body = response.json()
    message = json.dumps(body["message"])
    for kind, value in world.ids.items():
        message = message.replace(value, "<id>").replace(f"missing_{kind}", "<id>")
    return response.status_code, body.get("code"), message


def _check_no_leak(response: httpx.Response, request: Request, world: World) -> None:
    assert MARK not in response.text
    named = repr((request.path, request.body))
    for kind, value in world.ids.items():
        if value in response.text:
            assert value in named, f"the answer shows team A's {kind} {value}"


@pytest.mark.parametrize(
    ("method", "path"), [(method, path) for method, path, _ in OPERATIONS], ids=str
)
def test_another_teams_key_finds_nothing(
    setting: Setting, admin: Admin, method: str, path: str
) -> None:
    operation = next(op for m, p, op in OPERATIONS if (m, p) == (method, path))
    intruder = admin.new_team("intruder")
    request = _request(setting, method, path, operation)
    with console_client(setting.url, intruder.api_key) as client:
        response = _send(client, request)
        _check_no_leak(response, request, setting.world)
        body = response.json()
        if _is_stream(operation):
            assert response.status_code == 401, response.text
            assert set(body) == {"message", "code", "request_id"}
            assert body["code"] == "unauthorized"
        elif "{" in path:
            assert response.status_code == 404, response.text
            assert set(body) == {"message", "code", "request_id"}
            assert body["code"] == "not_found"
            assert _shape(response, setting.world) == _shape(
                _send(client, _made_up(request, setting.world)), setting.world
            )
        elif method == "GET":
            assert response.status_code == 200, response.text
            if path.endswith("/workflows"):
                assert {w["visibility"] for w in body["data"]} == {"public"}
            else:
                assert body["data"] == []
        else:
            made_up = _send(client, _made_up(request, setting.world))
            assert _shape(response, setting.world) == _shape(made_up, setting.world)
    assert _owner_view(setting) == setting.baseline


def test_every_console_operation_is_covered() -> None:
    """The parametrization reads the document: a sanity check that it found the Console API."""
    paths = {path for _, path, _ in OPERATIONS}
    assert len(OPERATIONS) >= 56
    assert all(re.match(r"^/api/v1/console/", path) for path in paths)
    assert "/api/v1/console/agents/{agent_id}/knowledge_bases/{kb_id}" in paths
