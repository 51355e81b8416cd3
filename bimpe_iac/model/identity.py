"""Which key tells the items of a nested list apart: rules by `id`, flows by `name`, FAQ
entries by `question`, trigger keywords by `keyword`. A list has an identity when every item
of it (and of the lists it is compared with) is a mapping holding that key, with a scalar
value, different in each item; the first such key in `IDENTITY_KEYS` is the identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

IDENTITY_KEYS = ("id", "name", "question", "keyword")


def _identified_by(key: str, items: Sequence[Any]) -> bool:
    seen: set[Any] = set()
    for item in items:
        if not isinstance(item, dict) or key not in item:
            return False
        value = item[key]
        if isinstance(value, dict | list) or value is None or value in seen:
            return False
        seen.add(value)
    return True


def identity_key(*lists: Any) -> str | None:
    """The identity shared by `lists` (None entries are skipped), or None when they have none
    or are not all lists of mappings."""
    present = [items for items in lists if items is not None]
    if not present or not all(isinstance(items, list) for items in present):
        return None
    if not any(present):
        return None
    for key in IDENTITY_KEYS:
        if all(_identified_by(key, items) for items in present):
            return key
    return None


def by_identity(items: Sequence[Any], key: str) -> dict[Any, Any]:
    return {item[key]: item for item in items}
