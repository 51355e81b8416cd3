"""Integration connectors of an agent: first-party (BimpeAI) connectors, custom HTTP APIs with
their tools, MCP servers with their discovered tools, and Pipedream apps.

Every row lives under the agent (parent_id = agent id), so deleting the agent removes it.

- Onboarding: `configure` of a first-party connector or a Pipedream app answers an onboarding
  URL on the emulator itself, `<base>/_emulator/onboarding/<token>` (one per integration; the
  token is unguessable, so opening it needs no key). Opening it (GET) completes a pending
  onboarding and shows a small HTML page; `POST /_emulator/teams/<team>/onboarding/complete`
  (admin) completes them for tests. A new token is issued each time an onboarding starts anew.
- First-party connectors (bumpa, google_calendar, google_sheets, paystack, stripe) are the
  agent's built-in integrations of those types. stripe and paystack need `secret_key`
  (`public_key` and `currency` optional) and bumpa needs `token`: they connect at once. The
  Google ones take nothing and are OAuth connectors: they stay `pending` (is_connected false)
  until a person completes the onboarding. A field the type does not use is a 400. Configuring
  again replaces the settings (a connected Google connector stays connected). `disconnect`
  marks it not connected and drops its onboarding (a no-op when it is not connected). Neither
  touches the integration's actions.
- Custom APIs: `configure` creates the integration, or updates the agent's one of the same name.
  `auth_config` must fit `auth_type` (bearer: token; basic: username and password; api_key:
  api_key; custom: anything non-empty; none: nothing). Each tool added is also an agent action
  (integration_type custom_api, action_name = slug of the tool name, enabled), so
  `agents.actions.list/enable/disable` see it; an action_name the agent already has is a 409.
  `url_template` is a path under `base_url` or an absolute http(s) URL, and each `{placeholder}`
  in it must be declared in `url_params`. Deleting a tool or disconnecting removes the actions.
- MCP servers: `configure` creates or updates by name (transport streamable_http and auth_type
  none by default). The emulator has no network: a server is reachable unless its URL is http
  (MCP is reached over TLS only) or its host ends in `.invalid` (RFC 2606: it never resolves).
  `test` reports that, with the number of tools it offers. `discover` (reachable only, else 400)
  finds the tools the URL names in its `tools` query parameter (`?tools=search,get_record`),
  by default search, get_record and create_record; each is named <server name slug>_<tool>.
  New ones become enabled actions
  (integration_type mcp_server), known ones are refreshed keeping their enabled state, and
  enabled ones no longer offered are disabled; the answer counts each.
- Pipedream: `configure` records the app (one per app_slug) with its MCP server URL and answers
  an onboarding URL; the app shows `connected: false` (a field beyond the SDK model) until the
  onboarding is completed. It adds no actions.
- Tool lists answer the SDK's IntegrationTool fields only, never a custom tool's definition.
- Secrets (`token`, `public_key`, `secret_key`, `auth_config`) are never stored nor returned:
  only the names of the fields that were set (`credentials_set`, `auth_config_keys`).
- `agents.integrations.list` still lists only the built-in integrations; custom API and MCP tools
  show up in `agents.actions.list`.
- Unknown ids, and another team's agent, are 404.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterable
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from bimpeai import (
    BimpeaiIntegration,
    CustomApiIntegration,
    IntegrationTool,
    McpServerDiscoverResult,
    McpServerIntegration,
    McpServerTestResult,
    OnboardingUrl,
    PipedreamIntegration,
)
from fastapi import APIRouter, Request
from pydantic import AfterValidator, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from bimpe_iac.emulator.bodies import (
    INT64_MAX,
    URL_PATTERN,
    Body,
    JsonValue,
    Name,
    ShortText,
    Url,
    storable,
)
from bimpe_iac.emulator.common import new_id, store_of, team_of
from bimpe_iac.emulator.envelopes import Envelope
from bimpe_iac.emulator.responses import ApiError, conflict, invalid, not_found, ok
from bimpe_iac.emulator.routes.agents import owned_agent
from bimpe_iac.emulator.store import Store, now_iso

router = APIRouter(prefix="/agents/{agent_id}/integrations", tags=["integration connectors"])

PIPEDREAM_MCP_URL = "https://mcp.pipedream.net"
CONNECTION = "bimpeai_connection"
CUSTOM_API = "custom_api_integration"
MCP_SERVER = "mcp_server_integration"
PIPEDREAM = "pipedream_integration"
ONBOARDING = "connector_onboarding"
ONBOARDING_PATH = "/_emulator/onboarding"

FirstPartyType = Literal["bumpa", "google_calendar", "google_sheets", "paystack", "stripe"]
AuthType = Literal["none", "bearer", "basic", "api_key", "custom"]
CREDENTIALS = ("token", "public_key", "secret_key")
# type -> (fields it needs, fields it accepts)
FIRST_PARTY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bumpa": (("token",), ("token",)),
    "google_calendar": ((), ()),
    "google_sheets": ((), ()),
    "paystack": (("secret_key",), ("secret_key", "public_key", "currency")),
    "stripe": (("secret_key",), ("secret_key", "public_key", "currency")),
}
# First-party types a person authorises in a browser (OAuth): they wait for the onboarding.
OAUTH_TYPES = frozenset({"google_calendar", "google_sheets"})
AUTH_NEEDS: dict[str, tuple[str, ...]] = {
    "none": (),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("api_key",),
    "custom": (),
}
MCP_TOOLS = {
    "search": "Search {name} for matching records.",
    "get_record": "Read one record from {name} by its id.",
    "create_record": "Create a record in {name}.",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# --- request bodies ----------------------------------------------------------------------------


def _endpoint(value: str) -> str:
    if not re.fullmatch(r"/\S*", value) and not re.match(URL_PATTERN, value):
        raise PydanticCustomError("endpoint", "must be a path starting with '/' or an http(s) URL")
    return value


def _app_slug(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
        raise PydanticCustomError("app_slug", "must be lowercase letters, digits, '_' or '-'")
    return value


def _currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise PydanticCustomError("currency", "must be a three-letter ISO 4217 code")
    return value.upper()


Secret = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Endpoint = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_endpoint)]
AppSlug = Annotated[str, StringConstraints(max_length=100), AfterValidator(_app_slug)]
Currency = Annotated[str, AfterValidator(_currency)]
ParamName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class ConfigureFirstParty(Body):
    type: FirstPartyType
    token: Secret | None = None
    public_key: Secret | None = None
    secret_key: Secret | None = None
    currency: Currency | None = None


class AuthConfig(Body):
    token: Secret | None = None
    api_key: Secret | None = None
    header_name: Secret | None = None
    username: Secret | None = None
    password: Secret | None = None


class ConfigureCustomApi(Body):
    name: Name
    description: ShortText | None = None
    base_url: Url | None = None
    auth_type: AuthType = "none"
    auth_config: AuthConfig | None = None
    test_endpoint: Endpoint | None = None


class ParameterDefinition(Body):
    name: ParamName
    type: Literal["string", "number", "integer", "boolean", "array", "object"]
    description: ShortText
    required: bool | None = None
    items: ParameterDefinition | None = None
    properties: dict[str, JsonValue] | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_too_deep(cls, data: Any) -> Any:
        """`items` nest: bounded before pydantic walks them, as the store could not write them."""
        return storable(data)


class ResponseMapping(Body):
    path: ShortText | None = None
    success_message: ShortText | None = None
    error_message: ShortText | None = None


class CreateCustomApiTool(Body):
    name: Name
    http_method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
    url_template: Endpoint
    description: ShortText | None = None
    url_params: list[ParameterDefinition] | None = None
    body_params: list[ParameterDefinition] | None = None
    headers_template: dict[str, JsonValue] | None = None
    body_template: dict[str, JsonValue] | None = None
    auth_type: AuthType | None = None
    auth_config: dict[str, JsonValue] | None = None
    response_mapping: ResponseMapping | None = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    require_human_approval: bool | None = None
    timeout: Annotated[int, Field(ge=1, le=INT64_MAX)] | None = None


class ConfigureMcpServer(Body):
    name: Name
    server_url: Url
    transport: Literal["http_sse", "streamable_http"] = "streamable_http"
    auth_type: AuthType = "none"
    auth_config: AuthConfig | None = None


class ConfigurePipedream(Body):
    app_slug: AppSlug
    app_name: Name | None = None
    app_icon: Url | None = None


# --- helpers -----------------------------------------------------------------------------------


def _agent_store(request: Request, agent_id: str) -> tuple[Store, str]:
    """The store and the caller's team, once the agent is known to belong to that team."""
    store = store_of(request)
    team = team_of(request)
    owned_agent(store, team, agent_id)
    return store, team


def _row(
    store: Store, team: str, kind: str, agent_id: str, row_id: str, what: str
) -> dict[str, Any]:
    row = store.get(kind, row_id, (team,), parent_id=agent_id)
    if row is None:
        raise not_found(what, row_id)
    return row


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _name_slug(name: str) -> str:
    value = _slug(name)
    if not value:
        raise invalid("name: must contain a letter or a digit")
    return value


def _auth_keys(auth_type: str, config: dict[str, Any] | None, path: str) -> list[str]:
    """The names of the credentials given, once they are checked against `auth_type`."""
    given = sorted(k for k, v in (config or {}).items() if v not in (None, ""))
    if auth_type == "none" and given:
        raise invalid(f"{path}: not used when auth_type is none")
    if auth_type == "custom" and not given:
        raise invalid(f"{path}: at least one credential is required when auth_type is custom")
    missing = [k for k in AUTH_NEEDS[auth_type] if k not in given]
    if missing:
        raise invalid(
            *(f"{path}.{k}: field required when auth_type is {auth_type}" for k in missing)
        )
    return given


def _actions_of(store: Store, agent_id: str, integration_id: str) -> list[dict[str, Any]]:
    return [a for a in store.children("action", agent_id) if a["integration_id"] == integration_id]


def _remove_integration(store: Store, agent_id: str, integration_id: str) -> None:
    with store.transaction():
        for action in _actions_of(store, agent_id, integration_id):
            store.delete(action["id"])
        store.delete(integration_id)


def _tool(action: dict[str, Any], category: str) -> dict[str, Any]:
    """A tool as the SDK's IntegrationTool has it: never its definition."""
    keys = ("id", "action_name", "name", "description", "is_enabled")
    return {**{k: action[k] for k in keys}, "category": category}


def _by_name(store: Store, kind: str, agent_id: str, name: str) -> dict[str, Any] | None:
    return next((r for r in store.children(kind, agent_id) if r["config"]["name"] == name), None)


def _upsert(store: Store, team: str, kind: str, agent_id: str, row: dict[str, Any]) -> None:
    if store.get(kind, row["id"], (team,), parent_id=agent_id) is None:
        store.insert(kind, team, row, parent_id=agent_id)
    else:
        store.replace(row)


# --- onboarding --------------------------------------------------------------------------------


def _onboarding(
    store: Store, agent_id: str, integration_id: str, family: str, label: str, *, pending: bool
) -> dict[str, Any]:
    """The integration's onboarding row, updated for a new `configure` (not yet saved).

    A pending onboarding keeps its token, so configuring again answers the same URL; one that
    starts anew gets a fresh token."""
    rows = store.children(ONBOARDING, agent_id)
    row = next((o for o in rows if o["integration_id"] == integration_id), None)
    at = now_iso()
    if row is None:
        row = {"id": new_id("onb"), "integration_id": integration_id, "created_at": at}
    if row.get("status") != "pending" or "token" not in row:
        row["token"] = secrets.token_urlsafe(32)
    row.update(
        agent_id=agent_id,
        family=family,
        label=label,
        status="pending" if pending else "completed",
        updated_at=at,
    )
    return row


def _onboarding_url(request: Request, row: dict[str, Any]) -> str:
    return f"{str(request.base_url).rstrip('/')}{ONBOARDING_PATH}/{row['token']}"


def _drop_onboarding(store: Store, agent_id: str, integration_id: str) -> None:
    for row in store.children(ONBOARDING, agent_id):
        if row["integration_id"] == integration_id:
            store.delete(row["id"])


def onboarding_by_token(store: Store, token: str) -> dict[str, Any] | None:
    """The onboarding a token opens, in any team (the token is the credential)."""
    rows = store.find(ONBOARDING, None, token=token)
    return rows[0] if rows else None


def pending_onboardings(
    store: Store, team_id: str, integration_id: str | None = None
) -> list[dict[str, Any]]:
    rows = store.find(ONBOARDING, team_id, status="pending")
    return [r for r in rows if integration_id in (None, r["integration_id"])]


def complete_onboardings(store: Store, team_id: str, rows: Iterable[dict[str, Any]]) -> None:
    """Mark pending onboardings of a team completed, and their integrations connected."""
    changed: list[dict[str, Any]] = []
    for row in rows:
        if row["status"] != "pending":
            continue
        kind = "integration" if row["family"] == "bimpeai" else PIPEDREAM
        target = store.get(kind, row["integration_id"], (team_id,), parent_id=row["agent_id"])
        if target is None:
            continue
        if row["family"] == "bimpeai":
            target.update(status="connected", is_connected=True)
        else:
            target.update(connected=True, updated_at=now_iso())
        row.update(status="completed", completed_at=now_iso())
        changed += [target, row]
    with store.transaction():
        store.replace_many(changed)


def onboarding_page(title: str, text: str) -> str:
    """The small HTML page a person sees on opening an onboarding URL."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>\n"
    )


# --- first-party (BimpeAI) connectors ----------------------------------------------------------


def _first_party_rows(store: Store, agent_id: str) -> list[dict[str, Any]]:
    return [i for i in store.children("integration", agent_id) if i["type"] in FIRST_PARTY]


def _connection(store: Store, agent_id: str, integration_id: str) -> dict[str, Any] | None:
    rows = store.children(CONNECTION, agent_id)
    return next((c for c in rows if c["integration_id"] == integration_id), None)


@router.get("/bimpeai", response_model=Envelope[list[BimpeaiIntegration]])
async def list_first_party(request: Request, agent_id: str) -> Response:
    store, _ = _agent_store(request, agent_id)
    connections = {c["integration_id"]: c for c in store.children(CONNECTION, agent_id)}
    out = []
    for integration in _first_party_rows(store, agent_id):
        connection = connections.get(integration["id"], {})
        keys = ("id", "type", "name", "status", "is_connected")
        out.append(
            {
                **{k: integration[k] for k in keys},
                "currency": connection.get("currency"),
                "credentials_set": connection.get("credentials_set", []),
            }
        )
    return ok(out)


@router.post("/bimpeai/configure", response_model=Envelope[OnboardingUrl])
async def configure_first_party(
    request: Request, agent_id: str, body: ConfigureFirstParty
) -> Response:
    store, team = _agent_store(request, agent_id)
    fields = body.model_dump(exclude_none=True, exclude={"type"})
    needs, accepts = FIRST_PARTY[body.type]
    errors = [f"{k}: not used by {body.type}" for k in fields if k not in accepts]
    errors += [f"{k}: field required for {body.type}" for k in needs if k not in fields]
    if errors:
        raise invalid(*errors)
    rows = _first_party_rows(store, agent_id)
    integration = next((i for i in rows if i["type"] == body.type), None)
    if integration is None:
        raise not_found("BimpeAI integration", body.type)
    connection = _connection(store, agent_id, integration["id"]) or {
        "id": new_id("bcn"),
        "integration_id": integration["id"],
        "type": body.type,
    }
    connection.update(
        currency=fields.get("currency"),
        credentials_set=sorted(k for k in fields if k in CREDENTIALS),
        configured_at=now_iso(),
    )
    waits = body.type in OAUTH_TYPES and not integration["is_connected"]
    onboarding = _onboarding(
        store, agent_id, integration["id"], "bimpeai", integration["name"], pending=waits
    )
    if waits:
        integration.update(status="pending", is_connected=False)
    else:
        integration.update(status="connected", is_connected=True)
    with store.transaction():
        _upsert(store, team, CONNECTION, agent_id, connection)
        _upsert(store, team, ONBOARDING, agent_id, onboarding)
        store.replace(integration)
    return ok({"onboarding_url": _onboarding_url(request, onboarding)}, "Integration configured")


@router.delete("/bimpeai/{integration_id}", response_model=Envelope[None])
async def disconnect_first_party(request: Request, agent_id: str, integration_id: str) -> Response:
    store, _ = _agent_store(request, agent_id)
    rows = {i["id"]: i for i in _first_party_rows(store, agent_id)}
    integration = rows.get(integration_id)
    if integration is None:
        raise not_found("BimpeAI integration", integration_id)
    connection = _connection(store, agent_id, integration_id)
    integration.update(status="not_connected", is_connected=False)
    with store.transaction():
        if connection is not None:
            store.delete(connection["id"])
        _drop_onboarding(store, agent_id, integration_id)
        store.replace(integration)
    return ok(None, "Integration disconnected")


# --- custom APIs -------------------------------------------------------------------------------


def _custom_api(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "tools"}


def _custom_tool(action: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    return _tool(action, definition["category"])


@router.get("/custom_api", response_model=Envelope[list[CustomApiIntegration]])
async def list_custom_apis(request: Request, agent_id: str) -> Response:
    store, _ = _agent_store(request, agent_id)
    return ok([_custom_api(r) for r in store.children(CUSTOM_API, agent_id)])


@router.post("/custom_api/configure", response_model=Envelope[CustomApiIntegration])
async def configure_custom_api(
    request: Request, agent_id: str, body: ConfigureCustomApi
) -> Response:
    store, team = _agent_store(request, agent_id)
    config = body.auth_config.model_dump(exclude_none=True) if body.auth_config else None
    auth_keys = _auth_keys(body.auth_type, config, "auth_config")
    row = _by_name(store, CUSTOM_API, agent_id, body.name)
    relative = (body.test_endpoint or "").startswith("/")
    if body.base_url is None and relative:
        raise invalid("test_endpoint: a path needs base_url")
    if body.base_url is None and row is not None:
        for definition in row["tools"].values():
            if definition["url_template"].startswith("/"):
                raise invalid("base_url: the integration's tools use paths under it")
    at = now_iso()
    row = row or {"id": new_id("capi"), "tools": {}, "created_at": at}
    row.update(
        config={"name": body.name, "base_url": body.base_url, "auth_type": body.auth_type},
        description=body.description,
        test_endpoint=body.test_endpoint,
        auth_config_keys=auth_keys,
        updated_at=at,
    )
    _upsert(store, team, CUSTOM_API, agent_id, row)
    return ok(_custom_api(row), "Integration configured")


@router.delete("/custom_api/{integration_id}", response_model=Envelope[None])
async def disconnect_custom_api(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    _row(store, team, CUSTOM_API, agent_id, integration_id, "custom API integration")
    _remove_integration(store, agent_id, integration_id)
    return ok(None, "Integration disconnected")


@router.get("/custom_api/{integration_id}/tools", response_model=Envelope[list[IntegrationTool]])
async def list_custom_api_tools(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    row = _row(store, team, CUSTOM_API, agent_id, integration_id, "custom API integration")
    actions = _actions_of(store, agent_id, integration_id)
    return ok([_custom_tool(a, row["tools"][a["id"]]) for a in actions])


def _check_template(body: CreateCustomApiTool, base_url: str | None) -> None:
    errors: list[str] = []
    if body.url_template.startswith("/") and base_url is None:
        errors.append("url_template: a path needs the integration's base_url")
    declared = {p.name for p in body.url_params or []}
    for placeholder in _PLACEHOLDER.findall(body.url_template):
        if placeholder not in declared:
            errors.append(f"url_template: placeholder {{{placeholder}}} is not in url_params")
    for field in ("url_params", "body_params"):
        names = [p.name for p in getattr(body, field) or []]
        for i, name in enumerate(names):
            if name in names[:i]:
                errors.append(f"{field}.{i}.name: duplicate parameter '{name}'")
    if errors:
        raise invalid(*errors)


@router.post(
    "/custom_api/{integration_id}/tools",
    response_model=Envelope[IntegrationTool],
    status_code=201,
)
async def add_custom_api_tool(
    request: Request, agent_id: str, integration_id: str, body: CreateCustomApiTool
) -> Response:
    store, team = _agent_store(request, agent_id)
    row = _row(store, team, CUSTOM_API, agent_id, integration_id, "custom API integration")
    action_name = _name_slug(body.name)
    _check_template(body, row["config"]["base_url"])
    if body.auth_type is None and body.auth_config:
        raise invalid("auth_type: field required when auth_config is given")
    auth_keys = (
        _auth_keys(body.auth_type, body.auth_config, "auth_config") if body.auth_type else []
    )
    if any(a["action_name"] == action_name for a in store.children("action", agent_id)):
        raise conflict(f"agent {agent_id} already has an action named '{action_name}'")
    fields = body.model_dump(exclude_none=True, exclude={"name", "description", "auth_config"})
    definition = {
        **fields,
        "category": body.category or "custom_api",
        "require_human_approval": bool(body.require_human_approval),
        "auth_type": body.auth_type,
        "auth_config_keys": auth_keys,
    }
    action = {
        "id": new_id("act"),
        "integration_id": integration_id,
        "integration_type": "custom_api",
        "integration_name": row["config"]["name"],
        "name": body.name,
        "action_name": action_name,
        "description": body.description,
        "is_enabled": True,
    }
    row["tools"][action["id"]] = definition
    row["updated_at"] = now_iso()
    with store.transaction():
        store.insert("action", team, action, parent_id=agent_id)
        store.replace(row)
    return ok(_custom_tool(action, definition), "Tool added", status=201)


@router.delete("/custom_api/{integration_id}/tools/{tool_id}", response_model=Envelope[None])
async def delete_custom_api_tool(
    request: Request, agent_id: str, integration_id: str, tool_id: str
) -> Response:
    store, team = _agent_store(request, agent_id)
    row = _row(store, team, CUSTOM_API, agent_id, integration_id, "custom API integration")
    if tool_id not in row["tools"]:
        raise not_found("tool", tool_id)
    del row["tools"][tool_id]
    row["updated_at"] = now_iso()
    with store.transaction():
        store.delete(tool_id)
        store.replace(row)
    return ok(None, "Tool deleted")


# --- MCP servers -------------------------------------------------------------------------------


def _mcp_reachable(row: dict[str, Any]) -> str | None:
    """Why the server cannot be reached, or None when it can (the emulator has no network)."""
    url = urlsplit(str(row["config"]["server_url"]))
    if url.scheme != "https":
        return "the server URL is not https; MCP servers are reached over TLS only"
    host = (url.hostname or "").rstrip(".")
    if host == "invalid" or host.endswith(".invalid"):
        return f"could not resolve host {host}"
    return None


def _mcp_offered(row: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """action_name -> (title, description) of the tools the server offers: those its URL names
    in `tools=` (comma-separated), else the default three."""
    name = row["config"]["name"]
    query = parse_qs(urlsplit(str(row["config"]["server_url"])).query)
    wanted = [_slug(t) for v in query.get("tools", []) for t in v.split(",")]
    suffixes = list(dict.fromkeys(t for t in wanted if t)) or list(MCP_TOOLS)
    prefix = _slug(name)
    return {
        f"{prefix}_{suffix}": (
            suffix.replace("_", " ").capitalize(),
            MCP_TOOLS.get(suffix, "{title} in {name}.").format(
                name=name, title=suffix.replace("_", " ").capitalize()
            ),
        )
        for suffix in suffixes
    }


@router.get("/mcp_server", response_model=Envelope[list[McpServerIntegration]])
async def list_mcp_servers(request: Request, agent_id: str) -> Response:
    store, _ = _agent_store(request, agent_id)
    return ok(store.children(MCP_SERVER, agent_id))


@router.post("/mcp_server/configure", response_model=Envelope[McpServerIntegration])
async def configure_mcp_server(
    request: Request, agent_id: str, body: ConfigureMcpServer
) -> Response:
    store, team = _agent_store(request, agent_id)
    _name_slug(body.name)
    config = body.auth_config.model_dump(exclude_none=True) if body.auth_config else None
    auth_keys = _auth_keys(body.auth_type, config, "auth_config")
    at = now_iso()
    row = _by_name(store, MCP_SERVER, agent_id, body.name) or {
        "id": new_id("mcp"),
        "created_at": at,
    }
    row.update(
        config={
            "name": body.name,
            "server_url": body.server_url,
            "transport": body.transport,
            "auth_type": body.auth_type,
        },
        auth_config_keys=auth_keys,
        updated_at=at,
    )
    _upsert(store, team, MCP_SERVER, agent_id, row)
    return ok(row, "Integration configured")


@router.delete("/mcp_server/{integration_id}", response_model=Envelope[None])
async def disconnect_mcp_server(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    _row(store, team, MCP_SERVER, agent_id, integration_id, "MCP server integration")
    _remove_integration(store, agent_id, integration_id)
    return ok(None, "Integration disconnected")


@router.post("/mcp_server/{integration_id}/test", response_model=Envelope[McpServerTestResult])
async def check_mcp_server(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    row = _row(store, team, MCP_SERVER, agent_id, integration_id, "MCP server integration")
    name = row["config"]["name"]
    error = _mcp_reachable(row)
    if error is None:
        tools_count = len(_mcp_offered(row))
        result = {"success": True, "message": f"Connected to {name}", "tools_count": tools_count}
    else:
        result = {"success": False, "message": f"Could not connect to {name}", "error": error}
    return ok({"error": None, "tools_count": None, **result}, "Connection tested")


@router.post(
    "/mcp_server/{integration_id}/discover", response_model=Envelope[McpServerDiscoverResult]
)
async def discover_mcp_tools(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    row = _row(store, team, MCP_SERVER, agent_id, integration_id, "MCP server integration")
    name = row["config"]["name"]
    error = _mcp_reachable(row)
    if error is not None:
        raise ApiError(400, "bad_request", f"could not connect to MCP server {name}: {error}")
    offered = _mcp_offered(row)
    all_actions = store.children("action", agent_id)
    taken = [
        a["action_name"]
        for a in all_actions
        if a["action_name"] in offered and a["integration_id"] != integration_id
    ]
    if taken:
        raise conflict(f"agent {agent_id} already has actions named {', '.join(taken)}")
    own = {a["action_name"]: a for a in all_actions if a["integration_id"] == integration_id}
    created: list[dict[str, Any]] = []
    refreshed: list[dict[str, Any]] = []
    for action_name, (title, description) in offered.items():
        action = own.get(action_name)
        if action is None:
            created.append(
                {
                    "id": new_id("act"),
                    "integration_id": integration_id,
                    "integration_type": "mcp_server",
                    "integration_name": name,
                    "name": title,
                    "action_name": action_name,
                    "description": description,
                    "is_enabled": True,
                }
            )
        else:
            action.update(name=title, description=description, integration_name=name)
            refreshed.append(action)
    stale = [a for n, a in own.items() if n not in offered and a["is_enabled"]]
    for action in stale:
        action["is_enabled"] = False
    row["last_discovered_at"] = now_iso()
    with store.transaction():
        store.insert_many("action", team, created, parent_id=agent_id)
        store.replace_many([*refreshed, *stale, row])
    result = {
        "discovered": len(offered),
        "created": len(created),
        "updated": len(refreshed),
        "disabled": len(stale),
    }
    return ok(result, "Tools discovered")


@router.get("/mcp_server/{integration_id}/tools", response_model=Envelope[list[IntegrationTool]])
async def list_mcp_tools(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    _row(store, team, MCP_SERVER, agent_id, integration_id, "MCP server integration")
    actions = _actions_of(store, agent_id, integration_id)
    return ok([_tool(a, "mcp_server") for a in actions])


# --- Pipedream ---------------------------------------------------------------------------------


@router.get("/pipedream", response_model=Envelope[list[PipedreamIntegration]])
async def list_pipedream_apps(request: Request, agent_id: str) -> Response:
    store, _ = _agent_store(request, agent_id)
    return ok(store.children(PIPEDREAM, agent_id))


@router.post("/pipedream/configure", response_model=Envelope[OnboardingUrl])
async def configure_pipedream(
    request: Request, agent_id: str, body: ConfigurePipedream
) -> Response:
    store, team = _agent_store(request, agent_id)
    rows = store.children(PIPEDREAM, agent_id)
    at = now_iso()
    row = next((r for r in rows if r["config"]["app_slug"] == body.app_slug), None) or {
        "id": new_id("pd"),
        "channel_type": "pipedream",
        "connected": False,
        "created_at": at,
    }
    row.update(
        config={
            "app_slug": body.app_slug,
            "app_name": body.app_name,
            "app_icon": body.app_icon,
            "server_url": f"{PIPEDREAM_MCP_URL}/{agent_id}/{body.app_slug}",
        },
        updated_at=at,
    )
    label = body.app_name or body.app_slug
    onboarding = _onboarding(
        store,
        agent_id,
        row["id"],
        "pipedream",
        label,
        pending=not row.setdefault("connected", False),
    )
    with store.transaction():
        _upsert(store, team, PIPEDREAM, agent_id, row)
        _upsert(store, team, ONBOARDING, agent_id, onboarding)
    return ok({"onboarding_url": _onboarding_url(request, onboarding)}, "Integration configured")


@router.delete("/pipedream/{integration_id}", response_model=Envelope[None])
async def disconnect_pipedream(request: Request, agent_id: str, integration_id: str) -> Response:
    store, team = _agent_store(request, agent_id)
    _row(store, team, PIPEDREAM, agent_id, integration_id, "Pipedream integration")
    with store.transaction():
        _drop_onboarding(store, agent_id, integration_id)
        store.delete(integration_id)
    return ok(None, "Integration disconnected")


def enabled_tools(store: Store, agent_id: str) -> dict[str, dict[str, Any]]:
    """The definitions of the agent's enabled custom API tools, by action name."""
    rows = {row["id"]: row for row in store.children(CUSTOM_API, agent_id)}
    out: dict[str, dict[str, Any]] = {}
    for action in store.children("action", agent_id):
        row = rows.get(action.get("integration_id") or "")
        if row is not None and action.get("is_enabled") and action["id"] in row["tools"]:
            out[str(action["action_name"])] = row["tools"][action["id"]]
    return out
