"""Validate a document against a model and turn each pydantic error into a located issue
with a message a person understands."""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from bimpe_iac.manifest.issues import (
    DataPath,
    closest,
    describe,
    did_you_mean,
    format_address,
    one_of,
)
from bimpe_iac.manifest.yaml_loader import Document, value_at
from bimpe_iac.model.issues import Issue

M = TypeVar("M", bound=BaseModel)

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}

_LENGTH_ERRORS = frozenset(("string_too_short", "string_too_long", "too_short", "too_long"))


def validate(
    model: type[M],
    document: Document,
    data: Any,
    *,
    context: object = None,
    skip: Callable[[DataPath], bool] = lambda path: False,
) -> tuple[M | None, list[Issue]]:
    """The validated model, or None and an issue for every error whose path `skip` allows."""
    try:
        return model.model_validate(data, context=context), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    located = [(error, _follow(model, error["loc"])) for error in errors]
    # A misspelt field is reported once, as unknown, not also as missing.
    misspelt = {
        (where.path[:-1], suggestion)
        for error, where in located
        if error["type"] == "extra_forbidden"
        and (suggestion := closest(str(where.path[-1]), _field_names(where.owner)))
    }
    issues = [
        _explain(document, data, error, where)
        for error, where in located
        if not skip(where.path)
        and not (error["type"] == "missing" and (where.path[:-1], where.path[-1]) in misspelt)
    ]
    return None, issues


@dataclass(frozen=True)
class _Where:
    """An error's location in the data (without union tags), the model owning the last
    field, the field's type, and whether the error is about a mapping key."""

    path: DataPath
    owner: type[BaseModel] | None
    annotation: Any
    key_error: bool


def _explain(document: Document, data: Any, error: ErrorDetails, where: _Where) -> Issue:
    kind = error["type"]
    path = where.path
    value = error["input"]
    context = error.get("ctx") or {}
    if kind in ("missing", "extra_forbidden", "union_tag_not_found") or where.key_error:
        return _about_key(document, error, where)
    if kind == "union_tag_invalid":
        field = str(context.get("discriminator", "")).strip("'")
        tags = [tag.strip("'") for tag in str(context.get("expected_tags", "")).split(", ")]
        return document.issue(
            (*path, field), f"{describe(context.get('tag'))} is not one of {one_of(tags)}"
        )
    if kind == "literal_error":
        allowed = [str(v) for v in get_args(_unwrap(where.annotation)[0])]
        hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
        return document.issue(path, f"{describe(value)} is not one of {one_of(allowed)}{hint}")
    at = context.get("at")
    holder = value_at(data, path)
    if isinstance(at, str) and isinstance(holder, dict) and at in holder:
        issue = document.issue((*path, at), error["msg"])
        return Issue(issue.file, issue.position, format_address(path), issue.message)
    if kind in _EXPECTED:
        return document.issue(path, f"expected {_EXPECTED[kind]}, got {describe(value)}")
    if kind in _LENGTH_ERRORS:
        return document.issue(path, _length_message(value, context))
    if kind == "greater_than_equal":
        return document.issue(path, f"must be at least {context.get('ge')}, got {describe(value)}")
    return document.issue(path, _sentence(error["msg"]))


def _length_message(value: Any, context: dict[str, Any]) -> str:
    unit = "items" if isinstance(value, list) else "characters"
    least, most = context.get("min_length"), context.get("max_length")
    if least is not None:
        return "must not be empty" if least == 1 else f"must have at least {least} {unit}"
    return f"must have at most {most} {unit}, not {len(value)}"


def _about_key(document: Document, error: ErrorDetails, where: _Where) -> Issue:
    """Errors reported where a key is (or should be) written, about the mapping holding it."""
    kind = error["type"]
    path = where.path
    if where.key_error:
        issue = document.issue(path, error["msg"], at_key=True)
        return Issue(issue.file, issue.position, format_address(path[:-1]), issue.message)
    if kind == "union_tag_not_found":
        field = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
        return document.issue(path, f"missing required field '{field}'", at_key=True)
    parent, name = path[:-1], str(path[-1])
    position = document.position(path, at_key=True)
    if kind == "missing":
        message = f"missing required field '{name}'"
    else:
        fields = _field_names(where.owner)
        message = f"unknown field '{name}'{did_you_mean(name, fields)}"
    return Issue(document.file, position, format_address(parent), message)


def _follow(model: type[BaseModel], loc: Sequence[int | str]) -> _Where:
    """Walk the model's types along a pydantic error location."""
    path: list[int | str] = []
    owner: type[BaseModel] | None = None
    annotation: Any = model
    key_error = False
    for part in loc:
        if part == "[key]":
            key_error = True
            continue
        base, metadata = _unwrap(annotation)
        members = _union_members(base, metadata)
        if members and isinstance(part, str) and part in members:
            annotation = members[part]
            continue
        path.append(part)
        if isinstance(base, type) and issubclass(base, BaseModel):
            owner = base
            annotation = _field_type(base, str(part))
        elif get_origin(base) is dict:
            annotation = get_args(base)[1]
        elif get_origin(base) is list:
            annotation = get_args(base)[0]
        else:
            annotation = Any
    return _Where(tuple(path), owner, annotation, key_error)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip `Annotated` and `| None`, collecting the metadata."""
    metadata: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            metadata.extend(annotation.__metadata__)
            annotation = annotation.__origin__
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _union_members(annotation: Any, metadata: list[Any]) -> dict[str, Any]:
    """A discriminated union's members by the tag pydantic puts in error locations."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return {}
    field = next(
        (m.discriminator for m in metadata if isinstance(m, FieldInfo) and m.discriminator),
        None,
    )
    members: dict[str, Any] = {}
    for member in get_args(annotation):
        base, member_metadata = _unwrap(member)
        tag = next((m.tag for m in member_metadata if isinstance(m, Tag)), None)
        if tag is not None:
            members[tag] = member
        elif isinstance(field, str) and isinstance(base, type) and issubclass(base, BaseModel):
            literal = base.model_fields[field].annotation
            if get_origin(literal) is Literal:
                members.update({str(value): member for value in get_args(literal)})
    return members


def _field_type(model: type[BaseModel], name: str) -> Any:
    for field_name, field in model.model_fields.items():
        if name in (field_name, field.alias):
            extra: list[Any] = list(field.metadata)
            if field.discriminator is not None:
                extra.append(field)
            return Annotated[(field.annotation, *extra)] if extra else field.annotation
    return Any


def _field_names(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _sentence(message: str) -> str:
    return message[:1].lower() + message[1:]
