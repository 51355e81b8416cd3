"""Located problems in a stack, and the error that carries all of them at once."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from bimpe_iac.errors import ManifestError
from bimpe_iac.model.issues import Issue, display_path

PathElement = str | int
DataPath = tuple[PathElement, ...]

_PLAIN_ADDRESS_PART = re.compile(r"^[A-Za-z0-9_-]+$")
_INSTANCE = re.compile(r'^[A-Za-z0-9_-]+\["[^"\\]*"\]$')


class InvalidStackError(ManifestError):
    """A stack that does not load or validate; `issues` holds every problem found, sorted."""

    def __init__(self, directory: Path, issues: Iterable[Issue]) -> None:
        self.directory = directory
        self.issues: tuple[Issue, ...] = tuple(sorted(set(issues), key=Issue.sort_key))
        super().__init__("\n".join([*(i.render() for i in self.issues), self.summary()]))

    def summary(self) -> str:
        count = len(self.issues)
        noun = "error" if count == 1 else "errors"
        return f"{count} {noun} in stack {display_path(self.directory)}"


def format_address(path: DataPath) -> str:
    """`agents.bot.rules[0]`, quoting keys that are neither plain words nor instances of a
    for_each (`agents.regional["ng"]`): `phone_numbers."+234"`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        shown = part if _PLAIN_ADDRESS_PART.match(part) or _INSTANCE.match(part) else f'"{part}"'
        text = f"{text}.{shown}" if text else shown
    return text


def closest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate `word` is most likely a misspelling of, if any."""
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """` (did you mean 'x'?)` for the closest candidate, or an empty string."""
    match = closest(word, candidates)
    return f" (did you mean '{match}'?)" if match else ""


def did_you_mean_any(word: str, candidates: Sequence[str], n: int = 3) -> str:
    """` (did you mean 'x', 'y' or 'z'?)` for up to `n` nearest candidates, a match that
    differs only in case first; or an empty string."""
    same = [c for c in candidates if c.lower() == word.lower()]
    near = same or difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)
    if not near:
        return ""
    quoted = [f"'{name}'" for name in near]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f" (did you mean {listed}?)"


def one_of(values: Iterable[str]) -> str:
    return ", ".join(values)


def describe(value: object) -> str:
    """A short description of a YAML value for messages: `'text'`, `5`, `a list`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"'{shown}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
