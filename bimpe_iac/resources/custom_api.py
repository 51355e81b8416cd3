"""Custom API integrations of an agent: an HTTP API the agent calls through its tools
(`custom_api_tool.py`).

BimpeAI identifies a custom API by its name within the agent: `configure` creates one, or
updates the agent's API of that name. So a create and an update are both `configure` (with every
value: what it leaves out it clears), a new name is another API (a replace), and the delete is
`disconnect`, which removes the API's tools and their actions with it. The credentials
(`auth_config`) are write-only: the list answers only the names of those set.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal, Self

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import BaseModel, Field, model_validator

from bimpe_iac.manifest.fields import HttpUrl, Name, Secret, Short
from bimpe_iac.manifest.models import ResourceSpec, SpecModel
from bimpe_iac.model.export import ExportContext, Exported, Obj, VarReference
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, in_listing, managed
from bimpe_iac.resources.export_keys import by_key, pick, slugify

# The manifest -------------------------------------------------------------------------

AuthType = Literal["none", "bearer", "basic", "api_key", "custom"]
CustomApiField = Literal[
    "name", "description", "base_url", "auth_type", "auth_config", "test_endpoint"
]

# What each auth type needs in `auth_config` (as BimpeAI checks it).
AUTH_NEEDS: dict[str, tuple[str, ...]] = {
    "none": (),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("api_key",),
    "custom": (),
}
CREDENTIALS = ("token", "api_key", "username", "password")


class AuthConfig(SpecModel):
    """The credentials `auth_type` needs: write-only, never read back from BimpeAI."""

    token: Secret | None = None
    """The bearer token (auth_type bearer)."""
    api_key: Secret | None = None
    """The API key (auth_type api_key)."""
    header_name: Short | None = None
    """The header the API key is sent in (auth_type api_key; the API's default otherwise)."""
    username: Secret | None = None
    """The user name (auth_type basic)."""
    password: Secret | None = None
    """The password (auth_type basic)."""


def check_auth(auth_type: str, auth_config: AuthConfig | None) -> None:
    """Raise ValueError unless `auth_config` gives what `auth_type` needs, and nothing else
    when it needs nothing."""
    given = {k for k, v in (auth_config.model_dump() if auth_config else {}).items() if v}
    if auth_type == "none" and given:
        raise ValueError("auth_config is not used when auth_type is none")
    if auth_type == "custom" and not given:
        raise ValueError("auth_config needs at least one credential when auth_type is custom")
    missing = [k for k in AUTH_NEEDS[auth_type] if k not in given]
    if missing:
        raise ValueError(f"auth_config.{missing[0]} is required when auth_type is {auth_type}")


class CustomApiLifecycle(SpecModel):
    prevent_destroy: bool = False
    ignore_changes: list[CustomApiField] = Field(default_factory=list)


class CustomApiSpec(ResourceSpec):
    """An HTTP API the agent calls through the tools declared under it."""

    name: Name
    """The API's name: it identifies the API within the agent, so a new name replaces it."""
    description: Short | None = None
    base_url: HttpUrl | None = None
    """Where the tools' relative URL templates (`/orders/{id}`) are resolved."""
    auth_type: AuthType = "none"
    auth_config: AuthConfig | None = None
    """Credentials for `auth_type`: write them as ${var.NAME} of a sensitive var or ${env.NAME}."""
    test_endpoint: Short | None = None
    """A path under base_url (or a full URL) BimpeAI calls to check the API answers."""
    lifecycle: CustomApiLifecycle = Field(default_factory=CustomApiLifecycle)

    @model_validator(mode="after")
    def _auth_matches(self) -> Self:
        check_auth(self.auth_type, self.auth_config)
        if self.test_endpoint and self.test_endpoint.startswith("/") and self.base_url is None:
            raise ValueError("test_endpoint: a path needs base_url")
        return self


# The live collection ---------------------------------------------------------------------


def plain(items: list[Any]) -> list[dict[str, Any]]:
    """SDK objects as plain dicts, with the fields the SDK's models do not name."""
    return [item.model_dump(mode="json") for item in items if isinstance(item, BaseModel)]


TOOLS_KEY = "_tools"
"""Where each listed custom API carries its tool list (read in the same run)."""


async def _custom_apis(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    """The agent's custom APIs, each with its tools under `_tools`: one tool list request per
    API, so that the tool kind reads them from this listing."""
    apis = plain(await client.agents.integrations.custom_api.list(in_path(agent_id)))
    for api in apis:
        tools = await client.agents.integrations.custom_api.tools.list(
            in_path(agent_id), in_path(str(api["id"]))
        )
        api[TOOLS_KEY] = plain(tools)
    return apis


CUSTOM_APIS = Collection(
    "custom_apis", fetch_children=_custom_apis, parent_kind="agent", needed_by="custom_apis"
)


def live_values(obj: dict[str, Any]) -> dict[str, Any]:
    """What the listing shows of the fields the manifest writes."""
    config = obj.get("config") or {}
    return {
        "name": str(config.get("name") or "").strip(),
        "description": obj.get("description"),
        "base_url": config.get("base_url"),
        "auth_type": config.get("auth_type") or "none",
        "test_endpoint": obj.get("test_endpoint"),
    }


def own_fingerprint(obj: dict[str, Any]) -> str:
    """The API as it is, without the tools it carries (those are read by their own kind)."""
    return fingerprint({k: v for k, v in obj.items() if k != TOOLS_KEY})


# The kind -----------------------------------------------------------------------------------

WRITE_ONLY = frozenset({"auth_config"})
# The API's own fields: not the sections it holds (its tools), which are not fields of its spec.
API_FIELDS = set(CustomApiSpec.model_fields) - {"lifecycle"}


class CustomApiKind:
    name: str = "custom_api"
    collections: tuple[Collection, ...] = (CUSTOM_APIS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset({"name"})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = WRITE_ONLY

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries(SECTION_NAME):
            spec, parent = entry.spec, str(entry.holder)
            values = managed(spec, include=API_FIELDS)
            values["name"] = values["name"].strip()
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(parent,),
                    parent=parent,
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
        obj = (context.fetched.under(CUSTOM_APIS.name, entry.parent_id) or {}).get(entry.id)
        if obj is None:
            return None
        return Live(
            address, entry.id, live_values(obj), own_fingerprint(obj), obj.get("updated_at")
        )

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(CUSTOM_APIS.name, parent_id) if parent_id else None
        return [
            id
            for id, obj in (listing or {}).items()
            if live_values(obj)["name"] == want.values["name"]
        ]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        made = await _configure(client, request.parent_id, request.values, request.idempotency_key)
        return Created(made, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        assert request.parent_id is not None
        # `configure` sets every field: what it is not sent it clears.
        await _configure(client, request.parent_id, request.values, None)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        with contextlib.suppress(NotFoundError):
            await client.agents.integrations.custom_api.disconnect(in_path(parent_id), in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        return await in_listing(client.agents.integrations.custom_api.list, id, parent_id)


async def _configure(
    client: AsyncBimpeAI, agent_id: str, values: dict[str, Any], idempotency_key: str | None
) -> str:
    body: Any = {k: v for k, v in values.items() if v is not None}
    made = await client.agents.integrations.custom_api.configure(
        in_path(agent_id), idempotency_key=idempotency_key, **body
    )
    return made.id


KIND = CustomApiKind()


# Export ----------------------------------------------------------------------------------


def credential_variable(context: ExportContext, *parts: str, what: str) -> VarReference:
    """A reference to the sensitive var for a credential export cannot read (its name from
    `parts`: `ada_shop_api_token`), recorded for the user to set."""
    name = "_".join(slugify(part, "x").replace("-", "_") for part in parts)
    return context.credential(name, what)


def _exported(context: ExportContext, agent_key: str, key: str, api: Obj) -> Obj:
    config = api.get("config") or {}
    out = pick(config, ("name",))
    out |= pick(api, ("description",))
    out |= pick(config, ("base_url", "auth_type"))
    out |= pick(api, ("test_endpoint",))
    if out.get("auth_type") == "none":
        del out["auth_type"]
    keys = [k for k in api.get("auth_config_keys") or [] if isinstance(k, str)]
    if keys:
        name = config.get("name")
        out["auth_config"] = {
            field: credential_variable(
                context,
                agent_key,
                key,
                field,
                what=f"the {field} of custom API {name!r} of agent {agent_key}",
            )
            for field in keys
            if field in (*CREDENTIALS, "header_name")
        }
    return out


def config_name(obj: dict[str, Any]) -> str:
    """The name of an integration the API lists with its settings under `config`."""
    return str((obj.get("config") or {}).get("name") or "")


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """An agent's custom APIs; their credentials become sensitive vars to set."""
    if holder is None:
        return []
    found = context.team.under(CUSTOM_APIS.name, holder.id)
    return [
        Exported(key, str(api["id"]), _exported(context, holder.key, key, api))
        for key, api in by_key(found, "api", config_name)
    ]


SECTION_NAME = "custom_apis"
SECTION = Section(
    SECTION_NAME,
    CustomApiSpec,
    "custom API",
    within="agents",
    export=export,
    description="Custom API integrations by key, each with its tools. One removed from the "
    "manifest is disconnected, with its tools.",
)
