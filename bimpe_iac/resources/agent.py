"""Agents: a name, a persona and business details, running one workflow."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal, get_args

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import Discriminator, Field, StringConstraints, Tag, field_validator

from bimpe_iac.errors import ConfigError, PlanError
from bimpe_iac.manifest.fields import (
    AcceptsInterpolation,
    Email,
    HttpUrl,
    KeyReference,
    Name,
    Short,
    ShortText,
    TimeZone,
)
from bimpe_iac.manifest.models import ResourceSpec, SpecModel, unique_items
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live, Ref
from bimpe_iac.model.sections import Entry, Reference, Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed
from bimpe_iac.resources.collections import ACTIONS, AGENTS, WORKFLOWS
from bimpe_iac.resources.export_keys import by_key, pick

AgentPersona = Literal["professional", "friendly", "concise"]
LiveStatus = Literal["development", "live", "paused"]
UnmanagedActions = Literal["disable", "keep"]

# The manifest ----------------------------------------------------------------------------------


class WorkflowById(SpecModel):
    """A workflow this stack does not manage, by its platform id."""

    id: Annotated[str, StringConstraints(min_length=1)]


class PublicWorkflow(SpecModel):
    """A public workflow from the platform's catalog, by name."""

    public: Annotated[str, StringConstraints(min_length=1)]


def _workflow_reference_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "key"
    if isinstance(value, dict):
        if "id" in value:
            return "id"
        if "public" in value:
            return "public"
    return None


WorkflowReference = Annotated[
    Annotated[KeyReference, Tag("key")]
    | Annotated[WorkflowById, Tag("id")]
    | Annotated[PublicWorkflow, Tag("public")],
    Discriminator(
        _workflow_reference_kind,
        custom_error_type="workflow_reference",
        custom_error_message=(
            "expected a workflow key in this stack, {id: WORKFLOW_ID} or {public: CATALOG_NAME}"
        ),
    ),
]

AgentAttribute = Literal[
    "name",
    "description",
    "language",
    "persona",
    "timezone",
    "logo",
    "business_name",
    "business_address",
    "business_email",
    "business_description",
    "escalation_email",
]
"""An agent's own fields, named alike in a manifest and in the API."""
AgentField = Literal["workflow", AgentAttribute, "live_status", "live_status_reason", "actions"]


class AgentLifecycle(SpecModel):
    prevent_destroy: bool = False
    """Refuse any plan that would destroy this resource."""
    ignore_changes: list[AgentField] = Field(default_factory=list)
    """Fields left alone once the resource exists, even when they drift from the manifest."""


class AgentSpec(ResourceSpec):
    """A customer-service agent running a workflow."""

    workflow: WorkflowReference
    """A workflow key in this stack, `{id: ...}` or `{public: "<catalog name>"}`."""
    name: Name
    description: ShortText
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] | None = None
    """A language code, for example `en`."""
    persona: Annotated[AgentPersona, AcceptsInterpolation()] | None = None
    timezone: TimeZone | None = None
    """An IANA time zone, for example `Africa/Lagos`."""
    logo: HttpUrl | None = None
    business_name: Short | None = None
    business_address: Short | None = None
    business_email: Email | None = None
    business_description: ShortText | None = None
    escalation_email: Email | None = None
    """Where conversations that need a person are sent."""
    live_status: Annotated[LiveStatus, AcceptsInterpolation()] | None = None
    live_status_reason: Short | None = None
    actions: list[str] | None = None
    """The `action_name`s to enable: built-in actions and those of the agent's declared tools.
    Every other action of the agent is disabled (see `unmanaged_actions`)."""
    unmanaged_actions: Annotated[UnmanagedActions, AcceptsInterpolation()] | None = None
    """What `actions:` does to the actions of integrations this stack does not manage (a
    teammate's custom API, say): `disable` them like any action not listed (the default), or
    `keep` them as they are. The plan lists them either way."""
    lifecycle: AgentLifecycle = Field(default_factory=AgentLifecycle)

    @field_validator("actions")
    @classmethod
    def _actions_unique(cls, actions: list[str] | None) -> list[str] | None:
        unique_items(actions or [], "action")
        return actions


FIELDS: tuple[str, ...] = ("workflow_id", *get_args(AgentAttribute))
# The agent's own fields: not those other kinds manage, nor the workflow reference, nor the
# sections an agent holds (its knowledge bases...), which are not fields of AgentSpec itself.
AGENT_FIELDS = set(AgentSpec.model_fields) - {
    "workflow",
    "lifecycle",
    "actions",
    "unmanaged_actions",
    "live_status",
    "live_status_reason",
}
# The manifest calls the reference `workflow`; the API calls it `workflow_id`.
IGNORE_ALIASES = {"workflow": "workflow_id"}


def _workflow_id(entry: Entry, spec: AgentSpec, context: PlanContext) -> str | Ref:
    reference = spec.workflow
    if isinstance(reference, WorkflowById):
        return reference.id
    if isinstance(reference, PublicWorkflow):
        public = {
            obj["name"]: obj["id"]
            for obj in context.fetched.of(WORKFLOWS.name).values()
            if obj.get("visibility") == "public"
        }
        if reference.public not in public:
            known = ", ".join(sorted(public)) or "none"
            raise PlanError(
                f"{entry.address}: no public workflow named '{reference.public}'"
                f" (the catalog has: {known})"
            )
        return str(public[reference.public])
    return Ref(entry.refers_to("workflows", reference))


class AgentKind:
    name: str = "agent"
    collections: tuple[Collection, ...] = (AGENTS, WORKFLOWS)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries("agents"):
            spec = entry.spec
            values = managed(spec, include=AGENT_FIELDS)
            values["name"] = values["name"].strip()
            workflow_id = _workflow_id(entry, spec, context)
            values["workflow_id"] = workflow_id
            ignored = {IGNORE_ALIASES.get(f, f) for f in spec.lifecycle.ignore_changes}
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(workflow_id.address,) if isinstance(workflow_id, Ref) else (),
                    lifecycle=Lifecycle(spec.lifecycle.prevent_destroy, frozenset(ignored)),
                    source=str(spec.source) if spec.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None:
            return None
        obj = context.fetched.of(AGENTS.name).get(entry.id)
        if obj is None:
            return None
        values = {name: obj.get(name) for name in FIELDS}
        return Live(address, entry.id, values, fingerprint(obj), obj.get("updated_at"))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        agents = context.fetched.of(AGENTS.name)
        return [id for id, obj in agents.items() if obj.get("name") == want.values["name"]]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        agent = await client.agents.create(
            idempotency_key=request.idempotency_key, **request.values
        )
        return Created(agent.id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await client.agents.update(in_path(request.id), **request.changed)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        with contextlib.suppress(NotFoundError):
            await client.agents.delete(in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        with contextlib.suppress(NotFoundError):
            await client.agents.retrieve(in_path(id))
            return True
        return False


KIND = AgentKind()


# Export ----------------------------------------------------------------------------------


class _WorkflowNames:
    """How an agent names its workflow: by key, by catalog name, or by id as a last resort."""

    def __init__(self, context: ExportContext) -> None:
        self.context = context
        public = [
            w
            for w in context.team.of(WORKFLOWS.name)
            if w.get("visibility") == "public" and not w.get("is_owner")
        ]
        names = [w["name"] for w in public]
        self.public = {w["id"]: w["name"] for w in public if names.count(w["name"]) == 1}

    def reference(self, workflow_id: str) -> str | Obj:
        key = self.context.key_of("workflows", workflow_id)
        if key is not None:
            return key
        if workflow_id in self.public:
            return {"public": self.public[workflow_id]}
        return {"id": workflow_id}


def _exported(key: str, agent: Obj, context: ExportContext, workflows: _WorkflowNames) -> Obj:
    workflow_id = agent.get("workflow_id")
    if workflow_id is None:
        raise ConfigError(f"agents.{key}: the agent has no workflow, so no manifest can say it")
    out: Obj = {"workflow": workflows.reference(str(workflow_id))}
    out.update(pick(agent, get_args(AgentAttribute)))
    out.setdefault("description", "")
    if agent.get("status") is not None:
        out["live_status"] = agent["status"]
    if agent.get("status_reason") is not None:
        out["live_status_reason"] = agent["status_reason"]
    actions = context.team.under(ACTIONS.name, agent["id"])
    enabled = sorted({a["action_name"] for a in actions if a.get("is_enabled")})
    if enabled:
        out["actions"] = enabled
    if isinstance(out["workflow"], dict) and "id" in out["workflow"]:
        context.warnings.append(
            f"agents.{key}: its workflow {workflow_id} is neither the team's"
            " nor in the public catalog; it is referenced by id"
        )
    return out


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    agents = context.team.of(AGENTS.name)
    if context.selected is not None:
        agents = [a for a in agents if a["id"] in context.selected]
    workflows = _WorkflowNames(context)
    return [
        Exported(key, str(a["id"]), _exported(key, a, context, workflows))
        for key, a in by_key(agents, "agent")
    ]


SECTION = Section(
    "agents",
    AgentSpec,
    "agent",
    export=export,
    references=(
        Reference(
            "workflow",
            "workflows",
            hint="; for a workflow this stack does not manage, write {id: ...} or {public: ...}",
        ),
    ),
    manifest_keys=(
        ("workflow_id", "workflow"),
        ("actions.enabled", "actions"),
        ("live_status.status", "live_status"),
        ("live_status.status_reason", "live_status_reason"),
    ),
)
