"""The loaded stack: the desired state the engine plans from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bimpe_iac.manifest.models import (
    MovedBlock,
    ResourceSpec,
    SourceLocation,
    Target,
)
from bimpe_iac.manifest.outputs import Output
from bimpe_iac.manifest.settings import StateBackend
from bimpe_iac.model.issues import Issue, Position
from bimpe_iac.model.sections import Entry, Sections

SENSITIVE_MASK = "(sensitive)"


@dataclass(frozen=True)
class Stack:
    """A validated stack for one environment.

    `resources` holds every declared resource by address, in the order of the sections and
    of the files. `locations` maps the address of every resource and field written in a
    resource file (`agents.support-bot.persona`) to where it is written.
    """

    name: str
    directory: Path
    environment: str
    target: Target
    state: StateBackend
    sections: Sections
    resources: Mapping[str, Entry]
    moved: tuple[MovedBlock, ...]
    sensitive_values: frozenset[str]
    locations: Mapping[str, SourceLocation]
    outputs: tuple[Output, ...] = ()

    def mask(self, text: str) -> str:
        """`text` with the value of every sensitive var replaced by `(sensitive)`."""
        return mask(text, self.sensitive_values)

    def __repr__(self) -> str:
        # Not the generated one: the resources hold the values of sensitive vars.
        return (
            f"Stack({self.name!r}, environment={self.environment!r}, directory={self.directory!r})"
        )

    def issue_at(self, address: str, message: str) -> Issue:
        """An issue located where `address` is written (the stack directory when it is not)."""
        location = self.locations.get(address)
        if location is None:
            return Issue(self.directory, None, address, message)
        return Issue(location.file, Position(location.line, location.column), address, message)

    def entries(self, section: str) -> list[Entry]:
        """The declared resources of a section (of every holder, for a nested one)."""
        return [e for e in self.resources.values() if e.section == section]

    def top(self, section: str) -> dict[str, Any]:
        """The specs of a top-level section that the stack itself declares, by key."""
        return {e.key: e.spec for e in self.entries(section) if not e.module}

    def count(self, section: str) -> int:
        return len(self.entries(section))


def entries_of(
    sections: Sections, top: Mapping[str, Mapping[str, ResourceSpec]], module: str = ""
) -> dict[str, Entry]:
    """Every resource by address: the top-level specs by section and key, and what they hold;
    `module` is the address of the use of a module that declares them, if one does."""
    out: dict[str, Entry] = {}

    def add(section: str, key: str, spec: Any, holder: str | None) -> None:
        address = sections.address(section, key, holder, module)
        out[address] = Entry(address, section, key, spec, holder, module)
        for held in sections.held_by(section):
            for child_key, child in getattr(spec, held.name, {}).items():
                add(held.name, child_key, child, address)

    for section in sections.top:
        for key, spec in top.get(section.name, {}).items():
            add(section.name, key, spec, None)
    return out


def mask(text: str, sensitive_values: frozenset[str]) -> str:
    # Longest first, so a value containing another is masked whole.
    for value in sorted(sensitive_values, key=len, reverse=True):
        text = text.replace(value, SENSITIVE_MASK)
    return text


def scalar_text(value: object) -> str | None:
    """The text in which a scalar may hold a sensitive value: a string itself, a number as JSON
    spells it (a var interpolated into a number field becomes one); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return json.dumps(value)
    return None
