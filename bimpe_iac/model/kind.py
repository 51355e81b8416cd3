"""What a resource kind is to the engine: a module-level object meeting `ResourceKind`.

A kind says which live collections it reads, how the manifest maps to desired values, how to
find and normalise its live object, and how to create, update and delete it through the SDK.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bimpeai import AsyncBimpeAI

from bimpe_iac.model.issues import Issue
from bimpe_iac.model.plan import Desired, Live
from bimpe_iac.model.views import StackView, StateEntry

PageFetcher = Callable[[AsyncBimpeAI, int], Awaitable[tuple[list[dict[str, Any]], int, int | None]]]
"""Fetch page N (from 1): the items as plain dicts, and the claimed numbers of pages and of
objects."""
ChildFetcher = Callable[[AsyncBimpeAI, str], Awaitable[list[dict[str, Any]]]]
OneFetcher = Callable[[AsyncBimpeAI, str], Awaitable[dict[str, Any] | None]]
"""Read one object of a listing by id: None when it is gone (a 404)."""
ObjectTest = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Collection:
    """A live listing the engine fetches once per run: paged and top-level, or one plain list
    per parent object (`parent_kind`)."""

    name: str
    fetch_page: PageFetcher | None = None
    fetch_children: ChildFetcher | None = None
    fetch_one: OneFetcher | None = None
    """For a paged listing: proves that a managed object missing from it is gone."""
    parent_kind: str | None = None
    manages: str | None = None
    """The kind whose objects a top-level listing holds, to find those no state manages."""
    manageable: ObjectTest | None = None
    """Which of its objects that kind could manage (all when unset)."""
    needed_by: str | None = None
    """Per-parent: the section whose resources need this listing (an agent's `connectors`):
    read only for parents holding one, in the manifests or in the state. None: read for every
    managed parent."""
    sampled: bool = False
    """Per-parent: read for one parent of the team when no managed parent's listing is read,
    so what a new parent will hold can be checked against a real listing before a change."""


@dataclass
class Fetched:
    """Every collection read in this run, as id -> raw object (a plain dict)."""

    top: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    children: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)

    def of(self, collection: str) -> dict[str, dict[str, Any]]:
        return self.top.get(collection, {})

    def under(self, collection: str, parent_id: str) -> dict[str, dict[str, Any]] | None:
        """The child collection of one parent, or None when it was not read (no parent)."""
        return self.children.get((collection, parent_id))


@dataclass(frozen=True)
class PlanContext:
    """What a kind may consult while building desired values: the stack, the state's
    resources by address, and the live collections."""

    stack: StackView
    state: Mapping[str, StateEntry]
    fetched: Fetched
    destroy: bool = False
    take_over_numbers: bool = False
    """Link phone numbers that agents no state of this stack manages hold (a user's choice)."""

    def state_id(self, address: str) -> str | None:
        entry = self.state.get(address)
        return entry.id if entry else None


@dataclass(frozen=True)
class CreateRequest:
    """A create to send: the resource's address and values, the id of its parent (if it has
    one), and the idempotency key that makes sending it twice safe."""

    address: str
    values: dict[str, Any]
    parent_id: str | None
    idempotency_key: str


@dataclass(frozen=True)
class UpdateRequest:
    """An update to send: the object, the fields that changed and all the values wanted."""

    id: str
    parent_id: str | None
    changed: dict[str, Any]
    values: dict[str, Any]


@dataclass(frozen=True)
class Created:
    id: str
    parent_id: str | None = None
    notices: tuple[str, ...] = ()
    """What a person must do now, printed by apply (open an onboarding URL)."""


class ResourceKind(Protocol):
    """`create`, `update` and `delete` must be safe to run twice (`engine/retry.py` runs one
    again after a transient failure): a create sends its idempotency key, an update sets values,
    a delete of an object already gone succeeds."""

    name: str
    collections: tuple[Collection, ...]
    set_fields: frozenset[str]
    """Fields whose value is a list compared as a set."""
    replace_fields: frozenset[str]
    """Fields whose change forces delete-then-create."""
    forget_on_delete: bool
    """Deleting only stops managing it (actions, live status): no API call."""
    write_only_fields: frozenset[str]
    """Fields the API takes but never returns (credentials, a tool's definition): `read`
    leaves them out, and the engine compares them with what the last apply recorded (a
    keyed digest for a sensitive value), so a change shows and nothing else does."""

    def desired(self, context: PlanContext) -> list[Desired]: ...

    def read(self, address: str, entry: StateEntry | None, context: PlanContext) -> Live | None:
        """The live object at `address`, or None when it does not exist."""
        ...

    def adoptable(self, want: Desired, parent_id: str | None, context: PlanContext) -> list[str]:
        """The ids of live objects that `want` names (same name, and type): what `plan --adopt`
        imports instead of creating. `parent_id` is the id of `want.parent`, if it has one."""
        ...

    async def create(self, client: AsyncBimpeAI, request: CreateRequest) -> Created: ...

    async def update(self, client: AsyncBimpeAI, request: UpdateRequest) -> tuple[str, ...] | None:
        """Send the update; what a person must do now (as `Created.notices`), if anything."""
        ...

    async def delete(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> None: ...

    async def exists(self, client: AsyncBimpeAI, id: str, parent_id: str | None) -> bool:
        """Whether the object `id` (under `parent_id`) still exists: a replayed create answers
        the same even after the object was deleted. True when the kind cannot tell."""
        ...


PlanCheck = Callable[[PlanContext, Mapping[str, Desired]], list[Issue]]
"""A check of the desired resources against what was read, run before a plan is made."""
