"""Phone-number links: a number the team owns (BimpeAI provisions numbers) sends its calls to
an agent of the stack. Linking is an update of the number; destroying a link unlinks it."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Annotated, Any

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import StringConstraints

from bimpe_iac.errors import PlanError
from bimpe_iac.manifest.fields import E164, KeyReference, Printable
from bimpe_iac.manifest.models import ResourceSpec
from bimpe_iac.model.export import ExportContext, Exported
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live, Ref
from bimpe_iac.model.sections import Reference, Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint
from bimpe_iac.resources.collections import AGENTS, PHONE_NUMBERS
from bimpe_iac.resources.export_keys import pick

# The manifest -----------------------------------------------------------------------


class PhoneLinkSpec(ResourceSpec):
    """Sends calls to a phone number the account owns to an agent of this stack."""

    agent: KeyReference
    """The key of an agent in this stack."""
    label: Annotated[str, StringConstraints(max_length=200), Printable] | None = None


AGENT_KIND = "agent"


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
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        owned = {obj["e164"] for obj in context.fetched.of(PHONE_NUMBERS.name).values()}
        for entry in context.stack.entries("phone_numbers"):
            e164, link = entry.key, entry.spec
            if e164 not in owned and not context.destroy:
                raise PlanError(
                    f"{entry.address}: {e164} is not one of this team's phone numbers;"
                    " request one (phone_numbers.requests) or fix the number"
                )
            agent = entry.refers_to("agents", link.agent)
            values: dict[str, Any] = {"agent_id": Ref(agent)}
            if link.label is not None:
                values["label"] = link.label
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(agent,),
                    lifecycle=Lifecycle(),
                    source=str(link.source) if link.source else None,
                )
            )
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
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
        await client.phone_numbers.update(in_path(request.id), **request.values)

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        """The label described the link: it goes with it."""
        # The SDK's body type declares a label as a string; the API takes null for none.
        unlinked: Any = {"agent_id": None, "label": None}
        with contextlib.suppress(NotFoundError):
            await client.phone_numbers.update(in_path(id), **unlinked)

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """A link is never created: the number is there or the plan would not link it."""
        return True


KIND = PhoneLinkKind()


def check_number_holders(context: PlanContext, desired: Mapping[str, Desired]) -> list[Issue]:
    """An issue at each link whose number an agent that this stack does not manage holds,
    unless the run takes numbers over (`--take-over-numbers`): relinking it would silently cut
    that agent, and whatever stack manages it, off the number."""
    if context.take_over_numbers:
        return []
    ours = {entry.id for entry in context.state.values() if entry.kind == AGENT_KIND}
    agents = context.fetched.of(AGENTS.name)
    issues = []
    for entry in context.stack.entries("phone_numbers"):
        e164, address = entry.key, entry.address
        live = KIND.read(address, None, context) if address in desired else None
        holder = live.values.get("agent_id") if live is not None else None
        if not isinstance(holder, str) or holder in ours:
            continue
        name = agents.get(holder, {}).get("name")
        agent = f"the agent {name!r} ({holder})" if isinstance(name, str) else f"agent {holder}"
        message = (
            f"{e164} is linked to {agent}, which the state of this stack does not manage:"
            " pass --take-over-numbers to link it here"
        )
        issues.append(context.stack.issue_at(address, context.stack.mask(message)))
    return issues


# Export ----------------------------------------------------------------------------------


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """The numbers linked to exported agents, by number."""
    out = []
    for number in sorted(context.team.of(PHONE_NUMBERS.name), key=lambda n: str(n["e164"])):
        agent = context.key_of("agents", str(number.get("agent_id")))
        if agent is not None:
            data = pick({"agent": agent, "label": number.get("label")}, ("agent", "label"))
            out.append(Exported(str(number["e164"]), str(number["id"]), data))
    return out


SECTION = Section(
    "phone_numbers",
    PhoneLinkSpec,
    "phone link",
    key=E164,
    description="Phone numbers by E.164 number, each linked to an agent.",
    references=(Reference("agent", "agents"),),
    movable=False,
    export=export,
    count_name="phone_links",
)
