"""Phone-number links: a number the team owns (BimpeAI provisions numbers) sends its calls to
an agent of the stack. Linking is an update of the number; destroying a link unlinks it."""

from __future__ import annotations

import contextlib
from typing import Any

from bimpeai import AsyncBimpeAI, NotFoundError

from bimpe_iac.engine.model import Desired, Lifecycle, Live, Ref
from bimpe_iac.errors import PlanError
from bimpe_iac.resources.base import (
    Collection,
    Created,
    CreateRequest,
    PlanContext,
    UpdateRequest,
    fingerprint,
)
from bimpe_iac.resources.collections import PHONE_NUMBERS
from bimpe_iac.state.model import ResourceState


def address_of(e164: str) -> str:
    return f'phone_numbers."{e164}"'


def e164_of(address: str) -> str:
    return address.split('"')[1]


class PhoneLinkKind:
    name: str = "phone_link"
    collections: tuple[Collection, ...] = (PHONE_NUMBERS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = False

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        owned = {obj["e164"] for obj in context.fetched.of(PHONE_NUMBERS.name).values()}
        for e164, link in context.stack.phone_numbers.items():
            if e164 not in owned and not context.destroy:
                raise PlanError(
                    f"{address_of(e164)}: {e164} is not one of this team's phone numbers;"
                    " request one (phone_numbers.requests) or fix the number"
                )
            agent = f"agents.{link.agent}"
            values: dict[str, Any] = {"agent_id": Ref(agent)}
            if link.label is not None:
                values["label"] = link.label
            out.append(
                Desired(
                    address=address_of(e164),
                    kind=self.name,
                    values=values,
                    depends_on=(agent,),
                    lifecycle=Lifecycle(),
                    source=str(link.source) if link.source else None,
                )
            )
        return out

    def read(self, address: str, entry: ResourceState | None, context: PlanContext) -> Live | None:
        e164 = e164_of(address)
        for obj in context.fetched.of(PHONE_NUMBERS.name).values():
            if obj.get("e164") == e164:
                values = {"agent_id": obj.get("agent_id"), "label": obj.get("label")}
                return Live(address, obj["id"], values, fingerprint(obj))
        return None

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """Never needed: `read` finds a number by itself, managed or not."""
        return []

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        raise PlanError(f"{request.address}: the number is not assigned to this team")

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await client.phone_numbers.update(request.id, **request.values)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        with contextlib.suppress(NotFoundError):
            await client.phone_numbers.update(id, agent_id=None)


KIND = PhoneLinkKind()
