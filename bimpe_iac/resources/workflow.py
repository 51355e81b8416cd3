"""Workflows: the team's own copies of prompts, rules, flows and FAQ that agents run."""

from __future__ import annotations

import contextlib
from typing import Any, get_args

from bimpeai import AsyncBimpeAI, NotFoundError

from bimpe_iac.manifest.models import WorkflowField
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, managed, normalise_text
from bimpe_iac.resources.collections import WORKFLOWS

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

    def desired(self, context: PlanContext) -> list[Desired]:
        return [
            Desired(
                address=f"workflows.{key}",
                kind=self.name,
                values=normalise(managed(spec, exclude={"lifecycle"})),
                lifecycle=Lifecycle(
                    spec.lifecycle.prevent_destroy, frozenset(spec.lifecycle.ignore_changes)
                ),
                source=str(spec.source) if spec.source else None,
            )
            for key, spec in context.stack.workflows.items()
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
