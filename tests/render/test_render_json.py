"""The plan document: its shape, refs and marker escapes, the exact round trip, the JSON
Schema it meets (and that the schema file is fresh), and strict reading of malformed files
as a `PlanError` that names the bad path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import Change, FieldChange, Plan, Ref
from bimpe_iac.render import plan_document
from bimpe_iac.render.json import parse_plan_json, plan_from_json, plan_to_json, render_plan_json

SCHEMA = json.loads(Path(plan_document.SCHEMA_PATH).read_text(encoding="utf-8"))


def test_document_shape(plan: Plan) -> None:
    document = plan_to_json(plan)
    assert list(document) == [
        "format_version",
        "stack",
        "environment",
        "lineage",
        "serial",
        "destroy",
        "created_at",
        "summary",
        "changes",
        "moved",
        "warnings",
        "targets",
        "key_check",
    ]
    assert document["format_version"] == 1
    assert document["summary"] == {"add": 2, "change": 1, "destroy": 2}
    assert list(document["changes"][0]) == [
        "address",
        "kind",
        "action",
        "id",
        "parent",
        "reason",
        "depends_on",
        "before",
        "after",
        "fields",
        "drift",
        "fingerprint",
        "updated_at",
        "lifecycle",
    ]
    assert document["changes"][0]["drift"] == [
        {"field": "name", "before": "Triage desk", "after": "Triage"}
    ]


def test_refs_encode_as_ref_objects(plan: Plan) -> None:
    create = plan_to_json(plan)["changes"][1]
    assert create["after"]["workflow_id"] == {"$ref": "workflows.triage"}


def test_round_trip_is_exact(plan: Plan) -> None:
    assert plan_from_json(plan_to_json(plan)) == plan
    assert parse_plan_json(render_plan_json(plan)) == plan


def test_objects_that_look_like_markers_round_trip(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    schema = {"$ref": "#/definitions/order", "nested": [{"$sensitive": "not a digest"}]}
    plan = make_plan(update(tool_schema=({"$literal": 1}, schema)))
    document = plan_to_json(plan)
    after = document["changes"][0]["after"]["tool_schema"]
    assert after["nested"] == [{"$literal": {"$sensitive": "not a digest"}}]
    assert plan_from_json(document) == plan


def test_the_document_meets_its_schema(plan: Plan) -> None:
    jsonschema.validate(plan_to_json(plan), SCHEMA)


def test_the_schema_file_is_fresh() -> None:
    assert not plan_document.is_stale(), (
        "schemas/plan.schema.json is stale: run python -m bimpe_iac.render.plan_document"
    )
    assert plan_document.main(["--check"]) == 0


def document_of(plan: Plan) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_plan_json(plan))
    return document


def break_it(document: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["changes", 0, "action"], "upgrade", "changes[0].action: Input should be"),
        (["changes", 2, "kind"], KeyError, "changes[2].kind: Field required"),
        (["serial"], "4", "serial: Input should be a valid integer"),
        (["serial"], True, "serial: Input should be a valid integer"),
        (["serial"], -1, "serial: Input should be greater than or equal to 0"),
        (["changes", 0, "fields", 1, "colour"], "red", "changes[0].fields[1].colour: Extra"),
        (["changes", 0, "depends_on"], "workflows.a", "changes[0].depends_on: Input should be"),
        (["summary", "add"], 3, "summary: {'add': 3"),
        (["format_version"], 2, "format_version 2 is not supported"),
        (["format_version"], KeyError, "format_version None is not supported"),
        (
            ["changes", 1, "after", "workflow_id"],
            {"$ref": "workflows.nowhere"},
            "changes[1].after.workflow_id.$ref: 'workflows.nowhere' is not the address",
        ),
        (
            ["changes", 0, "fields", 0, "after"],
            {"$sensitive": "xyz"},
            "changes[0].fields[0].after.$sensitive: expected a 64-digit hex digest",
        ),
        (["changes", 0, "after", "faq", 0], {"$literal": 3}, "faq[0].$literal: expected an obj"),
        (["changes", 1, "before"], {"name": "x"}, "changes[1].before: a create has no before"),
        (["changes", 3, "after"], {"name": "x"}, "changes[3].after: a delete has no after"),
        (["changes", 0, "after"], None, "changes[0].after: an update needs after"),
        (["changes", 1, "address"], "workflows.triage", "changes[1].address: 'workflows.triage'"),
    ],
)
def test_malformed_documents_name_the_bad_path(
    plan: Plan, path: list[str | int], value: Any, message: str
) -> None:
    document = break_it(document_of(plan), path, value)
    with pytest.raises(PlanError) as raised:
        plan_from_json(document)
    assert message in str(raised.value)
    assert str(raised.value).startswith("invalid plan file: ")


@pytest.mark.parametrize("data", [[], "plan", None, 3])
def test_a_document_that_is_not_an_object(data: Any) -> None:
    with pytest.raises(PlanError, match="expected a JSON object"):
        plan_from_json(data)


@pytest.mark.parametrize("text", ['{"format_version": 1,', '{"serial": NaN}', b"\xff\xfe"])
def test_text_that_is_not_json(text: str | bytes) -> None:
    with pytest.raises(PlanError, match="not JSON"):
        parse_plan_json(text)


def test_many_faults_are_listed_up_to_a_limit(plan: Plan) -> None:
    document = document_of(plan)
    for change in document["changes"]:
        change["action"] = "upgrade"
        change["kind"] = 7
    with pytest.raises(PlanError) as raised:
        plan_from_json(document)
    assert "and 5 more" in str(raised.value)


def test_numbers_json_cannot_hold_are_refused(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    with pytest.raises(PlanError, match=r"changes\[0\]\.after\.ratio: nan is not a JSON number"):
        plan_to_json(make_plan(update(ratio=(0.5, float("nan")))))


def test_values_that_are_not_json_are_refused(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    with pytest.raises(PlanError, match=r"changes\[0\]\.after\.when: a set is not a JSON value"):
        plan_to_json(make_plan(update(when=(None, {1, 2}))))


def test_tuples_read_back_as_lists(make_plan: Callable[..., Plan]) -> None:
    change = Change(
        "agents.a",
        "agent",
        "update",
        "agt_1",
        None,
        {"langs": ["en"]},
        {"langs": ["en", "fr"]},
        fields=(FieldChange("langs", ("en",), ("en", "fr")),),
    )
    again = plan_from_json(plan_to_json(make_plan(change)))
    assert again.changes[0].fields[0].after == ["en", "fr"]


def test_a_ref_to_a_change_in_the_plan_reads_back_as_a_ref(plan: Plan) -> None:
    again = plan_from_json(plan_to_json(plan))
    assert again.changes[1].after is not None
    assert again.changes[1].after["workflow_id"] == Ref("workflows.triage")


def test_a_float_format_version_is_refused(plan: Plan) -> None:
    with pytest.raises(PlanError, match=r"format_version 1\.0 is not supported"):
        plan_from_json({**plan_to_json(plan), "format_version": 1.0})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["$ref", "$sensitive", "$literal", "a", "b"]), children)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(before=json_values, after=json_values)
def test_any_json_values_round_trip(before: Any, after: Any) -> None:
    change = Change(
        "agents.a",
        "agent",
        "update",
        "agt_1",
        None,
        {"value": before},
        {"value": after},
        fields=(FieldChange("value", before, after),),
    )
    plan = Plan("support", "prod", "lineage", 1, (change,))
    assert plan_from_json(json.loads(render_plan_json(plan))) == plan
