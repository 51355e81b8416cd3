"""Integration connectors of an agent, through the official SDK.

Covers, each on success and on a meaningful error:
- integrations.bimpeai.list (built-in first-party connectors; unknown agent), configure (stripe
  shows connected in agents.integrations.list; missing secret, field the type does not use,
  unknown type), disconnect (back to not connected; unknown id, a non-connector integration);
- integrations.custom_api.list, configure (create, update by name; auth_config that does not
  fit auth_type, unknown field), disconnect (removes its actions; unknown id), tools.list,
  tools.add (appears in agents.actions.list, enable/disable through agents.actions; duplicate
  action name 409, undeclared placeholder, path without base_url), tools.delete (unknown tool);
- integrations.mcp_server.list, configure (defaults; invalid URL), test (https succeeds, http
  fails with an error; unknown id), discover (created then updated counts, actions; http server
  400; tools no longer offered are disabled), tools.list (unknown id), disconnect (unknown id);
- integrations.pipedream.list, configure (onboarding URL, one row per app; invalid slug),
  disconnect (unknown id);
- onboarding: Google connectors stay pending until the onboarding URL (on the emulator, no key)
  is opened or the admin completes it (one or all, per team; 404 when nothing is pending, 401
  without the admin token); credential connectors connect at once; a Pipedream app shows
  `connected` false then true; disconnecting revokes the link; unknown tokens are 404;
- configuring twice updates one row; configure honours Idempotency-Key (replay, 409 on another
  body); tool lists answer only IntegrationTool fields; MCP hosts under .invalid are
  unreachable; MCP tools come from the URL's `tools` parameter and a shorter list disables;
- every connector endpoint answers 404 for another team's agent; secrets never come back in
  any response body nor any log line, nor reach the database; deleting the agent removes
  connector rows; the async client.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from bimpeai import (
    AsyncBimpeAI,
    BadRequestError,
    BimpeAI,
    BimpeaiIntegration,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from bimpeai.types.agents import CustomApiCreateToolBody

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin, Team

PUBLIC_WORKFLOW = "wf_public_support_triage"
SECRET = "sk_live_DO_NOT_LEAK_4242"
ORDER_TOOL: CustomApiCreateToolBody = {
    "name": "Get order",
    "http_method": "GET",
    "url_template": "/orders/{order_id}",
    "description": "Look up an order",
    "url_params": [{"name": "order_id", "type": "string", "description": "The order id"}],
}


def paths(error: ValidationError) -> set[str]:
    return {e["path"] for e in error.field_errors}


def new_agent(client: BimpeAI) -> str:
    created = client.agents.create(
        workflow_id=PUBLIC_WORKFLOW, name="Connector agent", description="Has connectors"
    )
    return created.id


@pytest.fixture
def agent_id(sdk: BimpeAI) -> str:
    return new_agent(sdk)


def orders_api(sdk: BimpeAI, agent_id: str, **body: Any) -> str:
    fields: dict[str, Any] = {"name": "Orders", "base_url": "https://api.shop.example", **body}
    return sdk.agents.integrations.custom_api.configure(agent_id, **fields).id


def builtin_id(sdk: BimpeAI, agent_id: str, kind: str) -> str:
    return next(i.id for i in sdk.agents.integrations.list(agent_id) if i.type == kind)


# --- first-party connectors ----------------------------------------------------------------


def test_bimpeai_list_shows_the_first_party_connectors(sdk: BimpeAI, agent_id: str) -> None:
    listed = sdk.agents.integrations.bimpeai.list(agent_id)
    assert {i.type for i in listed} == {
        "bumpa",
        "google_calendar",
        "google_sheets",
        "paystack",
        "stripe",
    }
    assert not any(i.is_connected for i in listed)
    assert all(i.status == "not_connected" for i in listed)
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.bimpeai.list("agt_missing")


def test_configured_stripe_shows_as_connected(
    sdk: BimpeAI, agent_id: str, emulator: RunningEmulator
) -> None:
    result = sdk.agents.integrations.bimpeai.configure(
        agent_id, type="stripe", secret_key=SECRET, public_key="pk_live_1", currency="ngn"
    )
    assert result.onboarding_url.startswith(f"{emulator.url}/_emulator/onboarding/")
    stripe = next(i for i in sdk.agents.integrations.list(agent_id) if i.type == "stripe")
    assert (stripe.status, stripe.is_connected) == ("connected", True)
    assert stripe.actions  # the built-in stripe actions are still there
    listed = {i.type: i for i in sdk.agents.integrations.bimpeai.list(agent_id)}
    assert listed["stripe"].is_connected
    assert listed["stripe"].model_extra == {
        "currency": "NGN",
        "credentials_set": ["public_key", "secret_key"],
    }
    assert not listed["paystack"].is_connected
    detail = sdk.agents.retrieve(agent_id)
    assert next(i for i in detail.integrations if i.type == "stripe").is_connected


def test_bimpeai_configure_checks_the_fields_of_the_type(sdk: BimpeAI, agent_id: str) -> None:
    configure = sdk.agents.integrations.bimpeai.configure
    with pytest.raises(ValidationError) as missing:
        configure(agent_id, type="paystack", public_key="pk_1")
    assert paths(missing.value) == {"secret_key"}
    with pytest.raises(ValidationError) as unused:
        configure(agent_id, type="bumpa", token="tok", currency="NGN")
    assert paths(unused.value) == {"currency"}
    with pytest.raises(ValidationError) as unknown_type:
        configure(agent_id, type="shopify")  # type: ignore[arg-type]
    assert paths(unknown_type.value) == {"type"}
    assert not any(i.is_connected for i in sdk.agents.integrations.bimpeai.list(agent_id))


def test_google_connectors_need_no_credentials(sdk: BimpeAI, agent_id: str) -> None:
    sdk.agents.integrations.bimpeai.configure(agent_id, type="google_sheets")
    sheets = next(
        i for i in sdk.agents.integrations.bimpeai.list(agent_id) if i.type == "google_sheets"
    )
    assert sheets.model_extra == {"currency": None, "credentials_set": []}
    with pytest.raises(ValidationError) as unused:
        sdk.agents.integrations.bimpeai.configure(agent_id, type="google_sheets", token="t")
    assert paths(unused.value) == {"token"}


def test_bimpeai_disconnect(sdk: BimpeAI, agent_id: str) -> None:
    sdk.agents.integrations.bimpeai.configure(agent_id, type="bumpa", token=SECRET)
    bumpa = builtin_id(sdk, agent_id, "bumpa")
    sdk.agents.integrations.bimpeai.disconnect(agent_id, bumpa)
    listed = {i.type: i for i in sdk.agents.integrations.bimpeai.list(agent_id)}
    assert (listed["bumpa"].status, listed["bumpa"].is_connected) == ("not_connected", False)
    assert listed["bumpa"].model_extra == {"currency": None, "credentials_set": []}
    sdk.agents.integrations.bimpeai.disconnect(agent_id, bumpa)  # already disconnected: no-op
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.bimpeai.disconnect(agent_id, "int_missing")
    with pytest.raises(NotFoundError):  # a built-in integration that is not a connector
        sdk.agents.integrations.bimpeai.disconnect(agent_id, builtin_id(sdk, agent_id, "email"))


# --- custom APIs ---------------------------------------------------------------------------


def test_custom_api_configure_creates_then_updates_by_name(sdk: BimpeAI, agent_id: str) -> None:
    custom = sdk.agents.integrations.custom_api
    created = custom.configure(
        agent_id,
        name="Orders",
        description="The shop's order API",
        base_url="https://api.shop.example",
        auth_type="bearer",
        auth_config={"token": SECRET},
        test_endpoint="/health",
    )
    assert created.id.startswith("capi_")
    assert created.config.model_dump() == {
        "name": "Orders",
        "base_url": "https://api.shop.example",
        "auth_type": "bearer",
    }
    updated = custom.configure(agent_id, name="Orders", base_url="https://v2.shop.example")
    assert updated.id == created.id
    assert (updated.config.base_url, updated.config.auth_type) == (
        "https://v2.shop.example",
        "none",
    )
    listed = custom.list(agent_id)
    assert [(i.id, i.config.base_url) for i in listed] == [(created.id, "https://v2.shop.example")]


def test_custom_api_configure_rejects_bad_bodies(sdk: BimpeAI, agent_id: str) -> None:
    configure = sdk.agents.integrations.custom_api.configure
    with pytest.raises(ValidationError) as no_token:
        configure(agent_id, name="Orders", auth_type="bearer", auth_config={"api_key": "k"})
    assert paths(no_token.value) == {"auth_config.token"}
    with pytest.raises(ValidationError) as basic:
        configure(agent_id, name="Orders", auth_type="basic", auth_config={"username": "u"})
    assert paths(basic.value) == {"auth_config.password"}
    with pytest.raises(ValidationError) as unused:
        configure(agent_id, name="Orders", auth_config={"token": "t"})
    assert paths(unused.value) == {"auth_config"}
    with pytest.raises(ValidationError) as bad:
        configure(agent_id, name="", base_url="ftp://x", colour="red")  # type: ignore[call-arg]
    assert paths(bad.value) == {"name", "base_url", "colour"}
    with pytest.raises(ValidationError) as relative:
        configure(agent_id, name="Orders", test_endpoint="/health")
    assert paths(relative.value) == {"test_endpoint"}
    assert sdk.agents.integrations.custom_api.list(agent_id) == []


def test_custom_api_tool_is_an_agent_action(sdk: BimpeAI, agent_id: str) -> None:
    integration = orders_api(sdk, agent_id)
    tool = sdk.agents.integrations.custom_api.tools.add(agent_id, integration, ORDER_TOOL)
    assert (tool.action_name, tool.name, tool.category) == ("get_order", "Get order", "custom_api")
    assert tool.is_enabled
    assert sdk.agents.integrations.custom_api.tools.list(agent_id, integration) == [tool]
    action = next(a for a in sdk.agents.actions.list(agent_id) if a.id == tool.id)
    assert action.model_dump() == {
        "id": tool.id,
        "integration_id": integration,
        "integration_type": "custom_api",
        "integration_name": "Orders",
        "name": "Get order",
        "action_name": "get_order",
        "description": "Look up an order",
        "is_enabled": True,
    }
    assert sdk.agents.actions.disable(agent_id, action_ids=[tool.id]).updated_count == 1
    assert not next(a for a in sdk.agents.actions.list(agent_id) if a.id == tool.id).is_enabled
    assert not sdk.agents.integrations.custom_api.tools.list(agent_id, integration)[0].is_enabled
    sdk.agents.actions.enable(agent_id, action_ids=[tool.id])
    assert next(a for a in sdk.agents.actions.list(agent_id) if a.id == tool.id).is_enabled


def test_custom_api_tools_add_rejects_bad_tools(sdk: BimpeAI, agent_id: str) -> None:
    tools = sdk.agents.integrations.custom_api.tools
    integration = orders_api(sdk, agent_id)
    tools.add(agent_id, integration, ORDER_TOOL)
    with pytest.raises(ConflictError):
        tools.add(agent_id, integration, {**ORDER_TOOL, "name": "get-order"})
    with pytest.raises(ConflictError):  # the name of a built-in action
        tools.add(agent_id, integration, {**ORDER_TOOL, "name": "Send email"})
    with pytest.raises(ValidationError) as placeholder:
        tools.add(
            agent_id,
            integration,
            {"name": "Refund", "http_method": "POST", "url_template": "/orders/{id}/refund"},
        )
    assert paths(placeholder.value) == {"url_template"}
    with pytest.raises(ValidationError) as method:
        tools.add(
            agent_id,
            integration,
            {"name": "Refund", "http_method": "FETCH", "url_template": "/r"},  # type: ignore[typeddict-item]
        )
    assert paths(method.value) == {"http_method"}
    bare = sdk.agents.integrations.custom_api.configure(agent_id, name="Bare").id
    with pytest.raises(ValidationError) as no_base:
        tools.add(agent_id, bare, {"name": "Ping", "http_method": "GET", "url_template": "/ping"})
    assert paths(no_base.value) == {"url_template"}
    with pytest.raises(NotFoundError):
        tools.add(agent_id, "capi_missing", ORDER_TOOL)
    assert [t.action_name for t in tools.list(agent_id, integration)] == ["get_order"]


def test_custom_api_tools_delete_removes_the_action(sdk: BimpeAI, agent_id: str) -> None:
    tools = sdk.agents.integrations.custom_api.tools
    integration = orders_api(sdk, agent_id)
    tool = tools.add(agent_id, integration, ORDER_TOOL)
    tools.delete(agent_id, integration, tool.id)
    assert tools.list(agent_id, integration) == []
    assert tool.id not in {a.id for a in sdk.agents.actions.list(agent_id)}
    with pytest.raises(NotFoundError):
        tools.delete(agent_id, integration, tool.id)
    with pytest.raises(NotFoundError):  # an action of another integration is not its tool
        tools.delete(agent_id, integration, sdk.agents.actions.list(agent_id)[0].id)


def test_custom_api_disconnect_removes_its_actions(sdk: BimpeAI, agent_id: str) -> None:
    integration = orders_api(sdk, agent_id)
    tool = sdk.agents.integrations.custom_api.tools.add(agent_id, integration, ORDER_TOOL)
    before = len(sdk.agents.actions.list(agent_id))
    sdk.agents.integrations.custom_api.disconnect(agent_id, integration)
    assert sdk.agents.integrations.custom_api.list(agent_id) == []
    actions = sdk.agents.actions.list(agent_id)
    assert len(actions) == before - 1
    assert tool.id not in {a.id for a in actions}
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.custom_api.disconnect(agent_id, integration)
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.custom_api.tools.list(agent_id, integration)


# --- MCP servers ---------------------------------------------------------------------------


def test_mcp_server_configure_defaults_and_validation(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    server = mcp.configure(agent_id, name="Docs Hub", server_url="https://mcp.docs.example")
    assert server.id.startswith("mcp_")
    assert server.config.model_dump() == {
        "name": "Docs Hub",
        "server_url": "https://mcp.docs.example",
        "transport": "streamable_http",
        "auth_type": "none",
    }
    again = mcp.configure(
        agent_id,
        name="Docs Hub",
        server_url="https://mcp2.docs.example",
        transport="http_sse",
        auth_type="api_key",
        auth_config={"api_key": SECRET, "header_name": "X-Key"},
    )
    assert again.id == server.id
    assert (again.config.transport, again.config.auth_type) == ("http_sse", "api_key")
    assert [s.config.server_url for s in mcp.list(agent_id)] == ["https://mcp2.docs.example"]
    with pytest.raises(ValidationError) as bad:
        mcp.configure(agent_id, name="Other", server_url="mcp.docs.example", transport="ws")  # type: ignore[arg-type]
    assert paths(bad.value) == {"server_url", "transport"}


def test_mcp_server_test_depends_on_https(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    secure = mcp.configure(agent_id, name="Secure", server_url="https://mcp.example")
    plain = mcp.configure(agent_id, name="Plain", server_url="http://mcp.example")
    ok = mcp.test(agent_id, secure.id)
    assert (ok.success, ok.error, ok.tools_count) == (True, None, 3)
    failed = mcp.test(agent_id, plain.id)
    assert not failed.success
    assert failed.error and "https" in failed.error
    assert failed.tools_count is None
    with pytest.raises(NotFoundError):
        mcp.test(agent_id, "mcp_missing")


def test_mcp_server_discover_creates_then_updates_actions(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    server = mcp.configure(agent_id, name="Docs Hub", server_url="https://mcp.docs.example")
    first = mcp.discover(agent_id, server.id)
    assert first.model_dump() == {"discovered": 3, "created": 3, "updated": 0, "disabled": 0}
    tools = mcp.tools.list(agent_id, server.id)
    assert [t.action_name for t in tools] == [
        "docs_hub_search",
        "docs_hub_get_record",
        "docs_hub_create_record",
    ]
    assert all(t.is_enabled and t.category == "mcp_server" for t in tools)
    sdk.agents.actions.disable(agent_id, action_ids=[tools[0].id])
    second = mcp.discover(agent_id, server.id)
    assert second.model_dump() == {"discovered": 3, "created": 0, "updated": 3, "disabled": 0}
    again = mcp.tools.list(agent_id, server.id)
    assert [t.id for t in again] == [t.id for t in tools]
    assert not again[0].is_enabled  # a refresh keeps the agent's choice
    actions = [a for a in sdk.agents.actions.list(agent_id) if a.integration_id == server.id]
    assert {(a.integration_type, a.integration_name) for a in actions} == {
        ("mcp_server", "Docs Hub")
    }
    assert len(actions) == 3


def test_mcp_server_discover_disables_tools_no_longer_offered(
    sdk: BimpeAI, agent_id: str, emulator: RunningEmulator, team: Team
) -> None:
    mcp = sdk.agents.integrations.mcp_server
    server = mcp.configure(agent_id, name="Docs Hub", server_url="https://mcp.docs.example")
    gone = {
        "id": "act_retired_tool",
        "integration_id": server.id,
        "integration_type": "mcp_server",
        "integration_name": "Docs Hub",
        "name": "Retired",
        "action_name": "docs_hub_retired",
        "description": None,
        "is_enabled": True,
    }
    emulator.emulator.store.insert("action", team.id, gone, parent_id=agent_id)
    result = mcp.discover(agent_id, server.id)
    assert result.model_dump() == {"discovered": 3, "created": 3, "updated": 0, "disabled": 1}
    retired = next(t for t in mcp.tools.list(agent_id, server.id) if t.id == gone["id"])
    assert not retired.is_enabled
    second = mcp.discover(agent_id, server.id)
    assert second.model_dump() == {"discovered": 3, "created": 0, "updated": 3, "disabled": 0}


def test_mcp_server_discover_and_tools_errors(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    plain = mcp.configure(agent_id, name="Plain", server_url="http://mcp.example")
    with pytest.raises(BadRequestError) as refused:
        mcp.discover(agent_id, plain.id)
    assert not isinstance(refused.value, ValidationError)
    assert mcp.tools.list(agent_id, plain.id) == []
    with pytest.raises(NotFoundError):
        mcp.discover(agent_id, "mcp_missing")
    with pytest.raises(NotFoundError):
        mcp.tools.list(agent_id, "mcp_missing")
    custom = orders_api(sdk, agent_id)
    with pytest.raises(NotFoundError):  # a custom API id is not an MCP server
        mcp.tools.list(agent_id, custom)


def test_mcp_server_disconnect_removes_its_actions(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    server = mcp.configure(agent_id, name="Docs Hub", server_url="https://mcp.docs.example")
    mcp.discover(agent_id, server.id)
    mcp.disconnect(agent_id, server.id)
    assert mcp.list(agent_id) == []
    assert all(a.integration_id != server.id for a in sdk.agents.actions.list(agent_id))
    with pytest.raises(NotFoundError):
        mcp.disconnect(agent_id, server.id)


# --- Pipedream -----------------------------------------------------------------------------


def test_pipedream_configure_list_disconnect(sdk: BimpeAI, agent_id: str) -> None:
    pipedream = sdk.agents.integrations.pipedream
    result = pipedream.configure(agent_id, app_slug="slack", app_name="Slack")
    again = pipedream.configure(
        agent_id, app_slug="slack", app_icon="https://cdn.example/slack.png"
    )
    assert again.onboarding_url == result.onboarding_url  # the same onboarding, still pending
    [app] = pipedream.list(agent_id)
    assert app.channel_type == "pipedream"
    assert app.config.model_dump() == {
        "app_slug": "slack",
        "app_name": None,
        "app_icon": "https://cdn.example/slack.png",
        "server_url": f"https://mcp.pipedream.net/{agent_id}/slack",
    }
    pipedream.disconnect(agent_id, app.id)
    assert pipedream.list(agent_id) == []
    with pytest.raises(NotFoundError):
        pipedream.disconnect(agent_id, app.id)


def test_pipedream_configure_rejects_a_bad_slug(sdk: BimpeAI, agent_id: str) -> None:
    with pytest.raises(ValidationError) as bad:
        sdk.agents.integrations.pipedream.configure(agent_id, app_slug="Google Sheets")
    assert paths(bad.value) == {"app_slug"}
    assert sdk.agents.integrations.pipedream.list(agent_id) == []


# --- onboarding ----------------------------------------------------------------------------

ONBOARDING = "/_emulator/onboarding/"
TOOL_FIELDS = {"id", "action_name", "name", "description", "category", "is_enabled"}


def first_party(sdk: BimpeAI, agent_id: str, kind: str) -> BimpeaiIntegration:
    return next(i for i in sdk.agents.integrations.bimpeai.list(agent_id) if i.type == kind)


def open_link(url: str) -> httpx.Response:
    """Open an onboarding URL as a person's browser does: no key."""
    return httpx.get(url, timeout=30)


def complete(admin: Admin, team: Team, integration_id: str | None = None) -> list[Any]:
    body = None if integration_id is None else {"integration_id": integration_id}
    done: list[Any] = admin.call("POST", f"/teams/{team.id}/onboarding/complete", body)
    return done


def test_google_connector_waits_for_the_onboarding(
    sdk: BimpeAI, agent_id: str, emulator: RunningEmulator
) -> None:
    configure = sdk.agents.integrations.bimpeai.configure
    result = configure(agent_id, type="google_calendar")
    assert result.onboarding_url.startswith(f"{emulator.url}{ONBOARDING}")
    calendar = first_party(sdk, agent_id, "google_calendar")
    assert (calendar.status, calendar.is_connected) == ("pending", False)
    listed = next(i for i in sdk.agents.integrations.list(agent_id) if i.type == "google_calendar")
    assert (listed.status, listed.is_connected) == ("pending", False)
    # configuring again updates the same pending onboarding
    assert configure(agent_id, type="google_calendar").onboarding_url == result.onboarding_url
    assert len(sdk.agents.integrations.bimpeai.list(agent_id)) == 5
    page = open_link(result.onboarding_url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Google Calendar is now connected" in page.text
    calendar = first_party(sdk, agent_id, "google_calendar")
    assert (calendar.status, calendar.is_connected) == ("connected", True)
    detail = sdk.agents.retrieve(agent_id)
    assert next(i for i in detail.integrations if i.type == "google_calendar").is_connected
    again = open_link(result.onboarding_url)
    assert (again.status_code, "already connected" in again.text) == (200, True)
    configure(agent_id, type="google_calendar")  # a connected one stays connected
    assert first_party(sdk, agent_id, "google_calendar").is_connected


def test_disconnecting_revokes_the_onboarding_link(sdk: BimpeAI, agent_id: str) -> None:
    url = sdk.agents.integrations.bimpeai.configure(agent_id, type="google_sheets").onboarding_url
    sheets = first_party(sdk, agent_id, "google_sheets")
    sdk.agents.integrations.bimpeai.disconnect(agent_id, str(sheets.id))
    sheets = first_party(sdk, agent_id, "google_sheets")
    assert (sheets.status, sheets.is_connected) == ("not_connected", False)
    gone = open_link(url)
    assert gone.status_code == 404
    assert "not valid" in gone.text
    assert not first_party(sdk, agent_id, "google_sheets").is_connected
    fresh = sdk.agents.integrations.bimpeai.configure(agent_id, type="google_sheets")
    assert fresh.onboarding_url != url  # a new onboarding gets a new token
    assert open_link(f"{url.rsplit('/', 1)[0]}/not-a-token").status_code == 404


def test_credential_connectors_connect_at_once(sdk: BimpeAI, agent_id: str) -> None:
    for kind, fields in (
        ("stripe", {"secret_key": SECRET}),
        ("paystack", {"secret_key": SECRET}),
        ("bumpa", {"token": SECRET}),
    ):
        result = sdk.agents.integrations.bimpeai.configure(agent_id, type=kind, **fields)  # type: ignore[arg-type]
        assert first_party(sdk, agent_id, kind).status == "connected"
        page = open_link(result.onboarding_url)
        assert (page.status_code, "already connected" in page.text) == (200, True)
        assert SECRET not in page.text


def test_pipedream_app_is_not_connected_until_onboarded(sdk: BimpeAI, agent_id: str) -> None:
    pipedream = sdk.agents.integrations.pipedream
    url = pipedream.configure(agent_id, app_slug="slack", app_name="Slack").onboarding_url
    [app] = pipedream.list(agent_id)
    assert app.model_extra is not None and app.model_extra["connected"] is False
    page = open_link(url)
    assert "Slack is now connected" in page.text
    [app] = pipedream.list(agent_id)
    assert app.model_extra is not None and app.model_extra["connected"] is True
    pipedream.configure(agent_id, app_slug="slack", app_name="Slack Workspace")
    [app] = pipedream.list(agent_id)  # still one app, still connected
    assert app.model_extra is not None and app.model_extra["connected"] is True
    assert app.config.app_name == "Slack Workspace"
    assert sdk.agents.actions.list(agent_id)  # only the built-in ones
    assert all(a.integration_id != app.id for a in sdk.agents.actions.list(agent_id))


def test_admin_completes_pending_onboardings(
    sdk: BimpeAI, agent_id: str, admin: Admin, team: Team, emulator: RunningEmulator
) -> None:
    sdk.agents.integrations.bimpeai.configure(agent_id, type="google_calendar")
    sdk.agents.integrations.bimpeai.configure(agent_id, type="google_sheets")
    sdk.agents.integrations.pipedream.configure(agent_id, app_slug="notion")
    sheets = str(first_party(sdk, agent_id, "google_sheets").id)
    assert complete(admin, team, sheets) == [
        {"integration_id": sheets, "agent_id": agent_id, "family": "bimpeai"}
    ]
    assert first_party(sdk, agent_id, "google_sheets").is_connected
    assert not first_party(sdk, agent_id, "google_calendar").is_connected
    done = complete(admin, team)
    assert sorted(d["family"] for d in done) == ["bimpeai", "pipedream"]
    assert first_party(sdk, agent_id, "google_calendar").is_connected
    [app] = sdk.agents.integrations.pipedream.list(agent_id)
    assert app.model_extra is not None and app.model_extra["connected"] is True
    assert complete(admin, team) == []
    with pytest.raises(httpx.HTTPStatusError) as unknown:
        complete(admin, team, sheets)  # nothing pending for it any more
    assert unknown.value.response.status_code == 404
    keyless = httpx.post(f"{emulator.url}/_emulator/teams/{team.id}/onboarding/complete")
    assert keyless.status_code == 401
    with pytest.raises(httpx.HTTPStatusError) as no_team:
        admin.call("POST", "/teams/team_missing/onboarding/complete")
    assert no_team.value.response.status_code == 404


def test_onboarding_of_another_team_is_not_completed(
    sdk: BimpeAI, agent_id: str, admin: Admin, other_team: Team
) -> None:
    sdk.agents.integrations.bimpeai.configure(agent_id, type="google_calendar")
    assert complete(admin, other_team) == []
    assert not first_party(sdk, agent_id, "google_calendar").is_connected


# --- idempotency and tool shapes -------------------------------------------------------------


def test_configure_twice_updates_and_honours_idempotency_keys(
    sdk: BimpeAI, agent_id: str, http: httpx.Client
) -> None:
    integrations = sdk.agents.integrations
    first = integrations.custom_api.configure(agent_id, name="Orders", idempotency_key="k-capi")
    replayed = integrations.custom_api.configure(agent_id, name="Orders", idempotency_key="k-capi")
    assert replayed.id == first.id
    assert len(integrations.custom_api.list(agent_id)) == 1
    with pytest.raises(ConflictError):
        integrations.custom_api.configure(agent_id, name="Other", idempotency_key="k-capi")
    assert [c.config.name for c in integrations.custom_api.list(agent_id)] == ["Orders"]
    body = {"name": "Hub", "server_url": "https://hub.example"}
    path = f"/agents/{agent_id}/integrations/mcp_server/configure"
    once = http.post(path, json=body, headers={"Idempotency-Key": "k-mcp"})
    twice = http.post(path, json=body, headers={"Idempotency-Key": "k-mcp"})
    assert twice.headers.get("idempotent-replayed") == "true"
    assert twice.json()["data"] == once.json()["data"]
    integrations.mcp_server.configure(agent_id, name="Hub", server_url="https://hub2.example")
    assert [m.config.server_url for m in integrations.mcp_server.list(agent_id)] == [
        "https://hub2.example"
    ]
    url = integrations.pipedream.configure(agent_id, app_slug="slack", idempotency_key="k-pd")
    assert (
        integrations.pipedream.configure(agent_id, app_slug="slack", idempotency_key="k-pd") == url
    )
    assert len(integrations.pipedream.list(agent_id)) == 1
    stripe = {"type": "stripe", "secret_key": SECRET}
    path = f"/agents/{agent_id}/integrations/bimpeai/configure"
    http.post(path, json=stripe, headers={"Idempotency-Key": "k-stripe"})
    replay = http.post(path, json=stripe, headers={"Idempotency-Key": "k-stripe"})
    assert replay.headers.get("idempotent-replayed") == "true"
    assert SECRET not in replay.text
    assert len(integrations.bimpeai.list(agent_id)) == 5


def test_tool_lists_answer_no_definition(sdk: BimpeAI, agent_id: str, http: httpx.Client) -> None:
    integration = orders_api(sdk, agent_id)
    tool = {
        **ORDER_TOOL,
        "headers_template": {"X-Shop": "main"},
        "response_mapping": {"path": "data"},
        "require_human_approval": True,
        "timeout": 30,
    }
    added = sdk.agents.integrations.custom_api.tools.add(agent_id, integration, tool)  # type: ignore[arg-type]
    base = f"/agents/{agent_id}/integrations"
    answered = http.get(f"{base}/custom_api/{integration}/tools").json()["data"]
    assert [set(t) for t in answered] == [TOOL_FIELDS]
    action = next(a for a in sdk.agents.actions.list(agent_id) if a.id == added.id)
    assert (action.integration_type, action.action_name) == ("custom_api", "get_order")
    server = sdk.agents.integrations.mcp_server.configure(
        agent_id, name="Hub", server_url="https://hub.example"
    )
    sdk.agents.integrations.mcp_server.discover(agent_id, server.id)
    answered = http.get(f"{base}/mcp_server/{server.id}/tools").json()["data"]
    assert answered and all(set(t) == TOOL_FIELDS for t in answered)


# --- MCP reachability and tools from the URL ---------------------------------------------------


def test_mcp_hosts_under_invalid_are_unreachable(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    server = mcp.configure(agent_id, name="Nowhere", server_url="https://mcp.nowhere.invalid/x")
    result = mcp.test(agent_id, server.id)
    assert (result.success, result.tools_count) == (False, None)
    assert result.error and "mcp.nowhere.invalid" in result.error
    with pytest.raises(BadRequestError):
        mcp.discover(agent_id, server.id)
    assert mcp.tools.list(agent_id, server.id) == []


def test_mcp_tools_come_from_the_url(sdk: BimpeAI, agent_id: str) -> None:
    mcp = sdk.agents.integrations.mcp_server
    url = "https://crm.example/mcp?tools=search,list_contacts,update_contact"
    server = mcp.configure(agent_id, name="CRM", server_url=url)
    assert mcp.test(agent_id, server.id).tools_count == 3
    assert mcp.discover(agent_id, server.id).created == 3
    tools = mcp.tools.list(agent_id, server.id)
    assert [(t.action_name, t.name) for t in tools] == [
        ("crm_search", "Search"),
        ("crm_list_contacts", "List contacts"),
        ("crm_update_contact", "Update contact"),
    ]
    actions = {a.action_name: a for a in sdk.agents.actions.list(agent_id)}
    assert actions["crm_list_contacts"].integration_type == "mcp_server"
    mcp.configure(agent_id, name="CRM", server_url="https://crm.example/mcp?tools=search")
    result = mcp.discover(agent_id, server.id)
    assert result.model_dump() == {"discovered": 1, "created": 0, "updated": 1, "disabled": 2}
    enabled = {t.action_name: t.is_enabled for t in mcp.tools.list(agent_id, server.id)}
    assert enabled == {"crm_search": True, "crm_list_contacts": False, "crm_update_contact": False}


# --- across connectors ---------------------------------------------------------------------

Call = Callable[[BimpeAI, str], object]
CALLS: dict[str, Call] = {
    "bimpeai.list": lambda c, a: c.agents.integrations.bimpeai.list(a),
    "bimpeai.configure": lambda c, a: c.agents.integrations.bimpeai.configure(
        a, type="google_calendar"
    ),
    "bimpeai.disconnect": lambda c, a: c.agents.integrations.bimpeai.disconnect(a, "int_x"),
    "custom_api.list": lambda c, a: c.agents.integrations.custom_api.list(a),
    "custom_api.configure": lambda c, a: c.agents.integrations.custom_api.configure(a, name="X"),
    "custom_api.disconnect": lambda c, a: c.agents.integrations.custom_api.disconnect(a, "x"),
    "custom_api.tools.list": lambda c, a: c.agents.integrations.custom_api.tools.list(a, "x"),
    "custom_api.tools.add": lambda c, a: c.agents.integrations.custom_api.tools.add(
        a, "x", {"name": "T", "http_method": "GET", "url_template": "https://t.example"}
    ),
    "custom_api.tools.delete": lambda c, a: c.agents.integrations.custom_api.tools.delete(
        a, "x", "y"
    ),
    "mcp_server.list": lambda c, a: c.agents.integrations.mcp_server.list(a),
    "mcp_server.configure": lambda c, a: c.agents.integrations.mcp_server.configure(
        a, name="X", server_url="https://x.example"
    ),
    "mcp_server.disconnect": lambda c, a: c.agents.integrations.mcp_server.disconnect(a, "x"),
    "mcp_server.discover": lambda c, a: c.agents.integrations.mcp_server.discover(a, "x"),
    "mcp_server.test": lambda c, a: c.agents.integrations.mcp_server.test(a, "x"),
    "mcp_server.tools.list": lambda c, a: c.agents.integrations.mcp_server.tools.list(a, "x"),
    "pipedream.list": lambda c, a: c.agents.integrations.pipedream.list(a),
    "pipedream.configure": lambda c, a: c.agents.integrations.pipedream.configure(
        a, app_slug="slack"
    ),
    "pipedream.disconnect": lambda c, a: c.agents.integrations.pipedream.disconnect(a, "x"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_another_teams_agent_is_not_found(
    name: str, sdk: BimpeAI, admin: Admin, emulator: RunningEmulator
) -> None:
    stranger = admin.new_team("stranger")
    with BimpeAI(api_key=stranger.api_key, base_url=emulator.url) as other:
        foreign_agent = new_agent(other)
    with pytest.raises(NotFoundError) as error:
        CALLS[name](sdk, foreign_agent)
    assert foreign_agent in str(error.value)


def _rows_of_agent(emulator: RunningEmulator, agent_id: str) -> list[str]:
    with sqlite3.connect(emulator.emulator.store.path) as db:
        rows = db.execute("SELECT kind FROM objects WHERE parent_id = ?", (agent_id,)).fetchall()
    return [str(r[0]) for r in rows]


def _database_text(emulator: RunningEmulator, team_id: str) -> str:
    with sqlite3.connect(emulator.emulator.store.path) as db:
        objects = db.execute("SELECT data FROM objects WHERE team_id = ?", (team_id,)).fetchall()
        replies = db.execute("SELECT body FROM idempotency WHERE team_id = ?", (team_id,))
        stored = [str(r[0]) for r in objects] + [bytes(r[0] or b"").decode() for r in replies]
    return "\n".join(stored)


def test_secrets_never_come_back_nor_are_stored(
    http: httpx.Client, agent_id: str, emulator: RunningEmulator, team: Team
) -> None:
    base = f"/agents/{agent_id}/integrations"
    bodies: list[str] = []

    def call(method: str, path: str, body: Any = None) -> Any:
        response = http.request(method, f"{base}{path}", json=body)
        assert response.status_code < 300, response.text
        bodies.append(response.text)
        return response.json()["data"]

    call("POST", "/bimpeai/configure", {"type": "stripe", "secret_key": SECRET})
    call("POST", "/bimpeai/configure", {"type": "bumpa", "token": SECRET})
    auth = {"token": SECRET}
    custom = call(
        "POST",
        "/custom_api/configure",
        {
            "name": "Orders",
            "base_url": "https://a.example",
            "auth_type": "bearer",
            "auth_config": auth,
        },
    )
    assert custom["auth_config_keys"] == ["token"]
    tool = {**ORDER_TOOL, "auth_type": "custom", "auth_config": {"x-signature": SECRET}}
    call("POST", f"/custom_api/{custom['id']}/tools", tool)
    mcp_body = {"name": "Hub", "server_url": "https://h.example", "auth_type": "bearer"}
    mcp = call("POST", "/mcp_server/configure", {**mcp_body, "auth_config": auth})
    call("POST", f"/mcp_server/{mcp['id']}/discover")
    for path in (
        "/bimpeai",
        "/custom_api",
        f"/custom_api/{custom['id']}/tools",
        "/mcp_server",
        f"/mcp_server/{mcp['id']}/tools",
    ):
        call("GET", path)
    bodies.append(http.get(f"/agents/{agent_id}/integrations").text)
    bodies.append(http.get(f"/agents/{agent_id}").text)
    bodies.append(http.get(f"/agents/{agent_id}/actions").text)
    assert all(SECRET not in body for body in bodies)
    assert set(json.loads(bodies[0])["data"]) == {"onboarding_url"}
    assert SECRET not in _database_text(emulator, team.id)


def test_secrets_reach_no_log(
    sdk: BimpeAI, agent_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sdk.agents.integrations.bimpeai.configure(agent_id, type="stripe", secret_key=SECRET)
    sdk.agents.integrations.mcp_server.configure(
        agent_id,
        name="Hub",
        server_url="https://hub.example",
        auth_type="bearer",
        auth_config={"token": SECRET},
    )
    with pytest.raises(ValidationError):  # a refused body is not echoed either
        sdk.agents.integrations.bimpeai.configure(agent_id, type="bumpa", secret_key=SECRET)
    assert caplog.records  # the client and server did log, only not the secret
    assert SECRET not in caplog.text


def test_deleting_the_agent_removes_connector_rows(
    sdk: BimpeAI, agent_id: str, emulator: RunningEmulator
) -> None:
    sdk.agents.integrations.bimpeai.configure(agent_id, type="stripe", secret_key=SECRET)
    integration = orders_api(sdk, agent_id)
    sdk.agents.integrations.custom_api.tools.add(agent_id, integration, ORDER_TOOL)
    server = sdk.agents.integrations.mcp_server.configure(
        agent_id, name="Hub", server_url="https://h.example"
    )
    sdk.agents.integrations.mcp_server.discover(agent_id, server.id)
    sdk.agents.integrations.pipedream.configure(agent_id, app_slug="slack")
    kinds = set(_rows_of_agent(emulator, agent_id))
    assert {
        "bimpeai_connection",
        "custom_api_integration",
        "mcp_server_integration",
        "pipedream_integration",
    } <= kinds
    sdk.agents.delete(agent_id)
    assert _rows_of_agent(emulator, agent_id) == []
    with pytest.raises(NotFoundError):
        sdk.agents.integrations.custom_api.list(agent_id)


def test_the_async_client_uses_the_connectors(async_sdk: AsyncBimpeAI, agent_id: str) -> None:
    async def scenario() -> None:
        async with async_sdk as client:
            integrations = client.agents.integrations
            server = await integrations.mcp_server.configure(
                agent_id, name="Async Hub", server_url="https://a.example"
            )
            assert (await integrations.mcp_server.test(agent_id, server.id)).success
            assert (await integrations.mcp_server.discover(agent_id, server.id)).created == 3
            assert len(await integrations.mcp_server.tools.list(agent_id, server.id)) == 3
            result = await integrations.bimpeai.configure(agent_id, type="paystack", secret_key="s")
            assert "/_emulator/onboarding/" in result.onboarding_url
            with pytest.raises(NotFoundError):
                await integrations.pipedream.disconnect(agent_id, "pd_missing")

    asyncio.run(scenario())
