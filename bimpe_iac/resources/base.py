"""What the kinds share: fingerprints of live objects, the platform's text rule, the fields a
manifest model sets. What a kind is to the engine is `bimpe_iac.model.kind`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bimpeai import NotFoundError

from bimpe_iac.manifest.instances import PRESENCE
from bimpe_iac.model.ids import in_path
from bimpe_iac.state.model import value_hash


def fingerprint(obj: Any) -> str:
    return value_hash(obj)


def normalise_text(text: str) -> str:
    """The platform's storage rule for long text: LF line ends, no trailing whitespace."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def managed(
    spec: Any, *, include: set[str] | None = None, exclude: set[str] | None = None
) -> dict[str, Any]:
    """The fields a manifest model sets, as plain JSON values (unset and None left out), never
    those that decide whether and how often a resource is declared (`enabled`, `for_each`...)."""
    data: dict[str, Any] = spec.model_dump(
        mode="json", exclude_none=True, include=include, exclude={*(exclude or ()), *PRESENCE}
    )
    return data


async def in_listing(
    list_of: Callable[[str], Awaitable[Iterable[Any]]], id: str, parent_id: str | None
) -> bool:
    """Whether object `id` is in its parent's listing (`list_of(parent id)`, an SDK call); a
    parent that is gone holds nothing. True when there is no parent to ask."""
    if parent_id is None:
        return True
    try:
        listing = await list_of(in_path(parent_id))
    except NotFoundError:
        return False
    return any(getattr(item, "id", None) == id for item in listing)
