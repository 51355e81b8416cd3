"""First-party connectors and Pipedream apps as code, end to end: the CLI applies a stack
directory against the emulator over HTTP and the team is read back through the official SDK.

Each connector is configured once with the manifest's fields and a second plan is empty; a
rotated credential is exactly one update and no credential reaches the output, a saved plan,
the state or `.bimpe/`; an OAuth connector prints its onboarding URL, waits for a person
without a planned change, and stops waiting once onboarded; `connected: false` and a removed
block disconnect only that connector; a type or credential the API does not take is a
located error before anything is sent. Pipedream apps likewise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from integration_cli import Cli, raw_bytes_under, write_stack

SECRET = "sk_live_Q8zT4mYw2rN7pK1v"
ROTATED = "sk_live_R3tAt3dK3y9xZ0aa"
BUMPA_TOKEN = "bumpa_tok_9f8e7d6c5b4a"

STACK_YAML = """
name: shop
environments:
  test:
    vars:
      paystack_key: {value: "${env.PAYSTACK_SECRET}", sensitive: true}
      bumpa_token: {value: "${env.BUMPA_TOKEN}", sensitive: true}
"""

WORKFLOW = """
workflows:
  main: {name: Shop flow, system_prompt: Help customers pay.}
"""


def agent_with(blocks: str) -> str:
    """A resource file with one agent, `bot`, holding `blocks` (indented under it)."""
    body = "\n".join(f"    {line}" for line in blocks.strip("\n").splitlines())
    return (
        WORKFLOW
        + f"""
agents:
  bot:
    workflow: main
    name: Shop bot
    description: Takes payments
{body}
"""
    )


CONNECTORS = """
connectors:
  paystack: {secret_key: "${var.paystack_key}", currency: ngn}
  bumpa: {token: "${var.bumpa_token}"}
"""

GOOGLE = """
connectors:
  google_calendar: {}
"""

PIPEDREAM = """
pipedream_apps:
  slack: {app_name: Slack}
"""


@pytest.fixture
def stack(tmp_path: Path, cli: Cli) -> Path:
    cli.env.update({"PAYSTACK_SECRET": SECRET, "BUMPA_TOKEN": BUMPA_TOKEN})
    return write_stack(
        tmp_path / "shop", {"stack.yaml": STACK_YAML, "resources.yaml": agent_with(CONNECTORS)}
    )


def connectors(cli: Cli) -> dict[str, dict[str, object]]:
    agent_id = cli.agent_id("Shop bot")
    return {
        item.type: {"status": item.status, **(item.model_extra or {})}
        for item in cli.sdk.agents.integrations.bimpeai.list(agent_id)
    }


def rewrite(stack: Path, text: str) -> None:
    (stack / "resources.yaml").write_text(text)


def assert_no_secret(stack: Path, *texts: str) -> None:
    for secret in (SECRET, ROTATED, BUMPA_TOKEN):
        for text in texts:
            assert secret not in text
        for name, data in raw_bytes_under(stack).items():
            assert secret.encode() not in data, name


# --- first-party connectors -----------------------------------------------------------------


def test_each_connector_is_configured_once_with_its_fields(cli: Cli, stack: Path) -> None:
    planned = cli("plan", stack, "--out", stack / "connectors.plan.json")
    assert planned.exit_code == 0, planned.text
    applied = cli.apply(stack)
    live = connectors(cli)
    assert live["paystack"] == {
        "status": "connected",
        "currency": "NGN",
        "credentials_set": ["secret_key"],
    }
    assert live["bumpa"] == {"status": "connected", "currency": None, "credentials_set": ["token"]}
    # The others are built in and stay as they were.
    for kind in ("stripe", "google_calendar", "google_sheets"):
        assert live[kind]["status"] == "not_connected"
    assert len(live) == 5
    shown = cli("state", "show", "agents.bot.connectors.paystack", stack)
    assert shown.exit_code == 0, shown.text
    assert_no_secret(stack, planned.text, applied.text, shown.text)


def test_a_second_plan_is_empty(cli: Cli, stack: Path) -> None:
    cli.apply(stack)
    assert cli.actionable(stack) == []
    summary, _ = cli.summary(stack)
    assert summary.startswith("No changes.")


def test_rotating_the_paystack_key_is_exactly_one_update(cli: Cli, stack: Path) -> None:
    cli.apply(stack)
    cli.env["PAYSTACK_SECRET"] = ROTATED
    assert cli.actionable(stack) == [("agents.bot.connectors.paystack", "update")]
    planned = cli("plan", stack, "--out", stack / "rotate.plan.json")
    assert planned.exit_code == 0, planned.text
    applied = cli("apply", stack, "--plan", stack / "rotate.plan.json", "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert connectors(cli)["paystack"]["credentials_set"] == ["secret_key"]
    assert cli.actionable(stack) == []
    drift = cli("drift", stack)
    assert_no_secret(stack, planned.text, applied.text, drift.text)


def test_changing_the_currency_is_one_update_that_keeps_the_key(cli: Cli, stack: Path) -> None:
    cli.apply(stack)
    rewrite(stack, agent_with(CONNECTORS.replace("currency: ngn", "currency: ghs")))
    changes = cli.actionable(stack)
    assert ("agents.bot.connectors.paystack", "update") in changes
    assert all(address.endswith("paystack") for address, _ in changes)
    applied = cli.apply(stack)
    paystack = connectors(cli)["paystack"]
    assert (paystack["currency"], paystack["credentials_set"]) == ("GHS", ["secret_key"])
    assert_no_secret(stack, applied.text)


def test_connected_false_disconnects(cli: Cli, stack: Path) -> None:
    cli.apply(stack)
    rewrite(stack, agent_with(CONNECTORS.replace("currency: ngn", "connected: false")))
    planned = cli.actionable(stack)
    assert ("agents.bot.connectors.paystack", "update") in planned
    assert all(address.endswith(("paystack", "bumpa")) for address, _ in planned)
    cli.apply(stack)
    live = connectors(cli)
    assert live["paystack"]["status"] == "not_connected"
    assert live["bumpa"]["status"] == "connected"
    assert ("agents.bot.connectors.paystack", "update") not in cli.actionable(stack)


def test_a_connector_kept_disconnected_is_never_connected(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "off",
        {
            "stack.yaml": "name: off\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with("connectors:\n  stripe: {connected: false}"),
        },
    )
    cli.apply(stack)
    assert connectors(cli)["stripe"]["status"] == "not_connected"
    assert cli.actionable(stack) == []


def test_removing_a_connector_block_disconnects_only_it(cli: Cli, stack: Path) -> None:
    cli.apply(stack)
    rewrite(stack, agent_with(CONNECTORS.replace('  bumpa: {token: "${var.bumpa_token}"}\n', "")))
    planned = cli.actionable(stack)
    assert ("agents.bot.connectors.bumpa", "delete") in planned
    assert [c for c in planned if c[1] == "delete"] == [("agents.bot.connectors.bumpa", "delete")]
    cli.apply(stack)
    live = connectors(cli)
    assert live["bumpa"]["status"] == "not_connected"
    assert live["paystack"]["status"] == "connected"
    listed = cli("state", "list", stack)
    assert "agents.bot.connectors.bumpa" not in listed.output
    assert "agents.bot.connectors.paystack" in listed.output


def test_removing_every_connector_block_disconnects_them(cli: Cli, stack: Path) -> None:
    """The state still holds them, so their listing is read and they are disconnected."""
    cli.apply(stack)
    rewrite(stack, agent_with("# no integrations"))
    planned = cli.actionable(stack)
    assert sorted(planned) == [
        ("agents.bot.connectors.bumpa", "delete"),
        ("agents.bot.connectors.paystack", "delete"),
    ]
    cli.apply(stack)
    assert {v["status"] for v in connectors(cli).values()} == {"not_connected"}
    assert cli.actionable(stack) == []


def test_agents_without_integrations_cost_no_integration_requests(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "plain",
        {
            "stack.yaml": "name: plain\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with("# no integrations"),
        },
    )
    cli.apply(stack)
    cli.admin.reset_counters()
    assert cli.actionable(stack) == []
    requests = cli.admin.counters()["requests"]
    assert not [k for k in requests if "/integrations/" in k], requests


def test_google_calendar_waits_for_a_person(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "cal",
        {
            "stack.yaml": "name: cal\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with(GOOGLE),
        },
    )
    applied = cli.apply(stack)
    assert connectors(cli)["google_calendar"]["status"] == "pending"
    urls = re.findall(r"https?://\S+/_emulator/onboarding/[A-Za-z0-9_-]+", applied.text)
    assert cli.actionable(stack) == []  # pending is not a change to make
    assert len(urls) == 1, applied.text
    summary, planned = cli.summary(stack)
    assert summary.startswith("No changes.")
    assert "google_calendar: waiting for a person to connect it" in planned.text
    drift = cli("drift", stack)
    assert drift.exit_code == 0, drift.text
    assert "waiting for a person to connect it" in drift.text
    # Applying again while it waits changes nothing and keeps the same onboarding.
    again = cli.apply(stack)
    assert "No changes." in again.output
    cli.complete_onboarding()
    assert connectors(cli)["google_calendar"]["status"] == "connected"
    summary, planned = cli.summary(stack)
    assert summary.startswith("No changes.")
    assert "waiting for a person" not in planned.text


def test_google_calendar_onboarding_url_is_printed(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "cal",
        {
            "stack.yaml": "name: cal\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with(GOOGLE),
        },
    )
    applied = cli.apply(stack)
    assert f"{cli.running.url}/_emulator/onboarding/" in applied.text


def test_a_misspelt_connector_type_is_a_located_error(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "typo",
        {
            "stack.yaml": "name: typo\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with("connectors:\n  paystak: {secret_key: x}"),
        },
    )
    checked = cli("validate", stack)
    assert checked.exit_code == 1
    # Located at the key as written, with the types it may be.
    assert re.search(r"resources\.yaml:11:7: agents\.bot\.connectors: .*'paystack'", checked.text)


def test_a_credential_the_type_does_not_take_is_refused_before_any_change(
    cli: Cli, tmp_path: Path
) -> None:
    stack = write_stack(
        tmp_path / "wrong",
        {
            "stack.yaml": "name: wrong\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with(
                "connectors:\n  google_sheets: {token: abc}\n  stripe: {currency: usd}"
            ),
        },
    )
    planned = cli("plan", stack)
    assert planned.exit_code == 1, planned.text
    assert "token: not used by google_sheets" in planned.text
    assert "secret_key: required for stripe" in planned.text
    assert "resources.yaml:" in planned.text
    assert "abc" not in planned.text
    assert cli.sdk.agents.list().data == []


def test_an_existing_connection_is_imported(cli: Cli, stack: Path) -> None:
    """`plan --adopt` takes the connector the agent already has (every agent has each one);
    the credential cannot be read back, so it is sent again once."""
    cli.apply(stack)
    (stack / ".bimpe" / "state").rename(stack / "old-state")
    planned = cli("plan", stack, "--adopt", "--format", "json")
    assert planned.exit_code == 0, planned.text
    changes = {c["address"]: c for c in json.loads(planned.output)["changes"]}
    paystack = changes["agents.bot.connectors.paystack"]
    assert paystack["action"] == "import"
    assert [f["field"] for f in paystack["fields"]] == ["secret_key"]
    applied = cli("apply", stack, "--adopt", "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert cli.actionable(stack) == []
    assert connectors(cli)["paystack"]["credentials_set"] == ["secret_key"]
    assert_no_secret(stack, planned.text, applied.text)


def test_a_connector_disconnected_by_hand_is_drift_that_apply_reconnects(
    cli: Cli, stack: Path
) -> None:
    cli.apply(stack)
    agent_id = cli.agent_id("Shop bot")
    paystack = next(
        i for i in cli.sdk.agents.integrations.bimpeai.list(agent_id) if i.type == "paystack"
    )
    assert paystack.id is not None
    cli.sdk.agents.integrations.bimpeai.disconnect(agent_id, paystack.id)
    drift = cli("drift", stack)
    assert drift.exit_code == 2, drift.text
    assert "agents.bot.connectors.paystack" in drift.output
    assert cli.actionable(stack) == [("agents.bot.connectors.paystack", "update")]
    applied = cli.apply(stack)
    assert connectors(cli)["paystack"] == {
        "status": "connected",
        "currency": "NGN",
        "credentials_set": ["secret_key"],
    }
    assert cli.actionable(stack) == []
    assert_no_secret(stack, drift.text, applied.text)


# --- Pipedream apps --------------------------------------------------------------------------


@pytest.fixture
def pipedream(tmp_path: Path) -> Path:
    return write_stack(
        tmp_path / "pd",
        {
            "stack.yaml": "name: pd\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with(PIPEDREAM),
        },
    )


def apps(cli: Cli) -> dict[str, dict[str, object]]:
    agent_id = cli.agent_id("Shop bot")
    return {
        app.config.app_slug: {
            "app_name": app.config.app_name,
            "connected": (app.model_extra or {}).get("connected"),
        }
        for app in cli.sdk.agents.integrations.pipedream.list(agent_id)
    }


def test_a_pipedream_app_is_configured_once_and_waits(cli: Cli, pipedream: Path) -> None:
    applied = cli.apply(pipedream)
    assert apps(cli) == {"slack": {"app_name": "Slack", "connected": False}}
    assert cli.actionable(pipedream) == []
    assert f"{cli.running.url}/_emulator/onboarding/" in applied.text
    _, planned = cli.summary(pipedream)
    assert "waiting for a person to connect it" in planned.text
    cli.complete_onboarding()
    assert apps(cli)["slack"]["connected"] is True
    summary, planned = cli.summary(pipedream)
    assert summary.startswith("No changes.")
    assert "waiting for a person" not in planned.text


def test_a_pipedream_app_name_change_is_one_update(cli: Cli, pipedream: Path) -> None:
    cli.apply(pipedream)
    cli.complete_onboarding()
    rewrite(pipedream, agent_with(PIPEDREAM.replace("Slack", "Team Slack")))
    assert cli.actionable(pipedream) == [("agents.bot.pipedream_apps.slack", "update")]
    cli.apply(pipedream)
    assert apps(cli) == {"slack": {"app_name": "Team Slack", "connected": True}}
    assert cli.actionable(pipedream) == []


def test_removing_a_pipedream_app_disconnects_only_it(cli: Cli, pipedream: Path) -> None:
    two = PIPEDREAM + "  notion: {app_name: Notion}\n"
    rewrite(pipedream, agent_with(two))
    cli.apply(pipedream)
    assert set(apps(cli)) == {"slack", "notion"}
    rewrite(pipedream, agent_with(PIPEDREAM))
    assert cli.actionable(pipedream) == [("agents.bot.pipedream_apps.notion", "delete")]
    cli.apply(pipedream)
    assert set(apps(cli)) == {"slack"}
    assert cli.actionable(pipedream) == []


def test_a_bad_pipedream_slug_is_a_located_error(cli: Cli, tmp_path: Path) -> None:
    stack = write_stack(
        tmp_path / "slug",
        {
            "stack.yaml": "name: slug\nenvironments:\n  test: {}\n",
            "resources.yaml": agent_with("pipedream_apps:\n  Google Drive: {}"),
        },
    )
    checked = cli("validate", stack)
    assert checked.exit_code == 1
    assert "resources.yaml:" in checked.text and "Pipedream app slug" in checked.text


# --- export ----------------------------------------------------------------------------------


def build_connected_agent(cli: Cli) -> str:
    """An agent connected through the SDK alone: paystack and bumpa with credentials, Google
    Calendar waiting for its onboarding, and a Pipedream app."""
    workflow = cli.sdk.workflows.create(name="Shop flow", system_prompt="Help customers pay.")
    agent = cli.sdk.agents.create(
        workflow_id=workflow.id, name="Shop bot", description="Takes payments"
    )
    first_party = cli.sdk.agents.integrations.bimpeai
    first_party.configure(agent.id, type="paystack", secret_key=SECRET, currency="ngn")
    first_party.configure(agent.id, type="bumpa", token=BUMPA_TOKEN)
    first_party.configure(agent.id, type="google_calendar")
    cli.sdk.agents.integrations.pipedream.configure(agent.id, app_slug="slack", app_name="Slack")
    return agent.id


def test_export_writes_connected_connectors_with_credential_vars(cli: Cli, tmp_path: Path) -> None:
    build_connected_agent(cli)
    out = tmp_path / "exported"
    exported = cli("export", "--out", out)
    assert exported.exit_code == 0, exported.text
    assert "3 connectors, 1 Pipedream app" in exported.output
    files = raw_bytes_under(out)
    for name, data in files.items():
        assert SECRET.encode() not in data and BUMPA_TOKEN.encode() not in data, name
    agents = (out / "agents.yaml").read_text()
    connectors_block = agents[agents.index("connectors:") :]
    for kind in ("paystack", "bumpa", "google_calendar"):
        assert f"{kind}:" in connectors_block
    for kind in ("stripe", "google_sheets"):  # not connected: not written
        assert f"{kind}:" not in connectors_block
    assert "var.shop-bot_paystack_secret_key" not in agents
    assert "var.shop_bot_paystack_secret_key}" in agents
    assert "var.shop_bot_bumpa_token}" in agents
    assert "currency: NGN" in agents
    assert "slack:" in agents and "app_name: Slack" in agents
    # Which environment variables to set, and what each is for.
    assert (
        "SHOP_BOT_PAYSTACK_SECRET_KEY: the secret key of the Paystack connector of the agent"
        " shop-bot" in exported.output
    )
    assert "SHOP_BOT_BUMPA_TOKEN: the token of the Bumpa connector" in exported.output
    stack_yaml = (out / "stack.yaml").read_text()
    assert "shop_bot_paystack_secret_key:" in stack_yaml and "sensitive: true" in stack_yaml


def test_an_exported_connector_reads_its_credential_from_a_sensitive_var(
    cli: Cli, tmp_path: Path
) -> None:
    build_connected_agent(cli)
    out = tmp_path / "exported"
    assert cli("export", "--out", out).exit_code == 0
    agents = (out / "agents.yaml").read_text()
    assert "secret_key: ${var.shop_bot_paystack_secret_key}" in agents
    # Applied to an empty team with the variables set, it connects the same connectors.
    empty = cli.admin.new_team("copy")
    copy = Cli(cli.running, empty, cli.admin, cli.sdk)
    copy.env.update({"SHOP_BOT_PAYSTACK_SECRET_KEY": ROTATED, "SHOP_BOT_BUMPA_TOKEN": BUMPA_TOKEN})
    applied = copy.apply(out)
    assert_no_secret(out, applied.text)


def test_enabling_an_action_of_an_unconnected_connector_warns_and_still_applies(
    cli: Cli, tmp_path: Path
) -> None:
    cli.env.update({"PAYSTACK_SECRET": SECRET, "BUMPA_TOKEN": BUMPA_TOKEN})
    stack = write_stack(
        tmp_path / "warned",
        {"stack.yaml": STACK_YAML, "resources.yaml": agent_with("actions: [escalate_to_human]")},
    )
    cli.apply(stack)
    (stack / "resources.yaml").write_text(
        agent_with("actions: [escalate_to_human, create_payment_link]")
    )
    planned = cli("plan", stack)
    assert planned.exit_code == 0, planned.text
    assert (
        "agents.bot.actions[1]: 'create_payment_link' is enabled, but this stack does not"
        " connect its paystack connector" in planned.text
    )
    assert "the action does nothing until it is" in planned.text
    cli.apply(stack)
    agent_id = cli.agent_id("Shop bot")
    enabled = {a.action_name for a in cli.sdk.agents.actions.list(agent_id) if a.is_enabled}
    assert enabled == {"escalate_to_human", "create_payment_link"}
    # Connected by the stack: no warning any more.
    (stack / "resources.yaml").write_text(
        agent_with(
            "actions: [escalate_to_human, create_payment_link, verify_payment]\n" + CONNECTORS
        )
    )
    planned = cli("plan", stack)
    assert planned.exit_code == 0, planned.text
    assert "is enabled, but" not in planned.text
