"""Turn request validation failures into the API's 400: a list of `path: message` strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bimpe_iac.emulator.bodies import E164_PATTERN, EMAIL_PATTERN, URL_PATTERN

_PATTERN_MESSAGES = {
    E164_PATTERN: "must be an E.164 phone number such as +15551234567",
    EMAIL_PATTERN: "must be an email address",
    URL_PATTERN: "must be an http(s) URL",
}
_UNION_TAGS = ("text", "url")


def _path(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    # A tagged union (knowledge-base bodies) puts the tag in the location: drop it.
    if len(parts) >= 2 and parts[0] in _UNION_TAGS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(ctx.get("pattern", ""), str(error.get("msg", "")))
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        return "must be one of 'text', 'url'"
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "model_attributes_type":
        return "must be a JSON object"
    msg = str(error.get("msg", "invalid value"))
    return msg[:1].lower() + msg[1:]


def field_messages(errors: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for error in errors:
        kind = error.get("type", "")
        path = "type" if kind in ("union_tag_not_found", "union_tag_invalid") else None
        out.append(f"{path or _path(error.get('loc', ()))}: {_message(error)}")
    return list(dict.fromkeys(out))
