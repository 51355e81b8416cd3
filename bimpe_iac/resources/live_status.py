"""An agent's live status (development, live, paused). Going live waits until the agent's
knowledge bases, actions and phone links are in place; pausing goes before any of them."""

from __future__ import annotations

from typing import Any

from bimpeai import AsyncBimpeAI

from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.sections import top_of
from bimpe_iac.model.views import StackView, StateEntry
from bimpe_iac.resources.base import fingerprint
from bimpe_iac.resources.collections import AGENTS

Configurations = tuple[dict[str, list[str]], dict[str, list[str]]]


def _configurations(stack: StackView) -> Configurations:
    """The addresses that configure each agent: what it holds (its knowledge bases and
    integrations), and what refers to it (its phone links)."""
    held: dict[str, list[str]] = {}
    referring: dict[str, list[str]] = {}
    for entry in stack.resources.values():
        if entry.holder is not None:
            held.setdefault(top_of(entry.address), []).append(entry.address)
        for reference in stack.sections[entry.section].references:
            key = getattr(entry.spec, reference.field, None)
            if reference.section == "agents" and isinstance(key, str):
                referring.setdefault(entry.refers_to("agents", key), []).append(entry.address)
    return held, referring


def _configuration_of(agent: str, spec: Any, found: Configurations) -> tuple[str, ...]:
    held, referring = found
    addresses = list(held.get(agent, ()))
    if spec.actions is not None:
        addresses.append(f"{agent}.actions")
    return (*addresses, *referring.get(agent, ()))


class LiveStatusKind:
    name: str = "live_status"
    collections: tuple[Collection, ...] = (AGENTS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = True
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        configurations = _configurations(context.stack)
        for entry in context.stack.entries("agents"):
            spec = entry.spec
            if spec.live_status is None:
                continue
            agent = entry.address
            values: dict[str, Any] = {"status": spec.live_status}
            if spec.live_status_reason is not None:
                values["status_reason"] = spec.live_status_reason
            configuration = _configuration_of(agent, spec, configurations)
            agent_exists = context.state_id(agent) is not None
            # It needs only its agent; the agent's configuration is an order, not a need.
            waits_for: tuple[str, ...] = ()
            precedes: tuple[str, ...] = ()
            if spec.live_status == "live" or not agent_exists:
                waits_for = configuration
            else:
                precedes = (agent, *configuration)
            ignored = "live_status" in spec.lifecycle.ignore_changes
            out.append(
                Desired(
                    address=f"{agent}.live_status",
                    kind=self.name,
                    values=values,
                    depends_on=(agent,),
                    waits_for=waits_for,
                    precedes=precedes,
                    parent=agent,
                    lifecycle=Lifecycle(
                        ignore_changes=frozenset({"status", "status_reason"} if ignored else ())
                    ),
                    source=str(spec.source) if spec.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        agent_id = context.state_id(address.rsplit(".", 1)[0])
        obj = context.fetched.of(AGENTS.name).get(agent_id) if agent_id else None
        if agent_id is None or obj is None:
            return None
        values = {"status": obj.get("status"), "status_reason": obj.get("status_reason")}
        return Live(address, agent_id, values, fingerprint(values), obj.get("updated_at"))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """An adopted agent's status is its own: its id is the agent's."""
        if parent_id is None or parent_id not in context.fetched.of(AGENTS.name):
            return []
        return [parent_id]

    async def _set(self, client: AsyncBimpeAI, agent_id: str, values: dict[str, Any]) -> None:
        body: dict[str, Any] = {"status": values["status"]}
        if values.get("status_reason") is not None:
            body["status_reason"] = values["status_reason"]
        await client.agents.update_live_status(in_path(agent_id), **body)

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        await self._set(client, request.parent_id, request.values)
        return Created(request.parent_id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await self._set(client, request.id, request.values)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        """Removing `live_status:` stops managing it; the agent keeps its status."""

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """It belongs to its agent: nothing of its own to look for."""
        return True


KIND = LiveStatusKind()
