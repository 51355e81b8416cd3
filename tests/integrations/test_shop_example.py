"""examples/stacks/shop, as a Lagos shop would write it: applied from empty against the
emulator over HTTP, the team read back through the official SDK has every integration, tool
and enabled action the manifests declare, once each; a second plan is empty; no credential is
written anywhere; rotating the token is one update, changing one tool one replace, and a tool
deleted by hand is drift that apply restores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from example_copy import copy_example
from integration_cli import Cli, raw_bytes_under

TOKEN = "orders_tok_7Hq2Lm9Xc4Vb8Nz1"
ROTATED = "orders_tok_R0t4t3dT0k3nAbCdEf"
PAYSTACK = "sk_live_Sh0pPayst4ckK3y55"

DECLARED_ACTIONS = {
    "escalate_to_human",
    "get_order",
    "cancel_shop_order",
    "create_payment_link",
    "verify_payment",
    "docs_hub_search",
}


@pytest.fixture
def shop(tmp_path: Path, cli: Cli) -> Path:
    cli.env.update({"SHOP_ORDERS_API_TOKEN": TOKEN, "SHOP_PAYSTACK_SECRET_KEY": PAYSTACK})
    return copy_example("shop", tmp_path / "shop")


def test_the_shop_applies_from_empty_and_the_team_has_what_it_declares(
    cli: Cli, shop: Path
) -> None:
    applied = cli.apply(shop)
    assert cli.actionable(shop) == []
    sdk = cli.sdk
    agents = [a for a in sdk.agents.list().data if a.name == "Ada, shop assistant"]
    assert len(agents) == 1
    agent_id = agents[0].id
    integrations = sdk.agents.integrations
    apis = integrations.custom_api.list(agent_id)
    assert [a.config.name for a in apis] == ["Orders API"]
    tools = integrations.custom_api.tools.list(agent_id, apis[0].id)
    assert sorted(t.action_name for t in tools) == ["cancel_shop_order", "get_order"]
    first_party = {c.type: c for c in integrations.bimpeai.list(agent_id)}
    assert first_party["paystack"].is_connected
    assert first_party["paystack"].currency == "NGN"
    servers = integrations.mcp_server.list(agent_id)
    assert [s.config.name for s in servers] == ["Docs Hub"]
    discovered = integrations.mcp_server.tools.list(agent_id, servers[0].id)
    assert {"docs_hub_search", "docs_hub_get_page"} <= {t.action_name for t in discovered}
    apps = integrations.pipedream.list(agent_id)
    assert [a.config.app_slug for a in apps] == ["slack"]
    enabled = {a.action_name for a in sdk.agents.actions.list(agent_id) if a.is_enabled}
    assert enabled == DECLARED_ACTIONS
    # The Pipedream app waits for a person: apply said where to go.
    assert "Action needed by a person" in applied.text
    for secret in (TOKEN, PAYSTACK):
        assert secret not in applied.text
        for path, data in raw_bytes_under(shop).items():
            assert secret.encode() not in data, path


def test_a_rotated_token_is_one_update_and_a_changed_tool_one_replace(cli: Cli, shop: Path) -> None:
    cli.apply(shop)
    cli.env["SHOP_ORDERS_API_TOKEN"] = ROTATED
    assert cli.actionable(shop) == [("agents.shop.custom_apis.orders", "update")]
    planned = cli("plan", shop, "--out", str(shop / "rotated.plan.json"))
    assert ROTATED not in planned.text and TOKEN not in planned.text
    assert ROTATED.encode() not in (shop / "rotated.plan.json").read_bytes()
    debugged = cli("apply", shop, "--auto-approve", "--debug-http")
    assert debugged.exit_code == 0, debugged.text
    assert "Authorization: Bearer ***" in debugged.text or "POST" in debugged.text
    for secret in (TOKEN, ROTATED, PAYSTACK):
        assert secret not in debugged.text
        for path, data in raw_bytes_under(shop).items():
            assert secret.encode() not in data, path
    assert cli.actionable(shop) == []

    manifest = shop / "shop.yaml"
    manifest.write_text(
        manifest.read_text().replace("/orders/{order_id}/cancel", "/orders/{order_id}/cancellation")
    )
    assert cli.actionable(shop) == [
        ("agents.shop.custom_apis.orders.tools.cancel_order", "replace")
    ]
    cli.apply(shop)
    assert cli.actionable(shop) == []


def test_a_tool_deleted_by_hand_is_drift_and_apply_restores_it(cli: Cli, shop: Path) -> None:
    cli.apply(shop)
    agent_id = cli.agent_id("Ada, shop assistant")
    custom = cli.sdk.agents.integrations.custom_api
    api = custom.list(agent_id)[0]
    listed = custom.tools.list(agent_id, api.id)
    tool = next(t for t in listed if t.action_name == "get_order")
    custom.tools.delete(agent_id, api.id, tool.id)
    drift = cli("drift", shop, "--format", "json")
    document = json.loads(drift.output)
    deleted = {r["address"] for r in document["resources"] if r["status"] == "deleted"}
    assert deleted == {"agents.shop.custom_apis.orders.tools.get_order"}
    assert "agents.shop.custom_apis.orders.auth_config" in document["unobservable"]
    text = cli("drift", shop).text
    assert "write-only fields cannot be read back from BimpeAI" in text
    assert "agents.shop.connectors.paystack (secret_key)" in text
    assert "offers no tool" not in text
    cli.apply(shop)
    assert cli.actionable(shop) == []
    names = sorted(t.action_name for t in custom.tools.list(agent_id, api.id))
    assert names == ["cancel_shop_order", "get_order"]
    enabled = {a.action_name for a in cli.sdk.agents.actions.list(agent_id) if a.is_enabled}
    assert enabled == DECLARED_ACTIONS


def test_a_noop_plan_reads_each_integration_family_once_and_one_tool_list_each(
    cli: Cli, shop: Path
) -> None:
    """The shop's agent manages every family; a second agent manages none and costs nothing
    beyond its knowledge bases and actions."""
    extra = (
        "\n  plain:\n    workflow: storefront\n    name: Plain agent\n"
        "    description: No integrations\n    actions: [escalate_to_human]\n"
    )
    manifest = shop / "shop.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("\nagents:\n", "\nagents:" + extra, 1))
    cli.apply(shop)
    cli.admin.reset_counters()
    assert cli.actionable(shop) == []
    reads = {k: v for k, v in cli.admin.counters()["requests"].items() if k.startswith("GET")}
    assert reads == {
        "GET /workflows": 1,
        "GET /agents": 1,
        "GET /phone-numbers": 1,
        "GET /agents/{agent_id}/knowledge_bases": 2,
        "GET /agents/{agent_id}/actions": 2,
        "GET /agents/{agent_id}/integrations/bimpeai": 1,
        "GET /agents/{agent_id}/integrations/custom_api": 1,
        "GET /agents/{agent_id}/integrations/custom_api/{integration_id}/tools": 1,
        "GET /agents/{agent_id}/integrations/mcp_server": 1,
        "GET /agents/{agent_id}/integrations/mcp_server/{integration_id}/tools": 1,
        "GET /agents/{agent_id}/integrations/pipedream": 1,
    }
    assert not any(
        k.startswith(("POST", "PATCH", "PUT", "DELETE")) for k in cli.admin.counters()["requests"]
    )


def test_a_tool_named_like_a_built_in_action_fails_the_plan_located(cli: Cli, shop: Path) -> None:
    cli.apply(shop)
    manifest = shop / "shop.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("name: Cancel shop order", "name: Cancel order"))
    planned = cli("plan", shop)
    assert planned.exit_code == 1, planned.text
    line = next(
        n
        for n, row in enumerate(manifest.read_text().splitlines(), 1)
        if "name: Cancel order" in row
    )
    assert f"shop.yaml:{line}:" in planned.text
    assert (
        "agents.shop.custom_apis.orders.tools.cancel_order: the agent already has an action"
        " named 'cancel_order' (from Store orders)" in planned.text
    )
    applied = cli("apply", shop, "--auto-approve")
    assert applied.exit_code == 1
    agent_id = cli.agent_id("Ada, shop assistant")
    api = cli.sdk.agents.integrations.custom_api.list(agent_id)[0]
    names = sorted(
        t.action_name for t in cli.sdk.agents.integrations.custom_api.tools.list(agent_id, api.id)
    )
    assert names == ["cancel_shop_order", "get_order"]


def test_a_create_refused_by_a_clash_goes_through_once_the_clash_is_gone(
    cli: Cli, shop: Path
) -> None:
    """A teammate adds a tool with the same action name between plan and apply: BimpeAI
    refuses the create (409), and that answer is stored under its idempotency key. Once the
    teammate's tool is gone, the next apply creates the tool under a new key rather than
    being told the old refusal for ever."""
    manifest = shop / "shop.yaml"
    full = manifest.read_text()
    start = full.index("          get_order:")
    end = full.index("          cancel_order:")
    without = full[:start] + full[end:]
    manifest.write_text(without.replace("      - get_order\n", ""))  # first without get_order
    cli.apply(shop)
    manifest.write_text(full)
    saved = shop / "add-get-order.plan.json"
    planned = cli("plan", shop, "--out", str(saved))
    assert planned.exit_code == 0, planned.text
    agent_id = cli.agent_id("Ada, shop assistant")
    custom = cli.sdk.agents.integrations.custom_api
    theirs = custom.configure(agent_id, name="Teammate API", base_url="https://t.example")
    tool = custom.tools.add(
        agent_id,
        theirs.id,
        {"name": "Get order", "http_method": "GET", "url_template": "https://t.example/o"},
    )
    refused = cli("apply", shop, "--plan", str(saved))
    assert refused.exit_code == 1
    assert "already has an action named 'get_order'" in refused.text
    custom.tools.delete(agent_id, theirs.id, tool.id)
    cli.sdk.agents.integrations.custom_api.disconnect(agent_id, theirs.id)
    cli.apply(shop)
    assert cli.actionable(shop) == []
    api = next(a for a in custom.list(agent_id) if a.config.name == "Orders API")
    names = sorted(t.action_name for t in custom.tools.list(agent_id, api.id))
    assert names == ["cancel_shop_order", "get_order"]


def test_a_refused_create_whose_answer_was_lost_is_not_taken_for_one_under_way(
    cli: Cli, shop: Path
) -> None:
    """As above, and the 409 itself is lost on the way back: the next run finds the create's
    intent, sends it again under the same key and is told the stored refusal (replayed). That
    is not a create still under way: once the clash is gone, apply creates the tool."""
    manifest = shop / "shop.yaml"
    full = manifest.read_text()
    start = full.index("          get_order:")
    end = full.index("          cancel_order:")
    without = full[:start] + full[end:]
    manifest.write_text(without.replace("      - get_order\n", ""))
    cli.apply(shop)
    agent_id = cli.agent_id("Ada, shop assistant")
    custom = cli.sdk.agents.integrations.custom_api
    theirs = custom.configure(agent_id, name="Teammate API", base_url="https://t.example")
    tool = custom.tools.add(
        agent_id,
        theirs.id,
        {"name": "Get order", "http_method": "GET", "url_template": "https://t.example/o"},
    )
    manifest.write_text(full)
    saved = shop / "add-get-order.plan.json"
    assert cli("plan", shop, "--out", str(saved)).exit_code == 1  # the plan check sees it
    custom.tools.delete(agent_id, theirs.id, tool.id)
    assert cli("plan", shop, "--out", str(saved)).exit_code == 0
    tool = custom.tools.add(
        agent_id,
        theirs.id,
        {"name": "Get order", "http_method": "GET", "url_template": "https://t.example/o"},
    )
    route = "POST /agents/{agent_id}/integrations/custom_api/{integration_id}/tools"
    cli.admin.set_faults(aimed=[{"route": route, "kind": "drop_after_commit", "count": 100}])
    assert cli("apply", shop, "--plan", str(saved)).exit_code == 1
    cli.admin.set_faults()
    custom.tools.delete(agent_id, theirs.id, tool.id)
    outcome = cli("apply", shop, "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    assert cli.actionable(shop) == []
    api = next(a for a in custom.list(agent_id) if a.config.name == "Orders API")
    names = sorted(t.action_name for t in custom.tools.list(agent_id, api.id))
    assert names == ["cancel_shop_order", "get_order"]


def test_a_teammates_tool_is_listed_apart_and_left_alone_when_the_stack_says_keep(
    cli: Cli, shop: Path
) -> None:
    cli.apply(shop)
    agent_id = cli.agent_id("Ada, shop assistant")
    custom = cli.sdk.agents.integrations.custom_api
    theirs = custom.configure(agent_id, name="CRM", base_url="https://crm.example")
    custom.tools.add(
        agent_id,
        theirs.id,
        {"name": "Find customer", "http_method": "GET", "url_template": "https://crm.example/c"},
    )

    def enabled() -> set[str]:
        return {a.action_name for a in cli.sdk.agents.actions.list(agent_id) if a.is_enabled}

    assert "find_customer" in enabled()  # a new tool's action starts enabled
    # The default: the stack's actions are the whole set, and the plan says whose it disables.
    planned = cli("plan", shop)
    assert planned.exit_code == 0, planned.text
    assert (
        "agents.shop.actions: actions of integrations this stack does not manage:"
        " find_customer (custom_api 'CRM'); disabled unless listed in actions:" in planned.text
    )
    assert cli.actionable(shop) == [("agents.shop.actions", "update")]

    manifest = shop / "shop.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    # Built-in actions,", "    unmanaged_actions: keep\n    # Built-in actions,"
        )
    )
    assert cli.actionable(shop) == []
    cli.apply(shop)
    assert enabled() == DECLARED_ACTIONS | {"find_customer"}
    drift = cli("drift", shop)
    assert drift.exit_code == 0, drift.text  # the teammate's action is no drift either

    # Asked to disable them again, apply does.
    manifest.write_text(manifest.read_text().replace("    unmanaged_actions: keep\n", ""))
    cli.apply(shop)
    assert enabled() == DECLARED_ACTIONS
    api_names = sorted(a.config.name for a in custom.list(agent_id))
    assert api_names == ["CRM", "Orders API"]  # the teammate's API itself is never touched
