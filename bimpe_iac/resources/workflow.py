"""Workflows: the team's own copies of prompts, rules, flows and FAQ that agents run."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal, get_args

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import Field, StringConstraints, field_validator

from bimpe_iac.manifest.fields import (
    AcceptsInterpolation,
    HttpUrl,
    LongText,
    Name,
    Printable,
    Short,
    ShortText,
)
from bimpe_iac.manifest.models import ResourceSpec, SpecModel, unique_items
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed, normalise_text
from bimpe_iac.resources.collections import AGENTS, WORKFLOWS
from bimpe_iac.resources.export_keys import as_file, by_key, pick

KeywordWeight = Literal["high", "medium", "low"]

# The manifest -------------------------------------------------------------------------------


class RuleSpec(SpecModel):
    """When `trigger` (and `condition`, if any) holds, the agent answers with `response`."""

    id: Name
    """Identifies the rule within its workflow."""
    name: Name
    trigger: Short
    response: Short
    enabled: Annotated[bool, AcceptsInterpolation()] = True
    condition: Short | None = None
    action: Short | None = None
    """An action to run, for example `escalate_to_human`."""


class TriggerKeywordSpec(SpecModel):
    keyword: Name
    weight: Annotated[KeywordWeight, AcceptsInterpolation()] | None = None


class FlowStepSpec(SpecModel):
    type: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    """The kind of step, for example `message` or `action`."""
    content: Short | None = None
    action: Short | None = None
    followup: Short | None = None


class FlowSpec(SpecModel):
    """A conversation the workflow leads when its trigger keywords match."""

    name: Name
    description: Short | None = None
    category: Short | None = None
    priority: Annotated[int, AcceptsInterpolation()] | None = None
    is_active: Annotated[bool, AcceptsInterpolation()] | None = None
    trigger_keywords: list[TriggerKeywordSpec] | None = None
    conversation_steps: list[FlowStepSpec] | None = None


class GuideSpec(SpecModel):
    steps: list[Short]
    youtube_url: HttpUrl | None = None


class FaqSpec(SpecModel):
    question: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    answer: Annotated[ShortText, StringConstraints(min_length=1)]


WorkflowTag = Annotated[str, StringConstraints(min_length=1, max_length=50), Printable]

WorkflowField = Literal[
    "name",
    "system_prompt",
    "description",
    "category",
    "rules",
    "flows",
    "tags",
    "integrations",
    "channels",
    "actions",
    "guide",
    "faq",
    "setup_steps",
    "setup_time",
    "video_url",
]


class WorkflowLifecycle(SpecModel):
    prevent_destroy: bool = False
    """Refuse any plan that would destroy this resource."""
    ignore_changes: list[WorkflowField] = Field(default_factory=list)
    """Fields left alone once the resource exists, even when they drift from the manifest."""


class WorkflowSpec(ResourceSpec):
    """A workflow: the system prompt, rules, flows and FAQ that agents follow."""

    name: Name
    system_prompt: LongText
    description: ShortText | None = None
    category: Short | None = None
    rules: list[RuleSpec] | None = None
    flows: list[FlowSpec] | None = None
    tags: Annotated[list[WorkflowTag], Field(max_length=50)] | None = None
    integrations: list[str] | None = None
    channels: list[str] | None = None
    actions: list[str] | None = None
    guide: GuideSpec | None = None
    faq: list[FaqSpec] | None = None
    setup_steps: list[Any] | None = None
    setup_time: Annotated[int, AcceptsInterpolation(), Field(ge=0)] | None = None
    """Minutes it takes to set the workflow up."""
    video_url: HttpUrl | None = None
    lifecycle: WorkflowLifecycle = Field(default_factory=WorkflowLifecycle)

    @field_validator("rules")
    @classmethod
    def _rule_ids_unique(cls, rules: list[RuleSpec] | None) -> list[RuleSpec] | None:
        unique_items([rule.id for rule in rules or []], "rule id")
        return rules


FIELDS: tuple[str, ...] = get_args(WorkflowField)
SET_FIELDS = frozenset({"tags", "integrations", "channels", "actions"})


def normalise(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if isinstance(out.get("system_prompt"), str):
        out["system_prompt"] = normalise_text(out["system_prompt"])
    if isinstance(out.get("name"), str):
        out["name"] = out["name"].strip()
    for name in SET_FIELDS:
        if isinstance(out.get(name), list):
            out[name] = sorted(set(out[name]))
    return out


class WorkflowKind:
    name: str = "workflow"
    collections: tuple[Collection, ...] = (WORKFLOWS,)
    set_fields: frozenset[str] = SET_FIELDS
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        return [
            Desired(
                address=entry.address,
                kind=self.name,
                values=normalise(managed(spec, exclude={"lifecycle"})),
                lifecycle=Lifecycle(
                    spec.lifecycle.prevent_destroy, frozenset(spec.lifecycle.ignore_changes)
                ),
                source=str(spec.source) if spec.source else None,
            )
            for entry in context.stack.entries("workflows")
            for spec in (entry.spec,)
        ]

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None:
            return None
        obj = context.fetched.of(WORKFLOWS.name).get(entry.id)
        if obj is None or obj.get("visibility") != "private":
            return None
        values = normalise({name: obj.get(name) for name in FIELDS})
        return Live(address, entry.id, values, fingerprint(obj), obj.get("updated_at"))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        return [
            id
            for id, obj in context.fetched.of(WORKFLOWS.name).items()
            if obj.get("visibility") == "private"
            and str(obj.get("name", "")).strip() == want.values["name"]
        ]

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        workflow = await client.workflows.create(
            idempotency_key=request.idempotency_key, **request.values
        )
        return Created(workflow.id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await client.workflows.update(in_path(request.id), **request.changed)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        with contextlib.suppress(NotFoundError):
            await client.workflows.delete(in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        with contextlib.suppress(NotFoundError):
            await client.workflows.retrieve(in_path(id))
            return True
        return False


KIND = WorkflowKind()


# Export ----------------------------------------------------------------------------------

EXPORTED_FIELDS = (
    "name",
    "description",
    "category",
    "system_prompt",
    "tags",
    "integrations",
    "channels",
    "actions",
    "rules",
    "flows",
    "faq",
    "guide",
    "setup_steps",
    "setup_time",
    "video_url",
)
RULE_FIELDS = ("id", "name", "trigger", "condition", "response", "action", "enabled")
FLOW_FIELDS = (
    "name",
    "description",
    "category",
    "priority",
    "is_active",
    "trigger_keywords",
    "conversation_steps",
)


def _exported_rule(rule: Obj) -> Obj:
    out = pick(rule, RULE_FIELDS)
    if out.get("enabled") is True:  # the manifest's default
        del out["enabled"]
    return out


def _exported_flow(flow: Obj) -> Obj:
    out = pick(flow, FLOW_FIELDS)
    if "trigger_keywords" in out:
        out["trigger_keywords"] = [pick(k, ("keyword", "weight")) for k in out["trigger_keywords"]]
    if "conversation_steps" in out:
        out["conversation_steps"] = [
            pick(s, ("type", "content", "action", "followup")) for s in out["conversation_steps"]
        ]
    return out


def _exported(key: str, workflow: Obj, files: dict[str, str]) -> Obj:
    out: Obj = {}
    for name, value in pick(workflow, EXPORTED_FIELDS).items():
        if value == [] or value == {}:
            continue
        if name == "system_prompt":
            path = f"prompts/{key}.md"
            files[path] = as_file(value)
            value = {"file": path}
        elif name in SET_FIELDS:
            value = sorted(set(value))
        elif name == "rules":
            value = [_exported_rule(rule) for rule in value]
        elif name == "flows":
            value = [_exported_flow(flow) for flow in value]
        elif name == "faq":
            value = [pick(item, ("question", "answer")) for item in value]
        elif name == "guide":
            value = pick(value, ("steps", "youtube_url"))
        out[name] = value
    return out


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """The team's own workflows (with `--agent`, those the chosen agents run)."""
    owned = [w for w in context.team.of(WORKFLOWS.name) if w.get("is_owner")]
    if context.selected is not None:
        used = {
            a.get("workflow_id")
            for a in context.team.of(AGENTS.name)
            if a["id"] in context.selected
        }
        owned = [w for w in owned if w["id"] in used]
    return [
        Exported(key, str(w["id"]), _exported(key, w, context.files))
        for key, w in by_key(owned, "workflow")
    ]


SECTION = Section("workflows", WorkflowSpec, "workflow", export=export)
