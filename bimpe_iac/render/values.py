"""How one value reads in a plan: masked, inline when short, as a block when long or nested."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bimpe_iac.manifest.stack import SENSITIVE_MASK, scalar_text
from bimpe_iac.model.plan import Ref
from bimpe_iac.printable import BIDI, visible

Mask = Callable[[str], str]
KNOWN_AFTER_APPLY = "(known after apply)"
INLINE_WIDTH = 72
"""Lists and dicts whose compact JSON is longer than this read as blocks."""
TEXT_WIDTH = 80
"""Strings longer than this, or with a line break, read as text blocks."""

_RAW_IN_JSON = re.compile(rf"[\x7f-\x9f{BIDI}\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Named:
    """The id of a resource the plan knows, read as its address; `id` shown only when set
    (`--verbose`)."""

    address: str
    id: str | None = None

    def __str__(self) -> str:
        return self.address if self.id is None else f"{self.address} ({self.id})"


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


def visible_json(text: str) -> str:
    """JSON text with the characters `visible` spells out, and JSON leaves as they are, as
    `\\u` escapes: the same document, and nothing in it acts on a terminal."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def is_text(value: Any) -> bool:
    return isinstance(value, str) and ("\n" in value or len(value) > TEXT_WIDTH)


def ref_text(ref: Ref) -> str:
    return f"{ref.address} {KNOWN_AFTER_APPLY}"


def _to_json(value: Any) -> Any:
    if isinstance(value, Ref):
        return ref_text(value)
    if isinstance(value, Named):
        return str(value)
    if isinstance(value, dict):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    return value


def compact(value: Any) -> str:
    """One-line spelling: a `Ref` as "workflows.sales (known after apply)", a `Named` id as
    its address, strings quoted, containers as JSON."""
    if isinstance(value, Ref):
        return ref_text(value)
    if isinstance(value, Named):
        return str(value)
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
