"""What `export` hands each kind, and what a kind hands back: plain data, no I/O.

The generic exporter (`export/`) reads every collection the kinds name and calls each
section's `export` in the registry's order, top-level sections first and then, for each
exported entry, the sections it holds. A kind lays out its own objects as manifest data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class ExportedTeam:
    """The team's objects as the API lists them: top-level listings by collection name, and
    per-parent listings by (collection name, parent id)."""

    top: dict[str, list[Obj]] = field(default_factory=dict)
    children: dict[tuple[str, str], list[Obj]] = field(default_factory=dict)

    def of(self, collection: str) -> list[Obj]:
        return self.top.get(collection, [])

    def under(self, collection: str, parent_id: str) -> list[Obj]:
        return self.children.get((collection, parent_id), [])


@dataclass(frozen=True)
class Exported:
    """One entry written by export: its key in its section, the id of the object it describes
    (so that what it holds and what refers to it can find it), and its manifest data."""

    key: str
    id: str
    data: Obj
    address: str = ""


@dataclass(frozen=True)
class VarReference:
    """`${var.NAME}` in exported manifest data: written as a reference, never escaped."""

    name: str

    def __str__(self) -> str:
        return f"${{var.{self.name}}}"


@dataclass
class ExportContext:
    """What a kind's `export` may consult and add to while the team is laid out."""

    team: ExportedTeam
    selected: frozenset[str] | None = None
    """The ids of the top-level objects the user chose (`export --agent`); None for all."""
    files: dict[str, str] = field(default_factory=dict)
    """Text files to write beside the manifests, by path relative to the stack directory."""
    warnings: list[str] = field(default_factory=list)
    keys: dict[str, dict[str, str]] = field(default_factory=dict)
    """The keys given so far, by section name and then by object id."""
    variables: dict[str, str] = field(default_factory=dict)
    """Sensitive vars the written stack needs and the user must set, with what each is for."""

    def key_of(self, section: str, id: str) -> str | None:
        return self.keys.get(section, {}).get(id)

    def credential(self, name: str, what: str) -> VarReference:
        """A reference to the sensitive var `name` that the written stack declares for a
        credential BimpeAI does not return, and that the user must set (`what` it is for)."""
        self.variables[name] = what
        return VarReference(name)


ExportSection = Callable[[ExportContext, Exported | None], list[Exported]]
"""Lay out a section's entries: top-level (no holder), or those `holder` holds."""
