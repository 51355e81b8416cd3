"""Knowledge bases of an agent: text (inline or from a file) or a URL. Changing the type
replaces the knowledge base."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import Field

from bimpe_iac.manifest.fields import HttpUrl, LongText, Name, Short
from bimpe_iac.manifest.models import ResourceSpec, SpecModel
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed, normalise_text
from bimpe_iac.resources.collections import KNOWLEDGE_BASES
from bimpe_iac.resources.export_keys import as_file, by_key, pick

# The manifest -------------------------------------------------------------------------

TextKnowledgeBaseField = Literal["name", "description", "content"]
UrlKnowledgeBaseField = Literal["name", "description", "url"]


class TextKnowledgeBaseLifecycle(SpecModel):
    prevent_destroy: bool = False
    ignore_changes: list[TextKnowledgeBaseField] = Field(default_factory=list)


class UrlKnowledgeBaseLifecycle(SpecModel):
    prevent_destroy: bool = False
    ignore_changes: list[UrlKnowledgeBaseField] = Field(default_factory=list)


class TextKnowledgeBaseSpec(ResourceSpec):
    """Knowledge written as text, inline or in a file."""

    type: Literal["text"]
    name: Name
    content: LongText
    description: Short | None = None
    lifecycle: TextKnowledgeBaseLifecycle = Field(default_factory=TextKnowledgeBaseLifecycle)


class UrlKnowledgeBaseSpec(ResourceSpec):
    """Knowledge the platform reads from a web page."""

    type: Literal["url"]
    name: Name
    url: HttpUrl
    description: Short | None = None
    lifecycle: UrlKnowledgeBaseLifecycle = Field(default_factory=UrlKnowledgeBaseLifecycle)


KnowledgeBaseSpec = Annotated[
    TextKnowledgeBaseSpec | UrlKnowledgeBaseSpec, Field(discriminator="type")
]


FIELDS = ("type", "name", "description", "content", "url")


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if isinstance(out.get("content"), str):
        out["content"] = normalise_text(out["content"])
    if isinstance(out.get("name"), str):
        out["name"] = out["name"].strip()
    return out


class KnowledgeBaseKind:
    name: str = "knowledge_base"
    collections: tuple[Collection, ...] = (KNOWLEDGE_BASES,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset({"type"})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries(SECTION_NAME):
            spec, parent = entry.spec, str(entry.holder)
            if True:
                out.append(
                    Desired(
                        address=entry.address,
                        kind=self.name,
                        values=normalise(managed(spec, exclude={"lifecycle"})),
                        depends_on=(parent,),
                        parent=parent,
                        lifecycle=Lifecycle(
                            spec.lifecycle.prevent_destroy,
                            frozenset(spec.lifecycle.ignore_changes),
                        ),
                        source=str(spec.source) if spec.source else None,
                    )
                )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None or entry.parent_id is None:
            return None
        listing = context.fetched.under(KNOWLEDGE_BASES.name, entry.parent_id)
        obj = (listing or {}).get(entry.id)
        if obj is None:
            return None
        values = normalise({name: obj.get(name) for name in FIELDS})
        return Live(address, entry.id, values, fingerprint(obj), obj.get("updated_at"))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(KNOWLEDGE_BASES.name, parent_id) if parent_id else None
        wanted = (want.values["name"], want.values["type"])
        return [
            id
            for id, obj in (listing or {}).items()
            if (str(obj.get("name", "")).strip(), obj.get("type")) == wanted
        ]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        body: Any = dict(request.values)
        created = await client.agents.knowledge_bases.create(
            in_path(request.parent_id), body, idempotency_key=request.idempotency_key
        )
        return Created(created.id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        assert request.parent_id is not None
        await client.agents.knowledge_bases.update(
            in_path(request.parent_id), in_path(request.id), **request.changed
        )

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        with contextlib.suppress(NotFoundError):
            await client.agents.knowledge_bases.delete(in_path(parent_id), in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        if parent_id is None:
            return True
        with contextlib.suppress(NotFoundError):
            listing = await client.agents.knowledge_bases.list(in_path(parent_id))
            return any(kb.id == id for kb in listing)
        return False


KIND = KnowledgeBaseKind()


# Export ----------------------------------------------------------------------------------


def _exported(path: str, kb: Obj, files: dict[str, str]) -> Obj:
    out = pick(kb, ("type", "name", "description"))
    if kb.get("type") == "text":
        files[path] = as_file(kb.get("content") or "")
        out["content"] = {"file": path}
    else:
        out["url"] = kb.get("url")
    return out


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """An agent's knowledge bases, text ones in files under kb/AGENT/."""
    if holder is None:
        return []
    found = context.team.under(KNOWLEDGE_BASES.name, holder.id)
    return [
        Exported(key, str(kb["id"]), _exported(f"kb/{holder.key}/{key}.md", kb, context.files))
        for key, kb in by_key(found, "knowledge")
    ]


SECTION_NAME = "knowledge_bases"
SECTION = Section(
    SECTION_NAME,
    KnowledgeBaseSpec,
    "knowledge base",
    within="agents",
    export=export,
    description="Knowledge bases by key. One removed from the manifest is destroyed.",
)
