"""The lines for one field: what a create sets, what a delete removes, what an update changes.

Values arrive already masked. An update shows only what differs: scalars as `before -> after`,
texts as a line diff, dicts key by key, recursively. A list whose items are named
(`model.identity`: rules by `id`, flows by `name`) shows each item by its name: added, removed,
changed (key by key) or moved; other lists show element by element, by position. A set field
(a kind's `set_fields`) shows the items it gains and loses.

deepdiff (`DeepDiff(..., group_by="id")`) was tried for the comparison and left out: it groups
only the outermost list (trigger keywords inside a flow stay by position), it has no way to
say that an item moved (`group_by` and `ignore_order` both drop the order), and its string
paths would have to be parsed back into the nesting these lines are drawn from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any

from bimpe_iac.model.identity import identity_key
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


def field_lines(
    name: str, before: Any, after: Any, indent: int, *, is_set: bool = False
) -> list[Line]:
    """What changes in one field (or dict key, or list element) from `before` to `after`;
    `is_set`: the field is a list compared as a set."""
    if canonical(before) == canonical(after):
        return [Line.of(indent, "~", _label(name, "(changed; the difference is sensitive)"))]
    if is_set and isinstance(before, list | tuple) and isinstance(after, list | tuple):
        return [Line.of(indent, "~", _label(name)), *set_diff(before, after, indent + STEP)]
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


def set_diff(before: Sequence[Any], after: Sequence[Any], indent: int) -> list[Line]:
    """The items `after` has and `before` lacks (`+`), then the reverse (`-`)."""
    old = {canonical(item): item for item in before}
    new = {canonical(item): item for item in after}
    lines = [
        Line.of(indent, "+", compact(item), "add") for key, item in new.items() if key not in old
    ]
    lines += [
        Line.of(indent, "-", compact(item), "remove") for key, item in old.items() if key not in new
    ]
    unchanged = sum(1 for key in new if key in old)
    if unchanged:
        lines.append(fold(unchanged, indent, "item"))
    return lines


_PLAIN_NAME = re.compile(r"[\w.-]+")


def name_label(name: Any) -> str:
    """An item's name as its label: `[refund-request]`, or `["Opening hours"]` when it needs
    quoting to read as one name."""
    text = str(name)
    return (
        f"[{text}]"
        if isinstance(name, str) and _PLAIN_NAME.fullmatch(text)
        else f"[{compact(name)}]"
    )


def moves(before: Sequence[Any], after: Sequence[Any]) -> dict[Any, str]:
    """For each name of `after` that moved relative to the others (the fewest that did, kept in
    both lists), where it now is: "before X" when it comes first, else "after Y"."""
    kept = set(after)
    old = [name for name in before if name in kept]
    gone = set(before)
    new = [name for name in after if name in gone]
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    stay = {new[block.b + i] for block in matcher.get_matching_blocks() for i in range(block.size)}
    where: dict[Any, str] = {}
    for index, name in enumerate(new):
        if name in stay:
            continue
        if index == 0:
            where[name] = f"before {compact(new[1])}"
        else:
            where[name] = f"after {compact(new[index - 1])}"
    return where


def named_diff(key: str, before: Sequence[Any], after: Sequence[Any], indent: int) -> list[Line]:
    """Items known by `key`: in `after`'s order, each added, moved or changed one, then each
    removed one; the rest fold into a count."""
    old = {item[key]: item for item in before}
    new = {item[key]: item for item in after}
    moved = moves(list(old), list(new))
    lines: list[Line] = []
    unchanged = 0
    for name, item in new.items():
        label = name_label(name)
        if name not in old:
            lines.extend(value_lines(label, item, indent, "+"))
            continue
        if name in moved:
            lines.append(Line.of(indent, "~", f"moved {compact(name)} {moved[name]}"))
        if canonical(old[name]) != canonical(item):
            lines.append(Line.of(indent, "~", _label(label)))
            lines.extend(dict_diff(old[name], item, indent + STEP))
        elif name not in moved:
            unchanged += 1
    for name, item in old.items():
        if name not in new:
            lines.extend(value_lines(name_label(name), item, indent, "-"))
    if unchanged:
        lines.append(fold(unchanged, indent, "item"))
    return lines


def list_diff(
    before: list[Any] | tuple[Any, ...], after: list[Any] | tuple[Any, ...], indent: int
) -> list[Line]:
    """Named items by name (`named_diff`); otherwise added, removed and changed elements by
    position, with runs of unchanged elements folded into a count."""
    key = identity_key(before, after)
    if key is not None:
        return named_diff(key, before, after, indent)
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
