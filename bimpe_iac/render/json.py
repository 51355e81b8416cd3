"""A plan as a versioned JSON document (format_version 1), and back.

The same document serves `plan -json` and the saved plan file that `apply` takes, so it holds
raw values except sensitive ones: `plan_to_json(plan, sensitive_values=...)` writes every
string that holds a sensitive value as {"$sensitive": "<keyed digest of the whole string>"} (and
masks such text in `reason` and `warnings`), and the id a create will get as
{"$ref": "<address>"}. `plan_from_json(data, resolve=...)` gives the plan back: `resolve`
maps a digest to its string, and `bimpe_iac.render.markers.sensitive_lookup` builds one from
the values the manifests produce at apply time. Without a sensitive value the round trip is
exact. `mask` makes a document for reading only, such as `plan --format json` prints. The
document is checked strictly against `PlanDocument`; every fault is a `PlanError`
naming the path of the bad value. `read_plan_document` and `plan_from_document` are the two
halves of `parse_plan_json`, for a reader that needs the document before it can resolve.

The digest is keyed (`digest=Digests.text`, docs/secrets.md): without the API key, no guess of
a sensitive value can be tested against it.
"""

from __future__ import annotations

import json
from collections.abc import Set
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import PLAN_FORMAT_VERSION, Change, FieldChange, Move, Plan
from bimpe_iac.render.markers import Decoder, Digest, Resolve, encode, mask_text, no_digest
from bimpe_iac.render.values import Mask, masked, visible_json

if TYPE_CHECKING:
    from bimpe_iac.render.plan_document import ChangeDocument, FieldDocument, PlanDocument

MAX_REPORTED_ERRORS = 5
MAX_DEPTH = 128
"""Deeper than any plan of a valid stack (manifests nest at most 100 levels)."""
_TOO_DEEP = f"invalid plan file: values nest more than {MAX_DEPTH} levels deep"


def _fields(
    items: tuple[FieldChange, ...], sensitive: Set[str], path: str, digest: Digest
) -> list[dict[str, Any]]:
    return [
        {
            "field": item.field,
            "before": encode(item.before, sensitive, f"{path}[{i}].before", digest),
            "after": encode(item.after, sensitive, f"{path}[{i}].after", digest),
        }
        for i, item in enumerate(items)
    ]


def _change(change: Change, sensitive: frozenset[str], path: str, digest: Digest) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "id": change.id,
        "parent": change.parent,
        "reason": None if change.reason is None else mask_text(change.reason, sensitive),
        "depends_on": list(change.depends_on),
        "before": encode(change.before, sensitive, f"{path}.before", digest),
        "after": encode(change.after, sensitive, f"{path}.after", digest),
        "fields": _fields(change.fields, sensitive, f"{path}.fields", digest),
        "drift": _fields(change.drift, sensitive, f"{path}.drift", digest),
        "fingerprint": change.fingerprint,
        "updated_at": change.updated_at,
        "lifecycle": _fields(change.lifecycle, sensitive, f"{path}.lifecycle", digest),
    }


def plan_to_json(
    plan: Plan,
    *,
    sensitive_values: frozenset[str] = frozenset(),
    mask: Mask | None = None,
    digest: Digest = no_digest,
    key_check: str | None = None,
) -> dict[str, Any]:
    """The plan document; no sensitive value is in it (see the module docstring).

    With `mask`, every string in it also goes through `mask`: such a document is for reading,
    and a string `mask` changed does not read back.
    """
    document = {
        "format_version": PLAN_FORMAT_VERSION,
        "stack": plan.stack,
        "environment": plan.environment,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "destroy": plan.destroy,
        "created_at": plan.created_at,
        "summary": plan.counts(),
        "changes": [
            _change(change, sensitive_values, f"changes[{i}]", digest)
            for i, change in enumerate(plan.changes)
        ],
        "moved": [{"from": move.source, "to": move.target} for move in plan.moved],
        "warnings": [mask_text(warning, sensitive_values) for warning in plan.warnings],
        "targets": list(plan.targets),
        "key_check": key_check,
    }
    result: dict[str, Any] = document if mask is None else masked(document, mask)
    return result


def render_plan_json(
    plan: Plan,
    *,
    sensitive_values: frozenset[str] = frozenset(),
    mask: Mask | None = None,
    digest: Digest = no_digest,
    key_check: str | None = None,
) -> str:
    """`plan_to_json` as indented JSON text."""
    document = plan_to_json(
        plan, sensitive_values=sensitive_values, mask=mask, digest=digest, key_check=key_check
    )
    return visible_json(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def _location(loc: tuple[int | str, ...]) -> str:
    text = "".join(
        f"[{part}]" if isinstance(part, int) else part if part.startswith("[") else f".{part}"
        for part in loc
    )
    return text.lstrip(".") or "(document)"


def _validation_message(error: ValidationError) -> str:
    problems = [f"{_location(item['loc'])}: {item['msg']}" for item in error.errors()]
    more = len(problems) - MAX_REPORTED_ERRORS
    listed = "; ".join(problems[:MAX_REPORTED_ERRORS]) + (f"; and {more} more" if more > 0 else "")
    return f"invalid plan file: {listed}"


def _too_deep(data: Any) -> bool:
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict | list):
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return False


def _validate(data: Any) -> PlanDocument:
    if not isinstance(data, dict):
        raise PlanError("invalid plan file: expected a JSON object")
    if _too_deep(data):
        raise PlanError(_TOO_DEEP)
    version = data.get("format_version")
    if type(version) is not int or version != PLAN_FORMAT_VERSION:
        raise PlanError(
            f"invalid plan file: format_version {version!r} is not supported "
            f"(this bimpe-iac reads {PLAN_FORMAT_VERSION})"
        )
    # Imported here, so that `python -m bimpe_iac.render.plan_document` finds it not yet loaded.
    from bimpe_iac.render.plan_document import PlanDocument

    try:
        return PlanDocument.model_validate(data, strict=True)
    except ValidationError as error:
        raise PlanError(_validation_message(error)) from None


def _field_changes(
    items: list[FieldDocument], decoder: Decoder, path: str
) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(
            item.field,
            decoder.decode(item.before, f"{path}[{i}].before"),
            decoder.decode(item.after, f"{path}[{i}].after"),
        )
        for i, item in enumerate(items)
    )


def _check_shape(item: ChangeDocument, path: str) -> None:
    if item.action == "create" and item.before is not None:
        raise PlanError(f"invalid plan file: {path}.before: a create has no before")
    if item.action == "delete" and item.after is not None:
        raise PlanError(f"invalid plan file: {path}.after: a delete has no after")
    if item.action in ("create", "update", "replace", "import") and item.after is None:
        article = "an" if item.action in ("update", "import") else "a"
        raise PlanError(f"invalid plan file: {path}.after: {article} {item.action} needs after")


def _decode_change(item: ChangeDocument, decoder: Decoder, path: str) -> Change:
    _check_shape(item, path)
    return Change(
        address=item.address,
        kind=item.kind,
        action=item.action,
        id=item.id,
        parent=item.parent,
        before=decoder.decode(item.before, f"{path}.before"),
        after=decoder.decode(item.after, f"{path}.after"),
        fields=_field_changes(item.fields, decoder, f"{path}.fields"),
        drift=_field_changes(item.drift, decoder, f"{path}.drift"),
        reason=item.reason,
        depends_on=tuple(item.depends_on),
        fingerprint=item.fingerprint,
        updated_at=item.updated_at,
        lifecycle=_field_changes(item.lifecycle, decoder, f"{path}.lifecycle"),
    )


def _addresses(document: PlanDocument) -> frozenset[str]:
    seen: set[str] = set()
    for i, item in enumerate(document.changes):
        if item.address in seen:
            raise PlanError(f"invalid plan file: changes[{i}].address: {item.address!r} repeats")
        seen.add(item.address)
    return frozenset(seen)


def plan_from_json(
    data: Any, *, resolve: Resolve | None = None, digest: Digest = no_digest
) -> Plan:
    """The plan a document holds; `PlanError` naming the bad path when it is malformed."""
    return plan_from_document(_validate(data), resolve=resolve, digest=digest)


def plan_from_document(
    document: PlanDocument, *, resolve: Resolve | None = None, digest: Digest = no_digest
) -> Plan:
    """The plan a checked document holds (see `read_plan_document`)."""
    decoder = Decoder(_addresses(document), resolve, digest)
    plan = Plan(
        stack=document.stack,
        environment=document.environment,
        lineage=document.lineage,
        serial=document.serial,
        changes=tuple(
            _decode_change(item, decoder, f"changes[{i}]")
            for i, item in enumerate(document.changes)
        ),
        destroy=document.destroy,
        created_at=document.created_at,
        warnings=tuple(document.warnings),
        moved=tuple(Move(move.from_, move.to) for move in document.moved),
        targets=tuple(document.targets),
    )
    summary = document.summary.model_dump(by_alias=True)
    for optional in ("import", "move"):
        if not summary[optional]:
            del summary[optional]
    if plan.counts() != summary:
        raise PlanError(
            f"invalid plan file: summary: {summary} does not match "
            f"the changes, which add up to {plan.counts()}"
        )
    return plan


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_plan_document(text: str | bytes) -> PlanDocument:
    """A document's text, parsed and checked against `PlanDocument`; bad JSON is a
    `PlanError` too."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise PlanError(f"invalid plan file: not JSON ({error})") from None
    except RecursionError:
        raise PlanError(_TOO_DEEP) from None
    return _validate(data)


def parse_plan_json(text: str | bytes, *, resolve: Resolve | None = None) -> Plan:
    """`plan_from_json` of a document's text; bad JSON is a `PlanError` too."""
    return plan_from_document(read_plan_document(text), resolve=resolve)
