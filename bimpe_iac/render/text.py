"""A plan as text for a terminal, the way Terraform shows one.

First what changed outside bimpe-iac since the last apply, then each change that does
something (a header, then its fields), then warnings, and last the one summary line. Every
value goes through `mask` before it is compared or shown, so a sensitive value cannot leak
through a word diff.
"""

from __future__ import annotations

from dataclasses import replace

from bimpe_iac.engine.drift import DELETED_OUTSIDE, outermost
from bimpe_iac.model.plan import Change, FieldChange, Move, Plan
from bimpe_iac.render import lines as spell
from bimpe_iac.render.lines import Line
from bimpe_iac.render.references import Names, named_change, plan_names, verbosity
from bimpe_iac.render.shapes import set_fields
from bimpe_iac.render.valuediff import brief_lines, field_lines, value_lines
from bimpe_iac.render.values import Mask, masked

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "import": "<="}
PHRASES = {
    "create": "will be created",
    "update": "will be updated in place",
    "delete": "will be destroyed",
    "replace": "must be replaced",
    "import": "will be imported",
}
IMPORT_AND_UPDATE = "will be imported, then updated in place"
DRIFT_HEADING = "Changed outside bimpe-iac (apply will restore it):"
ACTIONS_HEADING = "bimpe-iac will perform the following actions:"
NO_CHANGES = "No changes. The live configuration matches the manifests."
FIELD_INDENT = 6


STATE_ONLY_PHRASE = "will be updated in the state only (nothing is sent to BimpeAI)"
IDENTIFYING_FIELDS = ("name",)
"""What a delete shows of the resource besides its address and id, as Terraform does."""


def summary(plan: Plan) -> str:
    """The one summary line; it says "No changes" exactly when the plan has none (which is
    what `plan --detailed-exitcode` tells by 0). The counts are `Plan.counts`."""
    if not plan.has_changes:
        return NO_CHANGES
    counts = plan.counts()
    optional = "".join(
        f"{counts[name]} to {name}, " for name in ("import", "move") if name in counts
    )
    return (
        f"Plan: {optional}{counts['add']} to add, {counts['change']} to change, "
        f"{counts['destroy']} to destroy."
    )


def masked_change(change: Change, mask: Mask) -> Change:
    """`change` with every string it shows passed through `mask`."""

    def fields(items: tuple[FieldChange, ...]) -> tuple[FieldChange, ...]:
        return tuple(
            FieldChange(mask(item.field), masked(item.before, mask), masked(item.after, mask))
            for item in items
        )

    return replace(
        change,
        address=mask(change.address),
        id=None if change.id is None else mask(change.id),
        before=None if change.before is None else masked(change.before, mask),
        after=None if change.after is None else masked(change.after, mask),
        fields=fields(change.fields),
        drift=fields(change.drift),
        reason=None if change.reason is None else mask(change.reason),
        lifecycle=fields(change.lifecycle),
    )


def header(change: Change, moved_from: str | None = None) -> list[Line]:
    """Two lines: what will happen to the address (and why), then its symbol, kind and id;
    between them, where it moved from, if it did."""
    reason = f" ({change.reason})" if change.reason else ""
    symbol = SYMBOLS[change.action]
    phrase = PHRASES[change.action]
    if change.action == "import" and change.fields:
        phrase = IMPORT_AND_UPDATE
    if change.state_only:
        phrase = STATE_ONLY_PHRASE
    segments = [spell.Segment(f"{change.kind} {change.address}")]
    if change.id:
        segments.append(spell.Segment(f"  [id={change.id}]", "meta"))
    if change.state_only:
        segments.append(spell.Segment("  (state only)", "meta"))
    moved = [Line.of(2, "", f"# (moved from {moved_from})", "meta")] if moved_from else []
    return [
        Line.of(2, "", f"# {change.address} {phrase}{reason}", "bold"),
        *moved,
        Line(0, symbol.rjust(3), tuple(segments)),
    ]


def move_lines(move: Move, mask: Mask) -> list[Line]:
    """A rename that changes nothing else."""
    return [Line.of(2, "", f"# {mask(move.source)} has moved to {mask(move.target)}", "bold")]


def body(change: Change) -> list[Line]:
    """The fields: all of a create's, what identifies a delete's, only the changed ones
    otherwise (with the lifecycle settings the state will remember differently)."""
    result: list[Line] = []
    if change.action == "create":
        for name, value in (change.after or {}).items():
            result.extend(value_lines(name, value, FIELD_INDENT, "+"))
    elif change.action == "delete":
        before = change.before or {}
        for name in IDENTIFYING_FIELDS:
            if before.get(name) is not None:
                result.extend(brief_lines(name, before[name], FIELD_INDENT))
    else:
        result.extend(changed_lines(change.kind, (*change.fields, *change.lifecycle)))
    return result


def changed_lines(kind: str, items: tuple[FieldChange, ...]) -> list[Line]:
    """Each changed field of a resource of `kind`, its set fields as sets."""
    sets = set_fields(kind)
    return [
        line
        for item in items
        for line in field_lines(
            item.field, item.before, item.after, FIELD_INDENT, is_set=item.field in sets
        )
    ]


def shown_change(change: Change, mask: Mask, names: Names, verbose: bool) -> Change:
    """`change` as it is shown: masked, and the ids in its values read as addresses."""
    return named_change(masked_change(change, mask), names, verbose)


def change_lines(
    change: Change,
    mask: Mask,
    moved_from: str | None = None,
    names: Names | None = None,
    verbose: bool = False,
) -> list[Line]:
    """The header and fields of one change (empty for a no-op); `names` maps the (masked) ids
    its values may hold to addresses, shown instead."""
    if change.action == "noop":
        return []
    shown = shown_change(change, mask, names or {}, verbose)
    return [*header(shown, None if moved_from is None else mask(moved_from)), *body(shown)]


def moves_alone(plan: Plan) -> list[Move]:
    """The plan's renames of resources it does nothing else to."""
    acting = {change.address for change in plan.actionable}
    return [move for move in plan.moved if move.target not in acting]


def _deleted_outside(change: Change) -> bool:
    return change.action == "create" and change.reason == DELETED_OUTSIDE


def drifted(plan: Plan) -> list[Change]:
    """The changes that restore what changed outside bimpe-iac; of resources deleted there
    together (an agent and its knowledge bases), only the outermost."""
    deleted = outermost(change.address for change in plan.changes if _deleted_outside(change))
    return [change for change in plan.changes if change.drift or change.address in deleted]


def drift_lines(
    change: Change, mask: Mask, names: Names | None = None, verbose: bool = False
) -> list[Line]:
    """What changed outside bimpe-iac at `change`: its fields (last applied -> now live), or
    the resource itself when it was deleted there."""
    if _deleted_outside(change):
        return [Line.of(2, "-", f"{mask(change.address)} ({DELETED_OUTSIDE})", "bold")]
    if not change.drift:
        return []
    shown = shown_change(change, mask, names or {}, verbose)
    return [Line.of(2, "~", shown.address, "bold"), *changed_lines(shown.kind, shown.drift)]


def plan_lines(plan: Plan, mask: Mask, verbose: bool = False) -> list[Line]:
    names = plan_names(plan.changes, mask)
    result: list[Line] = []
    outside = drifted(plan)
    if outside:
        result.append(Line.of(0, "", DRIFT_HEADING, "bold"))
        result.append(Line.of(2, "", "(each field: last applied -> now live)", "meta"))
        for change in outside:
            result.extend([Line.of(0, "", ""), *drift_lines(change, mask, names, verbose)])
        result.append(Line.of(0, "", ""))
    if plan.has_changes:
        result.append(Line.of(0, "", ACTIONS_HEADING, "bold"))
        for move in moves_alone(plan):
            result.extend([Line.of(0, "", ""), *move_lines(move, mask)])
        moved_from = {move.target: move.source for move in plan.moved}
        for change in plan.actionable:
            lines = change_lines(change, mask, moved_from.get(change.address), names, verbose)
            result.extend([Line.of(0, "", ""), *lines])
        result.append(Line.of(0, "", ""))
    for warning in plan.warnings:
        result.append(Line.of(0, "", f"Warning: {mask(warning)}", "change"))
    if plan.warnings:
        result.append(Line.of(0, "", ""))
    result.append(Line.of(0, "", summary(plan), "bold"))
    return result


def render_plan_text(plan: Plan, *, color: bool, mask: Mask, verbose: bool | None = None) -> str:
    """The plan for a terminal; ANSI colours only when `color`; the raw ids of the resources
    its values refer to only when `verbose` (unset: the global `--verbose`). Ends with the
    summary line."""
    return spell.render(plan_lines(plan, mask, verbosity(verbose)), color=color)
