"""The enabled actions of an agent, by `action_name`: those listed are enabled, every other
action of the agent is disabled. Action ids differ per agent, so they are looked up at apply."""

from __future__ import annotations

from bimpeai import AsyncBimpeAI

from bimpe_iac.errors import PlanError
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint
from bimpe_iac.resources.collections import ACTIONS


class ActionsKind:
    name: str = "actions"
    collections: tuple[Collection, ...] = (ACTIONS,)
    set_fields: frozenset[str] = frozenset({"enabled"})
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = True
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        for key, spec in context.stack.top("agents").items():
            if spec.actions is None:
                continue
            parent = f"agents.{key}"
            ignored = "actions" in spec.lifecycle.ignore_changes
            out.append(
                Desired(
                    address=f"{parent}.actions",
                    kind=self.name,
                    values={"enabled": sorted(set(spec.actions))},
                    depends_on=(parent,),
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
        enabled = sorted({a["action_name"] for a in listing.values() if a.get("is_enabled")})
        state = sorted((a["action_name"], bool(a.get("is_enabled"))) for a in listing.values())
        return Live(address, agent_id, {"enabled": enabled}, fingerprint(state))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """An adopted agent's actions are its own: their id is the agent's."""
        if parent_id is None or context.fetched.under(ACTIONS.name, parent_id) is None:
            return []
        return [parent_id]

    async def _apply(self, client: AsyncBimpeAI, agent_id: str, wanted: list[str]) -> None:
        actions = await client.agents.actions.list(in_path(agent_id))
        known = {a.action_name for a in actions}
        unknown = sorted(set(wanted) - known)
        if unknown:
            raise PlanError(
                f"the agent has no action {', '.join(repr(u) for u in unknown)};"
                f" its actions are: {', '.join(sorted(known))}"
            )
        enable = [a.id for a in actions if a.action_name in wanted and not a.is_enabled]
        disable = [a.id for a in actions if a.action_name not in wanted and a.is_enabled]
        if enable:
            await client.agents.actions.enable(in_path(agent_id), action_ids=enable)
        if disable:
            await client.agents.actions.disable(in_path(agent_id), action_ids=disable)

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        await self._apply(client, request.parent_id, request.values["enabled"])
        return Created(request.parent_id, request.parent_id)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await self._apply(client, request.id, request.values["enabled"])

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        """Removing `actions:` from a manifest stops managing them; nothing is disabled."""

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """They belong to their agent: nothing of their own to look for."""
        return True


KIND = ActionsKind()
