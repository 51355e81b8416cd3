"""The loaded stack: the desired state the engine plans from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bimpe_iac.manifest.models import (
    AgentSpec,
    MovedBlock,
    PhoneLinkSpec,
    SourceLocation,
    Target,
    WorkflowSpec,
)
from bimpe_iac.manifest.settings import StateBackend
from bimpe_iac.model.issues import Issue, Position

SENSITIVE_MASK = "(sensitive)"


@dataclass(frozen=True)
class Stack:
    """A validated stack for one environment.

    Resources are keyed by their logical keys (phone numbers by E.164 number).
    `locations` maps the address of every resource and field written in a resource file
    (`agents.support-bot.persona`) to where it is written.
    """

    name: str
    directory: Path
    environment: str
    target: Target
    state: StateBackend
    workflows: Mapping[str, WorkflowSpec]
    agents: Mapping[str, AgentSpec]
    phone_numbers: Mapping[str, PhoneLinkSpec]
    moved: tuple[MovedBlock, ...]
    sensitive_values: frozenset[str]
    locations: Mapping[str, SourceLocation]

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

    @property
    def knowledge_base_count(self) -> int:
        return sum(len(agent.knowledge_bases) for agent in self.agents.values())


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
