"""Phone-number links: a number the team owns (BimpeAI provisions numbers) sends its calls to
an agent of the stack. Linking is an update of the number; destroying a link unlinks it.

A link's key is a logical name with the number in `number:` (which may come from a var, so
each environment links its own), or, as links were first written, the E.164 number itself.
The state entry of a link holds the id of its number: a changed `number:` is a replace (the
old number unlinked, the new one linked), and a key that becomes logical with the same number
is renamed in the state (`implied_moves`), never unlinked."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from typing import Annotated, Any

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import StringConstraints

from bimpe_iac.errors import PlanError
from bimpe_iac.manifest.fields import (
    E164_PATTERN,
    KEY_PATTERN,
    KeyOrE164,
    KeyReference,
    PhoneNumber,
    Printable,
)
from bimpe_iac.manifest.models import ResourceSpec
from bimpe_iac.model.export import ExportContext, Exported
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Lifecycle, Live, Ref
from bimpe_iac.model.sections import Finding, Reference, Section, join_address, split_address
from bimpe_iac.model.views import StackView, StateEntry
from bimpe_iac.resources.base import fingerprint
from bimpe_iac.resources.collections import AGENTS, PHONE_NUMBERS
from bimpe_iac.resources.export_keys import pick

SECTION_NAME = "phone_numbers"
AGENT_KIND = "agent"
_E164 = re.compile(E164_PATTERN)
_KEY = re.compile(KEY_PATTERN)
# What the API's update of a number takes; `number` picks the number, it is not sent.
_SENT = ("agent_id", "label")

# The manifest -----------------------------------------------------------------------


class PhoneLinkSpec(ResourceSpec):
    """Sends calls to a phone number the account owns to an agent of this stack."""

    number: PhoneNumber | None = None
    """The E.164 number when the key is a logical name; may come from a var."""
    agent: KeyReference
    """The key of an agent in this stack."""
    label: Annotated[str, StringConstraints(max_length=200), Printable] | None = None


def number_of(key: str, spec: PhoneLinkSpec) -> str:
    return spec.number or key


def _written_number(key: str, data: Any) -> str | None:
    number = data.get("number") if isinstance(data, dict) else None
    if isinstance(number, str):
        return number if _E164.match(number) else None
    return key if _E164.match(key) else None


def check_links(written: Mapping[str, Any]) -> list[Finding]:
    """A logical key needs `number:`; an E.164 key needs none, or the same; no two links
    share a number."""
    found: list[Finding] = []
    holders: dict[str, str] = {}
    for key, data in written.items():
        if not isinstance(data, dict):
            continue
        number = data.get("number")
        if number is None and _KEY.match(key) and not _E164.match(key):
            message = (
                f"'{key}' is not a phone number: add `number:` with the E.164 number to link"
                " ('+', country code and number, like +2348012345678), or write that number"
                " as the key"
            )
            found.append(Finding(key, message))
            continue
        if isinstance(number, str) and _E164.match(key) and number != key:
            message = f"'{number}' differs from the key {key}: write the number once"
            found.append(Finding(key, message, field="number"))
            continue
        linked = _written_number(key, data)
        if linked is None:
            continue
        if linked in holders:
            first = holders[linked]
            message = f"{linked} is also the number of {join_address(SECTION_NAME, first)}"
            at = "number" if isinstance(number, str) else None
            found.append(Finding(key, message, field=at, first=first))
            continue
        holders[linked] = key
    return found


def _address_number(stack: StackView, address: str) -> str | None:
    """The number the manifests give the link at `address`, or its key when that is one."""
    entry = stack.resources.get(address)
    if entry is not None and isinstance(entry.spec, PhoneLinkSpec):
        return number_of(entry.key, entry.spec)
    parts = split_address(address)
    key = parts[-1] if parts else ""
    return key if _E164.match(key) else None


def implied_moves(stack: StackView, state: Mapping[str, StateEntry]) -> list[tuple[str, str]]:
    """A link whose E.164 key became a logical key with the same `number:` keeps its state
    entry: renamed, as a `moved:` block would, so the number is never unlinked."""
    moves = []
    for entry in stack.entries(SECTION_NAME):
        if entry.address in state:
            continue
        old = stack.sections.address(
            SECTION_NAME, number_of(entry.key, entry.spec), module=entry.module
        )
        held = state.get(old)
        if held is not None and held.kind == KIND.name and old not in stack.resources:
            moves.append((old, entry.address))
    return moves


class PhoneLinkKind:
    name: str = "phone_link"
    collections: tuple[Collection, ...] = (PHONE_NUMBERS,)
    set_fields: frozenset[str] = frozenset()
    replace_fields: frozenset[str] = frozenset({"number"})
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset()

    def desired(self, context: PlanContext) -> list[Desired]:
        out = []
        owned = {obj["e164"] for obj in context.fetched.of(PHONE_NUMBERS.name).values()}
        for entry in context.stack.entries(SECTION_NAME):
            link = entry.spec
            number = number_of(entry.key, link)
            if number not in owned and not context.destroy:
                raise PlanError(
                    context.stack.mask(
                        f"{entry.address}: {number} is not one of this team's phone numbers;"
                        " request one (phone_numbers.requests) or fix the number"
                    )
                )
            agent = entry.refers_to("agents", link.agent)
            values: dict[str, Any] = {"number": number, "agent_id": Ref(agent)}
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
        """The number the state holds; for a link the state does not hold, the number the
        manifests give."""
        numbers = context.fetched.of(PHONE_NUMBERS.name)
        if entry is not None:
            obj = numbers.get(entry.id)
        else:
            wanted = _address_number(context.stack, address)
            obj = next((o for o in numbers.values() if o.get("e164") == wanted), None)
        if obj is None:
            return None
        values = {
            "number": obj.get("e164"),
            "agent_id": obj.get("agent_id"),
            "label": obj.get("label"),
        }
        return Live(address, obj["id"], values, fingerprint(obj))

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """Never needed: `read` finds a number by itself, managed or not."""
        return []

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        """Links the number (in a replace, after the old one was unlinked)."""
        number = request.values["number"]
        async for found in await client.phone_numbers.list(search=number, limit=100):
            if found.e164 == number:
                await client.phone_numbers.update(in_path(found.id), **_sent(request.values))
                return Created(found.id)
        raise PlanError(f"{request.address}: {number} is not assigned to this team")

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> None:
        await client.phone_numbers.update(in_path(request.id), **_sent(request.values))

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        """The label described the link: it goes with it."""
        # The SDK's body type declares a label as a string; the API takes null for none.
        unlinked: Any = {"agent_id": None, "label": None}
        with contextlib.suppress(NotFoundError):
            await client.phone_numbers.update(in_path(id), **unlinked)

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """A link is never made anew: the number is there or the plan would not link it."""
        return True


def _sent(values: Mapping[str, Any]) -> Any:
    return {field: values[field] for field in _SENT if field in values}


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
    for entry in context.stack.entries(SECTION_NAME):
        address = entry.address
        live = KIND.read(address, None, context) if address in desired else None
        holder = live.values.get("agent_id") if live is not None else None
        if not isinstance(holder, str) or holder in ours:
            continue
        name = agents.get(holder, {}).get("name")
        agent = f"the agent {name!r} ({holder})" if isinstance(name, str) else f"agent {holder}"
        message = (
            f"{number_of(entry.key, entry.spec)} is linked to {agent}, which the state of this"
            " stack does not manage: pass --take-over-numbers to link it here"
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
    SECTION_NAME,
    PhoneLinkSpec,
    "phone link",
    key=KeyOrE164,
    description="Phone links, each linking a number to an agent: by a logical key with the"
    " number in `number:`, or by the E.164 number itself.",
    references=(Reference("agent", "agents"),),
    export=export,
    count_name="phone_links",
    check=check_links,
    implied_moves=implied_moves,
    identity=_written_number,
)
