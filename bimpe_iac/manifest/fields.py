"""Field types shared by the manifest models: checked strings, text that may come from a
file, and the hints that let editors accept `${...}` before interpolation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from bimpe_iac.manifest.issues import describe, did_you_mean_any
from bimpe_iac.manifest.text_files import TextFileError, read_text

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
INSTANCE_PATTERN = r'^[A-Za-z0-9][A-Za-z0-9_-]*\["[^"\\\n]+"\]$'
"""The key of one instance of a `for_each`: `regional["ng"]`."""
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
INTERPOLATION_PATTERN = (
    r"^\$\{((var|env)\.[A-Za-z_][A-Za-z0-9_]*|each\.(key|value(\.[A-Za-z0-9_-]+)?))\}$"
)


def manifest_error(kind: str, message: str, *, at: str | None = None) -> PydanticCustomError:
    """A validation error whose message is shown as written; `at` names the child field the
    error is about, so it is reported there rather than at the whole mapping."""
    context: dict[str, str] = {"message": message}
    if at is not None:
        context["at"] = at
    return PydanticCustomError(kind, "{message}", context)


@dataclass(frozen=True)
class Matches:
    """A string that must match `pattern`; `message` may use `{value}`.

    Values are interpolated before they are checked, but editors check the file as
    written, so unless `is_key` the JSON Schema also lets a `${...}` reference through.
    """

    pattern: str
    message: str
    is_key: bool = False
    schema_pattern: str | None = None
    """The pattern the JSON Schema shows, when it is narrower than what is accepted."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        regex = re.compile(self.pattern)
        message = self.message

        def check(value: str) -> str:
            if not regex.match(value):
                raise manifest_error("invalid_format", message.format(value=value))
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        pattern = self.schema_pattern or self.pattern
        json_schema["pattern"] = pattern if self.is_key else f"{pattern}|{INTERPOLATION_PATTERN}"
        return json_schema


class AcceptsInterpolation:
    """For the JSON Schema only: a number, boolean or enum may be written as `${...}`,
    so an editor does not flag `live_status: ${var.live_status}`."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [handler(schema), {"type": "string", "pattern": INTERPOLATION_PATTERN}]}


_KEY_MESSAGE = "'{value}' is not a valid key: use letters, digits, '-' and '_'"
Key = Annotated[str, Matches(KEY_PATTERN, _KEY_MESSAGE, is_key=True)]
"""A logical key: of the stack, of an environment."""
KEY_OR_INSTANCE_PATTERN = f"{KEY_PATTERN}|{INSTANCE_PATTERN}"
EntryKey = Annotated[
    str, Matches(KEY_OR_INSTANCE_PATTERN, _KEY_MESSAGE, is_key=True, schema_pattern=KEY_PATTERN)
]
"""A resource's key: as written (`lagos`), or of an instance a `for_each` made
(`regional["ng"]`), which a manifest never writes as a key."""
KeyReference = Annotated[
    str,
    Matches(
        KEY_OR_INSTANCE_PATTERN,
        "'{value}' is not a valid key: use letters, digits, '-' and '_', or name an instance"
        ' of a for_each as regional["ng"]',
    ),
]
"""A value naming a resource by its key, or an instance of a `for_each`: `regional["ng"]`."""
E164_PATTERN = r"^\+[1-9]\d{6,14}$"
_E164_MESSAGE = (
    "'{value}' is not an E.164 phone number ('+', country code and number, like +2348012345678)"
)
PhoneNumber = Annotated[str, Matches(E164_PATTERN, _E164_MESSAGE)]
"""An E.164 number as a value, which may come from a var."""
KeyOrE164 = Annotated[
    str,
    Matches(
        f"{KEY_PATTERN}|{E164_PATTERN}",
        "'{value}' is neither a valid key (letters, digits, '-' and '_') nor an E.164 phone"
        " number ('+', country code and number, like +2348012345678)",
        is_key=True,
    ),
]
"""A key that is a logical name or, as phone links were first written, an E.164 number."""
VarName = Annotated[
    str,
    Matches(
        NAME_PATTERN, "'{value}' is not a valid var name: use letters, digits and '_'", is_key=True
    ),
]
OutputName = Annotated[
    str,
    Matches(
        NAME_PATTERN,
        "'{value}' is not a valid output name: use letters, digits and '_'",
        is_key=True,
    ),
]
Email = Annotated[
    str,
    Matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "'{value}' is not a valid email address"),
    StringConstraints(max_length=320),
]
HttpUrl = Annotated[
    str,
    Matches(r"^https?://[^\s/$.?#][^\s]*$", "'{value}' is not an http:// or https:// URL"),
    StringConstraints(max_length=2048),
]
# The message does not repeat the value: a mistake here is often the API key itself.
EnvVarName = Annotated[
    str,
    Matches(
        NAME_PATTERN,
        "must be the name of an environment variable (letters, digits and '_'), not the key itself",
    ),
]


def _scalar(value: Any) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool):
        return value
    message = f"expected a string, number or boolean, got {describe(value)}"
    raise manifest_error("scalar_type", message)


Scalar = Annotated[
    str | int | float | bool,
    PlainValidator(_scalar, json_schema_input_type=str | int | float | bool),
]


@dataclass(frozen=True)
class FileContext:
    """Where `{file: PATH}` references resolve: relative to the manifest's directory, and
    never outside the stack directory; and the `Secret` values the file holds."""

    manifest_dir: Path
    stack_dir: Path
    secrets: set[str] = field(default_factory=set)
    root: str = "stack"
    """What `stack_dir` is the directory of, in messages: a `stack` or a `module`."""


def _file_error(message: str) -> PydanticCustomError:
    return manifest_error("file_ref", message, at="file")


def _read_file_reference(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, dict):
        return value
    if set(value) != {"file"}:
        extra = sorted(set(value) - {"file"})
        unknown = f"unknown field '{extra[0]}' in a file reference; " if extra else ""
        raise manifest_error("file_ref", f"{unknown}write text inline or as {{file: PATH}}")
    relative = value["file"]
    if not isinstance(relative, str) or not relative:
        raise _file_error(f"expected a file path, got {describe(relative)}")
    context = info.context
    if not isinstance(context, FileContext):
        raise _file_error("file references are only read while loading a stack")
    if Path(relative).is_absolute():
        raise _file_error(f"file path '{relative}' must be relative to this manifest")
    # A path leading out of the stack, by `..` or a symbolic link, is refused unread.
    try:
        return read_text(
            context.manifest_dir / relative, within=context.stack_dir, root=context.root
        )
    except TextFileError as exc:
        where = (
            f" at line {exc.position.line}, column {exc.position.column}" if exc.position else ""
        )
        raise _file_error(f"file '{relative}' {exc.reason}{where}") from None


class _TextJsonSchema:
    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        file_reference = {
            "type": "object",
            "description": "Read the text from a UTF-8 file, relative to this manifest.",
            "properties": {"file": {"type": "string"}},
            "required": ["file"],
            "additionalProperties": False,
        }
        return {"anyOf": [{"type": "string"}, file_reference]}


Text = Annotated[str, BeforeValidator(_read_file_reference), _TextJsonSchema()]
"""A string written inline, or `{file: PATH}` to read it from a UTF-8 file in the stack."""

# Control characters, and the bidirectional formatting characters that reorder text (not the
# marks, which right-to-left scripts use): a name holding one reads other than it is.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(value: str) -> str:
    found = _UNPRINTABLE.search(value)
    if found is not None:
        where = f"U+{ord(found.group()):04X} at character {found.start() + 1}"
        message = f"must not hold control characters or bidirectional overrides ({where})"
        raise manifest_error("unprintable", message)
    return value


Printable = AfterValidator(_printable)
"""For names and labels: refuses control characters and bidirectional overrides."""

# Lengths the BimpeAI API accepts, checked here so a mistake is found before apply.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), Printable]
Short = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[Text, StringConstraints(max_length=2000)]
LongText = Annotated[Text, StringConstraints(min_length=1, max_length=200_000)]


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zone names, from the system's database or the `tzdata` package."""
    return tuple(sorted(available_timezones()))


def _time_zone(value: str) -> str:
    zones = time_zones()
    if value not in zones:
        hint = did_you_mean_any(value, zones)
        raise manifest_error("time_zone", f"'{value}' is not an IANA time zone{hint}")
    return value


TimeZone = Annotated[str, AfterValidator(_time_zone)]
"""An IANA time zone name such as `Africa/Lagos`, checked against the tz database."""


def _secret(value: str, info: ValidationInfo) -> str:
    if isinstance(info.context, FileContext) and value:
        info.context.secrets.add(value)
    return value


class _SecretJsonSchema:
    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["writeOnly"] = True
        json_schema.setdefault(
            "description",
            "A credential: write it as ${var.NAME} of a sensitive var, or ${env.NAME}.",
        )
        return json_schema


Secret = Annotated[
    str,
    StringConstraints(min_length=1, max_length=4000),
    AfterValidator(_secret),
    _SecretJsonSchema(),
]
"""A credential the API takes and never returns: masked wherever it would be shown, as a
sensitive var is, and never stored (the state keeps a keyed digest of it)."""
