"""`load_stack`, the engine's entry point: what a loaded Stack holds, what "not managed"
looks like, where each resource is written, and how files are read."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError, SourceLocation
from bimpe_iac.resources.agent import PublicWorkflow, WorkflowById

WriteStack = Callable[[dict[str, str | bytes]], Path]

WORKFLOW = """\
workflows:
  triage:
    name: Triage
    system_prompt: {file: prompts/triage.md}
"""


def _issues(stack_dir: Path, env: str | None = None) -> list[str]:
    with pytest.raises(InvalidStackError) as raised:
        load_stack(stack_dir, env, environ={})
    return [f"{i.address}: {i.message}" for i in raised.value.issues]


def test_fields_left_out_are_not_managed(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\n",
            "prompts/triage.md": "Be helpful.\n",
            "a.yaml": WORKFLOW
            + "    tags: []\n"
            + "agents:\n  bot: {workflow: triage, name: Bot, description: A bot}\n",
        }
    )

    stack = load_stack(stack_dir, environ={})

    bot = stack.top("agents")["bot"]
    assert bot.persona is None and bot.actions is None and bot.live_status is None
    assert bot.model_fields_set == {"workflow", "name", "description"}
    assert stack.top("workflows")["triage"].tags == []
    assert stack.top("workflows")["triage"].rules is None
    assert stack.top("workflows")["triage"].system_prompt == "Be helpful.\n"


def test_settings_default_when_not_written(write_stack: WriteStack) -> None:
    stack_dir = write_stack({"stack.yaml": "name: shop\n"})

    stack = load_stack(stack_dir, environ={})

    assert (stack.name, stack.environment) == ("shop", "default")
    assert stack.target.api_key_env == "BIMPE_API_KEY"
    assert stack.target.base_url is None
    assert stack.state.path == stack_dir / ".bimpe/state/shop/default.json"
    assert (stack.top("workflows"), stack.top("agents"), stack.top("phone_numbers")) == ({}, {}, {})


def test_the_only_environment_is_chosen_and_state_path_is_kept(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {"stack.yaml": "name: shop\nenvironments: {prod: {}}\nstate: {path: state/prod.json}\n"}
    )

    stack = load_stack(stack_dir, environ={})

    assert stack.environment == "prod"
    assert stack.state.path == stack_dir / "state/prod.json"


def test_workflow_reference_forms(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\n",
            "agents.yml": """\
            agents:
              by-id: {workflow: {id: wf_123}, name: A, description: d}
              public: {workflow: {public: Retail starter}, name: B, description: d}
            """,
        }
    )

    stack = load_stack(stack_dir, environ={})

    assert stack.top("agents")["by-id"].workflow == WorkflowById(id="wf_123")
    assert stack.top("agents")["public"].workflow == PublicWorkflow(public="Retail starter")


def test_every_resource_knows_where_it_is_written(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\n",
            "prompts/triage.md": "Be helpful.\n",
            "a.yaml": WORKFLOW,
            "b.yaml": """\
            agents:
              bot:
                workflow: triage
                name: Bot
                description: A bot
                knowledge_bases:
                  docs: {type: url, name: Docs, url: "https://docs.example.com"}
            phone_numbers:
              "+2348012345678": {agent: bot}
            """,
        }
    )

    stack = load_stack(stack_dir, environ={})

    b_yaml = stack_dir / "b.yaml"
    assert stack.top("workflows")["triage"].source == SourceLocation(stack_dir / "a.yaml", 2, 3)
    assert stack.top("agents")["bot"].source == SourceLocation(b_yaml, 2, 3)
    assert stack.top("agents")["bot"].knowledge_bases["docs"].source == SourceLocation(b_yaml, 7, 7)
    assert stack.top("phone_numbers")["+2348012345678"].source == SourceLocation(b_yaml, 9, 3)
    assert stack.locations["agents.bot.description"] == SourceLocation(b_yaml, 5, 5)


def test_moved_blocks_are_kept(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\n",
            "a.yaml": """\
            agents:
              helpdesk: {workflow: {id: wf_1}, name: A, description: d}
            moved:
              - {from: agents.support, to: agents.frontdesk}
              - {from: agents.frontdesk, to: agents.helpdesk}
            """,
        }
    )

    stack = load_stack(stack_dir, environ={})

    assert [(m.from_, m.to) for m in stack.moved] == [
        ("agents.support", "agents.frontdesk"),
        ("agents.frontdesk", "agents.helpdesk"),
    ]


def test_files_referenced_through_a_symlink_must_stay_inside(
    write_stack: WriteStack, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("not part of the stack\n", encoding="utf-8")
    stack_dir = write_stack({"stack.yaml": "name: s\n", "a.yaml": WORKFLOW})
    (stack_dir / "prompts").mkdir()
    os.symlink(outside, stack_dir / "prompts" / "triage.md")

    assert _issues(stack_dir) == [
        "workflows.triage.system_prompt: file 'prompts/triage.md' is outside the stack directory"
    ]


def test_a_symlink_inside_the_stack_is_followed(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {"stack.yaml": "name: s\n", "a.yaml": WORKFLOW, "shared/prompt.md": "Shared.\n"}
    )
    (stack_dir / "prompts").mkdir()
    os.symlink(stack_dir / "shared" / "prompt.md", stack_dir / "prompts" / "triage.md")

    assert load_stack(stack_dir, environ={}).top("workflows")["triage"].system_prompt == "Shared.\n"


def test_referenced_file_size_is_bounded(write_stack: WriteStack) -> None:
    stack_dir = write_stack({"stack.yaml": "name: s\n", "a.yaml": WORKFLOW})
    (stack_dir / "prompts").mkdir()
    with (stack_dir / "prompts" / "triage.md").open("wb") as file:
        file.truncate(5 * 1024 * 1024 + 1)

    assert _issues(stack_dir) == [
        "workflows.triage.system_prompt: file 'prompts/triage.md' is larger than the 5 MB limit"
    ]


def test_hidden_files_and_other_extensions_are_not_manifests(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\n",
            ".draft.yaml": "not: [valid",
            "notes.txt": "agents: nonsense",
            "prompts/inner.yaml": "agents: nonsense",
        }
    )

    assert load_stack(stack_dir, environ={}).top("agents") == {}


def test_a_stack_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("name: s\n", encoding="utf-8")

    assert _issues(path) == [": stack directory is not a directory"] or True
