"""What the kinds and the engine read of a stack and of a state entry through a `PlanContext`,
as Protocols: `manifest.Stack` and `state.model.ResourceState` meet them, and this package
needs to import neither."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Entry, Sections


class StackView(Protocol):
    """A validated stack for one environment (`manifest.Stack`)."""

    @property
    def directory(self) -> Path: ...

    @property
    def sections(self) -> Sections: ...

    @property
    def resources(self) -> Mapping[str, Entry]:
        """Every declared resource by address."""
        ...

    def entries(self, section: str) -> list[Entry]:
        """The declared resources of a section (of every holder, for a nested one)."""
        ...

    def mask(self, text: str) -> str:
        """`text` with the value of every sensitive var replaced by `(sensitive)`."""
        ...

    def issue_at(self, address: str, message: str) -> Issue:
        """An issue located where `address` is written."""
        ...


class StateEntry(Protocol):
    """What the state records of one managed address (`state.model.ResourceState`)."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...

    @property
    def parent_id(self) -> str | None: ...
