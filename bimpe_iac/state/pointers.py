"""JSON pointers (RFC 6901) to the leaves of a resource's values: `/rules/0/response`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in `value`, with its JSON pointer, in document order. Iterative: a state
    edited by hand may nest deeper than Python recurses."""
    pending: list[tuple[str, Any]] = [(path, value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, dict):
            pending.extend((f"{where}/{escape(k)}", v) for k, v in reversed(item.items()))
        elif isinstance(item, list | tuple):
            pending.extend((f"{where}/{i}", v) for i, v in reversed(list(enumerate(item))))
        else:
            yield where, item


def within(path: str, field: str) -> bool:
    """Whether `path` is the top-level `field` or a leaf inside it."""
    prefix = f"/{escape(field)}"
    return path == prefix or path.startswith(prefix + "/")
