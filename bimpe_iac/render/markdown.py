"""A plan as Markdown for pull-request comments, split into parts that each fit in one comment.

The first part opens with the heading, the summary line and a table of the changes; then each
change's fields follow in a collapsed `<details>` block holding a ```diff fence, spelled as in
the terminal without colour. Parts split only between blocks; a block too big for any part is
cut short inside its fence with a note, so every fence a part opens it also closes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from bimpe_iac.model.plan import Change, Move, Plan
from bimpe_iac.printable import visible
from bimpe_iac.render.lines import Line, diff_code
from bimpe_iac.render.references import plan_names, verbosity
from bimpe_iac.render.text import (
    SYMBOLS,
    change_lines,
    drift_lines,
    drifted,
    moves_alone,
    summary,
)
from bimpe_iac.render.values import Mask

DEFAULT_LIMIT = 65000
_PART_SUFFIX = " (part 999 of 999)"
_SLACK = 64
_ACTIONS = {
    "create": "🟢 create",
    "update": "🟡 update",
    "delete": "🔴 delete",
    "replace": "🟠 replace",
    "import": "🔵 import",
}
_MOVE = "⚪ move"
_BACKTICKS = re.compile(r"`{3,}")


def cell(text: str) -> str:
    """`text` safe inside a table cell (or a heading): escaped, on one line."""
    return html.escape(visible(text), quote=False).replace("|", "\\|").replace("\n", " ")


def _moved(source: str | None, mask: Mask) -> str:
    return "" if source is None else f"(moved from `{cell(mask(source))}`)"


def _row(change: Change, mask: Mask, moved_from: str | None = None) -> str:
    if change.action in ("update", "replace", "import"):
        items = (*change.fields, *change.lifecycle)
        fields = ", ".join(f"`{cell(mask(item.field))}`" for item in items)
        if change.state_only:
            fields += " (state only)"
    else:
        fields = "(new)" if change.action == "create" else "(removed)"
    fields = " ".join(part for part in (fields, _moved(moved_from, mask)) if part) or "(as it is)"
    address = cell(mask(change.address))
    return f"| {_ACTIONS[change.action]} | `{address}` | {change.kind} | {fields} |"


def _move_row(move: Move, plan: Plan, mask: Mask) -> str:
    kind = next((c.kind for c in plan.changes if c.address == move.target), "")
    address = cell(mask(move.target))
    return f"| {_MOVE} | `{address}` | {kind} | {_moved(move.source, mask)} |"


def _head(plan: Plan, mask: Mask, budget: int) -> str:
    parts = [f"**{summary(plan)}**"]
    parts.extend(f"> Warning: {cell(mask(warning))}" for warning in plan.warnings)
    if plan.has_changes:
        table = ["| Action | Address | Kind | Changed fields |", "| --- | --- | --- | --- |"]
        moved_from = {move.target: move.source for move in plan.moved}
        rows = [_move_row(move, plan, mask) for move in moves_alone(plan)]
        rows += [_row(c, mask, moved_from.get(c.address)) for c in plan.actionable]
        used = sum(len(text) + 1 for text in (*parts, *table))
        for index, row in enumerate(rows):
            if used + len(row) + 1 > budget:
                table.append(f"\n_… and {len(rows) - index} more changes, in the details below._")
                break
            table.append(row)
            used += len(row) + 1
        parts.append("\n".join(table))
    return "\n\n".join(parts)


def details(title: str, lines: list[Line], budget: int) -> str:
    """A collapsed block with a ```diff fence; cut short with a note to stay within `budget`."""
    code = diff_code(lines)
    fence = "`" * max([3, *(len(run) + 1 for run in _BACKTICKS.findall(code))])
    opening = f"<details><summary>{html.escape(title)}</summary>\n\n{fence}diff\n"
    closing = f"\n{fence}\n\n</details>"
    room = budget - len(opening) - len(closing)
    if len(code) <= room:
        return opening + code + closing
    kept: list[str] = []
    all_lines = code.split("\n")
    room -= 120
    for line in all_lines:
        if len(line) + 1 > room:
            if not kept:
                kept.append(line[: max(room, 0)] + " …")
            break
        kept.append(line)
        room -= len(line) + 1
    note = f"… diff cut short here: {len(all_lines) - len(kept)} more lines; run plan to see all"
    return opening + "\n".join([*kept, note]) + closing


def _blocks(plan: Plan, mask: Mask, budget: int, verbose: bool) -> list[str]:
    blocks: list[str] = []
    names = plan_names(plan.changes, mask)
    outside = [
        line for change in drifted(plan) for line in drift_lines(change, mask, names, verbose)
    ]
    if outside:
        blocks.append(details("Changed outside bimpe-iac (apply will restore it)", outside, budget))
    moved_from = {move.target: move.source for move in plan.moved}
    for change in plan.actionable:
        title = f"{SYMBOLS[change.action]} {mask(change.address)}"
        lines = change_lines(change, mask, moved_from.get(change.address), names, verbose)
        blocks.append(details(title, lines, budget))
    return blocks


def render_plan_markdown(
    plan: Plan,
    *,
    mask: Mask,
    limit: int = DEFAULT_LIMIT,
    appendix: Sequence[str] = (),
    verbose: bool | None = None,
) -> list[str]:
    """The plan in parts of fewer than `limit` characters; the first holds the summary, and
    the `appendix` blocks (the stack's outputs) come last. Raw ids of referred resources
    only when `verbose` (unset: the global `--verbose`)."""
    heading = f"### bimpe-iac plan: {cell(mask(plan.stack))} ({cell(mask(plan.environment))})"
    budget = limit - len(heading) - len(_PART_SUFFIX) - _SLACK
    if budget < 1000:
        raise ValueError(f"limit {limit} is too small for a plan comment")
    groups: list[list[str]] = [[_head(plan, mask, budget // 2)]]
    used = len(groups[0][0])
    for block in [*_blocks(plan, mask, budget, verbosity(verbose)), *appendix]:
        if used + len(block) + 2 > budget:
            groups.append([])
            used = 0
        groups[-1].append(block)
        used += len(block) + 2
    count = len(groups)
    return [
        "\n\n".join([heading + (f" (part {number} of {count})" if count > 1 else ""), *group])
        + "\n"
        for number, group in enumerate(groups, start=1)
    ]
