"""Custom APIs and their tools as code: applied against the emulator over HTTP and read back
through the official SDK. The API's credentials and its tools' definitions are write-only: a
second plan is empty, a changed tool is one replace, a rotated token is one update, and the
token is in no output and no file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from emulator_admin import Admin, Team
from tool_stacks import StackRun, files_holding, only_agent

from bimpe_iac.emulator.server import RunningEmulator

TOKEN = "shop-token-7Qx9vLk2pZ"
ROTATED = "shop-token-rotated-3Hd8sWq1"

API = "agents.support.custom_apis.shop"
GET_ORDER = f"{API}.tools.get_order"
CANCEL_ORDER = f"{API}.tools.cancel_order"

GET_TOOL = """\
          get_order:
            name: Get order
            description: Look an order up by its number
            http_method: GET
            url_template: {get_url}
            url_params:
              - {{name: order_id, type: string, description: The order number, required: true}}
            response_mapping: {{path: data.order}}
            timeout: 10
"""
CANCEL_TOOL = """\
          cancel_order:
            # The platform has a built-in cancel_order action: this tool's action is
            # cancel_shop_order.
            name: Cancel shop order
            http_method: POST
            url_template: /orders/{order_id}/cancel
            url_params:
              - {name: order_id, type: string, description: The order number, required: true}
            body_params:
              - {name: reason, type: string, description: Why the customer cancels}
            body_template: {reason: "{reason}"}
            headers_template: {X-Source: bimpe}
            require_human_approval: true
"""


def agents(
    *,
    get_url: str = "/orders/{order_id}",
    cancel: bool = True,
    api: bool = True,
    actions: str = "",
) -> str:
    text = """\
  support:
    workflow: main
    name: Ada
    description: Answers questions about orders
"""
    if actions:
        text += f"    actions: [{actions}]\n"
    if api:
        text += """\
    custom_apis:
      shop:
        name: Shop API
        description: The shop's order service
        base_url: https://shop.example/api
        auth_type: bearer
        auth_config:
          token: ${env.SHOP_TOKEN}
        test_endpoint: /health
"""
        text += "        tools:\n" + GET_TOOL.format(get_url=get_url)
        if cancel:
            text += CANCEL_TOOL
    return text


@pytest.fixture
def run(tmp_path: Path, emulator: RunningEmulator, team: Team) -> StackRun:
    stack = StackRun(tmp_path / "stack", emulator.url, team.api_key, {"SHOP_TOKEN": TOKEN})
    stack.write(agents())
    return stack


def _tools(sdk: BimpeAI, agent_id: str, api_id: str) -> dict[str, tuple[str, bool]]:
    listed = sdk.agents.integrations.custom_api.tools.list(agent_id, api_id)
    return {tool.action_name: (tool.name, tool.is_enabled) for tool in listed}


def test_an_api_with_two_tools_applies_once_and_plans_nothing_more(
    run: StackRun, sdk: BimpeAI
) -> None:
    run.apply()

    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    assert api.config.name == "Shop API"
    assert api.config.base_url == "https://shop.example/api"
    assert api.config.auth_type == "bearer"
    assert api.model_extra is not None
    assert api.model_extra["auth_config_keys"] == ["token"]
    assert api.model_extra["test_endpoint"] == "/health"
    assert _tools(sdk, agent_id, api.id) == {
        "get_order": ("Get order", True),
        "cancel_shop_order": ("Cancel shop order", True),
    }
    actions = {a.action_name: a.is_enabled for a in sdk.agents.actions.list(agent_id)}
    assert actions["get_order"] is True
    assert actions["cancel_shop_order"] is True

    assert run.changes() == {}
    outcome = run("plan", run.directory, "--detailed-exitcode")
    assert outcome.exit_code == 0, outcome.text


def test_changing_one_tools_url_template_is_one_replace(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    before = {
        t.action_name: t.id for t in sdk.agents.integrations.custom_api.tools.list(agent_id, api.id)
    }

    run.write(agents(get_url="/v2/orders/{order_id}"))
    assert run.changes() == {GET_ORDER: "replace"}
    run.apply()

    after = {
        t.action_name: t.id for t in sdk.agents.integrations.custom_api.tools.list(agent_id, api.id)
    }
    assert set(after) == {"get_order", "cancel_shop_order"}
    assert after["get_order"] != before["get_order"]
    assert after["cancel_shop_order"] == before["cancel_shop_order"]
    assert [a.id for a in sdk.agents.integrations.custom_api.list(agent_id)] == [api.id]
    assert run.changes() == {}


def test_the_agents_actions_may_enable_a_tool_in_the_same_apply(
    run: StackRun, sdk: BimpeAI
) -> None:
    run.write(agents(actions="get_order, escalate_to_human"))
    run.apply()
    agent_id = only_agent(sdk)
    enabled = {a.action_name for a in sdk.agents.actions.list(agent_id) if a.is_enabled}
    assert enabled == {"get_order", "escalate_to_human"}
    assert run.changes() == {}


def test_a_tool_deleted_by_hand_is_added_again(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    tools = {
        t.action_name: t.id for t in sdk.agents.integrations.custom_api.tools.list(agent_id, api.id)
    }
    sdk.agents.integrations.custom_api.tools.delete(agent_id, api.id, tools["get_order"])

    assert run.changes() == {GET_ORDER: "create"}
    run.apply()

    assert set(_tools(sdk, agent_id, api.id)) == {"get_order", "cancel_shop_order"}
    assert run.changes() == {}


def test_rotating_the_token_is_one_update_and_the_token_is_nowhere(
    run: StackRun, sdk: BimpeAI, tmp_path: Path
) -> None:
    run.apply()
    run.env["SHOP_TOKEN"] = ROTATED
    plan_file = tmp_path / "rotate.plan.json"
    outcome = run("plan", run.directory, "--out", plan_file)
    assert outcome.exit_code == 0, outcome.text
    assert run.changes() == {API: "update"}
    outcome = run("apply", run.directory, "--plan", plan_file, "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    assert run.changes() == {}

    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    assert len(_tools(sdk, agent_id, api.id)) == 2
    run("drift", run.directory)
    run("state", "show", API, run.directory)

    for secret in (TOKEN, ROTATED):
        assert files_holding(tmp_path, secret) == []
        assert not [text for text in run.outputs if secret in text]


def test_removing_one_tool_deletes_only_it(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    run.write(agents(cancel=False))
    assert run.changes() == {CANCEL_ORDER: "delete"}
    run.apply()

    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    assert set(_tools(sdk, agent_id, api.id)) == {"get_order"}
    assert run.changes() == {}


def test_removing_the_api_disconnects_it_with_its_tools(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    run.write(agents(api=False))
    assert run.changes() == {API: "delete", GET_ORDER: "delete", CANCEL_ORDER: "delete"}
    run.apply()

    agent_id = only_agent(sdk)
    assert sdk.agents.integrations.custom_api.list(agent_id) == []
    names = {a.action_name for a in sdk.agents.actions.list(agent_id)}
    assert not names & {"get_order", "cancel_shop_order"}
    assert run.changes() == {}


def test_a_lost_state_adopts_the_api_and_its_tools(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    shutil.rmtree(run.directory / ".bimpe" / "state")

    outcome = run("plan", run.directory)
    assert outcome.exit_code == 1, outcome.text
    assert "already exists" in outcome.text

    outcome = run("apply", run.directory, "--adopt", "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    assert "adopted as the manifests say: its" in outcome.text
    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    assert set(_tools(sdk, agent_id, api.id)) == {"get_order", "cancel_shop_order"}
    outcome = run("plan", run.directory, "--detailed-exitcode")
    assert outcome.exit_code == 0, outcome.text


def test_export_writes_the_api_with_its_tools_names_and_a_warning(
    run: StackRun, tmp_path: Path
) -> None:
    run.apply()
    out = tmp_path / "exported"
    outcome = run("export", "--out", out)
    assert outcome.exit_code == 0, outcome.text
    assert "the tools of custom API 'Shop API' (cancel-shop-order, get-order)" in outcome.text
    text = (out / "agents.yaml").read_text()
    assert "name: Shop API" in text
    assert "base_url: https://shop.example/api" in text
    assert "name: Get order" in text
    assert "name: Cancel shop order" in text
    assert "url_template" not in text
    assert files_holding(tmp_path, TOKEN) == []


def test_export_declares_the_token_as_a_sensitive_var(run: StackRun, tmp_path: Path) -> None:
    run.apply()
    out = tmp_path / "exported"
    outcome = run("export", "--out", out)
    assert outcome.exit_code == 0, outcome.text
    stack = (out / "stack.yaml").read_text()
    assert "ada_shop_api_token:" in stack
    assert "${env.ADA_SHOP_API_TOKEN}" in stack
    assert "sensitive: true" in stack
    assert "the token of custom API 'Shop API' of agent ada" in stack
    assert "var.ada_shop_api_token}" in (out / "agents.yaml").read_text()


def test_an_exported_api_applies_with_its_token_set(
    run: StackRun, tmp_path: Path, admin: Admin
) -> None:
    """The exported stack refers to the token as a var, and once the tools' definitions are
    written in it applies to another team."""
    run.apply()
    out = tmp_path / "exported"
    assert run("export", "--out", out).exit_code == 0
    agents_yaml = (out / "agents.yaml").read_text()
    assert "token: ${var.ada_shop_api_token}" in agents_yaml
    filled = agents_yaml.replace(
        "            name: Get order\n",
        "            name: Get order\n            http_method: GET\n"
        "            url_template: /orders\n",
    ).replace(
        "            name: Cancel shop order\n",
        "            name: Cancel shop order\n            http_method: POST\n"
        "            url_template: /orders/cancel\n",
    )
    (out / "agents.yaml").write_text(filled)
    copy = StackRun(out, run.url, admin.new_team().api_key, {"ADA_SHOP_API_TOKEN": TOKEN})
    outcome = copy("apply", out, "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    assert copy.changes() == {}
    assert files_holding(tmp_path, TOKEN) == []


def test_renaming_the_api_replaces_it_and_adds_its_tools_to_the_new_one(
    run: StackRun, sdk: BimpeAI
) -> None:
    run.apply()
    run.write(agents().replace("name: Shop API", "name: Shop API v2"))
    assert run.changes() == {API: "replace", GET_ORDER: "create", CANCEL_ORDER: "create"}
    run.apply()

    agent_id = only_agent(sdk)
    (api,) = sdk.agents.integrations.custom_api.list(agent_id)
    assert api.config.name == "Shop API v2"
    assert set(_tools(sdk, agent_id, api.id)) == {"get_order", "cancel_shop_order"}
    assert run.changes() == {}


def test_a_plan_reads_each_apis_tools_once(
    run: StackRun, emulator: RunningEmulator, sdk: BimpeAI
) -> None:
    """One list of the agent's custom APIs and one tool list per API, for every kind that
    reads them (the API and its two tools)."""
    run.apply()
    admin = Admin(emulator)
    admin.reset_counters()
    assert run.changes() == {}
    requests = admin.counters()["requests"]
    assert {k: v for k, v in requests.items() if "custom_api" in k} == {
        "GET /agents/{agent_id}/integrations/custom_api": 1,
        "GET /agents/{agent_id}/integrations/custom_api/{integration_id}/tools": 1,
    }


def test_smoke_calls_a_reading_tool_of_the_api(run: StackRun) -> None:
    run.write(agents(actions="get_order, cancel_shop_order"))
    run.apply()
    outcome = run("smoke", run.directory, "--tools")
    assert outcome.exit_code == 0, outcome.text
    assert f"{API}  tool   pass" in outcome.text
    assert "get_order: replied" in outcome.text
    assert TOKEN not in outcome.text
