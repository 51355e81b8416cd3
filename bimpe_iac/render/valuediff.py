"""The lines for one field: what a create sets, what a delete removes, what an update changes.

Values arrive already masked. An update shows only what differs: scalars as `before -> after`,
texts as a line diff, lists element by element, dicts key by key, recursively.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from bimpe_iac.printable import visible
from bimpe_iac.render.lines import Line, Style
from bimpe_iac.render.textdiff import fold, text_diff, text_preview
from bimpe_iac.render.values import block, brief, canonical, compact, is_inline, is_text

STEP = 4
BLOCK_LINES = 40
"""A created or removed block longer than this is cut, with a count of what is left out."""

_STYLES: dict[str, Style] = {"+": "add", "-": "remove"}


def _label(name: str, rest: str = "") -> str:
    return f"{visible(name)}:{' ' + rest if rest else ''}"


def value_lines(name: str, value: Any, indent: int, sign: str) -> list[Line]:
    """A field set (`+`) or removed (`-`) whole: inline, or as a (cut) block below its name."""
    style = _STYLES.get(sign)
    if is_inline(value):
        return [Line.of(indent, sign, _label(name, compact(value)), style)]
    if is_text(value):
        return [
            Line.of(indent, sign, _label(name, "|"), style),
            *text_preview(value, indent + STEP, sign),
        ]
    body = block(value)
    lines = [Line.of(indent, sign, _label(name), style)]
    lines.extend(Line.of(indent + STEP, sign, text, style) for text in body[:BLOCK_LINES])
    if len(body) > BLOCK_LINES:
        lines.append(Line.of(indent + STEP, " ", f"({len(body) - BLOCK_LINES} more lines)", "meta"))
    return lines


def brief_lines(name: str, value: Any, indent: int) -> list[Line]:
    """A field a delete removes, on one line."""
    return [Line.of(indent, "-", _label(name, brief(value)), "remove")]


def field_lines(name: str, before: Any, after: Any, indent: int) -> list[Line]:
    """What changes in one field (or dict key, or list element) from `before` to `after`."""
    if canonical(before) == canonical(after):
        return [Line.of(indent, "~", _label(name, "(changed; the difference is sensitive)"))]
    if isinstance(before, str) and isinstance(after, str) and (is_text(before) or is_text(after)):
        return [Line.of(indent, "~", _label(name)), *text_diff(before, after, indent + STEP)]
    if is_inline(before) and is_inline(after):
        return [Line.of(indent, "~", _label(name, f"{compact(before)} -> {compact(after)}"))]
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        return [Line.of(indent, "~", _label(name)), *list_diff(before, after, indent + STEP)]
    if isinstance(before, dict) and isinstance(after, dict):
        return [Line.of(indent, "~", _label(name)), *dict_diff(before, after, indent + STEP)]
    return [*value_lines(name, before, indent, "-"), *value_lines(name, after, indent, "+")]


def dict_diff(before: dict[str, Any], after: dict[str, Any], indent: int) -> list[Line]:
    lines: list[Line] = []
    for key, value in after.items():
        if key not in before:
            lines.extend(value_lines(key, value, indent, "+"))
        elif canonical(before[key]) != canonical(value):
            lines.extend(field_lines(key, before[key], value, indent))
    for key, value in before.items():
        if key not in after:
            lines.extend(value_lines(key, value, indent, "-"))
    unchanged = sum(
        1 for key in after if key in before and canonical(before[key]) == canonical(after[key])
    )
    if unchanged:
        lines.append(fold(unchanged, indent, "key"))
    return lines


def list_diff(
    before: list[Any] | tuple[Any, ...], after: list[Any] | tuple[Any, ...], indent: int
) -> list[Line]:
    """Added, removed and changed elements; runs of unchanged elements fold into a count."""
    matcher = SequenceMatcher(
        None,
        [canonical(item) for item in before],
        [canonical(item) for item in after],
        autojunk=False,
    )
    lines: list[Line] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines.append(fold(i2 - i1, indent, "item"))
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for offset in range(paired):
            lines.extend(
                field_lines(f"[{j1 + offset}]", before[i1 + offset], after[j1 + offset], indent)
            )
        for index in range(i1 + paired, i2):
            lines.extend(value_lines(f"[{index}]", before[index], indent, "-"))
        for index in range(j1 + paired, j2):
            lines.extend(value_lines(f"[{index}]", after[index], indent, "+"))
    return lines
