"""JSON pointers (RFC 6901) to the leaves of a resource's values: `/rules/0/response`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in `value`, with its JSON pointer."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}/{escape(key)}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}/{index}")
    else:
        yield path, value


def within(path: str, field: str) -> bool:
    """Whether `path` is the top-level `field` or a leaf inside it."""
    prefix = f"/{escape(field)}"
    return path == prefix or path.startswith(prefix + "/")
