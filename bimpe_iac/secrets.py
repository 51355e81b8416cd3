"""Secret values kept out of reprs, logs and error messages.

`Secret` wraps an API key. Every secret value the process learns (each `Secret`, each
sensitive var) is also remembered here, so that text written where a person may read it, such
as a crash log, can be scrubbed of all of them (`scrub`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

REDACTED = "(redacted)"

_known: set[str] = set()
_lock = threading.Lock()


def remember(values: Iterable[str]) -> None:
    """Remember values that must never be written out."""
    with _lock:
        _known.update(value for value in values if value)


def scrub(text: str) -> str:
    """`text` with every remembered secret value replaced, longest first (so that a value
    containing another is replaced whole)."""
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        text = text.replace(value, REDACTED)
    return text


def without_var_values(args: Sequence[str]) -> list[str]:
    """Command-line arguments with the value of every `--var NAME=VALUE` replaced: whether a
    var is sensitive is known only once its stack loads, and any value may be a secret."""
    shown = []
    for index, arg in enumerate(args):
        if index > 0 and args[index - 1] == "--var":
            arg = _redacted(arg)
        elif arg.startswith("--var="):
            arg = "--var=" + _redacted(arg.removeprefix("--var="))
        shown.append(arg)
    return shown


def _redacted(assignment: str) -> str:
    name, equals, _ = assignment.partition("=")
    return f"{name}={REDACTED}" if equals else REDACTED


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember([value])

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
