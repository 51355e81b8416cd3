"""The manifest models: the single source of what a stack may say, and of its JSON Schemas.

Validated models are the engine's desired state. An optional field left out of the
manifest is None, meaning "not managed": the engine leaves whatever the platform has.
An explicit `null` means the same. Lists keep the difference: `tags: []` manages an
empty list, while no `tags:` leaves tags alone. For the fields that have a default
(`lifecycle`, `knowledge_bases`, a rule's `enabled`), `model_fields_set` tells whether
the manifest wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from bimpe_iac.manifest.fields import (
    EnvVarName,
    HttpUrl,
    Key,
    OutputName,
    Scalar,
    VarName,
    manifest_error,
)


class SpecModel(BaseModel):
    # Numbers are accepted where text is expected: YAML reads `label: 2024` as a number.
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, coerce_numbers_to_str=True
    )


@dataclass(frozen=True)
class SourceLocation:
    """Where something is written in a manifest, so a later error can point at it."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class ResourceSpec(SpecModel):
    _source: SourceLocation | None = PrivateAttr(default=None)

    @property
    def source(self) -> SourceLocation | None:
        """Where the resource's key is written; set for every resource of a loaded stack."""
        # Straight from pydantic's private store: `self._source` takes its slow __getattr__.
        private = self.__pydantic_private__ or {}
        source = private.get("_source")
        return source if isinstance(source, SourceLocation) else None

    def __eq__(self, other: object) -> bool:
        # Two resources are equal when they say the same, wherever they are written; a spec
        # the loader composed (with the fields every entry has, unset) equals its kind's own.
        if not isinstance(other, BaseModel):
            return NotImplemented
        mine, theirs = type(self), type(other)
        if mine is theirs:
            return self.__dict__ == other.__dict__
        if not (issubclass(mine, theirs) or issubclass(theirs, mine)):
            return False
        names = self.__dict__.keys() | other.__dict__.keys()
        return all(self.__dict__.get(name) == other.__dict__.get(name) for name in names)


def unique_items(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise manifest_error("duplicate", f"{what} '{value}' is listed more than once")
        seen.add(value)


def refused(data: Any, field: str, kind: str, message: str) -> Any:
    """`data`, unless it is a mapping that writes `field`: then an error there."""
    if isinstance(data, dict) and field in data:
        raise manifest_error(kind, message, at=field)
    return data


# Moves -----------------------------------------------------------------


class MovedBlock(SpecModel):
    """Records that a resource's key changed, so it is renamed rather than replaced."""

    from_: Annotated[str, StringConstraints(min_length=1)] = Field(alias="from")
    """The resource's old address."""
    to: Annotated[str, StringConstraints(min_length=1)]
    """The resource's new address."""


# Modules -------------------------------------------------------------------------------

InputType = Literal["string", "number", "bool"]
_REMOTE_SOURCE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*::|[A-Za-z][A-Za-z0-9+.-]*://|git@)")


def input_value(kind: InputType, value: Any) -> Any:
    """`value` as an input of type `kind` takes it (a number for a string: YAML reads
    `brand: 2024` as one), or None when it is of another type."""
    if isinstance(value, bool):
        return value if kind == "bool" else None
    if isinstance(value, int | float):
        return value if kind == "number" else str(value) if kind == "string" else None
    return value if kind == "string" and isinstance(value, str) else None


class ModuleInput(SpecModel):
    """An input of a module: `${var.NAME}` in the module's resource files."""

    type: InputType
    """`string`, `number` or `bool`."""
    description: str | None = None
    sensitive: bool = False
    """Mask the value wherever it would be shown, as a sensitive var's."""
    default: Scalar | None = None
    """The value when a use gives none; without it, every use must give the input."""

    @model_validator(mode="after")
    def _default_of_the_type(self) -> ModuleInput:
        if self.default is not None and input_value(self.type, self.default) is None:
            raise manifest_error(
                "default_type",
                f"the default of a {self.type} input must be a {self.type}",
                at="default",
            )
        return self


class ModuleFile(SpecModel):
    """module.yaml: the inputs of the module in this directory. Every other YAML file directly
    in the directory holds its resources, as a stack's do."""

    model_config = ConfigDict(title="BimpeAI module")

    description: str | None = None
    inputs: dict[VarName, ModuleInput] = Field(default_factory=dict)


def _local_source(source: str) -> str:
    if _REMOTE_SOURCE.match(source):
        raise manifest_error(
            "remote_source",
            f"'{source}' is not a local path: modules come from local directories only"
            " (a path relative to the stack directory)",
        )
    if Path(source).is_absolute():
        raise manifest_error(
            "absolute_source", f"'{source}' must be a path relative to the stack directory"
        )
    return source


class ModuleUse(SpecModel):
    """A use of a module: its resources join the stack under `module.NAME.`."""

    source: Annotated[str, StringConstraints(min_length=1), AfterValidator(_local_source)]
    """The module's directory (holding module.yaml), relative to the stack directory."""
    inputs: dict[VarName, Scalar] = Field(default_factory=dict)
    """The module's inputs; values may use the environment's `${var...}` and `${env...}`."""


# stack.yaml ------------------------------------------------------------------------------


class Target(SpecModel):
    """Which BimpeAI API an environment talks to, and where its API key comes from.

    An environment that names neither field uses `BIMPE_API_KEY` when it is set and the local
    emulator when it is not; one that names either needs its key, or the run stops."""

    base_url: HttpUrl | None = None
    """The API's base URL; `BIMPE_BASE_URL`, else the SDK's default, when left out."""
    api_key_env: EnvVarName = "BIMPE_API_KEY"
    """The environment variable holding the API key. The key never goes in a manifest."""
    emulator: bool = False
    """Use the local BimpeAI emulator, never a remote API (no base_url, no api_key_env)."""

    @property
    def named(self) -> bool:
        """Whether the environment names a key variable or a base URL: then it needs its key."""
        return bool({"base_url", "api_key_env"} & self.model_fields_set)

    @model_validator(mode="before")
    @classmethod
    def _no_api_key(cls, data: Any) -> Any:
        return refused(
            data,
            "api_key",
            "api_key_in_manifest",
            "never write the API key in a manifest; set api_key_env to the name of"
            " the environment variable that holds it",
        )

    @model_validator(mode="after")
    def _emulator_alone(self) -> Target:
        if self.emulator:
            for name in ("base_url", "api_key_env"):
                if name in self.model_fields_set:
                    raise manifest_error(
                        "emulator_with_remote",
                        f"emulator: true uses the local emulator, which needs no {name};"
                        f" remove {name}, or remove emulator to use the remote API",
                        at=name,
                    )
        return self


def _value_kind(value: Any) -> str:
    return "map" if isinstance(value, dict) else "value"


VarMap = dict[
    str,
    Annotated[
        Annotated[Scalar, Tag("value")] | Annotated[dict[str, Scalar], Tag("map")],
        Discriminator(_value_kind),
    ],
]
"""A map var: key -> scalar, or key -> mapping of scalars (`${each.value.FIELD}`)."""


def _declared_value_kind(value: Any) -> str:
    return "list" if isinstance(value, list) else _value_kind(value)


VarValueSpec = Annotated[
    Annotated[Scalar, Tag("value")]
    | Annotated[list[Scalar], Tag("list")]
    | Annotated[VarMap, Tag("map")],
    Discriminator(_declared_value_kind),
]
"""A var's value: a scalar, a list of scalars, or a map. A list or map is used whole, where a
field is exactly `${var.NAME}` (for_each, or a field taking a list or mapping)."""


class VarDeclaration(SpecModel):
    value: VarValueSpec
    sensitive: bool = False
    """Mask the value wherever it would be shown."""
    description: str | None = None


def _var_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "declared" if "value" in value else "map"
    return "list" if isinstance(value, list) else "value"


class _NotADeclaration:
    """For the JSON Schema: a map var is a mapping without `value`, which declares a var."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "not": {"required": ["value"]}}


VarEntry = Annotated[
    Annotated[Scalar, Tag("value")]
    | Annotated[list[Scalar], Tag("list")]
    | Annotated[VarMap, Tag("map"), _NotADeclaration()]
    | Annotated[VarDeclaration, Tag("declared")],
    Discriminator(_var_kind),
]
"""A var: its value, or a mapping with `value:` (and `sensitive:`, `description:`). A map
whose own keys include `value` is written as `{value: {...}}`."""


class OutputDeclaration(SpecModel):
    value: Scalar
    """A template: `${var.NAME}`, `${env.NAME}` and `${ADDRESS.id}` of a resource of the stack."""
    description: str | None = None
    sensitive: bool = False
    """Mask the value wherever it would be shown, `output --json` included."""


OutputEntry = Annotated[
    Annotated[Scalar, Tag("value")] | Annotated[OutputDeclaration, Tag("declared")],
    Discriminator(_var_kind),
]


class Environment(SpecModel):
    target: Target = Field(default_factory=Target)
    vars: dict[VarName, VarEntry] = Field(default_factory=dict)
    """Values for this environment; they override the stack's `vars`."""


DEFAULT_STATE_DSN_ENV = "BIMPE_STATE_DSN"


class StateSettings(SpecModel):
    """Where the state lives: a JSON file (`local`) or a PostgreSQL database (`postgres`)."""

    backend: Literal["local", "postgres"] = "local"
    """`local`: a JSON file next to the stack; `postgres`: a database a team shares."""
    path: str | None = None
    """`local`: the file, relative to the stack directory (`.bimpe/state/<stack>/<env>.json`)."""
    dsn_env: EnvVarName | None = None
    """`postgres`: the variable holding the DSN (`BIMPE_STATE_DSN`); never the DSN itself."""

    @model_validator(mode="before")
    @classmethod
    def _no_dsn(cls, data: Any) -> Any:
        return refused(
            data,
            "dsn",
            "dsn_in_manifest",
            "never write the DSN in a manifest (it may hold a password); set dsn_env to"
            " the name of the environment variable that holds it",
        )

    @model_validator(mode="after")
    def _fields_of_the_backend(self) -> StateSettings:
        if self.backend == "postgres" and self.path is not None:
            raise manifest_error(
                "path_without_file",
                "path is for the local backend; the postgres backend keeps no file",
                at="path",
            )
        if self.backend == "local" and self.dsn_env is not None:
            raise manifest_error(
                "dsn_env_without_database",
                "dsn_env is for the postgres backend; set backend: postgres to use it",
                at="dsn_env",
            )
        return self


class StackFile(SpecModel):
    """stack.yaml: the stack's name, environments and state settings."""

    model_config = ConfigDict(title="BimpeAI stack")

    name: Key
    """The stack's name."""
    vars: dict[VarName, VarEntry] = Field(default_factory=dict)
    """Values every environment shares unless it sets its own."""
    environments: dict[Key, Environment] = Field(default_factory=dict)
    state: StateSettings = Field(default_factory=StateSettings)
    modules: dict[Key, ModuleUse] = Field(default_factory=dict)
    """Uses of modules, by name; a use's resources are addressed `module.NAME.`."""
    outputs: dict[OutputName, OutputEntry] = Field(default_factory=dict)
    """Values printed after apply and by `bimpe-iac output`: a template, or a mapping with
    `value`, `description` and `sensitive`."""
