"""The saved plan document as a pydantic model, and the generator of its JSON Schema.

`bimpe_iac.render.json` writes and reads the document; this model is what a document read
back is checked against, and the source of schemas/plan.schema.json.
`python -m bimpe_iac.render.plan_document` rewrites the schema; with `--check` it only
reports whether the file is up to date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json"
VALUE_NOTE = (
    "A JSON value. Three one-key objects are markers: {'$ref': address} is the id of a "
    "resource this plan creates, known after apply; {'$sensitive': digest} is a string or number "
    "holding a sensitive value (its keyed digest), given back by the manifests at apply; "
    "{'$literal': object} "
    "is an object that would otherwise read as a marker."
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FieldDocument(_Model):
    field: str
    before: Any = Field(description=VALUE_NOTE)
    after: Any = Field(description=VALUE_NOTE)


class ChangeDocument(_Model):
    address: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    action: Literal["create", "update", "delete", "replace", "import", "noop"] = Field(
        description="An import starts managing the existing object `id`, then updates `fields`."
    )
    id: str | None
    parent: str | None
    reason: str | None
    depends_on: list[str]
    before: dict[str, Any] | None = Field(description="The managed values now. " + VALUE_NOTE)
    after: dict[str, Any] | None = Field(description="The managed values wanted. " + VALUE_NOTE)
    fields: list[FieldDocument] = Field(description="Only the fields that differ.")
    drift: list[FieldDocument] = Field(
        description="Fields changed outside bimpe-iac: before is the last applied value, "
        "after the live one."
    )
    fingerprint: str | None
    updated_at: str | None
    lifecycle: list[FieldDocument] = Field(
        default_factory=list,
        description="Lifecycle settings (`lifecycle.prevent_destroy`, "
        "`lifecycle.ignore_changes`) the state remembers otherwise: before is the state's, "
        "after the manifests'. An update with only these is saved in the state; nothing is "
        "sent to BimpeAI.",
    )


class SummaryDocument(_Model):
    """What the plan's summary line counts: a replace is one add and one destroy, an
    update of the state only one change."""

    import_: int = Field(
        default=0, ge=0, alias="import", description="Present when the plan imports something."
    )
    move: int = Field(
        default=0, ge=0, description="Present when the plan renames (`moved:` blocks)."
    )
    add: int = Field(ge=0)
    change: int = Field(ge=0)
    destroy: int = Field(ge=0)


class MoveDocument(_Model):
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)


class PlanDocument(_Model):
    """A plan saved by `bimpe-iac plan -out`, to be applied as it stands."""

    format_version: Literal[1]
    stack: str
    environment: str
    lineage: str
    serial: int = Field(ge=0)
    destroy: bool
    created_at: str
    summary: SummaryDocument
    changes: list[ChangeDocument]
    moved: list[MoveDocument] = Field(
        default_factory=list,
        description="Renames from `moved:` blocks, made in the state before the changes.",
    )
    warnings: list[str]
    targets: list[str] = Field(
        default_factory=list,
        description="The --target addresses the plan was made with; empty for the whole stack.",
    )
    key_check: str | None = Field(
        default=None,
        description="A short keyed digest of the key the plan's digests were made with, to "
        "tell a plan made with another API key (docs/secrets.md).",
    )


def schema() -> dict[str, Any]:
    generated = PlanDocument.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **generated}


def render_schema() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def is_stale(path: Path = SCHEMA_PATH) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != render_schema()


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        if is_stale():
            print(f"{SCHEMA_PATH} is out of date; run python -m bimpe_iac.render.plan_document")
            return 1
        return 0
    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
