"""How one value reads in a plan: masked, inline when short, as a block when long or nested."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bimpe_iac.engine.model import Ref
from bimpe_iac.manifest.stack import SENSITIVE_MASK, scalar_text

Mask = Callable[[str], str]
KNOWN_AFTER_APPLY = "(known after apply)"
INLINE_WIDTH = 72
"""Lists and dicts whose compact JSON is longer than this read as blocks."""
TEXT_WIDTH = 80
"""Strings longer than this, or with a line break, read as text blocks."""

# Bidirectional formatting characters: marks, embeddings, overrides and isolates. Unseen,
# they reorder how the text around them reads.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Surrogates too: half of a UTF-16 pair is no character, and cannot be written out.
_CONTROL = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_LINE_BREAK = re.compile("[\n\u2028\u2029]")
_RAW_IN_JSON = re.compile(rf"[\x7f-\x9f{_BIDI}\ud800-\udfff]")


def no_mask(text: str) -> str:
    return text


def masked(value: Any, mask: Mask) -> Any:
    """`value` with `mask` applied to every string in it, dict keys included; a number that
    `mask` would change reads "(sensitive)" whole."""
    if isinstance(value, str):
        return mask(value)
    text = scalar_text(value)
    if text is not None and mask(text) != text:
        return SENSITIVE_MASK
    if isinstance(value, dict):
        return {mask(str(key)): masked(item, mask) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item, mask) for item in value]
    return value


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


def visible_json(text: str) -> str:
    """JSON text with the characters `visible` spells out, and JSON leaves as they are, as
    `\\u` escapes: the same document, and nothing in it acts on a terminal."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > TEXT_WIDTH)


def _to_json(value: Any) -> Any:
    if isinstance(value, Ref):
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    return value


def compact(value: Any) -> str:
    """One-line spelling: a `Ref` as "(known after apply)", strings quoted, containers as JSON."""
    if isinstance(value, Ref):
        return KNOWN_AFTER_APPLY
    return json.dumps(_to_json(value), ensure_ascii=False, separators=(", ", ": "), default=str)


def is_inline(value: Any) -> bool:
    """Scalars, short strings and short flat containers fit on the field's own line."""
    if is_text(value):
        return False
    if isinstance(value, dict | list | tuple):
        items = value.values() if isinstance(value, dict) else value
        if any(isinstance(item, dict | list | tuple) and item for item in items):
            return False
        return len(compact(value)) <= INLINE_WIDTH
    return True


def block(value: Any) -> list[str]:
    """A value as YAML-like lines: `key: value`, `- item`, texts after `|`, strings quoted."""
    if isinstance(value, dict) and value:
        return [line for key, item in value.items() for line in _entry(f"{key}:", item)]
    if isinstance(value, list | tuple) and value:
        return [line for item in value for line in _entry("-", item)]
    if is_text(value):
        return [visible(line) for line in value.splitlines()]
    return [visible(compact(value))]


def _entry(lead: str, value: Any) -> list[str]:
    lead = visible(lead)
    if is_text(value):
        return [f"{lead} |", *(f"  {line}" for line in block(value))]
    if lead == "-" and isinstance(value, dict) and value:
        inner = block(value)
        return [f"- {inner[0]}", *(f"  {line}" for line in inner[1:])]
    if is_inline(value):
        return [f"{lead} {visible(compact(value))}"]
    return [lead, *(f"  {line}" for line in block(value))]


def brief(value: Any) -> str:
    """A one-line summary, for what a delete removes."""
    if is_text(value):
        count = len(value.splitlines())
        return f"({count} lines of text)" if count > 1 else f"({len(value)} characters of text)"
    if isinstance(value, list | tuple) and not is_inline(value):
        return f"({len(value)} items)"
    if isinstance(value, dict) and not is_inline(value):
        return f"({len(value)} keys)"
    return compact(value)


def canonical(value: Any) -> str:
    """A spelling equal for equal values, whatever the key order."""
    return json.dumps(_to_json(value), ensure_ascii=False, sort_keys=True, default=str)
