"""The JSON Schemas editors use are generated from the models, kept up to date, accept
the examples, and cover every field of the SDK's request bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest
import yaml
from bimpeai.types.agents import (
    CreateAgentBody,
    CreateKnowledgeBaseTextBody,
    CreateKnowledgeBaseUrlBody,
    RuleInput,
    UpdateLiveStatusBody,
)
from bimpeai.types.workflows import (
    CreateWorkflowBody,
    FlowInput,
    FlowStepInput,
    FlowTriggerKeywordInput,
    WorkflowFaqInput,
    WorkflowGuideInput,
)
from pydantic import BaseModel

from bimpe_iac import schemas as schema_export
from bimpe_iac.resources import agent, knowledge_base, workflow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "stacks"


def test_committed_schemas_are_up_to_date() -> None:
    stale = schema_export.stale(REPO / "schemas")

    assert stale == [], "run: python -m bimpe_iac.schemas"


def test_stale_schema_is_detected(tmp_path: Path) -> None:
    schema_export.write(tmp_path)
    (tmp_path / "resources.schema.json").write_text("{}\n", encoding="utf-8")

    assert schema_export.stale(tmp_path) == [tmp_path / "resources.schema.json"]


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / "schemas" / name).read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    "manifest",
    sorted(EXAMPLES.parent.glob("*/*/*.yaml")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_examples_match_the_schema_editors_use(manifest: Path) -> None:
    text = manifest.read_text(encoding="utf-8")
    schema_name = {"stack.yaml": "stack.schema.json", "module.yaml": "module.schema.json"}.get(
        manifest.name, "resources.schema.json"
    )

    assert text.startswith(f"# yaml-language-server: $schema=../../../schemas/{schema_name}\n")
    errors = list(
        jsonschema.Draft202012Validator(_schema(schema_name)).iter_errors(yaml.safe_load(text))
    )
    assert errors == []


def test_schema_flags_an_unknown_field() -> None:
    manifest = {
        "agents": {"bot": {"workflow": "w", "name": "Bot", "description": "d", "descripton": "x"}}
    }

    validator = jsonschema.Draft202012Validator(_schema("resources.schema.json"))

    assert not validator.is_valid(manifest)


def test_schema_takes_for_each_enabled_and_environments_as_editors_see_them() -> None:
    with_instances = {
        "agents": {
            "regional": {
                "for_each": "${var.regions}",
                "workflow": 'triage["${each.key}"]',
                "name": "Desk ${each.key}",
                "description": "d",
                "persona": "${each.value.persona}",
                "environments": ["prod"],
                "knowledge_bases": {
                    "faq": {"type": "text", "name": "FAQ", "content": "c", "enabled": False}
                },
            }
        },
        "phone_numbers": {"+2348012345678": {"agent": 'regional["ng"]', "enabled": True}},
    }
    numbered = {"phone_numbers": {"+2348012345678": {"agent": "a", "for_each": ["x"]}}}

    validator = jsonschema.Draft202012Validator(_schema("resources.schema.json"))

    assert list(validator.iter_errors(with_instances)) == []
    assert not validator.is_valid(numbered)


def _fields(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


@pytest.mark.parametrize(
    ("body", "model", "renamed"),
    [
        (CreateAgentBody, agent.AgentSpec, {"workflow_id": "workflow"}),
        (
            UpdateLiveStatusBody,
            agent.AgentSpec,
            {"status": "live_status", "status_reason": "live_status_reason"},
        ),
        (CreateWorkflowBody, workflow.WorkflowSpec, {}),
        (RuleInput, workflow.RuleSpec, {}),
        (FlowInput, workflow.FlowSpec, {}),
        (FlowStepInput, workflow.FlowStepSpec, {}),
        (FlowTriggerKeywordInput, workflow.TriggerKeywordSpec, {}),
        (WorkflowGuideInput, workflow.GuideSpec, {}),
        (WorkflowFaqInput, workflow.FaqSpec, {}),
        (CreateKnowledgeBaseTextBody, knowledge_base.TextKnowledgeBaseSpec, {}),
        (CreateKnowledgeBaseUrlBody, knowledge_base.UrlKnowledgeBaseSpec, {}),
    ],
)
def test_every_sdk_body_field_can_be_written(
    body: type, model: type[BaseModel], renamed: dict[str, str]
) -> None:
    wanted = {renamed.get(name, name) for name in body.__annotations__}

    assert wanted <= _fields(model)


@pytest.mark.parametrize(
    ("lifecycle", "model", "not_fields"),
    [
        (workflow.WorkflowField, workflow.WorkflowSpec, {"lifecycle"}),
        (agent.AgentField, agent.AgentSpec, {"lifecycle", "unmanaged_actions"}),
        (
            knowledge_base.TextKnowledgeBaseField,
            knowledge_base.TextKnowledgeBaseSpec,
            {"lifecycle", "type"},
        ),
        (
            knowledge_base.UrlKnowledgeBaseField,
            knowledge_base.UrlKnowledgeBaseSpec,
            {"lifecycle", "type"},
        ),
    ],
)
def test_ignore_changes_names_exactly_the_resource_fields(
    lifecycle: Any, model: type[BaseModel], not_fields: set[str]
) -> None:
    assert set(get_args(lifecycle)) == _fields(model) - not_fields
