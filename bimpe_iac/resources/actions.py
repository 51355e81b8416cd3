"""The enabled actions of an agent, by `action_name`: those listed are enabled, every other
action of the agent is disabled, except, with `unmanaged_actions: keep`, those of integrations
the stack does not manage. Action ids differ per agent, so they are looked up at apply."""

from __future__ import annotations

from typing import Any

from bimpeai import AsyncBimpeAI

from bimpe_iac.errors import PlanError
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint
from bimpe_iac.resources.collections import ACTIONS

ADDED_INTEGRATIONS = frozenset({"custom_api", "mcp_server", "pipedream"})
"""The integration types a team adds to an agent; the others come with every agent."""


def unmanaged_actions(context: PlanContext, agent: str) -> list[dict[str, Any]]:
    """The agent's live actions of integrations no resource of the stack holds (a teammate's
    custom API), by action name; none when the agent is not read."""
    agent_id = context.state_id(agent)
    listing = context.fetched.under(ACTIONS.name, agent_id) if agent_id else None
    if not listing:
        return []
    prefix = agent + "."
    managed = {entry.id for address, entry in context.state.items() if address.startswith(prefix)}
    found = [
        action
        for action in listing.values()
        if action.get("integration_type") in ADDED_INTEGRATIONS
        and action.get("integration_id") not in managed
    ]
    return sorted(found, key=lambda a: str(a.get("action_name")))


def _left_alone(context: PlanContext, agent: str, spec: Any) -> list[str]:
    if spec is None or spec.unmanaged_actions != "keep":
        return []
    return sorted({str(a["action_name"]) for a in unmanaged_actions(context, agent)})


class ActionsKind:
    name: str = "actions"
    collections: tuple[Collection, ...] = (ACTIONS,)
    set_fields: frozenset[str] = frozenset({"enabled"})
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = True
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for entry in context.stack.entries("agents"):
            spec = entry.spec
            if spec.actions is None:
                continue
            parent = entry.address
            ignored = "actions" in spec.lifecycle.ignore_changes
            values: dict[str, Any] = {"enabled": sorted(set(spec.actions))}
            left_alone = _left_alone(context, parent, spec)
            if left_alone:
                values["left_alone"] = left_alone
            # Enabling waits for what the agent holds: its tools give it action names.
            held = tuple(a for a in context.stack.resources if a.startswith(parent + "."))
            out.append(
                Desired(
                    address=f"{parent}.actions",
                    kind=self.name,
                    values=values,
                    depends_on=(parent,),
                    waits_for=held,
                    parent=parent,
                    lifecycle=Lifecycle(ignore_changes=frozenset({"enabled"} if ignored else ())),
                    source=str(spec.source) if spec.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        agent_id = context.state_id(address.rsplit(".", 1)[0])
        listing = context.fetched.under(ACTIONS.name, agent_id) if agent_id else None
        if agent_id is None or listing is None:
            return None
        agent = address.rsplit(".", 1)[0]
        held = context.stack.resources.get(agent)
        left_alone = _left_alone(context, agent, held.spec if held is not None else None)
        enabled = sorted(
            {
                a["action_name"]
                for a in listing.values()
                if a.get("is_enabled") and a["action_name"] not in left_alone
            }
        )
        state = sorted((a["action_name"], bool(a.get("is_enabled"))) for a in listing.values())
        values: dict[str, Any] = {"enabled": enabled}
        if left_alone:
            values["left_alone"] = left_alone
        return Live(address, agent_id, values, fingerprint(state))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """An adopted agent's actions are its own: their id is the agent's."""
        if parent_id is None or context.fetched.under(ACTIONS.name, parent_id) is None:
            return []
        return [parent_id]

    async def _apply(
        self, client: AsyncBimpeAI, agent_id: str, wanted: list[str], left_alone: list[str]
    ) -> None:
        actions = await client.agents.actions.list(in_path(agent_id))
        known = {a.action_name for a in actions}
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise PlanError(
                f"the agent has no action {', '.join(repr(u) for u in unknown)};"
                f" its actions are: {', '.join(sorted(known))}"
            )
        enable = [a.id for a in actions if a.action_name in wanted and not a.is_enabled]
        disable = [
            a.id
            for a in actions
            if a.action_name not in wanted and a.action_name not in left_alone and a.is_enabled
        ]
        if enable:
            await client.agents.actions.enable(in_path(agent_id), action_ids=enable)
        if disable:
            await client.agents.actions.disable(in_path(agent_id), action_ids=disable)

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        values = request.values
        await self._apply(
            client, request.parent_id, values["enabled"], values.get("left_alone", [])
        )
        return Created(request.parent_id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        values = request.values
        await self._apply(client, request.id, values["enabled"], values.get("left_alone", []))

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        """Removing `actions:` from a manifest stops managing them; nothing is disabled."""

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """They belong to their agent: nothing of their own to look for."""
        return True


KIND = ActionsKind()
