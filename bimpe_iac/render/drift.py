"""A drift report as text for a terminal, a versioned JSON document, or Markdown.

Applied values arrive masked as the state stores them; every string shown (live values,
addresses, names) goes through the stack's `mask` here, so no sensitive value is printed.
"""

from __future__ import annotations

import json
from typing import Any

from bimpe_iac.engine.drift import (
    DELETED_OUTSIDE,
    Drifted,
    DriftReport,
    Unmanaged,
    unchecked_warning,
    unobservable_note,
)
from bimpe_iac.render import lines as spell
from bimpe_iac.render.lines import Line, Segment
from bimpe_iac.render.markdown import cell, details
from bimpe_iac.render.shapes import set_fields
from bimpe_iac.render.valuediff import field_lines
from bimpe_iac.render.values import Mask, compact, masked, visible_json

DRIFT_FORMAT_VERSION = 1
FIELD_INDENT = 6
UNMANAGED_HEADING = "Not managed by this stack:"
BLOCK_LIMIT = 10_000
"""A Markdown block of one resource's fields longer than this is cut short, with a note."""


def summary(report: DriftReport) -> str:
    if not report.has_drift:
        if report.managed == 0:
            return "No drift: this stack manages nothing yet (its state is empty)."
        if report.managed == 1:
            return "No drift. The one resource this stack manages matches the last apply."
        return f"No drift. The {report.managed} resources this stack manages match the last apply."
    parts = []
    if report.resources:
        parts.append(
            f"{len(report.changed)} changed, {len(report.deleted)} deleted outside bimpe-iac"
            f" (of {report.managed} managed)"
        )
    if report.unmanaged:
        parts.append(f"{len(report.unmanaged)} not managed by this stack")
    return "Drift: " + "; ".join(parts) + "."


def resource_lines(item: Drifted, mask: Mask) -> list[Line]:
    """The address, then each drifted field (last applied -> now live), or that it is gone
    (with what went with it)."""
    segments = [Segment(mask(item.address), "bold"), Segment(f"  [id={mask(item.id)}]", "meta")]
    if item.deleted:
        result = [Line(2, "-", (*segments, Segment(f"  ({DELETED_OUTSIDE})")))]
        result.extend(Line.of(FIELD_INDENT, "-", mask(a), "meta") for a in item.gone_with_it)
        return result
    result = [Line(2, "~", tuple(segments))]
    sets = set_fields(item.kind)
    for change in item.changed:
        before, after = masked(change.before, mask), masked(change.after, mask)
        is_set = change.field in sets
        result.extend(field_lines(mask(change.field), before, after, FIELD_INDENT, is_set=is_set))
    return result


def _unmanaged_text(item: Unmanaged, mask: Mask) -> str:
    words = [item.kind, mask(item.id)]
    if item.e164:
        words.append(mask(item.e164))
    if item.name is not None:
        words.append(compact(mask(item.name)))
    return "  ".join(words)


def report_lines(report: DriftReport, mask: Mask) -> list[Line]:
    result: list[Line] = []
    if report.resources:
        result.append(Line.of(0, "", "Changed outside bimpe-iac since the last apply:", "bold"))
        result.append(Line.of(2, "", "(each field: last applied -> now live)", "meta"))
        for item in report.resources:
            result.extend([Line.of(0, "", ""), *resource_lines(item, mask)])
        result.append(Line.of(0, "", ""))
    if report.unmanaged:
        result.append(Line.of(0, "", UNMANAGED_HEADING, "bold"))
        result.extend(Line.of(2, "", _unmanaged_text(u, mask)) for u in report.unmanaged)
        result.append(Line.of(0, "", ""))
    if report.resources:
        result.append(Line.of(0, "", "Run plan to see how apply restores them.", "meta"))
    for note in _notes(report):
        result.append(Line.of(0, "", f"Note: {mask(note)}"))
    result.append(Line.of(0, "", summary(report), "bold"))
    return result


def _notes(report: DriftReport) -> list[str]:
    found = list(report.notes)
    if report.unobservable:
        found.append(unobservable_note(list(report.unobservable)))
    if report.unchecked:
        found.append(unchecked_warning(list(report.unchecked)))
    return found


def render_drift_text(report: DriftReport, *, color: bool, mask: Mask) -> str:
    """The report for a terminal; ANSI colours only when `color`. Ends with the summary."""
    return spell.render(report_lines(report, mask), color=color)


def _resource_json(item: Drifted) -> dict[str, Any]:
    document: dict[str, Any] = {
        "address": item.address,
        "kind": item.kind,
        "id": item.id,
        "status": "deleted" if item.deleted else "changed",
    }
    if item.deleted:
        document["gone_with_it"] = list(item.gone_with_it)
    else:
        document["fields"] = [
            {"field": c.field, "applied": c.before, "live": c.after} for c in item.changed
        ]
    return document


def drift_to_json(report: DriftReport, *, mask: Mask) -> dict[str, Any]:
    """The report as a JSON document (format_version 1), every string masked."""
    unmanaged = report.unmanaged
    document = {
        "format_version": DRIFT_FORMAT_VERSION,
        "stack": report.stack,
        "environment": report.environment,
        "drift": report.has_drift,
        "summary": {
            "managed": report.managed,
            "changed": len(report.changed),
            "deleted": len(report.deleted),
            "unmanaged": None if unmanaged is None else len(unmanaged),
        },
        "resources": [_resource_json(item) for item in report.resources],
        "unchecked": list(report.unchecked),
        "unobservable": list(report.unobservable),
        "notes": list(report.notes),
        "unmanaged": None
        if unmanaged is None
        else [{"kind": u.kind, "id": u.id, "name": u.name, "e164": u.e164} for u in unmanaged],
    }
    result: dict[str, Any] = masked(document, mask)
    return result


def render_drift_json(report: DriftReport, *, mask: Mask) -> str:
    document = drift_to_json(report, mask=mask)
    return visible_json(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def _row(item: Drifted, mask: Mask) -> str:
    if item.deleted:
        below = len(item.gone_with_it)
        what, fields = "🔴 deleted", f"(with the {below} under it)" if below else ""
    else:
        what = "🟡 changed"
        fields = ", ".join(f"`{mask(c.field)}`" for c in item.changed)
    return f"| {what} | `{mask(item.address)}` | {item.kind} | {cell(fields)} |"


def _unmanaged_table(items: tuple[Unmanaged, ...], mask: Mask) -> str:
    rows = ["| Kind | Id | Name | Number |", "| --- | --- | --- | --- |"]
    for item in items:
        name, e164 = mask(item.name or ""), mask(item.e164 or "")
        rows.append(f"| {item.kind} | `{cell(mask(item.id))}` | {cell(name)} | {cell(e164)} |")
    title = f"{len(items)} not managed by this stack"
    return f"<details><summary>{title}</summary>\n\n" + "\n".join(rows) + "\n\n</details>"


def render_drift_markdown(report: DriftReport, *, mask: Mask) -> str:
    """The summary and a table first; each resource's fields in a collapsed block below."""
    heading = f"### bimpe-iac drift: {cell(mask(report.stack))} ({cell(mask(report.environment))})"
    parts = [heading, f"**{summary(report)}**"]
    parts.extend(f"> Note: {cell(mask(note))}" for note in _notes(report))
    if report.resources:
        table = ["| Drift | Address | Kind | Fields |", "| --- | --- | --- | --- |"]
        table.extend(_row(item, mask) for item in report.resources)
        parts.append("\n".join(table))
    for item in report.changed:
        lines = resource_lines(item, mask)
        parts.append(details(f"~ {mask(item.address)}", lines, BLOCK_LIMIT))
    if report.unmanaged:
        parts.append(_unmanaged_table(report.unmanaged, mask))
    return "\n\n".join(parts) + "\n"
