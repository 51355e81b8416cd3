"""The tools of a custom API: each one HTTP request the agent may make, and an action of the agent
(`action_name`, the tool's name in lowercase with `_` between words) that its `actions:` may
enable.

BimpeAI answers only a tool's name, description, category and whether its action is on: the
definition (method, URL template, parameters, templates, response mapping, approval, timeout,
credentials) is write-only, compared with what the last apply sent. A tool has no update: any
change deletes it and adds it again (a replace). Tools are read from the agent's custom API
listing, which carries each API's tool list (`custom_api.CUSTOM_APIS`); their parent, whose id
scopes their requests, is the agent, and the name of their API is a value of theirs
(`custom_api`): a create finds the API's id by that name when it runs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal, Self

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import Field, JsonValue, model_validator

from bimpe_iac.errors import BimpeIacError
from bimpe_iac.manifest.fields import Name, Short
from bimpe_iac.manifest.models import ResourceSpec, SpecModel
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import Section, holder_of
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed
from bimpe_iac.resources.collections import ACTIONS
from bimpe_iac.resources.custom_api import (
    CUSTOM_APIS,
    TOOLS_KEY,
    AuthConfig,
    AuthType,
    check_auth,
    live_values,
)
from bimpe_iac.resources.export_keys import by_key, pick

# The manifest -------------------------------------------------------------------------

ParameterType = Literal["string", "number", "integer", "boolean", "array", "object"]
ToolField = Literal[
    "name",
    "description",
    "category",
    "http_method",
    "url_template",
    "url_params",
    "body_params",
    "headers_template",
    "body_template",
    "auth_type",
    "auth_config",
    "response_mapping",
    "require_human_approval",
    "timeout",
]


class ParameterDefinition(SpecModel):
    """A parameter the agent fills in when it calls the tool."""

    name: Name
    type: ParameterType
    description: Short
    """What the agent should put there."""
    required: bool | None = None
    items: ParameterDefinition | None = None
    """The type of the items, for an array."""
    properties: dict[str, JsonValue] | None = None
    """The fields, for an object."""


class ResponseMapping(SpecModel):
    path: Short | None = None
    """Where in the answer the result is (a dotted path)."""
    success_message: Short | None = None
    error_message: Short | None = None


class ToolLifecycle(SpecModel):
    prevent_destroy: bool = False
    ignore_changes: list[ToolField] = Field(default_factory=list)


class CustomApiToolSpec(ResourceSpec):
    """One HTTP request the agent may make through its custom API."""

    name: Name
    """The tool's name; its action is named from it: "Get order" is `get_order`."""
    http_method: Literal["GET", "POST", "PUT", "DELETE", "PATCH"]
    url_template: Short
    """A path under the API's base_url or a full URL; each {placeholder} is in url_params."""
    description: Short | None = None
    """What the tool does, for the agent to know when to use it."""
    url_params: list[ParameterDefinition] | None = None
    body_params: list[ParameterDefinition] | None = None
    headers_template: dict[str, JsonValue] | None = None
    body_template: dict[str, JsonValue] | None = None
    auth_type: AuthType | None = None
    """The tool's own authentication, instead of the API's."""
    auth_config: AuthConfig | None = None
    response_mapping: ResponseMapping | None = None
    category: Short | None = None
    require_human_approval: bool | None = None
    """Whether a person must approve each call."""
    timeout: int | None = Field(default=None, ge=1)
    """Seconds to wait for the API."""
    lifecycle: ToolLifecycle = Field(default_factory=ToolLifecycle)

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.auth_type is None and self.auth_config is not None:
            raise ValueError("auth_config needs auth_type")
        if self.auth_type is not None:
            check_auth(self.auth_type, self.auth_config)
        declared = {p.name for p in self.url_params or []}
        for placeholder in re.findall(r"\{([^{}]+)\}", self.url_template):
            if placeholder not in declared:
                raise ValueError(
                    f"url_template: placeholder {{{placeholder}}} is not in url_params"
                )
        return self


def action_name(name: str) -> str:
    """The action BimpeAI makes of a tool: its name in lowercase, `_` between words."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# What the tool list shows; the rest of a tool's values is its write-only definition.
LISTED = ("name", "description", "category")
OWNER = ("custom_api",)
"""The name of the API the tool belongs to, which identifies it within the agent: the create
finds the API's id by it when it runs, after the API's own create or replace."""
DEFINITION = frozenset(
    {
        "http_method",
        "url_template",
        "url_params",
        "body_params",
        "headers_template",
        "body_template",
        "auth_type",
        "auth_config",
        "response_mapping",
        "require_human_approval",
        "timeout",
    }
)


def _tools_of(listing: dict[str, dict[str, Any]] | None) -> dict[str, tuple[Obj, Obj]]:
    """Every tool of an agent's custom APIs, by id, with the API it belongs to."""
    return {
        str(tool["id"]): (tool, api)
        for api in (listing or {}).values()
        for tool in api.get(TOOLS_KEY) or []
        if isinstance(tool, dict) and "id" in tool
    }


def _renamed(context: PlanContext, address: str, api: Obj) -> bool:
    """Whether the manifest gives the tool's API another name, so that the API is replaced and
    its tools go with the old one. The tool is then planned as a create after the API's
    replace: as a replace of its own it would have to go both before the API's (its delete)
    and after it (its create)."""
    spec = api_spec(context, holder_of(address))
    return spec is not None and str(spec.name).strip() != live_values(api)["name"]


def api_spec(context: PlanContext, address: str | None) -> Any:
    """The manifest's custom API at `address`."""
    for entry in context.stack.entries("custom_apis"):
        if entry.address == address:
            return entry.spec
    return None


def _live_values(tool: Obj, api: Obj) -> dict[str, Any]:
    values = {field: tool.get(field) for field in LISTED}
    values["name"] = str(values["name"] or "").strip()
    values["custom_api"] = live_values(api)["name"]
    return values


class CustomApiToolKind:
    name: str = "custom_api_tool"
    collections: tuple[Collection, ...] = (CUSTOM_APIS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset({*LISTED, *OWNER, *DEFINITION})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = DEFINITION

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries(SECTION_NAME):
            spec, api = entry.spec, str(entry.holder)
            agent = holder_of(api)
            assert agent is not None
            values = managed(spec, exclude={"lifecycle"})
            values["name"] = values["name"].strip()
            values["custom_api"] = str(api_spec(context, api).name).strip()
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(api,),
                    parent=agent,
                    provides=(action_name(spec.name),),
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
        found = _tools_of(context.fetched.under(CUSTOM_APIS.name, entry.parent_id)).get(entry.id)
        if found is None:
            return None
        tool, api = found
        if _renamed(context, address, api):
            return None  # the API's replace takes the tool with it: it is made again after
        return Live(address, entry.id, _live_values(tool, api), fingerprint(tool))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(CUSTOM_APIS.name, parent_id) if parent_id else None
        # Action names are unique within an agent.
        wanted = action_name(want.values["name"])
        return [
            id for id, (tool, _) in _tools_of(listing).items() if tool.get("action_name") == wanted
        ]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        values = request.values
        apis = client.agents.integrations.custom_api
        name = values["custom_api"]
        found = [
            a.id
            for a in await apis.list(in_path(request.parent_id))
            if a.config.name.strip() == name
        ]
        if not found:
            raise BimpeIacError(f"{request.address}: the agent has no custom API named {name!r}")
        body: Any = {k: v for k, v in values.items() if k not in OWNER and v is not None}
        made = await apis.tools.add(
            in_path(request.parent_id),
            in_path(found[0]),
            body,
            idempotency_key=request.idempotency_key,
        )
        return Created(made.id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        fields = ", ".join(sorted(request.changed))
        raise BimpeIacError(f"a custom API tool cannot be updated ({fields}): it is replaced")

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        api_id = await _api_of(client, id, parent_id)
        if api_id is None:
            return  # gone, or its API disconnected with it
        with contextlib.suppress(NotFoundError):
            await client.agents.integrations.custom_api.tools.delete(
                in_path(parent_id), in_path(api_id), in_path(id)
            )

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        if parent_id is None:
            return True
        return await _api_of(client, id, parent_id) is not None


async def _api_of(client: AsyncBimpeAI, tool_id: str, agent_id: str) -> str | None:
    """The id of the agent's custom API that has the tool `tool_id`, or None."""
    apis = client.agents.integrations.custom_api
    with contextlib.suppress(NotFoundError):
        for api in await apis.list(in_path(agent_id)):
            with contextlib.suppress(NotFoundError):
                tools = await apis.tools.list(in_path(agent_id), in_path(api.id))
                if any(tool.id == tool_id for tool in tools):
                    return api.id
    return None


KIND = CustomApiToolKind()


# Export ----------------------------------------------------------------------------------


def _api(context: ExportContext, api_id: str) -> Obj | None:
    for (collection, _), listing in context.team.children.items():
        if collection == CUSTOM_APIS.name:
            for api in listing:
                if api.get("id") == api_id:
                    return api
    return None


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """A custom API's tools, as far as the tool list shows them: their definitions cannot be
    read back, so the user must write them in (a warning says so)."""
    api = _api(context, holder.id) if holder is not None else None
    if holder is None or api is None:
        return []
    found = [tool for tool in api.get(TOOLS_KEY) or [] if isinstance(tool, dict)]
    if not found:
        return []
    keyed = by_key(found, "tool", lambda tool: str(tool.get("name") or ""))
    name = (api.get("config") or {}).get("name")
    context.warnings.append(
        f"the tools of custom API {name!r} ({', '.join(k for k, _ in keyed)}) are exported with"
        " their names only: BimpeAI never answers a tool's definition, so write in each one's"
        " http_method and url_template (and parameters, templates, ...) before applying"
    )
    out = []
    for key, tool in keyed:
        data = pick(tool, ("name", "description"))
        if tool.get("category") not in (None, "custom_api"):
            data["category"] = tool["category"]
        out.append(Exported(key, str(tool["id"]), data))
    return out


SECTION_NAME = "tools"
SECTION = Section(
    SECTION_NAME,
    CustomApiToolSpec,
    "custom API tool",
    within="custom_apis",
    count_name="custom_api_tools",
    export=export,
    description="The API's tools by key; each is an action of the agent named from the tool's "
    "name. A change to a tool replaces it. One removed from the manifest is deleted.",
)


def check_tool_action_names(context: PlanContext, desired: Mapping[str, Desired]) -> list[Issue]:
    """An issue at each declared tool whose action name the agent has already, from another
    integration (a built-in one: `cancel_order`): BimpeAI would refuse to add it."""
    issues = []
    for want in desired.values():
        if want.kind != KIND.name or want.parent is None:
            continue
        agent_id = context.state_id(want.parent)
        listing = context.fetched.under(ACTIONS.name, agent_id) if agent_id else None
        own = context.state_id(want.address)
        if listing is None:
            # A new agent gets the built-in actions the team's other agents have.
            listing = {
                id: action
                for (collection, _), found in context.fetched.children.items()
                if collection == ACTIONS.name
                for id, action in found.items()
                if action.get("integration_type") not in ("custom_api", "mcp_server")
            }
        for name in want.provides:
            taken = [a for id, a in listing.items() if a.get("action_name") == name and id != own]
            if taken:
                owner = taken[0].get("integration_name") or taken[0].get("integration_type")
                message = (
                    f"the agent already has an action named {name!r} (from {owner}), so"
                    " BimpeAI would refuse this tool: give the tool another name"
                )
                # Located at the name, about the tool (the plan keeps issues of its changes).
                issue = context.stack.issue_at(f"{want.address}.name", message)
                issues.append(replace(issue, address=want.address))
    return issues
