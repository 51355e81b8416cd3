"""Pipedream apps of an agent, by app slug.

Configuring an app records it and answers an onboarding URL, where a person connects their
account (apply prints it); until then the app is not connected. Configuring it again updates
the record; disconnecting removes it.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import StringConstraints

from bimpe_iac.errors import ApiFailure
from bimpe_iac.manifest.fields import HttpUrl, Matches, Name
from bimpe_iac.manifest.models import ResourceSpec
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Live
from bimpe_iac.model.sections import Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, in_listing
from bimpe_iac.resources.export_keys import pick

# The manifest -------------------------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
AppSlug = Annotated[
    str,
    StringConstraints(max_length=100),
    Matches(
        SLUG_PATTERN,
        "'{value}' is not a Pipedream app slug: use lowercase letters, digits, '_' and '-'",
        is_key=True,
    ),
]


class PipedreamAppSpec(ResourceSpec):
    """A Pipedream app, under its slug (`slack`, `google_drive`): a person connects their
    account at the onboarding URL apply prints."""

    app_name: Name | None = None
    app_icon: HttpUrl | None = None


WAITING = (
    "waiting for a person to connect it: open the onboarding URL apply printed"
    " (for a new one: bimpe-iac destroy --target {address}, then apply)"
)
FIELDS = ("app_slug", "app_name", "app_icon")


# The kind ------------------------------------------------------------------------------


async def _apps(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    listing = await client.agents.integrations.pipedream.list(in_path(agent_id))
    return [item.model_dump(mode="json") for item in listing]


PIPEDREAM_APPS = Collection(
    "pipedream_apps", fetch_children=_apps, parent_kind="agent", needed_by="pipedream_apps"
)


def _config(obj: Obj) -> Obj:
    config = obj.get("config")
    return config if isinstance(config, dict) else {}


def _connected(obj: Obj) -> bool:
    return obj.get("connected") is True


class PipedreamAppKind:
    name: str = "pipedream_app"
    collections: tuple[Collection, ...] = (PIPEDREAM_APPS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset({"app_slug"})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries(SECTION_NAME):
            spec: PipedreamAppSpec = entry.spec
            parent = str(entry.holder)
            values: dict[str, Any] = {"app_slug": entry.key}
            for name in ("app_name", "app_icon"):
                if getattr(spec, name) is not None:
                    values[name] = str(getattr(spec, name)).strip()
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(parent,),
                    parent=parent,
                    source=str(spec.source) if spec.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None or entry.parent_id is None:
            return None
        listing = context.fetched.under(PIPEDREAM_APPS.name, entry.parent_id)
        obj = (listing or {}).get(entry.id)
        if obj is None:
            return None
        config = _config(obj)
        values = {name: config.get(name) for name in FIELDS}
        values["connected"] = _connected(obj)
        notes = () if _connected(obj) else (WAITING.format(address=address),)
        return Live(address, entry.id, values, fingerprint(obj), obj.get("updated_at"), notes)

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(PIPEDREAM_APPS.name, parent_id) if parent_id else None
        return [
            id
            for id, obj in (listing or {}).items()
            if _config(obj).get("app_slug") == want.values["app_slug"]
        ]

    async def _configure(
        self, client: AsyncBimpeAI, agent_id: str, values: dict[str, Any], key: str | None
    ) -> tuple[str, tuple[str, ...]]:
        slug = str(values["app_slug"])
        body: Any = {name: values[name] for name in ("app_name", "app_icon") if name in values}
        answer = await client.agents.integrations.pipedream.configure(
            in_path(agent_id), idempotency_key=key, app_slug=slug, **body
        )
        listing = await client.agents.integrations.pipedream.list(in_path(agent_id))
        found = next((app for app in listing if app.config.app_slug == slug), None)
        if found is None:
            raise ApiFailure(
                f"the agent {agent_id} lists no Pipedream app {slug} after configuring it"
            )
        if (found.model_extra or {}).get("connected") is True:
            return found.id, ()
        label = values.get("app_name") or slug
        notice = f"Open {answer.onboarding_url} to connect {label}."
        return found.id, (notice,)

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        id, notices = await self._configure(
            client, request.parent_id, request.values, request.idempotency_key
        )
        return Created(id, request.parent_id, notices=notices)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> tuple[str, ...]:
        assert request.parent_id is not None
        _, notices = await self._configure(client, request.parent_id, request.values, None)
        return notices

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        with contextlib.suppress(NotFoundError):
            await client.agents.integrations.pipedream.disconnect(in_path(parent_id), in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        return await in_listing(client.agents.integrations.pipedream.list, id, parent_id)


KIND = PipedreamAppKind()


# Export ----------------------------------------------------------------------------------


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """An agent's Pipedream apps, by slug."""
    if holder is None:
        return []
    found = context.team.under(PIPEDREAM_APPS.name, holder.id)
    apps = sorted((str(_config(app).get("app_slug")), app) for app in found)
    return [
        Exported(slug, str(app["id"]), pick(_config(app), ("app_name", "app_icon")))
        for slug, app in apps
    ]


SECTION_NAME = "pipedream_apps"
SECTION = Section(
    SECTION_NAME,
    PipedreamAppSpec,
    "Pipedream app",
    within="agents",
    key=AppSlug,
    movable=False,
    export=export,
    description="Pipedream apps by app slug. One removed from the manifest is disconnected.",
)
