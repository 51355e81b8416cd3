"""Text from elsewhere (an API's answer, a manifest's value) made safe to print: nothing in it
may drive the terminal, read differently from what it holds, or start a line of its own."""

from __future__ import annotations

import re

# Bidirectional formatting characters: marks, embeddings, overrides and isolates. Unseen,
# they reorder how the text around them reads.
BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Surrogates too: half of a UTF-16 pair is no character, and cannot be written out.
_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")
_LINE_BREAK = re.compile("[\n\u2028\u2029]")


def visible(text: str) -> str:
    """`text` with control characters (but tab and line feed) and bidirectional formatting
    characters spelled out (`\\x1b`, `\\u202e`), so a value can neither drive the terminal nor
    read differently from what it holds."""
    return _CONTROL.sub(_spelled, text)


def one_line(text: str) -> str:
    """`visible` text with its line breaks spelled out too (`\\n`, `\\u2028`): for text an
    API wrote, which must never start a line of its own (a forged "Apply complete!")."""
    return _LINE_BREAK.sub(_spelled_break, visible(text))


def _spelled_break(match: re.Match[str]) -> str:
    return "\\n" if match.group() == "\n" else _spelled(match)


def _spelled(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
