"""State documents to and from bytes: pretty JSON with sorted keys, so a state file diffs
cleanly in version control, and every way a file can be unreadable told in one sentence.

A compact form (one line, keys in any order) is quicker to write; an apply stores it while its
operations run and the canonical form at its end. Readers take both: either is plain JSON.
A document of an older version is upgraded as it is read (`state/upgrade.py`)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bimpe_iac.state.model import STATE_FORMAT, STATE_VERSION, StateDocument
from bimpe_iac.state.upgrade import upgrade


class UnreadableState(Exception):
    """Bytes that are not a state document; the message completes a sentence about the file
    ("is not valid JSON: ...")."""


def encode_state(doc: StateDocument) -> bytes:
    return encode_json(doc.model_dump(mode="json"))


def encode_json(data: dict[str, Any], *, compact: bool = False) -> bytes:
    """A state document's JSON form as bytes: canonical (indented, keys sorted) or compact."""
    option = 0 if compact else orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    return orjson.dumps(data, option=option) + b"\n"


def decode_state(data: bytes) -> StateDocument:
    raw = decode_json(data)
    if not isinstance(raw, dict):
        raise UnreadableState(f"holds a JSON {_json_type(raw)}, not a state document")
    if raw.get("format") != STATE_FORMAT:
        raise UnreadableState(f'is not a bimpe-iac state file (no "format": "{STATE_FORMAT}")')
    version = raw.get("version")
    if isinstance(version, int) and version > STATE_VERSION:
        raise UnreadableState(
            f"was written by a newer bimpe-iac (state version {version}; "
            f"this one reads version {STATE_VERSION}); upgrade bimpe-iac"
        )
    try:
        return StateDocument.model_validate(upgrade(raw))
    except ValidationError as exc:
        raise UnreadableState(_describe_invalid(exc)) from None


def decode_json(data: bytes) -> Any:
    """Parse UTF-8 JSON text (a leading byte-order mark is allowed)."""
    if not data.strip():
        raise UnreadableState("is empty")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise UnreadableState(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line} column {column})"
        ) from None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise UnreadableState(
            f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _json_type(value: Any) -> str:
    names = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return names.get(type(value), "null")


def _describe_invalid(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    first = _describe_error(errors[0])
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"is invalid: {first}{suffix}"


def _describe_error(error: ErrorDetails) -> str:
    where = field_path(error["loc"])
    if error["type"] == "missing":
        return f"{where} is missing"
    if error["type"] == "extra_forbidden":
        return f"{where} is not a known field"
    return f"{where}: {error['msg']}"


def field_path(loc: tuple[int | str, ...]) -> str:
    """`resources["agent.support"].values` from pydantic's ("resources", "agent.support",
    "values"): identifiers joined with dots, other keys quoted, list indexes in brackets."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}" if path else part
        else:
            path += f"[{json.dumps(part)}]"
    return path or "the document"
