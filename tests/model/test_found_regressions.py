"""Defects the model-based test (test_reconciler_model.py) found outside the ones the issue
lists, each as the smallest run that shows it, against the emulator over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke

from bimpe_iac.emulator.server import RunningEmulator


@dataclass
class Cli:
    running: RunningEmulator
    sdk: BimpeAI

    def __call__(self, *args: str | Path) -> Outcome:
        key = self.running.emulator.api_key
        return invoke(*args, env={"BIMPE_API_KEY": key, "BIMPE_BASE_URL": self.running.url})

    def stack(self, root: Path, resources: str) -> Path:
        root.mkdir()
        (root / "stack.yaml").write_text(
            "name: found\nenvironments:\n  test:\n"
            f"    target: {{base_url: '{self.running.url}', api_key_env: BIMPE_API_KEY}}\n"
        )
        (root / "resources.yaml").write_text(resources)
        return root

    def knowledge_bases(self) -> set[tuple[str, str]]:
        return {
            (agent.name, kb.name)
            for agent in self.sdk.agents.list(limit=100).data
            for kb in self.sdk.agents.knowledge_bases.list(agent.id)
        }


@pytest.fixture
def cli(start_emulator: Callable[..., RunningEmulator]) -> Iterator[Cli]:
    running = start_emulator()
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        yield Cli(running, sdk)


AGENT_WITH_TWO_KBS = """
workflows:
  w1: {name: Flow, system_prompt: Help.}
agents:
  a1:
    workflow: w1
    name: Agent
    description: Has two knowledge bases
    knowledge_bases:
      k1: {type: text, name: Notes one, content: One.}
      k2: {type: text, name: Notes two, content: Two.}
"""


def test_apply_target_of_a_knowledge_base_leaves_its_siblings_alone(
    cli: Cli, tmp_path: Path
) -> None:
    """Found as: start with an agent and a knowledge base, add a second knowledge base, then
    `apply --target agents.a1.knowledge_bases.k1`: the second one was created too, though k1
    needs only its agent and workflow."""
    stack = cli.stack(tmp_path / "stack", AGENT_WITH_TWO_KBS)
    applied = cli("apply", stack, "--target", "agents.a1.knowledge_bases.k1", "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert cli.knowledge_bases() == {("Agent", "Notes one")}


def test_destroy_honours_prevent_destroy_added_to_the_manifest(cli: Cli, tmp_path: Path) -> None:
    """Found as: apply, add `lifecycle: {prevent_destroy: true}` to an agent, then
    `destroy --auto-approve`: the agent was destroyed, exit 0."""
    stack = cli.stack(tmp_path / "stack", AGENT_WITH_TWO_KBS)
    assert cli("apply", stack, "--auto-approve").exit_code == 0
    manifest = stack / "resources.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    name: Agent\n", "    name: Agent\n    lifecycle: {prevent_destroy: true}\n"
        )
    )
    refused = cli("destroy", stack, "--auto-approve")
    assert refused.exit_code == 1, refused.text
    assert "prevent_destroy" in refused.stderr
    assert [a.name for a in cli.sdk.agents.list().data] == ["Agent"]
    assert len(cli.knowledge_bases()) == 2


AGENT_WITH_NO_ACTIONS = """
workflows:
  w1: {name: Flow, system_prompt: Help.}
agents:
  a1:
    workflow: w1
    name: Agent
    description: Enables no action
    actions: []
"""

A_CUSTOM_API_WITH_ONE_TOOL = """
    custom_apis:
      c1:
        name: Items API
        base_url: https://items.example/api
        tools:
          t1:
            name: Get item
            http_method: GET
            url_template: /items/{item_id}
            url_params:
              - {name: item_id, type: string, description: The item, required: true}
"""


def enabled_actions(cli: Cli) -> set[str]:
    (agent,) = cli.sdk.agents.list().data
    return {a.action_name for a in cli.sdk.agents.actions.list(agent.id) if a.is_enabled}


@pytest.mark.parametrize("target", [[], ["--target", "agents.a1"]], ids=["full", "targeted"])
def test_a_new_tool_leaves_its_action_off_when_actions_do_not_enable_it(
    cli: Cli, tmp_path: Path, target: list[str]
) -> None:
    """Found as: apply an agent with `actions: []`, add a custom API with one tool to it, then
    `apply` (or `apply --target agents.a1`): the tool's action `get_item` was enabled, though
    the agent's `actions:` (which decides which actions are on) enables none."""
    stack = cli.stack(tmp_path / "stack", AGENT_WITH_NO_ACTIONS)
    assert cli("apply", stack, "--auto-approve").exit_code == 0
    manifest = stack / "resources.yaml"
    manifest.write_text(manifest.read_text() + A_CUSTOM_API_WITH_ONE_TOOL)
    applied = cli("apply", stack, *target, "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert enabled_actions(cli) == set()
    replanned = cli("plan", stack, "--detailed-exitcode")
    assert replanned.exit_code == 0, replanned.text


INSTANCES_NEVER_APPLIED = """
workflows:
  w1: {name: Flow, system_prompt: Help.}
agents:
  regional:
    for_each: [ng, gh]
    workflow: w1
    name: Desk ${each.key}
    description: Serves ${each.key}
"""


def test_destroy_target_of_instances_never_applied_says_nothing_is_managed(
    cli: Cli, tmp_path: Path
) -> None:
    """Found as: declare a `for_each` agent (or use a module), then, before any apply,
    `destroy --target agents.regional` (or `module.kora`): the error said there is no such
    resource in the manifest, though the manifests declare it."""
    stack = cli.stack(tmp_path / "stack", INSTANCES_NEVER_APPLIED)
    refused = cli("destroy", stack, "--target", "agents.regional", "--auto-approve")
    assert refused.exit_code == 1, refused.text
    assert "--target agents.regional: the state manages nothing there" in refused.stderr
    assert cli.sdk.agents.list().data == []
