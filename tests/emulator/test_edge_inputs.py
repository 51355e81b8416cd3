"""Edge inputs schemathesis found answered with 500 or off the OpenAPI document, now 400s.

Covers: integers beyond 64 bits (typed fields and free-form JSON such as setup steps and tool
templates), free-form JSON and tool parameters nested deeper than the store can write, a
workflow update that nulls a field every workflow has, and an unexpected failure inside a write,
which answers the documented error body rather than a bare 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bimpeai import AgentCreateResponse, Workflow

from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import RunningEmulator

HUGE = 2**64


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def _parameter(depth: int) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": "p", "type": "array", "description": "d"}
    for _ in range(depth):
        parameter = {"name": "p", "type": "array", "description": "d", "items": parameter}
    return parameter


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"setup_time": HUGE}, "setup_time"),
        ({"flows": [{"name": "f", "priority": -HUGE}]}, "flows.0.priority"),
        ({"setup_steps": [{"minutes": [1, HUGE]}]}, "setup_steps.0"),
        ({"setup_steps": [_nested(300)]}, "setup_steps.0"),
    ],
    ids=["setup_time", "flow priority", "setup step number", "setup step depth"],
)
def test_workflow_values_the_store_cannot_hold_are_rejected(
    http: httpx.Client, fields: dict[str, Any], field: str
) -> None:
    response = http.post("/workflows", json={"name": "n", "system_prompt": "p", **fields})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"
    assert any(message.startswith(f"{field}:") for message in response.json()["message"])


def test_tool_parameters_and_templates_are_bounded(
    http: httpx.Client, agent: AgentCreateResponse
) -> None:
    under = f"/agents/{agent.id}/integrations/custom_api"
    api = http.post(f"{under}/configure", json={"name": "api", "base_url": "https://e.example"})
    tools = f"{under}/{api.json()['data']['id']}/tools"
    tool = {"http_method": "GET", "url_template": "/x"}
    for depth, name in ((70, "deep"), (251, "deeper")):
        body = {**tool, "name": name, "body_params": [_parameter(depth)]}
        response = http.post(tools, json=body)
        assert response.status_code == 400, response.text
    for extra in ({"timeout": HUGE}, {"headers_template": {"X-Count": HUGE}}):
        response = http.post(tools, json={**tool, "name": "big", **extra})
        assert response.status_code == 400, response.text
    shallow = http.post(tools, json={**tool, "name": "fine", "body_params": [_parameter(10)]})
    assert shallow.status_code == 201, shallow.text


def test_a_workflow_update_may_not_null_what_every_workflow_has(
    http: httpx.Client, workflow: Workflow
) -> None:
    for field in ("name", "system_prompt", "rules", "flows", "setup_steps"):
        response = http.patch(f"/workflows/{workflow.id}", json={field: None})
        assert response.status_code == 400, (field, response.text)
        assert response.json()["message"] == [f"{field}: may not be null"]
    cleared = http.patch(f"/workflows/{workflow.id}", json={"description": None})
    assert cleared.status_code == 200
    data = http.get(f"/workflows/{workflow.id}").json()["data"]
    assert (data["name"], data["rules"], data["description"]) == (workflow.name, [], None)


def test_an_unexpected_failure_in_a_write_answers_the_error_body(
    start_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = start_emulator()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(running.emulator.store, "insert", broken)
    with httpx.Client(
        base_url=running.url + API_PREFIX,
        headers={"Authorization": f"Bearer {running.emulator.api_key}"},
    ) as client:
        response = client.post("/workflows", json={"name": "n", "system_prompt": "p"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["message"] == "emulator error: RuntimeError"
    assert body["request_id"] == response.headers["x-request-id"]
