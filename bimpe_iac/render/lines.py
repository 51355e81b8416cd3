"""Styled output lines, and their three spellings: plain text, ANSI colour, and `diff` code.

A renderer builds `Line`s once; `plain`, `ansi` and `diff_code` turn them into text. In plain
text changed words read `[-old-]` and `{+new+}` (git's `--word-diff=plain`); with colour they
are highlighted instead. So that no text can be misread as a mark, a backslash escapes: inside
a mark, each `\\` and each `-` (in `[-…-]`) or `+` (in `{+…+}`), so a removed "-" reads
`[-\\--]`; outside one, the `-`, `+` or `\\` after a `[` or `{` that would open one, so a text
holding `[-` reads `[\\-`. Control and bidirectional formatting characters in any text are
spelled out (`values.visible`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bimpe_iac.printable import visible

Style = Literal["add", "remove", "change", "word_add", "word_remove", "meta", "bold"]

_ANSI: dict[Style, str] = {
    "add": "32",
    "remove": "31",
    "change": "33",
    "word_add": "1;7;32",
    "word_remove": "1;7;31",
    "meta": "2",
    "bold": "1",
}
_SIGN_STYLES: dict[str, Style] = {
    "+": "add",
    "-": "remove",
    "~": "change",
    "-/+": "change",
    "<=": "change",
}
_DIFF_MARKS = {"+": "+", "-": "-", "~": "!", "-/+": "!", "<=": "!"}


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    style: Style | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One output line: `indent` spaces, then `sign` (`+`, `-`, `~`, `-/+`, `<=` or none), then
    text."""

    indent: int
    sign: str
    segments: tuple[Segment, ...]

    @classmethod
    def of(cls, indent: int, sign: str, text: str, style: Style | None = None) -> Line:
        return cls(indent, sign, (Segment(text, style),))


_WOULD_OPEN = re.compile(r"(?<=\[)[-\\]|(?<=\{)[+\\]")
_IN_REMOVED = re.compile(r"[-\\]")
_IN_ADDED = re.compile(r"[+\\]")


def _escape(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda match: "\\" + match.group(), text)


def _plain_segment(segment: Segment) -> str:
    text = visible(segment.text)
    if segment.style == "word_remove":
        return f"[-{_escape(_IN_REMOVED, text)}-]"
    if segment.style == "word_add":
        return f"{{+{_escape(_IN_ADDED, text)}+}}"
    return _escape(_WOULD_OPEN, text)


def _ansi_segment(segment: Segment) -> str:
    text = visible(segment.text)
    if segment.style is None or not text:
        return text
    return f"\x1b[{_ANSI[segment.style]}m{text}\x1b[0m"


def _body(line: Line, color: bool) -> str:
    spell = _ansi_segment if color else _plain_segment
    return "".join(spell(segment) for segment in line.segments)


def plain(lines: Iterable[Line]) -> str:
    return "\n".join(_text_line(line, color=False) for line in lines)


def ansi(lines: Iterable[Line]) -> str:
    return "\n".join(_text_line(line, color=True) for line in lines)


def render(lines: Iterable[Line], *, color: bool) -> str:
    return ansi(lines) if color else plain(lines)


def _text_line(line: Line, *, color: bool) -> str:
    sign = line.sign
    if color and sign.strip() in _SIGN_STYLES:
        sign = _ansi_segment(Segment(sign, _SIGN_STYLES[sign.strip()]))
    prefix = " " * line.indent + (f"{sign} " if line.sign else "")
    return (prefix + _body(line, color)).rstrip()


def diff_code(lines: Iterable[Line]) -> str:
    """Lines for a ```diff block: a `+`, `-`, `!` or space first, so a viewer colours them."""
    return "\n".join(
        (_DIFF_MARKS.get(line.sign.strip(), " ") + _text_line(line, color=False)).rstrip()
        for line in lines
    )
