"""Drift: what changed on BimpeAI outside bimpe-iac since the last apply.

For every address the state manages, the live object (read by its kind, normalised as for a
plan) is compared with what the last apply left there: directly, or through the keyed digest
the state keeps of a field that held a sensitive value (`engine/secrecy.py`). Live values are
projected onto the shape of the applied ones first, so server defaults and fields the
manifests never wrote are not drift; key order does not count, and the kinds normalise text
the way the platform stores it.

A resource whose kind reads nothing is deleted outside bimpe-iac. When a resource and the
addresses under it are all gone (an agent with its knowledge bases, actions and live status),
the report names the outermost one and lists the rest as gone with it.

Fields a manifest lists in `lifecycle.ignore_changes` may change outside bimpe-iac, so they
are not drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bimpe_iac.engine.diff import project
from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.errors import PlanError
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import FieldChange, Live
from bimpe_iac.state.model import ResourceState, StateDocument

DELETED_OUTSIDE = "deleted outside bimpe-iac"


@dataclass(frozen=True, slots=True)
class Drifted:
    """One managed address that no longer matches the last apply.

    `changed` holds each drifted field with `before` the applied value (masked as the state
    stores it) and `after` the live one; a deleted resource has none, and `gone_with_it` names
    the addresses under it that went too.
    """

    address: str
    kind: str
    id: str
    changed: tuple[FieldChange, ...] = ()
    deleted: bool = False
    gone_with_it: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unmanaged:
    """A live object of a kind bimpe-iac manages that no address of the state holds."""

    kind: str
    id: str
    name: str | None = None
    e164: str | None = None


@dataclass(frozen=True, slots=True)
class DriftReport:
    stack: str
    environment: str
    managed: int
    """How many addresses the state manages."""
    resources: tuple[Drifted, ...] = ()
    unmanaged: tuple[Unmanaged, ...] | None = None
    """None when not asked for."""
    unchecked: tuple[str, ...] = ()
    """`address.field` of each sensitive field whose drift cannot be checked."""
    unobservable: tuple[str, ...] = ()
    """`address.field` of each write-only field: BimpeAI never returns it, so its drift
    cannot be seen at all (credentials, a tool's definition)."""
    notes: tuple[str, ...] = ()
    """What a person should know of a live object (an integration waiting to be connected)."""

    @property
    def changed(self) -> tuple[Drifted, ...]:
        return tuple(item for item in self.resources if not item.deleted)

    @property
    def deleted(self) -> tuple[Drifted, ...]:
        return tuple(item for item in self.resources if item.deleted)

    @property
    def has_drift(self) -> bool:
        return bool(self.resources or self.unmanaged)


def changed_fields(entry: ResourceState, live: Live, secrecy: Secrecy) -> tuple[FieldChange, ...]:
    """Fields whose live value is no longer what the last apply left there, the live side
    shown as `Secrecy.live_view` allows."""
    drifted = []
    for field, applied in entry.values.items():
        if field not in live.values:
            continue
        now = project(applied, live.values[field])
        if secrecy.drifted(entry, field, now):
            shown = secrecy.live_view({field: now}, entry)[field]
            drifted.append(FieldChange(field, applied, shown))
    return tuple(drifted)


def unchecked_fields(entry: ResourceState, live: Live, secrecy: Secrecy) -> list[str]:
    """Sensitive fields whose drift cannot be known: their keyed digests were made with
    another API key (or before bimpe-iac kept keyed digests)."""
    return [
        field
        for field, applied in entry.values.items()
        if field in live.values
        and secrecy.drifted(entry, field, project(applied, live.values[field])) is None
    ]


def unchecked_warning(unchecked: list[str]) -> str:
    count = len(unchecked)
    shown = ", ".join(unchecked[:5]) + (f" and {count - 5} more" if count > 5 else "")
    field, it = ("field", "it") if count == 1 else ("fields", "them")
    return (
        f"the drift of {count} sensitive {field} cannot be checked ({shown}): the state"
        f" recorded {it} under another API key, before bimpe-iac kept keyed digests, or from a"
        f" live value it could not verify; the next apply records {it} again"
    )


def unobservable_note(fields: list[str]) -> str:
    """`fields` are `address.field`; they are shown by address."""
    by_address: dict[str, list[str]] = {}
    for item in fields:
        address, field = item.rsplit(".", 1)
        by_address.setdefault(address, []).append(field)
    shown = [f"{a} ({', '.join(f)})" for a, f in by_address.items()]
    count = len(shown)
    listed = "; ".join(shown[:5]) + (f"; and {count - 5} more" if count > 5 else "")
    return (
        f"write-only fields cannot be read back from BimpeAI, so their drift cannot be"
        f" checked: {listed}; apply sends them again when the manifests change them"
    )


def outermost(addresses: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each address with no other of `addresses` above it, with those below it."""
    ordered = sorted(addresses)
    groups: dict[str, list[str]] = {}
    for address in ordered:
        top = next((a for a in groups if address.startswith(a + ".")), None)
        if top is None:
            groups[address] = []
        else:
            groups[top].append(address)
    return {address: tuple(below) for address, below in groups.items()}


def _ignored(kinds: Mapping[str, ResourceKind], context: PlanContext) -> dict[str, frozenset[str]]:
    """`lifecycle.ignore_changes` of each address as the manifests say now.

    A kind whose manifest entries cannot be resolved against the live data (say, a phone
    number that is no longer the team's) ignores nothing: that must still show as drift.
    """
    ignored: dict[str, frozenset[str]] = {}
    for kind in kinds.values():
        try:
            desired = kind.desired(context)
        except PlanError:
            continue
        ignored |= {d.address: d.lifecycle.ignore_changes for d in desired}
    return ignored


def _unmanaged(
    kinds: Mapping[str, ResourceKind], context: PlanContext, state: StateDocument
) -> tuple[Unmanaged, ...]:
    managed_ids = {entry.id for entry in state.resources.values()}
    collections = {c.name: c for kind in kinds.values() for c in kind.collections}
    found = []
    for collection in collections.values():
        if collection.manages is None:
            continue
        for obj in context.fetched.of(collection.name).values():
            if obj["id"] in managed_ids:
                continue
            if collection.manageable is not None and not collection.manageable(obj):
                continue
            name = obj.get("name", obj.get("label"))
            found.append(Unmanaged(collection.manages, obj["id"], name, obj.get("e164")))
    return tuple(sorted(found, key=lambda u: (u.kind, u.name or "", u.id)))


def find_drift(
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    state: StateDocument,
    secrecy: Secrecy,
    *,
    unmanaged: bool = False,
) -> DriftReport:
    """Compare what `context` read live with the last apply `state` recorded."""
    ignored = _ignored(kinds, context) if state.resources else {}
    changed: dict[str, Drifted] = {}
    deleted: dict[str, ResourceState] = {}
    unchecked: list[str] = []
    unobservable: list[str] = []
    notes: list[str] = []
    for address, entry in state.resources.items():
        if entry.kind not in kinds:
            raise PlanError(f"{address}: the state holds an unknown kind '{entry.kind}'")
        live = kinds[entry.kind].read(address, entry, context)
        if live is None:
            deleted[address] = entry
            continue
        skip = ignored.get(address, frozenset())
        hidden = kinds[entry.kind].write_only_fields
        unobservable += [f"{address}.{f}" for f in sorted(hidden) if f in entry.values]
        notes += [f"{address}: {note}" for note in live.notes]
        fields = tuple(f for f in changed_fields(entry, live, secrecy) if f.field not in skip)
        unchecked += [
            f"{address}.{field}"
            for field in unchecked_fields(entry, live, secrecy)
            if field not in skip
        ]
        if fields:
            changed[address] = Drifted(address, entry.kind, entry.id, fields)
    for address, below in outermost(deleted).items():
        entry = deleted[address]
        changed[address] = Drifted(address, entry.kind, entry.id, deleted=True, gone_with_it=below)
    return DriftReport(
        stack=state.stack,
        environment=state.environment,
        managed=len(state.resources),
        resources=tuple(changed[address] for address in sorted(changed)),
        unmanaged=_unmanaged(kinds, context, state) if unmanaged else None,
        unchecked=tuple(unchecked),
        unobservable=tuple(unobservable),
        notes=tuple(notes),
    )
