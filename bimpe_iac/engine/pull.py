"""What `pull` brings from the Console into code: for each field of each managed address that
changed live since the last apply, a three-way merge (`engine/merge.py`) of the last applied
value (the state), the manifests' value and the live one.

Only what drift sees counts (the kinds' normalisation, `lifecycle.ignore_changes`): a
cosmetic difference is nothing to pull. A field that held a sensitive value is never pulled.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bimpe_iac.engine.adopt import find_adoptions
from bimpe_iac.engine.diff import project, resolve_refs
from bimpe_iac.engine.merge import MISSING, Conflict, Edit, Merged, changes, cut, three_way
from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.engine.session import StateSession
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import Desired, Ref
from bimpe_iac.state.model import ResourceState, StateDocument
from bimpe_iac.state.pointers import within

Take = Literal["live", "code"]


@dataclass(frozen=True, slots=True)
class FieldPull:
    """One field of `address` that changed in the Console: the edits that bring the change into
    the manifests' value, and the conflicts with what the manifests changed. Every path
    starts with the field's name."""

    address: str
    field: str
    edits: tuple[Edit, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


@dataclass(frozen=True)
class PullReport:
    fields: tuple[FieldPull, ...] = ()
    gone: tuple[str, ...] = ()
    """Managed addresses whose object was deleted in the Console (apply makes them again)."""
    removed_in_code: tuple[str, ...] = ()
    """Addresses changed in the Console that the manifests no longer declare."""
    not_pulled: tuple[str, ...] = field(default_factory=tuple)
    """`address.field` of each sensitive field that changed (or may have) in the Console."""

    @property
    def conflicts(self) -> tuple[tuple[str, Conflict], ...]:
        return tuple((f.address, c) for f in self.fields for c in f.conflicts)

    @property
    def edits(self) -> tuple[tuple[str, Edit], ...]:
        return tuple((f.address, e) for f in self.fields for e in f.edits)


def _chosen(address: str, targets: Collection[str] | None) -> bool:
    return targets is None or any(address == t or address.startswith(t + ".") for t in targets)


def find_pulls(
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    state: StateDocument,
    desired: Mapping[str, Desired],
    secrecy: Secrecy,
    *,
    targets: Collection[str] | None = None,
) -> PullReport:
    fields: list[FieldPull] = []
    gone: list[str] = []
    removed: list[str] = []
    not_pulled: list[str] = []
    for address, entry in sorted(state.resources.items()):
        if not _chosen(address, targets) or entry.kind not in kinds:
            continue
        kind = kinds[entry.kind]
        live = kind.read(address, entry, context)
        if live is None:
            gone.append(address)
            continue
        want = desired.get(address)
        skip = (want.lifecycle.ignore_changes if want else frozenset()) | kind.write_only_fields
        ours_values = resolve_refs(want.values, context.state_id) if want else {}
        for name, applied in entry.values.items():
            if name in skip or name not in live.values:
                continue
            drifted = secrecy.drifted(entry, name, project(applied, live.values[name]))
            if drifted is False:
                continue
            if drifted is None or any(within(p, name) for p in entry.sensitive):
                not_pulled.append(f"{address}.{name}")
                continue
            if want is None:
                removed.append(address)
                break
            ours = ours_values.get(name, MISSING)
            theirs = cut(live.values[name], applied, ours)
            merged = three_way(applied, ours, theirs, (name,), as_set=name in kind.set_fields)
            if merged.edits or merged.conflicts:
                fields.append(
                    FieldPull(address, name, tuple(merged.edits), tuple(merged.conflicts))
                )
    return PullReport(tuple(fields), tuple(gone), tuple(removed), tuple(not_pulled))


def taking(report: PullReport, take: Take | None, targets: Collection[str] | None) -> PullReport:
    """The report with the conflicts under `targets` (all, without) settled for one side:
    `live` turns each into the edits that write the Console's value, `code` drops it (apply
    then pushes the manifests' value)."""
    if take is None:
        return report
    settled = []
    for item in report.fields:
        if not item.conflicts or not _chosen(item.address, targets):
            settled.append(item)
            continue
        merged = Merged(list(item.edits))
        if take == "live":
            for conflict in item.conflicts:
                merged.edits += _taken_live(conflict)
        settled.append(FieldPull(item.address, item.field, tuple(merged.edits)))
    return PullReport(tuple(settled), report.gone, report.removed_in_code, report.not_pulled)


def _taken_live(conflict: Conflict) -> list[Edit]:
    if conflict.what == "order":
        return [Edit("order", conflict.path, conflict.theirs)]
    return changes(conflict.ours, conflict.theirs, conflict.path)


def agreed_fields(
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    state: StateDocument,
    desired: Mapping[str, Desired],
    secrecy: Secrecy,
) -> dict[str, dict[str, Any]]:
    """For each managed address, the fields that changed in the Console since the last apply
    and that the manifests (`desired`, as they are now) give the live value of: what the
    state records as applied, so that drift sees no change there any more."""
    agreed: dict[str, dict[str, Any]] = {}
    for address, entry in state.resources.items():
        want = desired.get(address)
        if want is None or entry.kind not in kinds:
            continue
        live = kinds[entry.kind].read(address, entry, context)
        if live is None:
            continue
        for name, applied in entry.values.items():
            if name not in live.values or name not in want.values:
                continue
            if any(within(p, name) for p in entry.sensitive):
                continue
            now = project(applied, live.values[name])
            if not secrecy.drifted(entry, name, now):
                continue
            wanted = resolve_refs(want.values[name], context.state_id)
            if project(wanted, live.values[name]) == wanted and not _holds_ref(wanted):
                agreed.setdefault(address, {})[name] = wanted
    return agreed


def _holds_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, dict):
        return any(_holds_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_ref(v) for v in value)
    return False


async def record_pulled(
    session: StateSession,
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    desired: Mapping[str, Desired],
    agreed: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, str],
) -> int:
    """Record the agreed fields, and each new entry (`new`: address -> id) as `import` would,
    with the addresses under it the manifests now declare (an agent's live status). Returns
    how many fields and entries were recorded."""
    recorded = 0
    for address, values in sorted(agreed.items()):
        await session.refresh(address, dict(values))
        recorded += len(values)
    for address in sorted(new):
        want = desired.get(address)
        if want is None or address in session.document.resources:
            continue
        parent_id = session.id_of(want.parent) if want.parent else None
        entry = ResourceState(kind=want.kind, id=new[address], parent_id=parent_id)
        recorded += await _adopt(session, kinds, context, want, entry)
    under = {
        a: w
        for a, w in desired.items()
        if a not in session.document.resources and any(a.startswith(n + ".") for n in new)
    }
    if under:
        view = replace(context, state=dict(session.document.resources))
        for address, entry in sorted(find_adoptions(kinds, under, view).items()):
            recorded += await _adopt(session, kinds, view, under[address], entry)
    return recorded


async def _adopt(
    session: StateSession,
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    want: Desired,
    entry: ResourceState,
) -> int:
    live = kinds[want.kind].read(want.address, entry, context)
    if live is None:
        return 0
    values = {name: project(v, live.values.get(name)) for name, v in want.values.items()}
    values = session.secrecy.live_view(values, None, want.values)
    await session.record(
        want.address,
        kind=want.kind,
        id=live.id,
        parent_id=entry.parent_id,
        values=values,
        depends_on=want.depends_on,
        prevent_destroy=want.lifecycle.prevent_destroy,
        created=False,
        ignore_changes=want.lifecycle.ignore_changes,
    )
    return 1
