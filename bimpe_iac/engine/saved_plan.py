"""A saved plan is applied only if the plan made again at apply time agrees with it.

`options_for` gives the options that make the same plan again: destroy or not, adoption when
the saved plan imports, and the same `--target` addresses. `check_saved` then
compares the two. A change whose live object changed since makes the plan stale; any other
difference (in a change's kind, action, id, parent, dependencies, values or fields, a change
missing or added, a rename) means the file was edited or the manifests or state changed, and
is reported at its path in the document. What only explains a change (`reason`, `drift`,
`updated_at`, `warnings`, `created_at`) may differ. Either way nothing has been applied yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bimpe_iac.engine.planner import PlanOptions
from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import Action, FieldChange, Plan
from bimpe_iac.state.model import StateDocument

_COMPARED = (
    "kind",
    "action",
    "id",
    "parent",
    "depends_on",
    "before",
    "after",
    "fields",
    "lifecycle",
)
_CHANGED = (
    "the plan file was edited, or the manifests or the state changed since it was made; "
    "run plan again to make a new plan"
)


def options_for(
    destroy: bool, changes: Iterable[tuple[str, Action]], targets: Iterable[str] = ()
) -> PlanOptions:
    """The options that plan again the saved plan of `destroy`, (address, action) pairs and
    `--target` addresses: the same targets, so that a change missing from the file shows."""
    return PlanOptions(
        destroy=destroy,
        adopt=any(action == "import" for _, action in changes),
        targets=tuple(targets),
        again=True,
    )


def check_lineage(serial: int, lineage: str, state: StateDocument) -> None:
    """Refuse a saved plan (of `serial` and `lineage`) made for another state. A plan made
    before any state was written gives the new state its lineage (its keyed digests were
    made under it)."""
    if serial == 0 and state.serial == 0:
        state.lineage = lineage
    if lineage != state.lineage:
        raise PlanError(
            "the saved plan was made for another state (lineage differs); make a new plan"
        )


def check_saved(saved: Plan, again: Plan, state: StateDocument) -> None:
    """Refuse `saved` unless `again`, made now with `options_for` it, agrees with it."""
    check_lineage(saved.serial, saved.lineage, state)
    now = {change.address: change for change in again.changes}
    stale = [
        change.address
        for change in saved.actionable
        if change.address in now and now[change.address].fingerprint != change.fingerprint
    ]
    if stale:
        raise PlanError(
            "the saved plan is stale: " + ", ".join(stale) + " changed since it was made; "
            "run plan again"
        )
    for index, change in enumerate(saved.changes):
        path = f"changes[{index}]"
        if change.address not in now:
            message = f"a plan made now has no change at {change.address}"
            raise PlanError(f"{path}: {message}; {_CHANGED}")
        for name in _COMPARED:
            where = _difference(getattr(change, name), getattr(now[change.address], name))
            if where is not None:
                raise PlanError(f"{path}.{name}{where}: differs from a plan made now; {_CHANGED}")
    planned = {change.address for change in saved.changes}
    missing = [change.address for change in again.actionable if change.address not in planned]
    if missing:
        raise PlanError(f"changes: a plan made now also changes {missing[0]}; {_CHANGED}")
    if saved.moved != again.moved:
        raise PlanError(f"moved: differs from a plan made now; {_CHANGED}")


def _difference(saved: Any, now: Any) -> str | None:
    """Where the first difference between two plan values is, as a path suffix (`.name`,
    `[2]`, or empty for the values themselves); None when they are the same. Lists and
    tuples are alike (JSON has only lists); `1`, `1.0` and `true` are not."""
    if isinstance(saved, FieldChange) and isinstance(now, FieldChange):
        saved, now = _vars_of(saved), _vars_of(now)
    if isinstance(saved, dict) and isinstance(now, dict):
        for key in sorted(saved.keys() | now.keys(), key=str):
            if key not in saved or key not in now:
                return f".{key}"
            inner = _difference(saved[key], now[key])
            if inner is not None:
                return f".{key}{inner}"
        return None
    if isinstance(saved, list | tuple) and isinstance(now, list | tuple):
        if len(saved) != len(now):
            return ""
        for index, (left, right) in enumerate(zip(saved, now, strict=True)):
            inner = _difference(left, right)
            if inner is not None:
                return f"[{index}]{inner}"
        return None
    return None if type(saved) is type(now) and saved == now else ""


def _vars_of(item: FieldChange) -> dict[str, Any]:
    return {"field": item.field, "before": item.before, "after": item.after}
