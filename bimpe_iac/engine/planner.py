"""Build a plan: for every address the manifest or the state knows, decide create, update,
replace, delete or no-op, then work out which changes must wait for which."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bimpe_iac.engine.diff import compare, project, resolve_refs
from bimpe_iac.engine.drift import DELETED_OUTSIDE, changed_fields
from bimpe_iac.engine.graph import order_edges
from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.errors import PlanError
from bimpe_iac.model.ids import is_id
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import (
    Action,
    Change,
    Desired,
    FieldChange,
    Lifecycle,
    Live,
    Plan,
    count_actions,
)
from bimpe_iac.model.sections import instances_of, module_of
from bimpe_iac.state.model import ResourceState, StateDocument


@dataclass(frozen=True)
class PlanOptions:
    destroy: bool = False
    targets: tuple[str, ...] = ()
    max_deletions: int | None = None
    adopt: bool = False
    """Import live objects named as the manifest names them instead of creating twins."""
    allow_duplicates: bool = False
    """Create even where an unmanaged live object has the same name (`engine/twins.py`)."""
    take_over_numbers: bool = False
    """Relink phone numbers that agents this stack does not manage hold."""
    again: bool = False
    """Making a saved plan again: its `targets` that neither the manifests nor the state know
    are left out rather than refused (comparing the two plans then names them)."""


def declared_resources(
    kinds: Mapping[str, ResourceKind], context: PlanContext
) -> dict[str, Desired]:
    """Every resource the manifests declare, also when destroying: their lifecycle and
    dependencies still hold."""
    return {d.address: d for kind in kinds.values() for d in kind.desired(context)}


def desired_resources(
    kinds: Mapping[str, ResourceKind], context: PlanContext
) -> dict[str, Desired]:
    """The resources the plan wants to exist: none when destroying."""
    if context.destroy:
        return {}
    return declared_resources(kinds, context)


def lifecycle_changes(entry: ResourceState, lifecycle: Lifecycle) -> tuple[FieldChange, ...]:
    """The lifecycle settings the state remembers otherwise than the manifests say."""
    found = []
    if entry.prevent_destroy != lifecycle.prevent_destroy:
        found.append(
            FieldChange(
                "lifecycle.prevent_destroy", entry.prevent_destroy, lifecycle.prevent_destroy
            )
        )
    remembered, wanted = sorted(entry.ignore_changes), sorted(lifecycle.ignore_changes)
    if remembered != wanted:
        found.append(FieldChange("lifecycle.ignore_changes", remembered, wanted))
    return tuple(found)


NOT_READABLE = "(not readable)"
"""The live side of a write-only field nothing recorded: it cannot be compared, so it is set."""


def with_write_only(
    kind: ResourceKind,
    want: Desired,
    entry: ResourceState | None,
    live: Live,
    secrecy: Secrecy,
    adopted: bool = False,
) -> Live:
    """`live` with each write-only field the manifests set filled in from the last apply:
    the wanted value itself when the state proves it is what was applied (through its keyed
    digest, for a sensitive one), else what the state recorded (masked), else NOT_READABLE.
    So a value changed in the manifests (a rotated key) is one update, and nothing else is.
    An object being adopted has no last apply: a field it could be updated in is sent again,
    one that would force a replace (a tool's definition) is taken as the manifests say."""
    fields = [f for f in kind.write_only_fields if f in want.values]
    if not fields:
        return live
    values = dict(live.values)
    for field in fields:
        wanted = want.values[field]
        if adopted and field in kind.replace_fields:
            values[field] = wanted
        elif entry is None or field not in entry.values:
            values[field] = NOT_READABLE
        elif secrecy.drifted(entry, field, wanted) is False:
            values[field] = wanted
        else:
            values[field] = entry.values[field]
    return replace(live, values=values)


def _decide(
    address: str,
    want: Desired | None,
    entry: ResourceState | None,
    live: Live | None,
    kind: ResourceKind,
    lookup: Any,
    secrecy: Secrecy,
    adopted: bool = False,
) -> Change | None:
    base: dict[str, Any] = {
        "address": address,
        "kind": kind.name,
        "parent": want.parent if want else None,
        "fingerprint": live.fingerprint if live else None,
        "updated_at": live.updated_at if live else None,
    }
    drift = changed_fields(entry, live, secrecy) if entry is not None and live is not None else ()
    if want is None:
        if entry is None:
            return None
        before = live.values if live else entry.values
        reason = None if live else "already gone from BimpeAI"
        if live and kind.forget_on_delete:
            reason = "only no longer managed: BimpeAI keeps it as it is"
        return Change(
            **base, action="delete", id=entry.id, before=before, after=None, reason=reason
        )
    after = resolve_refs(want.values, lookup)
    if live is not None:
        live = with_write_only(kind, replace(want, values=after), entry, live, secrecy, adopted)
    if live is None:
        reason = DELETED_OUTSIDE if entry is not None else None
        return Change(**base, action="create", id=None, before=None, after=after, reason=reason)
    fields = compare(
        after, live.values, set_fields=kind.set_fields, ignore=want.lifecycle.ignore_changes
    )
    before = {f: project(after.get(f), live.values.get(f)) for f in after}
    action: Action = "noop"
    reason = None
    if any(f.field in kind.replace_fields for f in fields):
        action = "replace"
        reason = ", ".join(f"{f.field} changed" for f in fields if f.field in kind.replace_fields)
    elif fields:
        action = "update"
    lifecycle = lifecycle_changes(entry, want.lifecycle) if entry is not None else ()
    if action == "noop" and lifecycle:
        action = "update"
    drift_shown = tuple(d for d in drift if d.field not in want.lifecycle.ignore_changes)
    return Change(
        **base,
        action=action,
        id=live.id,
        before=before,
        after=after,
        fields=fields,
        drift=drift_shown,
        reason=reason,
        lifecycle=lifecycle,
    )


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list | tuple):
        return {s for item in value for s in _strings(item)}
    return set()


def _again_after_providers(changes: dict[str, Change], desired: Mapping[str, Desired]) -> None:
    """A resource that waits for one being made that gives the agent actions (a tool) is
    applied again after it, even when it looks unchanged now, unless it names every action
    the new one gives: BimpeAI turns a new tool's action on, and whether it should be is the
    waiting resource's business (an agent's `actions:`), which cannot compare actions that
    do not exist yet."""
    made = {
        address
        for address, change in changes.items()
        if change.action in ("create", "replace")
        and address in desired
        and desired[address].provides
    }
    if not made:
        return
    for address, change in list(changes.items()):
        waited = sorted(made & set(desired[address].waits_for)) if address in desired else []
        named = _strings(desired[address].values) if waited else set()
        waited = [a for a in waited if not set(desired[a].provides) <= named]
        if change.action == "noop" and waited:
            reason = f"applied again after {', '.join(waited)}, which add actions"
            changes[address] = replace(change, action="update", reason=reason)


def _check_entry(address: str, entry: ResourceState, kind: str) -> None:
    """Refuse a state entry that a hand edit made unsafe to act on."""
    problem = None
    if entry.kind != kind:
        problem = f"records kind {entry.kind!r} here, the manifests kind {kind!r}"
    for id in (entry.id, entry.parent_id):
        if id is not None and not is_id(id):
            problem = f"records id {id!r} here, which no BimpeAI object has"
    if problem is not None:
        raise PlanError(f"{address}: the state {problem}; was the state edited by hand?")


def _as_import(change: Change) -> Change:
    if change.action not in ("update", "noop"):
        raise PlanError(f"{change.address}: cannot adopt {change.id}: it would be {change.action}d")
    # An import records the manifests' lifecycle with everything else.
    return replace(change, action="import", lifecycle=())


def _closure(start: Iterable[str], edges: Mapping[str, Collection[str]]) -> set[str]:
    wanted = set(start)
    stack = list(wanted)
    while stack:
        for dep in edges.get(stack.pop(), ()):
            if dep not in wanted:
                wanted.add(dep)
                stack.append(dep)
    return wanted


def _parents(address: str, known: Collection[str]) -> list[str]:
    """The addresses in `known` that hold `address` (`agents.a` holds
    `agents.a.knowledge_bases.k`)."""
    return [
        address[:index]
        for index, char in enumerate(address)
        if char == "." and address[:index] in known
    ]


def in_uses(targets: Iterable[str], addresses: Collection[str]) -> tuple[str, ...]:
    """The targets, each naming a use of a module (`module.brand_a`) replaced by every address
    under it, and one naming a for_each (`agents.regional`) by each of its instances
    (`agents.regional["ng"]`, ...), as in Terraform."""
    out: list[str] = []
    for target in targets:
        if target in addresses:
            out.append(target)
            continue
        under = sorted(a for a in addresses if a.startswith(target + "."))
        is_use = module_of(f"{target}.x.y") == target
        out += (is_use and under) or instances_of(target, addresses) or [target]
    return tuple(out)


def targeted(
    targets: Iterable[str],
    addresses: Collection[str],
    declared: Mapping[str, Desired],
    state: Mapping[str, ResourceState],
    *,
    destroy: bool,
) -> set[str]:
    """The addresses a run with `--target` acts on, Terraform's way. To apply: each target,
    what it holds (an agent's knowledge bases, actions, live status), and what they need to
    exist, transitively. To destroy: each target and whatever depends on it (what it holds,
    what refers to it, transitively), never what it needs. A need is a reference or a parent
    (`Desired.depends_on`, as the manifests declare it, else as the state remembers it), not
    an order (`waits_for`)."""
    needs: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    for address in addresses:
        if address in declared:
            found: Iterable[str] = declared[address].depends_on
        else:
            found = state[address].depends_on if address in state else ()
        needs[address] = [a for a in found if a in addresses and a != address]
        for parent in _parents(address, addresses):
            held.setdefault(parent, []).append(address)
    if destroy:
        users: dict[str, list[str]] = {}
        for address, needed in needs.items():
            for dep in needed:
                users.setdefault(dep, []).append(address)
        edges = {a: [*users.get(a, ()), *held.get(a, ())] for a in addresses}
        return _closure(targets, edges)
    start = {*targets, *(child for target in targets for child in held.get(target, ()))}
    return _closure(start, needs)


def build_plan(
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    state: StateDocument,
    secrecy: Secrecy,
    options: PlanOptions = PlanOptions(),
    imports: Collection[str] = (),
    desired: Mapping[str, Desired] | None = None,
    intended: Collection[str] = (),
) -> Plan:
    """`imports`: addresses whose state entry `state` holds only for this plan (adopted);
    `desired`: `desired_resources(kinds, context)`, when the caller has it already;
    `intended`: addresses whose entry `state` holds only for this plan, found as made by a
    create whose answer was lost (`engine/intents.py`): imported when kept as they are or
    updated, else replaced or deleted as any managed object."""
    if desired is None:
        desired = desired_resources(kinds, context)
    addresses = sorted(set(desired) | set(state.resources))

    def kind_of(address: str) -> ResourceKind:
        entry = state.resources.get(address)
        name = desired[address].kind if address in desired else entry.kind if entry else ""
        if name not in kinds:
            raise PlanError(f"{address}: the state holds an unknown kind '{name}'")
        if entry is not None:
            _check_entry(address, entry, name)
        return kinds[name]

    lives = {a: kind_of(a).read(a, state.resources.get(a), context) for a in addresses}
    # Ids that this run creates (or re-creates) are unknown until apply.
    unknown_ids = {a for a in addresses if a in desired and lives[a] is None}

    def lookup(address: str) -> str | None:
        live = lives.get(address)
        return None if address in unknown_ids or live is None else live.id

    def decide(address: str) -> Change | None:
        return _decide(
            address,
            desired.get(address),
            state.resources.get(address),
            lives[address],
            kind_of(address),
            lookup,
            secrecy,
            address in imports,
        )

    changes = {a: c for a in addresses if (c := decide(a)) is not None}
    # A replaced resource gets a new id, so whatever refers to it changes too.
    replaced = {a for a, c in changes.items() if c.action == "replace"}
    if replaced:
        unknown_ids |= replaced
        for address, change in list(changes.items()):
            if address in desired and change.action in ("update", "noop"):
                changes[address] = decide(address) or change
    _again_after_providers(changes, desired)
    for address in imports:
        changes[address] = _as_import(changes[address])
    for address in intended:
        found = changes.get(address)
        if found is not None and found.action in ("update", "noop"):
            changes[address] = replace(
                _as_import(found), reason="made by an earlier create whose answer was lost"
            )

    targets = in_uses(options.targets, changes)
    declared = declared_resources(kinds, context) if context.destroy else desired
    if targets and options.again:
        targets = tuple(t for t in targets if t in changes)
    elif targets:
        unknown = [t for t in targets if t not in changes]
        if unknown and (unknown[0] in declared or in_uses(unknown[:1], declared) != (unknown[0],)):
            raise PlanError(
                f"--target {unknown[0]}: the state manages nothing there, so nothing to destroy"
            )
        if unknown:
            raise PlanError(f"--target {unknown[0]}: no such resource in the manifest or state")
    if options.targets:
        keep = targeted(targets, changes, declared, state.resources, destroy=options.destroy)
        changes = {a: c for a, c in changes.items() if a in keep}

    _check_safety(changes, declared, state, options)
    waits = order_edges(changes, desired, state.resources)
    ordered = tuple(replace(c, depends_on=tuple(sorted(waits[a]))) for a, c in changes.items())
    notes = tuple(
        f"{address}: {note}"
        for address in sorted(changes)
        if (live := lives.get(address)) is not None
        for note in live.notes
    ) + tuple(
        f"{address}: adopted as the manifests say: its {', '.join(sorted(unread))} cannot be"
        " read back from BimpeAI"
        for address in sorted(imports)
        if address in desired
        and (
            unread := kind_of(address).write_only_fields
            & kind_of(address).replace_fields
            & set(desired[address].values)
        )
    )
    return Plan(
        stack=state.stack,
        environment=state.environment,
        lineage=state.lineage,
        serial=state.serial,
        changes=ordered,
        warnings=notes,
        destroy=options.destroy,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        targets=options.targets,
    )


def is_protected(
    address: str, declared: Mapping[str, Desired], state: Mapping[str, ResourceState]
) -> bool:
    """`prevent_destroy` as the manifests declare it; as the state remembers it once the
    manifests no longer declare the resource."""
    if address in declared:
        return declared[address].lifecycle.prevent_destroy
    entry = state.get(address)
    return entry is not None and entry.prevent_destroy


def _check_safety(
    changes: Mapping[str, Change],
    declared: Mapping[str, Desired],
    state: StateDocument,
    options: PlanOptions,
) -> None:
    destroying = [a for a, c in changes.items() if c.action in ("delete", "replace")]
    protected = [a for a in destroying if is_protected(a, declared, state.resources)]
    if protected:
        raise PlanError(
            "lifecycle.prevent_destroy forbids destroying "
            + ", ".join(protected)
            + "; to allow it, set `prevent_destroy: false` on it and apply before removing it"
        )
    count = count_actions(changes.values())["destroy"]
    if options.max_deletions is not None and count > options.max_deletions:
        raise PlanError(
            f"this plan destroys {count} resources, more than --max-deletions"
            f" {options.max_deletions}: {', '.join(destroying[:10])}"
            + (" ..." if len(destroying) > 10 else "")
        )
