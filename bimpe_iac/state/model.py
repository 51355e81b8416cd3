"""The state document: for each managed address, its platform id and last applied values.

Sensitive values never enter it: `values` holds them masked; `sensitive` names each leaf that
held one, and `hashes` a keyed digest of each field holding one, so that a later run can still
tell whether the live value changed (docs/secrets.md). Other fields are compared as stored.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

STATE_FORMAT: Final = "bimpe-iac-state"
STATE_VERSION: Final = 2


def value_hash(value: Any) -> str:
    """A stable digest of a JSON value (key order does not matter). Never stored of anything
    that may hold a sensitive value: `bimpe_iac.state.digests` keys those."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResourceState(_Model):
    kind: str
    id: str
    parent_id: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    hashes: dict[str, str] = Field(default_factory=dict)
    """A keyed digest (`state/digests.py`) of each field that holds a sensitive value."""
    sensitive: dict[str, str] = Field(default_factory=dict)
    """The JSON pointer of each leaf of `values` that held a sensitive value at the last apply,
    with a keyed check of which values (empty: unverified, always hidden)."""
    key_check: str | None = None
    """`Digests.check` of the key `hashes` and `sensitive` were made with."""
    depends_on: list[str] = Field(default_factory=list)
    prevent_destroy: bool = False
    ignore_changes: list[str] = Field(default_factory=list)
    """The fields the manifests' `lifecycle.ignore_changes` named at the last apply."""
    generation: int = 0
    """How many times this address was created; part of the next create's idempotency key."""


class Intent(_Model):
    """An operation sent (or about to be) whose outcome is not yet recorded."""

    operation: Literal["create"]
    idempotency_key: str
    body_hash: str
    started_at: str
    kind: str | None = None
    parent_id: str | None = None
    """The id the create was sent under (an agent's, for a knowledge base)."""
    body: dict[str, Any] | None = None
    """The body sent, so that the next run can send the same request again and find what it
    made (`engine/intents.py`); None when it held a sensitive value, which never enters the
    state."""


class Writer(_Model):
    host: str
    pid: int
    user: str
    command: str


class StateDocument(_Model):
    format: Literal["bimpe-iac-state"] = STATE_FORMAT
    version: Literal[2] = STATE_VERSION
    lineage: str = Field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = Field(default=0, ge=0)
    """Advanced by every write; a write must carry a higher serial than the file it replaces."""
    stack: str
    environment: str
    updated_at: str | None = None
    writer: Writer | None = None
    resources: dict[str, ResourceState] = Field(default_factory=dict)
    intents: dict[str, Intent] = Field(default_factory=dict)
    generations: dict[str, int] = Field(default_factory=dict)
    """Create counts of addresses no longer in `resources`, so a re-create gets a new key."""
