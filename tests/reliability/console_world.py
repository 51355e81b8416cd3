"""One object of every Console API kind, owned by one team, and the ids that fill the paths of
the emulator's OpenAPI document: shared by the isolation and schemathesis tests.

Every name and text the owner writes carries `MARK`, so an answer to anyone else that shows
the owner's data is easy to spot.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bimpe_iac.emulator.gateway import API_PREFIX

OPENAPI = Path(__file__).parents[2] / "schemas" / "bimpe-console-api.openapi.json"
MARK = "OWNER-PRIVATE-7c1d"
PATH_PARAMETER = re.compile(r"\{([^{}]+)\}")
# A path's integration_id names a row of the connector family the path is under.
CONNECTORS = ("bimpeai", "custom_api", "mcp_server", "pipedream")


def console_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every Console API operation of the OpenAPI document."""
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return [
        (method.upper(), path, operation)
        for path, operations in sorted(document["paths"].items())
        if path.startswith(API_PREFIX + "/")
        for method, operation in sorted(operations.items())
    ]


def console_client(url: str, api_key: str) -> httpx.Client:
    return httpx.Client(
        base_url=url + API_PREFIX, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


def _data(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()["data"]


@dataclass(frozen=True)
class World:
    """The owner's objects, by kind."""

    ids: dict[str, str]

    def path_parameters(self, path: str) -> dict[str, str]:
        """Each `{parameter}` of `path`, filled with the id of the owner's object of that kind."""
        values: dict[str, str] = {}
        for name in PATH_PARAMETER.findall(path):
            if name == "integration_id":
                family = next(f for f in CONNECTORS if f"/integrations/{f}/" in path)
                values[name] = self.ids[family]
            else:
                kind = name.removesuffix("_id")
                assert kind in self.ids, f"no object for the path parameter {{{name}}} of {path}"
                values[name] = self.ids[kind]
        return values

    def references(self, body: Any) -> Any:
        """`body` with each field that names an object pointed at the owner's object."""
        if not isinstance(body, dict):
            return body
        out = dict(body)
        for field, kind in (
            ("workflow_id", "workflow"),
            ("source_workflow_id", "workflow"),
            ("agent_id", "agent"),
            ("submitted_by_agent_id", "agent"),
            ("conversation_id", "conversation"),
        ):
            if isinstance(out.get(field), str):
                out[field] = self.ids[kind]
        if isinstance(out.get("action_ids"), list):
            out["action_ids"] = [self.ids["action"]]
        return out

    def fill(self, path: str) -> str:
        return path.format(**self.path_parameters(path)).removeprefix(API_PREFIX)


def build_world(client: httpx.Client, phone_number_id: str) -> World:
    """Create the owner's objects through `client` (the owner's key)."""
    workflow = _data(
        client.post("/workflows", json={"name": f"{MARK} flow", "system_prompt": f"{MARK} prompt"})
    )["id"]
    agent = _data(
        client.post(
            "/agents",
            json={"workflow_id": workflow, "name": f"{MARK} agent", "description": MARK},
        )
    )["id"]
    under = f"/agents/{agent}"
    kb = _data(
        client.post(
            f"{under}/knowledge_bases",
            json={"type": "text", "name": f"{MARK} kb", "content": f"{MARK} content"},
        )
    )["id"]
    action = _data(client.get(f"{under}/actions"))[0]["id"]
    message = _data(
        client.post(
            f"{under}/conversations/messages",
            json={"message": MARK, "channel_type": "webchat", "channel_user_id": MARK},
        )
    )["id"]
    conversation = _data(client.get(f"{under}/conversations"))[0]["id"]
    call = _data(
        client.post(f"{under}/calls", json={"destination": "+2348012345670", "is_test_call": True})
    )["call_id"]
    connectors = f"{under}/integrations"
    bimpeai = _data(client.get(f"{connectors}/bimpeai"))[0]["id"]
    custom_api = _data(
        client.post(
            f"{connectors}/custom_api/configure",
            json={"name": f"{MARK} api", "base_url": "https://api.example.com"},
        )
    )["id"]
    tool = _data(
        client.post(
            f"{connectors}/custom_api/{custom_api}/tools",
            json={"name": "Look up order", "http_method": "GET", "url_template": "/orders"},
        )
    )["id"]
    mcp_server = _data(
        client.post(
            f"{connectors}/mcp_server/configure",
            json={"name": f"{MARK} crm", "server_url": "https://mcp.example.com"},
        )
    )["id"]
    _data(client.post(f"{connectors}/pipedream/configure", json={"app_slug": "slack"}))
    _data(
        client.patch(
            f"/phone-numbers/{phone_number_id}", json={"agent_id": agent, "label": f"{MARK} line"}
        )
    )
    pipedream = _data(client.get(f"{connectors}/pipedream"))[0]["id"]
    return World(
        {
            "workflow": workflow,
            "agent": agent,
            "kb": kb,
            "action": action,
            "conversation": conversation,
            "message": message,
            "call": call,
            "phone_number": phone_number_id,
            "bimpeai": bimpeai,
            "custom_api": custom_api,
            "tool": tool,
            "mcp_server": mcp_server,
            "pipedream": pipedream,
        }
    )
