"""Long text (prompts, knowledge content) as a unified line diff with folded context.

Only the hunks around changed lines show, each with `CONTEXT` lines on either side; the
unchanged stretches between them fold into "… N unchanged lines …". Inside a pair of changed
lines that still look alike, the changed words are marked.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from bimpe_iac.printable import visible
from bimpe_iac.render.lines import Line, Segment, Style

CONTEXT = 3
PREVIEW_LINES = 10
PAIR_SIMILARITY = 0.5
"""Changed lines at least this alike (by words) have their changed words marked."""
MAX_WORD_PAIRS = 250_000
"""Past this many token pairs, the differing middle of two lines reads as one changed run."""

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_Opcode = tuple[str, int, int, int, int]


def fold(count: int, indent: int, noun: str = "line") -> Line:
    """ "… 40 unchanged lines …" in place of what is the same on both sides."""
    plural = "" if count == 1 else "s"
    return Line.of(indent, " ", f"… {count} unchanged {noun}{plural} …", "meta")


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return f"{first}" if length == 1 else f"{first},{length}"


def _hunk_header(group: list[_Opcode], indent: int) -> Line:
    old = _range(group[0][1], group[-1][2])
    new = _range(group[0][3], group[-1][4])
    return Line.of(indent, " ", f"@@ -{old} +{new} @@", "meta")


def _merge(pieces: list[Segment]) -> tuple[Segment, ...]:
    merged: list[Segment] = []
    for piece in pieces:
        if merged and merged[-1].style == piece.style:
            merged[-1] = Segment(merged[-1].text + piece.text, piece.style)
        elif piece.text:
            merged.append(piece)
    return tuple(merged)


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many tokens `a` and `b` share at the start, and then at the end."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


def _middle_opcodes(a: list[str], b: list[str]) -> list[_Opcode]:
    if not a or not b or len(a) * len(b) > MAX_WORD_PAIRS:
        return [("replace", 0, len(a), 0, len(b))] if a or b else []
    return list(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())


def word_pair(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]] | None:
    """Both lines with their changed words marked, or None when they are too unlike."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    start, end = _common_ends(a, b)
    middle = _middle_opcodes(a[start : len(a) - end], b[start : len(b) - end])
    same = start + end + sum(i2 - i1 for tag, i1, i2, _, _ in middle if tag == "equal")
    if 2 * same < PAIR_SIMILARITY * (len(a) + len(b)):
        return None
    opcodes = [("equal", 0, start, 0, start)]
    opcodes += [
        (tag, i1 + start, i2 + start, j1 + start, j2 + start) for tag, i1, i2, j1, j2 in middle
    ]
    opcodes.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    removed: list[Segment] = []
    added: list[Segment] = []
    for tag, i1, i2, j1, j2 in opcodes:
        old_style: Style = "remove" if tag == "equal" else "word_remove"
        new_style: Style = "add" if tag == "equal" else "word_add"
        removed.append(Segment("".join(a[i1:i2]), old_style))
        added.append(Segment("".join(b[j1:j2]), new_style))
    return _merge(removed), _merge(added)


def _replaced(old: list[str], new: list[str], indent: int) -> list[Line]:
    removed = [Line.of(indent, "-", line, "remove") for line in old]
    added = [Line.of(indent, "+", line, "add") for line in new]
    for index in range(min(len(old), len(new))):
        pair = word_pair(old[index], new[index])
        if pair is not None:
            removed[index] = Line(indent, "-", pair[0])
            added[index] = Line(indent, "+", pair[1])
    return removed + added


def _group_lines(group: list[_Opcode], a: list[str], b: list[str], indent: int) -> list[Line]:
    lines = [_hunk_header(group, indent)]
    for tag, i1, i2, j1, j2 in group:
        if tag == "equal":
            lines.extend(Line.of(indent, " ", line) for line in a[i1:i2])
        else:
            lines.extend(_replaced(a[i1:i2], b[j1:j2], indent))
    return lines


def text_diff(before: str, after: str, indent: int) -> list[Line]:
    """The changed hunks of `after` against `before`; never either text whole."""
    a = [visible(line) for line in before.splitlines()]
    b = [visible(line) for line in after.splitlines()]
    if a == b:
        return [Line.of(indent, " ", "(only line endings or the final newline differ)", "meta")]
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    lines: list[Line] = []
    shown = 0
    for group in matcher.get_grouped_opcodes(CONTEXT):
        if group[0][1] > shown:
            lines.append(fold(group[0][1] - shown, indent))
        lines.extend(_group_lines(group, a, b, indent))
        shown = group[-1][2]
    if len(a) > shown:
        lines.append(fold(len(a) - shown, indent))
    return lines


def text_preview(text: str, indent: int, sign: str) -> list[Line]:
    """The first lines of a text, then how many more there are."""
    style: Style = "add" if sign == "+" else "remove"
    all_lines = [visible(line) for line in text.splitlines()] or [""]
    head = all_lines if len(all_lines) <= PREVIEW_LINES + 2 else all_lines[:PREVIEW_LINES]
    lines = [Line.of(indent, sign, line, style) for line in head]
    if len(head) < len(all_lines):
        rest = len(all_lines) - len(head)
        lines.append(Line.of(indent, " ", f"({rest} more lines)", "meta"))
    return lines
