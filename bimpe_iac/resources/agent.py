"""Agents: a name, a persona and business details, running one workflow."""

from __future__ import annotations

import contextlib
from typing import get_args

from bimpeai import AsyncBimpeAI, NotFoundError

from bimpe_iac.errors import PlanError
from bimpe_iac.manifest import AgentSpec, PublicWorkflow, WorkflowById
from bimpe_iac.manifest.models import AgentAttribute
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live, Ref
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed
from bimpe_iac.resources.collections import AGENTS, WORKFLOWS

FIELDS: tuple[str, ...] = ("workflow_id", *get_args(AgentAttribute))
# Manifest fields of an agent that other kinds manage (or that name the workflow).
NOT_AGENT_FIELDS = {
    "workflow",
    "lifecycle",
    "knowledge_bases",
    "actions",
    "live_status",
    "live_status_reason",
}
# The manifest calls the reference `workflow`; the API calls it `workflow_id`.
IGNORE_ALIASES = {"workflow": "workflow_id"}


def _workflow_id(key: str, spec: AgentSpec, context: PlanContext) -> str | Ref:
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
                f"agents.{key}: no public workflow named '{reference.public}'"
                f" (the catalog has: {known})"
            )
        return str(public[reference.public])
    return Ref(f"workflows.{reference}")


class AgentKind:
    name: str = "agent"
    collections: tuple[Collection, ...] = (AGENTS, WORKFLOWS)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = False

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for key, spec in context.stack.agents.items():
            values = managed(spec, exclude=NOT_AGENT_FIELDS)
            values["name"] = values["name"].strip()
            workflow_id = _workflow_id(key, spec, context)
            values["workflow_id"] = workflow_id
            ignored = {IGNORE_ALIASES.get(f, f) for f in spec.lifecycle.ignore_changes}
            out.append(
                Desired(
                    address=f"agents.{key}",
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
