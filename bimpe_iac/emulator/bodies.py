"""Request bodies the emulator accepts, mirroring the SDK's TypedDicts, with the server's rules.

Unknown fields are rejected (400) so a client that sends a misspelt field learns it at once.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

E164_PATTERN = r"^\+[1-9]\d{6,14}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]
LongText = Annotated[str, StringConstraints(max_length=200_000)]
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=320)]
E164 = Annotated[str, StringConstraints(pattern=E164_PATTERN)]
Url = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=2048)]
Persona = Literal["professional", "friendly", "concise"]
LiveStatus = Literal["development", "live", "paused"]
ChannelType = Literal[
    "whatsapp", "webchat", "telephony", "test_whatsapp", "test_webchat", "test_telephony"
]


# What the store keeps is JSON that orjson writes: integers within 64 bits, nesting within its
# recursion limit. Anything beyond is the client's error (400), not a server failure.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 64
Int = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


def storable(value: Any) -> Any:
    """`value`, once it is known to be JSON the store can write."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise PydanticCustomError("json_depth", f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, int) and not isinstance(item, bool):
            if not INT64_MIN <= item <= INT64_MAX:
                raise PydanticCustomError("int_range", "integers must fit in 64 bits")
        elif isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
    return value


JsonValue = Annotated[Any, AfterValidator(storable)]
"""Free-form JSON (setup steps, templates) the store can write back."""


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"unknown time zone '{value}'")
    return value


TimeZone = Annotated[str, AfterValidator(_known_zone)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentFields(Body):
    language: Annotated[str, StringConstraints(min_length=2, max_length=16)] | None = None
    persona: Persona | None = None
    timezone: TimeZone | None = None
    logo: Url | None = None
    business_name: ShortText | None = None
    business_address: ShortText | None = None
    business_email: Email | None = None
    business_description: ShortText | None = None
    escalation_email: Email | None = None


class CreateAgent(AgentFields):
    workflow_id: str
    name: Name
    description: ShortText


class UpdateAgent(AgentFields):
    workflow_id: str | None = None
    name: Name | None = None
    description: ShortText | None = None


class UpdateLiveStatus(Body):
    status: LiveStatus
    status_reason: ShortText | None = None


class ActionIds(Body):
    action_ids: Annotated[list[str], Field(min_length=1, max_length=500)]


class CreateTextKnowledgeBase(Body):
    type: Literal["text"]
    name: Name
    content: Annotated[LongText, StringConstraints(min_length=1)]
    description: ShortText | None = None


class CreateUrlKnowledgeBase(Body):
    type: Literal["url"]
    name: Name
    url: Url
    description: ShortText | None = None


CreateKnowledgeBase = Annotated[
    CreateTextKnowledgeBase | CreateUrlKnowledgeBase, Field(discriminator="type")
]


class UpdateKnowledgeBase(Body):
    name: Name | None = None
    description: ShortText | None = None
    content: Annotated[LongText, StringConstraints(min_length=1)] | None = None
    url: Url | None = None


class RuleInput(Body):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    name: Name
    trigger: ShortText
    response: ShortText
    enabled: bool
    condition: ShortText | None = None
    action: ShortText | None = None


class FlowStepInput(Body):
    type: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    content: ShortText | None = None
    action: ShortText | None = None
    followup: ShortText | None = None


class FlowTriggerKeywordInput(Body):
    keyword: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    weight: Literal["high", "medium", "low"] | None = None


class FlowInput(Body):
    name: Name
    description: ShortText | None = None
    category: ShortText | None = None
    priority: Int | None = None
    is_active: bool | None = None
    trigger_keywords: list[FlowTriggerKeywordInput] | None = None
    conversation_steps: list[FlowStepInput] | None = None


class GuideInput(Body):
    steps: list[ShortText]
    youtube_url: Url | None = None


class FaqInput(Body):
    question: Annotated[ShortText, StringConstraints(min_length=1)]
    answer: Annotated[ShortText, StringConstraints(min_length=1)]


class WorkflowFields(Body):
    description: ShortText | None = None
    category: ShortText | None = None
    rules: list[RuleInput] | None = None
    flows: list[FlowInput] | None = None
    tags: (
        Annotated[
            list[Annotated[str, StringConstraints(min_length=1, max_length=50)]],
            Field(max_length=50),
        ]
        | None
    ) = None
    integrations: list[str] | None = None
    channels: list[str] | None = None
    actions: list[str] | None = None
    guide: GuideInput | None = None
    faq: list[FaqInput] | None = None
    setup_steps: list[JsonValue] | None = None
    setup_time: Annotated[int, Field(ge=0, le=INT64_MAX)] | None = None
    video_url: Url | None = None


class CreateWorkflow(WorkflowFields):
    name: Name
    system_prompt: Annotated[LongText, StringConstraints(min_length=1)]


class UpdateWorkflow(WorkflowFields):
    name: Name | None = None
    system_prompt: Annotated[LongText, StringConstraints(min_length=1)] | None = None


class CloneWorkflow(Body):
    source_workflow_id: str


class CreateConversationMessage(Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    role: Literal["user", "assistant"] | None = None
    conversation_id: str | None = None
    channel_type: (
        Literal[
            "whatsapp", "webchat", "telephony", "test_whatsapp", "test_webchat", "test_telephony"
        ]
        | None
    ) = None
    channel_user_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    channel_username: ShortText | None = None
    is_test_channel: bool | None = None


class SendMessage(Body):
    message: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    role: Literal["user", "assistant"] | None = None


class SetAiStatus(Body):
    is_ai_chat_paused: bool


class MakeCall(Body):
    destination: E164
    is_test_call: bool


class UpdatePhoneNumber(Body):
    agent_id: str | None = None
    label: Annotated[str, StringConstraints(max_length=200)] | None = None


class CreatePhoneNumberRequest(Body):
    business_name: Name
    intended_use: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    region: Literal["us", "uk", "eu", "ng"]
    agent_count: Annotated[int, Field(ge=1, le=1000)]
    outbound_minutes: Annotated[int, Field(ge=0, le=1_000_000)]
    submitted_by_agent_id: str | None = None
