"""Logical keys for exported resources, derived from their names, and the small helpers kinds
use to lay out their objects for `export`.

A key is the name slugified (`Support Bot!` -> `support-bot`). Resources whose names give the
same key are ordered by name, then by content, then by creation time and id; the first keeps
the plain key and the others get `-2`, `-3`, ... Content comes before creation time so that a
copy made by apply, which creates resources concurrently, exports with the same keys.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_KEY_LENGTH = 63
# Fields that differ between two copies of the same configuration.
VOLATILE = frozenset(
    {"id", "created_at", "updated_at", "workflow_id", "agent_id", "is_owner", "test_channel_code"}
)


@dataclass(frozen=True)
class Named:
    id: str
    name: str
    created_at: str = ""
    content: str = ""


def named(obj: dict[str, Any]) -> Named:
    return Named(
        id=str(obj["id"]),
        name=str(obj.get("name") or ""),
        created_at=str(obj.get("created_at") or ""),
        content=content_of(obj),
    )


def content_of(obj: dict[str, Any]) -> str:
    """The object without its ids and timestamps, as canonical JSON."""
    stable = {k: v for k, v in obj.items() if k not in VOLATILE}
    return json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)


def slugify(name: str, fallback: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:MAX_KEY_LENGTH].rstrip("-") or fallback


def assign_keys(items: Iterable[Named], fallback: str) -> dict[str, str]:
    """A unique key for each item, by id."""
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for item in sorted(items, key=lambda i: (i.name, i.content, i.created_at, i.id)):
        base = slugify(item.name, fallback)
        key, number = base, 1
        while key in taken:
            number += 1
            key = f"{base}-{number}"
        taken.add(key)
        keys[item.id] = key
    return keys


def pick(obj: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """`fields` of `obj` in that order, leaving out those that are null."""
    return {name: obj[name] for name in fields if obj.get(name) is not None}


def as_file(text: str) -> str:
    # The platform stores text without a final newline; loading strips it back.
    return text if text.endswith("\n") else text + "\n"


def by_key(
    objects: Iterable[dict[str, Any]],
    fallback: str,
    name_of: Callable[[dict[str, Any]], str] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Each object with its key (`assign_keys`), in key order. `name_of` names an object whose
    name is not its `name` field; such objects are told apart by name and id only."""
    found = list(objects)

    def as_named(obj: dict[str, Any]) -> Named:
        return named(obj) if name_of is None else Named(str(obj["id"]), name_of(obj))

    keys = assign_keys((as_named(obj) for obj in found), fallback)
    return sorted(((keys[str(obj["id"])], obj) for obj in found), key=lambda pair: pair[0])
