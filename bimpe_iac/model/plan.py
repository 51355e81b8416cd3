"""Plain typed values the engine passes around: desired resources, live objects, changes, plans.

Rendering (`bimpe_iac.render`) and executing (`bimpe_iac.engine.executor`) them are elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete", "replace", "import", "noop"]
PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Ref:
    """A value known only after apply: the platform id of the resource at `address`."""

    address: str

    def __str__(self) -> str:
        return f"(id of {self.address})"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    prevent_destroy: bool = False
    ignore_changes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Desired:
    """One resource as the manifest wants it.

    `values` holds only the fields the manifest manages, already normalised the way the
    platform stores them; a value may be a `Ref` to another resource's id. `parent` is the
    address whose id scopes this resource's API calls (an agent, for a knowledge base).
    """

    address: str
    kind: str
    values: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    """What this resource needs to exist: the resources it refers to, and its parent."""
    waits_for: tuple[str, ...] = ()
    """Addresses whose changes go first without being needed (going live waits for the
    knowledge bases): an order, not a dependency, so `--target` does not follow it."""
    precedes: tuple[str, ...] = ()
    """Addresses whose changes must wait for this one (a pause goes before reconfiguring);
    it overrides `depends_on` and `waits_for` for the order."""
    parent: str | None = None
    provides: tuple[str, ...] = ()
    """The action names this resource gives the agent it is under (a custom API's tools):
    the agent's `actions:` may enable them, and enabling waits for this resource."""
    lifecycle: Lifecycle = Lifecycle()
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Live:
    """One resource as the platform has it: its id, the compared fields, and a fingerprint of
    everything read, to tell later whether it changed since."""

    address: str
    id: str
    values: dict[str, Any]
    fingerprint: str
    updated_at: str | None = None
    notes: tuple[str, ...] = ()
    """What a person should know of the object as it is, shown by plan and drift even when
    nothing changes (an integration waiting for someone to connect it)."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Change:
    """What apply will do to one address.

    `before`/`after` are the whole managed values (None for a create's before or a delete's
    after); `fields` lists only what differs. `drift` lists fields that changed outside
    bimpe-iac since the last apply (apply restores them). `live` is the read this change was
    planned from (None when the resource does not exist), checked again before apply.
    An `import` starts managing the existing object `id`, then updates the `fields` that differ.
    `lifecycle` lists the lifecycle settings (`lifecycle.prevent_destroy`, ...) whose value in
    the state differs from the manifests'; an update with only those is `state_only`: apply
    saves them in the state and sends nothing to BimpeAI.
    """

    address: str
    kind: str
    action: Action
    id: str | None
    parent: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: tuple[FieldChange, ...] = ()
    drift: tuple[FieldChange, ...] = ()
    reason: str | None = None
    depends_on: tuple[str, ...] = ()
    fingerprint: str | None = None
    updated_at: str | None = None
    lifecycle: tuple[FieldChange, ...] = ()

    @property
    def state_only(self) -> bool:
        return self.action == "update" and not self.fields and bool(self.lifecycle)


@dataclass(frozen=True, slots=True)
class Move:
    """The state entry at `source` (and its children's) now lives at `target`."""

    source: str
    target: str


def count_actions(changes: Iterable[Change], moved: int = 0) -> dict[str, int]:
    """What "N to add, N to change, N to destroy" counts, wherever it is shown or checked
    (summaries, JSON, `--max-deletions`): Terraform's arithmetic, where a replace counts as one
    add and one destroy, an import that updates as one import and one change, and a state-only
    update as one change. Every delete is a destroy, also of what only stops being managed
    (actions, live status). `import` and `move` are there only when there is one."""
    imported = add = change = destroy = 0
    for item in changes:
        if item.action == "create":
            add += 1
        elif item.action == "update":
            change += 1
        elif item.action == "delete":
            destroy += 1
        elif item.action == "replace":
            add += 1
            destroy += 1
        elif item.action == "import":
            imported += 1
            change += 1 if item.fields else 0
    counts = {"add": add, "change": change, "destroy": destroy}
    if moved:
        counts = {"move": moved, **counts}
    return {"import": imported, **counts} if imported else counts


@dataclass(frozen=True, slots=True)
class Plan:
    stack: str
    environment: str
    lineage: str
    serial: int
    changes: tuple[Change, ...]
    destroy: bool = False
    created_at: str = ""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    moved: tuple[Move, ...] = ()
    """Renames from `moved:` blocks, applied to the state before the changes."""
    targets: tuple[str, ...] = ()
    """The `--target` addresses it was made with (none: the whole stack)."""

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action != "noop")

    def counts(self) -> dict[str, int]:
        return count_actions(self.changes, len(self.moved))

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable or self.moved)
