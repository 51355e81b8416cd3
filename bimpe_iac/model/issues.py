"""A located problem in a stack: plain data that manifest checks and the kinds' plan checks
make alike (`manifest/issues.py` holds the helpers that word and gather them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


class Position(NamedTuple):
    """A 1-based line and column in a file."""

    line: int
    column: int


@dataclass(frozen=True)
class Issue:
    """One problem, at a place in a file, about the resource or setting at `address`.

    `position` is None when the problem concerns a whole file or directory (a missing
    stack.yaml, a directory that does not exist).
    """

    file: Path
    position: Position | None
    address: str
    message: str
    warning: bool = False
    """A plan check's warning: shown with the plan, which it does not stop."""
    origin: str | None = None
    """Where the problem is when that is not a file: a command-line option (`--var NAME`)."""

    @property
    def line(self) -> int | None:
        return self.position.line if self.position else None

    @property
    def column(self) -> int | None:
        return self.position.column if self.position else None

    def sort_key(self) -> tuple[str, int, int, str]:
        line, column = (self.position.line, self.position.column) if self.position else (0, 0)
        return (str(self.file), line, column, self.message)

    @property
    def place(self) -> str:
        """`file:line:column`, the file relative to the current directory; or the origin."""
        if self.origin is not None:
            return self.origin
        where = display_path(self.file)
        if self.position:
            where = f"{where}:{self.position.line}:{self.position.column}"
        return where

    def render(self) -> str:
        """`file:line:column: address: message`, or `--var NAME: message`."""
        where = self.place
        what = f"{self.address}: {self.message}" if self.address else self.message
        # One issue, one line: a value quoted in the message may hold a line break.
        return f"{where}: {what}".replace("\n", "\\n")


def display_path(path: Path) -> str:
    """The path relative to the current directory when it lies below it, else absolute."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
