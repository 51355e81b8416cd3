"""MCP servers of an agent: a server whose tools the agent may use, each as one of its actions.

BimpeAI identifies an MCP server by its name within the agent: `configure` creates one, or
updates the agent's server of that name (a new name is another server: a replace). Applying one
configures it, tests the connection (a failed test fails the change, naming the address and the
URL) and then discovers its tools, each of which becomes an action of the agent named
`<server name slug>_<tool>`. The manifest's `tools:` lists the action names the user expects the
server to offer: they are what the agent's `actions:` may enable in the same apply, and an apply
whose discovery finds one missing fails. `auth_config` and `tools` are write-only.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal, Self

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import Field, StringConstraints, model_validator

from bimpe_iac.errors import BimpeIacError
from bimpe_iac.manifest.fields import HttpUrl, Name
from bimpe_iac.manifest.models import ResourceSpec, SpecModel
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import Section, top_of
from bimpe_iac.model.views import StateEntry
from bimpe_iac.printable import one_line
from bimpe_iac.resources.base import fingerprint, in_listing, managed
from bimpe_iac.resources.custom_api import (
    CREDENTIALS,
    TOOLS_KEY,
    AuthConfig,
    AuthType,
    check_auth,
    config_name,
    credential_variable,
    plain,
)
from bimpe_iac.resources.export_keys import by_key, pick

# The manifest -------------------------------------------------------------------------

McpServerField = Literal["name", "server_url", "transport", "auth_type", "auth_config", "tools"]
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=200)]


class McpServerLifecycle(SpecModel):
    prevent_destroy: bool = False
    ignore_changes: list[McpServerField] = Field(default_factory=list)


class McpServerSpec(ResourceSpec):
    """An MCP server the agent uses: configured, tested, then its tools discovered."""

    name: Name
    """The server's name: it identifies the server within the agent (a new name replaces it),
    and its tools' action names begin with it: "Docs Hub" gives `docs_hub_search`."""
    server_url: HttpUrl
    transport: Literal["http_sse", "streamable_http"] = "streamable_http"
    auth_type: AuthType = "none"
    auth_config: AuthConfig | None = None
    """Credentials for `auth_type`: write them as ${var.NAME} of a sensitive var or ${env.NAME}."""
    tools: list[ActionName] | None = None
    """The action names the server's discovered tools must include (`docs_hub_search`): the
    agent's `actions:` may enable them. Not sent to BimpeAI."""
    lifecycle: McpServerLifecycle = Field(default_factory=McpServerLifecycle)

    @model_validator(mode="after")
    def _auth_matches(self) -> Self:
        check_auth(self.auth_type, self.auth_config)
        return self


# The live collection ---------------------------------------------------------------------


async def _mcp_servers(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    """The agent's MCP servers, each with its tool list under `_tools`."""
    servers = plain(await client.agents.integrations.mcp_server.list(in_path(agent_id)))
    for server in servers:
        tools = await client.agents.integrations.mcp_server.tools.list(
            in_path(agent_id), in_path(str(server["id"]))
        )
        server[TOOLS_KEY] = plain(tools)
    return servers


MCP_SERVERS = Collection(
    "mcp_servers", fetch_children=_mcp_servers, parent_kind="agent", needed_by="mcp_servers"
)


def live_values(obj: Obj) -> dict[str, Any]:
    config = obj.get("config") or {}
    return {
        "name": str(config.get("name") or "").strip(),
        "server_url": config.get("server_url"),
        "transport": config.get("transport"),
        "auth_type": config.get("auth_type") or "none",
    }


def offered(obj: Obj, disabled_by_stack: frozenset[str] = frozenset()) -> list[str]:
    """The action names of the server's tools it still offers. BimpeAI disables a tool the
    server stopped offering, and so does an agent's `actions:` that leaves it out: a disabled
    tool counts as offered when the stack's own actions set is why it is disabled."""
    return [
        str(tool["action_name"])
        for tool in obj.get(TOOLS_KEY) or []
        if isinstance(tool, dict)
        and tool.get("action_name")
        and (tool.get("is_enabled") or tool["action_name"] in disabled_by_stack)
    ]


def _disabled_by_stack(context: PlanContext, address: str, names: list[str]) -> frozenset[str]:
    agent = context.stack.resources.get(top_of(address))
    actions = getattr(agent.spec, "actions", None) if agent is not None else None
    if actions is None:
        return frozenset()
    return frozenset(name for name in names if name not in actions)


# The kind -----------------------------------------------------------------------------------

NOT_SENT = frozenset({"tools"})


class McpServerKind:
    name: str = "mcp_server"
    collections: tuple[Collection, ...] = (MCP_SERVERS,)
    set_fields: frozenset[str] = frozenset({"tools"})
    replace_fields: frozenset[str] = frozenset({"name"})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset({"auth_config", *NOT_SENT})

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries(SECTION_NAME):
            spec, parent = entry.spec, str(entry.holder)
            values = managed(spec, exclude={"lifecycle"})
            values["name"] = values["name"].strip()
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(parent,),
                    parent=parent,
                    provides=tuple(spec.tools or ()),
                    lifecycle=Lifecycle(
                        spec.lifecycle.prevent_destroy, frozenset(spec.lifecycle.ignore_changes)
                    ),
                    source=str(spec.source) if spec.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None or entry.parent_id is None:
            return None
        obj = (context.fetched.under(MCP_SERVERS.name, entry.parent_id) or {}).get(entry.id)
        if obj is None:
            return None
        expected = next(
            (
                e.spec.tools or []
                for e in context.stack.entries(SECTION_NAME)
                if e.address == address
            ),
            [],
        )
        has = offered(obj, _disabled_by_stack(context, address, expected))
        missing = [name for name in expected if name not in has]
        notes: tuple[str, ...] = ()
        if missing:
            notes = (
                f"the server offers no tool {', '.join(missing)} (it offers: "
                f"{', '.join(has) or 'none'})",
            )
        print_ = fingerprint({k: v for k, v in obj.items() if k != TOOLS_KEY})
        return Live(address, entry.id, live_values(obj), print_, obj.get("updated_at"), notes)

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(MCP_SERVERS.name, parent_id) if parent_id else None
        return [
            id
            for id, obj in (listing or {}).items()
            if live_values(obj)["name"] == want.values["name"]
        ]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        id = await _apply(
            client, request.address, request.parent_id, request.values, request.idempotency_key
        )
        return Created(id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        assert request.parent_id is not None
        name = request.values.get("name")
        await _apply(client, f"MCP server {name!r}", request.parent_id, request.values, None)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        with contextlib.suppress(NotFoundError):
            await client.agents.integrations.mcp_server.disconnect(in_path(parent_id), in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        return await in_listing(client.agents.integrations.mcp_server.list, id, parent_id)


async def _apply(
    client: AsyncBimpeAI,
    what: str,
    agent_id: str,
    values: dict[str, Any],
    idempotency_key: str | None,
) -> str:
    """Configure the server (every value: what is not sent is cleared), test the connection,
    discover its tools and check that those the manifest expects are among them."""
    servers = client.agents.integrations.mcp_server
    body: Any = {k: v for k, v in values.items() if k not in NOT_SENT and v is not None}
    made = await servers.configure(in_path(agent_id), idempotency_key=idempotency_key, **body)
    url = one_line(str(values.get("server_url")))
    test = await servers.test(in_path(agent_id), in_path(made.id))
    if not test.success:
        reason = one_line(test.error or test.message)
        raise BimpeIacError(f"{what}: the MCP server at {url} failed its connection test: {reason}")
    await servers.discover(in_path(agent_id), in_path(made.id))
    expected = values.get("tools") or []
    if expected:
        tools = await servers.tools.list(in_path(agent_id), in_path(made.id))
        has = [tool.action_name for tool in tools]
        missing = [name for name in expected if name not in has]
        if missing:
            raise BimpeIacError(
                f"{what}: the MCP server at {url} offers no tool {', '.join(missing)}"
                f" (it offers: {', '.join(has) or 'none'})"
            )
    return made.id


KIND = McpServerKind()


# Export ----------------------------------------------------------------------------------


def _exported(context: ExportContext, agent_key: str, key: str, server: Obj) -> Obj:
    config = server.get("config") or {}
    out = pick(config, ("name", "server_url"))
    if config.get("transport") not in (None, "streamable_http"):
        out["transport"] = config["transport"]
    if config.get("auth_type") not in (None, "none"):
        out["auth_type"] = config["auth_type"]
    keys = [k for k in server.get("auth_config_keys") or [] if k in (*CREDENTIALS, "header_name")]
    if keys:
        name = config.get("name")
        out["auth_config"] = {
            field: credential_variable(
                context,
                agent_key,
                key,
                field,
                what=f"the {field} of MCP server {name!r} of agent {agent_key}",
            )
            for field in keys
        }
    tools = offered(server)
    if tools:
        out["tools"] = tools
    return out


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """An agent's MCP servers, with the tools they offer; credentials become sensitive vars."""
    if holder is None:
        return []
    found = context.team.under(MCP_SERVERS.name, holder.id)
    return [
        Exported(key, str(server["id"]), _exported(context, holder.key, key, server))
        for key, server in by_key(found, "mcp", config_name)
    ]


SECTION_NAME = "mcp_servers"
SECTION = Section(
    SECTION_NAME,
    McpServerSpec,
    "MCP server",
    within="agents",
    export=export,
    description="MCP servers by key. Applying one tests it and discovers its tools. One removed "
    "from the manifest is disconnected, with its tools' actions.",
)
