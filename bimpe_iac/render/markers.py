"""Values in a saved plan: `Ref`s and sensitive strings as one-key marker objects.

    Ref("agents.bot")                 <->  {"$ref": "agents.bot"}
    a string holding a sensitive value <->  {"$sensitive": "<keyed digest of the whole string>"}
    an object that looks like a marker <->  {"$literal": {...}}

A sensitive string is stored only as its keyed digest (`Digests.text`, an HMAC under a key only
the API key gives: a plain digest would let whoever holds the file test guesses); on the apply
side `sensitive_lookup` gives the strings back by digest from the values the manifests produce
now. A string the manifests no longer produce cannot be given back, and the plan cannot be
applied; nor can a plan made with another API key.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Set
from typing import Any

from bimpe_iac.errors import PlanError
from bimpe_iac.manifest.stack import scalar_text
from bimpe_iac.model.plan import Ref

REF, SENSITIVE, LITERAL = "$ref", "$sensitive", "$literal"
MARKERS = frozenset({REF, SENSITIVE, LITERAL})
SENSITIVE_TEXT = "(sensitive)"
INVALID = "invalid plan file: "
Resolve = Callable[[str], Any]
"""A marker's digest -> the string (or number) it stands for, or None."""
Digest = Callable[[str], str]
"""The keyed digest of a string (`Digests.text`)."""
_DIGEST = re.compile(r"[0-9a-f]{64}")


def no_digest(text: str) -> str:
    raise PlanError("a sensitive value cannot be written without the key of its digest")


def holds_sensitive(text: str, sensitive_values: Set[str]) -> bool:
    return any(value and value in text for value in sensitive_values)


def _sealed(value: str | int | float) -> str:
    """What a marker's digest is of: a string, or a number's JSON text, told apart."""
    return value if isinstance(value, str) else "\x00number\x1f" + json.dumps(value)


def _holds(value: Any, sensitive_values: Set[str]) -> bool:
    text = scalar_text(value)
    return text is not None and holds_sensitive(text, sensitive_values)


def mask_text(text: str, sensitive_values: Set[str]) -> str:
    """`text` with each sensitive value in it (longest first) read as "(sensitive)"."""
    for value in sorted(sensitive_values, key=len, reverse=True):
        if value:
            text = text.replace(value, SENSITIVE_TEXT)
    return text


def encode(value: Any, sensitive_values: Set[str], path: str, digest: Digest = no_digest) -> Any:
    """`value` as JSON data, with `Ref`s and sensitive strings as markers."""
    if isinstance(value, Ref):
        return {REF: value.address}
    if isinstance(value, float) and not math.isfinite(value):
        raise PlanError(f"{path}: {value} is not a JSON number")
    if isinstance(value, str | int | float) and _holds(value, sensitive_values):
        return {SENSITIVE: digest(_sealed(value))}
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [
            encode(item, sensitive_values, f"{path}[{i}]", digest) for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise PlanError(f"{path}: key {key!r} is not a string")
            if holds_sensitive(key, sensitive_values):
                raise PlanError(f"{path}: a key holds a sensitive value; the plan cannot be saved")
            result[key] = encode(item, sensitive_values, f"{path}.{key}", digest)
        return {LITERAL: result} if len(result) == 1 and next(iter(result)) in MARKERS else result
    raise PlanError(f"{path}: a {type(value).__name__} is not a JSON value")


class Decoder:
    """Turns markers back into values; every fault is a `PlanError` naming its path."""

    def __init__(
        self, addresses: Set[str], resolve: Resolve | None, digest: Digest = no_digest
    ) -> None:
        self.addresses = addresses
        self.resolve = resolve
        self.digest = digest

    def decode(self, value: Any, path: str) -> Any:
        if isinstance(value, list):
            return [self.decode(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in MARKERS:
            return self._marker(*next(iter(value.items())), path)
        return {key: self.decode(item, f"{path}.{key}") for key, item in value.items()}

    def _marker(self, marker: str, content: Any, path: str) -> Any:
        if marker == LITERAL:
            if not isinstance(content, dict):
                raise PlanError(f"{INVALID}{path}.{LITERAL}: expected an object")
            return {key: self.decode(item, f"{path}.{key}") for key, item in content.items()}
        if marker == REF:
            if not isinstance(content, str) or content not in self.addresses:
                raise PlanError(
                    f"{INVALID}{path}.{REF}: {content!r} is not the address of a change here"
                )
            return Ref(content)
        if not isinstance(content, str) or not _DIGEST.fullmatch(content):
            raise PlanError(f"{INVALID}{path}.{SENSITIVE}: expected a 64-digit hex digest")
        found = self.resolve(content) if self.resolve else None
        if not isinstance(found, str | int | float) or self.digest(_sealed(found)) != content:
            raise PlanError(
                f"the saved plan cannot be applied: {path} holds a sensitive value the "
                "manifests no longer give (or the plan was made with another API key); "
                "run plan again to make a new plan"
            )
        return found


def _scalars(value: Any) -> Iterable[str | int | float]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _scalars(item)
    elif scalar_text(value) is not None:
        yield value


def sensitive_lookup(
    sources: Iterable[Any], sensitive_values: Set[str], digest: Digest = no_digest
) -> Resolve:
    """A `resolve` for `plan_from_json`: the strings in `sources` (desired values, freshly
    read live values) that hold a sensitive value, by keyed digest; numbers too."""
    found = {
        digest(_sealed(item)): item
        for source in sources
        for item in _scalars(source)
        if _holds(item, sensitive_values)
    }
    return found.get
