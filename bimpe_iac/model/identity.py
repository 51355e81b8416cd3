"""Which key names the items of a list, so that two (or three) versions of it compare item by
item.

A workflow's rules are known by `id`, its flows by `name`, FAQ entries by `question`, a flow's
trigger keywords by `keyword`: the first of `IDENTITY_KEYS` that every item of the lists holds,
as a string or a number, with no value twice in any one list. The rule is generic, so a kind
declares nothing: its manifest schema (a unique `id`, a unique `name`) already says it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IDENTITY_KEYS = ("id", "name", "question", "keyword")


def _names(items: Sequence[Any], key: str) -> list[Any] | None:
    found = []
    for item in items:
        if not isinstance(item, dict):
            return None
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        found.append(value)
    return found if len(set(found)) == len(found) else None


def identity_key(*lists: Any) -> str | None:
    """The key that names every item of `lists` (None entries skipped), uniquely within each;
    None when none does, when one is not a list, or when the lists are empty."""
    present = [items for items in lists if items is not None]
    if not all(isinstance(items, list | tuple) for items in present) or not any(present):
        return None
    for key in IDENTITY_KEYS:
        if all(_names(items, key) is not None for items in present):
            return key
    return None


def by_identity(items: Sequence[Any], key: str) -> dict[Any, Any]:
    return {item[key]: item for item in items}
