"""The manifest models: the single source of what a stack may say, and of its JSON Schemas.

Validated models are the engine's desired state. An optional field left out of the
manifest is None, meaning "not managed": the engine leaves whatever the platform has.
An explicit `null` means the same. Lists keep the difference: `tags: []` manages an
empty list, while no `tags:` leaves tags alone. For the fields that have a default
(`lifecycle`, `knowledge_bases`, a rule's `enabled`), `model_fields_set` tells whether
the manifest wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from bimpe_iac.manifest.fields import (
    E164,
    AcceptsInterpolation,
    Email,
    EnvVarName,
    HttpUrl,
    Key,
    KeyReference,
    LongText,
    Matches,
    Name,
    Printable,
    Scalar,
    Short,
    ShortText,
    TimeZone,
    VarName,
    manifest_error,
)

AgentPersona = Literal["professional", "friendly", "concise"]
LiveStatus = Literal["development", "live", "paused"]
KeywordWeight = Literal["high", "medium", "low"]

_KEY = r"[A-Za-z0-9][A-Za-z0-9_-]*"
ADDRESS_PATTERN = rf"^(?:workflows\.{_KEY}|agents\.{_KEY}(?:\.knowledge_bases\.{_KEY})?)$"


class _Model(BaseModel):
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


class _Resource(_Model):
    _source: SourceLocation | None = PrivateAttr(default=None)

    @property
    def source(self) -> SourceLocation | None:
        """Where the resource's key is written; set for every resource of a loaded stack."""
        # Straight from pydantic's private store: `self._source` takes its slow __getattr__.
        private = self.__pydantic_private__ or {}
        source = private.get("_source")
        return source if isinstance(source, SourceLocation) else None

    def __eq__(self, other: object) -> bool:
        # Two resources are equal when they say the same, wherever they are written.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise manifest_error("duplicate", f"{what} '{value}' is listed more than once")
        seen.add(value)


# Workflows -------------------------------------------------------------------------------


class RuleSpec(_Model):
    """When `trigger` (and `condition`, if any) holds, the agent answers with `response`."""

    id: Name
    """Identifies the rule within its workflow."""
    name: Name
    trigger: Short
    response: Short
    enabled: Annotated[bool, AcceptsInterpolation()] = True
    condition: Short | None = None
    action: Short | None = None
    """An action to run, for example `escalate_to_human`."""


class TriggerKeywordSpec(_Model):
    keyword: Name
    weight: Annotated[KeywordWeight, AcceptsInterpolation()] | None = None


class FlowStepSpec(_Model):
    type: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    """The kind of step, for example `message` or `action`."""
    content: Short | None = None
    action: Short | None = None
    followup: Short | None = None


class FlowSpec(_Model):
    """A conversation the workflow leads when its trigger keywords match."""

    name: Name
    description: Short | None = None
    category: Short | None = None
    priority: Annotated[int, AcceptsInterpolation()] | None = None
    is_active: Annotated[bool, AcceptsInterpolation()] | None = None
    trigger_keywords: list[TriggerKeywordSpec] | None = None
    conversation_steps: list[FlowStepSpec] | None = None


class GuideSpec(_Model):
    steps: list[Short]
    youtube_url: HttpUrl | None = None


class FaqSpec(_Model):
    question: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    answer: Annotated[ShortText, StringConstraints(min_length=1)]


WorkflowTag = Annotated[str, StringConstraints(min_length=1, max_length=50), Printable]

WorkflowField = Literal[
    "name",
    "system_prompt",
    "description",
    "category",
    "rules",
    "flows",
    "tags",
    "integrations",
    "channels",
    "actions",
    "guide",
    "faq",
    "setup_steps",
    "setup_time",
    "video_url",
]


class WorkflowLifecycle(_Model):
    prevent_destroy: bool = False
    """Refuse any plan that would destroy this resource."""
    ignore_changes: list[WorkflowField] = Field(default_factory=list)
    """Fields left alone once the resource exists, even when they drift from the manifest."""


class WorkflowSpec(_Resource):
    """A workflow: the system prompt, rules, flows and FAQ that agents follow."""

    name: Name
    system_prompt: LongText
    description: ShortText | None = None
    category: Short | None = None
    rules: list[RuleSpec] | None = None
    flows: list[FlowSpec] | None = None
    tags: Annotated[list[WorkflowTag], Field(max_length=50)] | None = None
    integrations: list[str] | None = None
    channels: list[str] | None = None
    actions: list[str] | None = None
    guide: GuideSpec | None = None
    faq: list[FaqSpec] | None = None
    setup_steps: list[Any] | None = None
    setup_time: Annotated[int, AcceptsInterpolation(), Field(ge=0)] | None = None
    """Minutes it takes to set the workflow up."""
    video_url: HttpUrl | None = None
    lifecycle: WorkflowLifecycle = Field(default_factory=WorkflowLifecycle)

    @field_validator("rules")
    @classmethod
    def _rule_ids_unique(cls, rules: list[RuleSpec] | None) -> list[RuleSpec] | None:
        _unique([rule.id for rule in rules or []], "rule id")
        return rules


# Knowledge bases -------------------------------------------------------------------------

TextKnowledgeBaseField = Literal["name", "description", "content"]
UrlKnowledgeBaseField = Literal["name", "description", "url"]


class TextKnowledgeBaseLifecycle(_Model):
    prevent_destroy: bool = False
    ignore_changes: list[TextKnowledgeBaseField] = Field(default_factory=list)


class UrlKnowledgeBaseLifecycle(_Model):
    prevent_destroy: bool = False
    ignore_changes: list[UrlKnowledgeBaseField] = Field(default_factory=list)


class TextKnowledgeBaseSpec(_Resource):
    """Knowledge written as text, inline or in a file."""

    type: Literal["text"]
    name: Name
    content: LongText
    description: Short | None = None
    lifecycle: TextKnowledgeBaseLifecycle = Field(default_factory=TextKnowledgeBaseLifecycle)


class UrlKnowledgeBaseSpec(_Resource):
    """Knowledge the platform reads from a web page."""

    type: Literal["url"]
    name: Name
    url: HttpUrl
    description: Short | None = None
    lifecycle: UrlKnowledgeBaseLifecycle = Field(default_factory=UrlKnowledgeBaseLifecycle)


KnowledgeBaseSpec = Annotated[
    TextKnowledgeBaseSpec | UrlKnowledgeBaseSpec, Field(discriminator="type")
]


# Agents ----------------------------------------------------------------------------------


class WorkflowById(_Model):
    """A workflow this stack does not manage, by its platform id."""

    id: Annotated[str, StringConstraints(min_length=1)]


class PublicWorkflow(_Model):
    """A public workflow from the platform's catalog, by name."""

    public: Annotated[str, StringConstraints(min_length=1)]


def _workflow_reference_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "key"
    if isinstance(value, dict):
        if "id" in value:
            return "id"
        if "public" in value:
            return "public"
    return None


WorkflowReference = Annotated[
    Annotated[KeyReference, Tag("key")]
    | Annotated[WorkflowById, Tag("id")]
    | Annotated[PublicWorkflow, Tag("public")],
    Discriminator(
        _workflow_reference_kind,
        custom_error_type="workflow_reference",
        custom_error_message=(
            "expected a workflow key in this stack, {id: WORKFLOW_ID} or {public: CATALOG_NAME}"
        ),
    ),
]

AgentAttribute = Literal[
    "name",
    "description",
    "language",
    "persona",
    "timezone",
    "logo",
    "business_name",
    "business_address",
    "business_email",
    "business_description",
    "escalation_email",
]
"""An agent's own fields, named alike in a manifest and in the API."""
AgentField = Literal["workflow", AgentAttribute, "live_status", "live_status_reason", "actions"]


class AgentLifecycle(_Model):
    prevent_destroy: bool = False
    """Refuse any plan that would destroy this resource."""
    ignore_changes: list[AgentField] = Field(default_factory=list)
    """Fields left alone once the resource exists, even when they drift from the manifest."""


class AgentSpec(_Resource):
    """A customer-service agent running a workflow."""

    workflow: WorkflowReference
    """A workflow key in this stack, `{id: ...}` or `{public: "<catalog name>"}`."""
    name: Name
    description: ShortText
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] | None = None
    """A language code, for example `en`."""
    persona: Annotated[AgentPersona, AcceptsInterpolation()] | None = None
    timezone: TimeZone | None = None
    """An IANA time zone, for example `Africa/Lagos`."""
    logo: HttpUrl | None = None
    business_name: Short | None = None
    business_address: Short | None = None
    business_email: Email | None = None
    business_description: ShortText | None = None
    escalation_email: Email | None = None
    """Where conversations that need a person are sent."""
    live_status: Annotated[LiveStatus, AcceptsInterpolation()] | None = None
    live_status_reason: Short | None = None
    knowledge_bases: dict[Key, KnowledgeBaseSpec] = Field(default_factory=dict)
    """Knowledge bases by key. One removed from the manifest is destroyed."""
    actions: list[str] | None = None
    """The `action_name`s to enable; every other action of the agent is disabled."""
    lifecycle: AgentLifecycle = Field(default_factory=AgentLifecycle)

    @field_validator("actions")
    @classmethod
    def _actions_unique(cls, actions: list[str] | None) -> list[str] | None:
        _unique(actions or [], "action")
        return actions


# Phone numbers and moves -----------------------------------------------------------------


class PhoneLinkSpec(_Resource):
    """Sends calls to a phone number the account owns to an agent of this stack."""

    agent: KeyReference
    """The key of an agent in this stack."""
    label: Annotated[str, StringConstraints(max_length=200), Printable] | None = None


Address = Annotated[
    str,
    Matches(
        ADDRESS_PATTERN,
        "'{value}' is not a resource address: write workflows.KEY, agents.KEY"
        " or agents.KEY.knowledge_bases.KEY",
    ),
]


class MovedBlock(_Model):
    """Records that a resource's key changed, so it is renamed rather than replaced."""

    from_: Address = Field(alias="from")
    """The resource's old address."""
    to: Address
    """The resource's new address."""


class ResourceFile(_Model):
    """A file of resources: any YAML file in a stack directory other than stack.yaml."""

    model_config = ConfigDict(title="BimpeAI stack resources")

    workflows: dict[Key, WorkflowSpec] = Field(default_factory=dict)
    agents: dict[Key, AgentSpec] = Field(default_factory=dict)
    phone_numbers: dict[E164, PhoneLinkSpec] = Field(default_factory=dict)
    """Phone numbers by E.164 number, each linked to an agent."""
    moved: list[MovedBlock] = Field(default_factory=list)


# stack.yaml ------------------------------------------------------------------------------


class Target(_Model):
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
        if isinstance(data, dict) and "api_key" in data:
            raise manifest_error(
                "api_key_in_manifest",
                "never write the API key in a manifest; set api_key_env to the name of"
                " the environment variable that holds it",
                at="api_key",
            )
        return data

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


class VarDeclaration(_Model):
    value: Scalar
    sensitive: bool = False
    """Mask the value wherever it would be shown."""
    description: str | None = None


def _var_kind(value: Any) -> str:
    return "declared" if isinstance(value, dict) else "value"


VarEntry = Annotated[
    Annotated[Scalar, Tag("value")] | Annotated[VarDeclaration, Tag("declared")],
    Discriminator(_var_kind),
]


class Environment(_Model):
    target: Target = Field(default_factory=Target)
    vars: dict[VarName, VarEntry] = Field(default_factory=dict)
    """Values for this environment; they override the stack's `vars`."""


DEFAULT_STATE_DSN_ENV = "BIMPE_STATE_DSN"


class StateSettings(_Model):
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
        if isinstance(data, dict) and "dsn" in data:
            raise manifest_error(
                "dsn_in_manifest",
                "never write the DSN in a manifest (it may hold a password); set dsn_env to"
                " the name of the environment variable that holds it",
                at="dsn",
            )
        return data

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


class StackFile(_Model):
    """stack.yaml: the stack's name, environments and state settings."""

    model_config = ConfigDict(title="BimpeAI stack")

    name: Key
    """The stack's name."""
    vars: dict[VarName, VarEntry] = Field(default_factory=dict)
    """Values every environment shares unless it sets its own."""
    environments: dict[Key, Environment] = Field(default_factory=dict)
    state: StateSettings = Field(default_factory=StateSettings)
