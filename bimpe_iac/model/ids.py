"""What may be an object's id: ids go into the paths of API requests, so one from an answer or
from the state must not climb out of its own path (`../workflows/x`, a query, an escape)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

_NOT_AN_ID = re.compile(r"^\.{0,2}$|[/\\?#%\s\x00-\x1f\x7f]")


def is_id(value: Any) -> bool:
    """Whether `value` can be a BimpeAI object's id."""
    return isinstance(value, str) and len(value) <= 200 and not _NOT_AN_ID.search(value)


def in_path(id: str) -> str:
    """`id` as one path segment; an id that `is_id` accepts is unchanged."""
    return quote(id, safe="")
