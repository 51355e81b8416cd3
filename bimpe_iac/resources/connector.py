"""First-party connectors of an agent (Stripe, Paystack, Bumpa, Google Calendar and Sheets).

Every agent has each of them built in, at first not connected, so nothing is created or
deleted: "create" and "update" configure (connect) the connector, "delete" disconnects it.
Credentials are write-only: the API answers only which of them are set. The Google types
take no credentials; a person connects them at the onboarding URL that configuring answers,
which apply prints, and until then the connector is pending.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Literal, get_args

from bimpeai import AsyncBimpeAI, NotFoundError
from pydantic import AfterValidator

from bimpe_iac.errors import ApiFailure
from bimpe_iac.manifest.fields import Secret, manifest_error
from bimpe_iac.manifest.issues import InvalidStackError
from bimpe_iac.manifest.models import ResourceSpec
from bimpe_iac.model.export import ExportContext, Exported, Obj
from bimpe_iac.model.ids import in_path
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import Collection, Created, CreateRequest, PlanContext, UpdateRequest
from bimpe_iac.model.plan import Desired, Live
from bimpe_iac.model.sections import Section
from bimpe_iac.model.views import StateEntry
from bimpe_iac.resources.base import fingerprint, in_listing
from bimpe_iac.resources.collections import ACTIONS

# The manifest -------------------------------------------------------------------------

ConnectorType = Literal["bumpa", "google_calendar", "google_sheets", "paystack", "stripe"]
"""The SDK's `BimpeaiIntegrationType`: a connector's key in an agent's `connectors:`."""

CREDENTIALS = ("secret_key", "public_key", "token")
# type -> (fields it needs, fields it takes), as the API's configure checks them.
FIELDS_OF: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "bumpa": (("token",), ("token",)),
    "google_calendar": ((), ()),
    "google_sheets": ((), ()),
    "paystack": (("secret_key",), ("secret_key", "public_key", "currency")),
    "stripe": (("secret_key",), ("secret_key", "public_key", "currency")),
}
OAUTH_TYPES = frozenset({"google_calendar", "google_sheets"})
"""Connected by a person at the onboarding URL: pending until then."""
WAITING = (
    "waiting for a person to connect it: open the onboarding URL apply printed"
    " (for a new one: bimpe-iac destroy --target {address}, then apply)"
)


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isascii() or not value.isalpha():
        raise manifest_error("currency", f"'{value}' is not a three-letter ISO 4217 code")
    return value.upper()


Currency = Annotated[str, AfterValidator(_currency)]


class ConnectorSpec(ResourceSpec):
    """A first-party connector, under its type. `stripe` and `paystack` take `secret_key`
    (required), `public_key` and `currency`; `bumpa` takes `token` (required); the Google
    types take nothing and are connected by a person at the onboarding URL apply prints."""

    connected: bool = True
    """false: keep it disconnected (disconnect it if it is connected)."""
    secret_key: Secret | None = None
    public_key: Secret | None = None
    token: Secret | None = None
    currency: Currency | None = None
    """Three-letter ISO 4217 code (stripe, paystack)."""


def _problems(kind: str, spec: ConnectorSpec) -> list[str]:
    """What the connector type `kind` does not take, or lacks, of what `spec` writes."""
    if not spec.connected:
        return []
    needs, takes = FIELDS_OF[kind]
    given = [name for name in (*CREDENTIALS, "currency") if getattr(spec, name) is not None]
    problems = [f"{name}: not used by {kind}" for name in given if name not in takes]
    problems += [f"{name}: required for {kind}" for name in needs if name not in given]
    return problems


# The kind ------------------------------------------------------------------------------


async def _connectors(client: AsyncBimpeAI, agent_id: str) -> list[dict[str, Any]]:
    listing = await client.agents.integrations.bimpeai.list(in_path(agent_id))
    return [item.model_dump(mode="json") for item in listing]


CONNECTORS = Collection(
    "connectors", fetch_children=_connectors, parent_kind="agent", needed_by="connectors"
)


def live_values(obj: Obj) -> dict[str, Any]:
    """What the listing says of a connector; a pending one counts as connected (it waits
    for a person, and configuring it again would not change that)."""
    status = obj.get("status")
    return {
        "connected": status in ("connected", "pending"),
        "status": status,
        "currency": obj.get("currency"),
        "credentials_set": sorted(obj.get("credentials_set") or []),
    }


async def _find(client: AsyncBimpeAI, agent_id: str, kind: str) -> Any:
    listing = await client.agents.integrations.bimpeai.list(in_path(agent_id))
    found = next((item for item in listing if item.type == kind), None)
    if found is None or found.id is None:
        raise ApiFailure(f"the agent {agent_id} lists no {kind} connector")
    return found


def _body(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    return {name: values[name] for name in FIELDS_OF[kind][1] if values.get(name) is not None}


class ConnectorKind:
    name: str = "connector"
    collections: tuple[Collection, ...] = (CONNECTORS,)
    set_fields: frozenset[str] = frozenset({"credentials_set"})
    replace_fields: frozenset[str] = frozenset()
    forget_on_delete: bool = False
    write_only_fields: frozenset[str] = frozenset(CREDENTIALS)

    def desired(self, context: PlanContext) -> list[Desired]:
        out: list[Desired] = []
        issues: list[Issue] = []
        for entry in context.stack.entries(SECTION_NAME):
            spec: ConnectorSpec = entry.spec
            parent = str(entry.holder)
            for problem in _problems(entry.key, spec):
                issues.append(context.stack.issue_at(entry.address, problem))
            values: dict[str, Any] = {"type": entry.key, "connected": spec.connected}
            if spec.connected:
                given = [name for name in CREDENTIALS if getattr(spec, name) is not None]
                values.update({name: getattr(spec, name) for name in given})
                if spec.currency is not None:
                    values["currency"] = spec.currency
                # Which credentials are set is read back: one dropped by hand shows as drift.
                values["credentials_set"] = sorted(given)
            out.append(
                Desired(
                    address=entry.address,
                    kind=self.name,
                    values=values,
                    depends_on=(parent,),
                    parent=parent,
                    source=str(spec.source) if spec.source else None,
                )
            )
        if issues:
            raise InvalidStackError(context.stack.directory, issues)
        return out

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        if entry is None or entry.parent_id is None:
            return None
        listing = context.fetched.under(CONNECTORS.name, entry.parent_id)
        obj = (listing or {}).get(entry.id)
        if obj is None:
            return None
        values = {"type": obj.get("type"), **live_values(obj)}
        notes = (WAITING.format(address=address),) if obj.get("status") == "pending" else ()
        return Live(address, entry.id, values, fingerprint(obj), obj.get("updated_at"), notes)

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        listing = context.fetched.under(CONNECTORS.name, parent_id) if parent_id else None
        return [id for id, obj in (listing or {}).items() if obj.get("type") == want.values["type"]]

    async def _apply(
        self, client: AsyncBimpeAI, agent_id: str, values: dict[str, Any], key: str | None
    ) -> tuple[str, tuple[str, ...]]:
        """Make the connector as `values` want it: its id, and what a person must do now."""
        kind = str(values["type"])
        if not values.get("connected", True):
            found = await _find(client, agent_id, kind)
            if found.status != "not_connected":
                await client.agents.integrations.bimpeai.disconnect(
                    in_path(agent_id), in_path(found.id)
                )
            return str(found.id), ()
        body: Any = {"type": kind, **_body(kind, values)}
        answer = await client.agents.integrations.bimpeai.configure(
            in_path(agent_id), idempotency_key=key, **body
        )
        found = await _find(client, agent_id, kind)
        if found.status == "pending":
            notice = f"Open {answer.onboarding_url} to connect {found.name}."
            return str(found.id), (notice,)
        return str(found.id), ()

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created:
        assert request.parent_id is not None
        id, notices = await self._apply(
            client, request.parent_id, request.values, request.idempotency_key
        )
        return Created(id, request.parent_id, notices=notices)

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> tuple[str, ...]:
        assert request.parent_id is not None
        _, notices = await self._apply(client, request.parent_id, request.values, None)
        return notices

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None:
        assert parent_id is not None
        with contextlib.suppress(NotFoundError):
            await client.agents.integrations.bimpeai.disconnect(in_path(parent_id), in_path(id))

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        return await in_listing(client.agents.integrations.bimpeai.list, id, parent_id)


KIND = ConnectorKind()


# Export ----------------------------------------------------------------------------------


def variable_name(agent_key: str, kind: str, credential: str) -> str:
    """The sensitive var an exported connector's credential is read from."""
    return "_".join((agent_key, kind, credential)).replace("-", "_").lower()


def export(context: ExportContext, holder: Exported | None) -> list[Exported]:
    """An agent's connected (or pending) connectors; each credential that is set becomes a
    `${var.NAME}` reference to a sensitive var the user must fill."""
    if holder is None:
        return []
    out = []
    found = context.team.under(CONNECTORS.name, holder.id)
    for obj in sorted(found, key=lambda o: str(o.get("type"))):
        kind = str(obj.get("type"))
        if kind not in FIELDS_OF or obj.get("status") not in ("connected", "pending"):
            continue
        data: Obj = {}
        takes = FIELDS_OF[kind][1]
        for credential in sorted(obj.get("credentials_set") or []):
            if credential in CREDENTIALS and credential in takes:
                name = variable_name(holder.key, kind, credential)
                data[credential] = context.credential(
                    name,
                    f"the {credential.replace('_', ' ')} of the {obj.get('name') or kind}"
                    f" connector of the agent {holder.key}",
                )
        for credential in FIELDS_OF[kind][0]:
            if credential not in data:
                name = variable_name(holder.key, kind, credential)
                data[credential] = context.credential(
                    name,
                    f"the {credential.replace('_', ' ')} of the {obj.get('name') or kind}"
                    f" connector of the agent {holder.key}",
                )
        if obj.get("currency") and "currency" in takes:
            data["currency"] = obj["currency"]
        out.append(Exported(kind, str(obj.get("id")), data))
    return out


SECTION_NAME = "connectors"
SECTION = Section(
    SECTION_NAME,
    ConnectorSpec,
    "connector",
    within="agents",
    key=ConnectorType,
    movable=False,
    export=export,
    description=(
        "First-party connectors by type (" + ", ".join(get_args(ConnectorType)) + "). "
        "One removed from the manifest is disconnected."
    ),
)


def check_unconnected_actions(context: PlanContext, desired: Mapping[str, Desired]) -> list[Issue]:
    """A warning at each enabled action of a first-party connector that will not be
    connected: the action is enabled, but does nothing until someone connects it."""
    issues = []
    for entry in context.stack.entries("agents"):
        spec, agent = entry.spec, entry.address
        if f"{agent}.actions" not in desired or not spec.actions:
            continue
        agent_id = context.state_id(agent)
        listing = context.fetched.under(ACTIONS.name, agent_id) if agent_id else None
        sample = listing if listing is not None else _team_actions(context)
        types = {str(a["action_name"]): str(a.get("integration_type")) for a in sample.values()}
        read = context.fetched.under(CONNECTORS.name, agent_id) if agent_id else None
        live = {str(o.get("type")): o for o in (read or {}).values()}
        for index, name in enumerate(spec.actions):
            kind = types.get(name)
            if kind not in FIELDS_OF:
                continue
            declared = desired.get(f"{agent}.connectors.{kind}")
            if declared is not None:
                if declared.values.get("connected", True):
                    continue
                why = f"its {kind} connector is declared with connected: false"
            elif kind in live and live_values(live[kind])["connected"]:
                continue
            elif read is not None:
                why = f"its {kind} connector is not connected"
            else:
                why = (
                    f"this stack does not connect its {kind} connector (declare"
                    f" {agent}.connectors.{kind}, unless someone connects it in the Console)"
                )
            message = f"{name!r} is enabled, but {why}: the action does nothing until it is"
            issue = context.stack.issue_at(f"{agent}.actions[{index}]", message)
            issues.append(replace(issue, warning=True))
    return issues


def _team_actions(context: PlanContext) -> dict[str, Obj]:
    """The actions of any agent read (a new agent gets the same built-in ones)."""
    for (collection, _), listing in sorted(context.fetched.children.items()):
        if collection == ACTIONS.name and listing:
            return listing
    return {}
