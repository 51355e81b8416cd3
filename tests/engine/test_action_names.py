"""Action names are checked before any change: a name the agent does not have fails the plan,
located at the name, with the nearest known names, and apply changes nothing. For an agent
that exists, its own action list is the truth; for a new one, the actions the team's agents
have (every agent gets the platform's built-in actions when it is created)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Bimpe

STACK = """
name: actions
environments:
  test: {}
"""

AGENT = """
  {key}:
    workflow: main
    name: {name}
    description: Answers questions
    actions: [{actions}]
"""

WORKFLOW = """
workflows:
  main:
    name: Actions workflow
    system_prompt: Help.
agents:
"""


def resources(*agents: tuple[str, str, str]) -> str:
    return WORKFLOW + "".join(
        AGENT.format(key=key, name=name, actions=actions) for key, name, actions in agents
    )


def located(stack: Path, text: str) -> str:
    """`resources.yaml:LINE:COLUMN` of the first occurrence of `text` in the stack's file."""
    lines = (stack / "resources.yaml").read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if text in line:
            return f"resources.yaml:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in the file")


def agent_names(bimpe: Bimpe) -> list[str]:
    return sorted(agent.name for agent in bimpe.sdk.agents.list(limit=100).data)


def enabled(bimpe: Bimpe, name: str) -> set[str]:
    agent = next(a for a in bimpe.sdk.agents.list(limit=100).data if a.name == name)
    return {a.action_name for a in bimpe.sdk.agents.actions.list(agent.id) if a.is_enabled}


def test_unknown_action_of_an_existing_agent_fails_the_plan_at_the_name(
    bimpe: Bimpe,
    make_stack: Callable[[str, dict[str, str]], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = make_stack(
        "existing",
        {"stack.yaml": STACK, "resources.yaml": resources(("bot", "Bot", "send_email"))},
    )
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    (stack / "resources.yaml").write_text(
        resources(("bot", "Bot renamed", "escalate_to_human, send_emial"))
    )
    monkeypatch.chdir(stack)

    for command in (("plan", "."), ("apply", ".", "--auto-approve")):
        outcome = bimpe(*command)
        assert outcome.exit_code == 1, outcome.text
        assert "Traceback" not in outcome.text
        where = located(stack, "send_emial")
        assert (
            f"{where}: agents.bot.actions[1]: the agent has no action 'send_emial'"
            " (did you mean 'send_email'?)"
        ) in outcome.stderr

    # Nothing was applied: not the rename, not the actions.
    assert agent_names(bimpe) == ["Bot"]
    assert enabled(bimpe, "Bot") == {"send_email"}


def test_unknown_action_of_a_new_agent_fails_before_anything_is_created(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    stack = make_stack(
        "new", {"stack.yaml": STACK, "resources.yaml": resources(("bot", "Bot", "send_email"))}
    )
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    (stack / "resources.yaml").write_text(
        resources(("bot", "Bot", "send_email"), ("second", "Second", "lookup_ordr"))
    )

    outcome = bimpe("apply", stack, "--auto-approve")

    assert outcome.exit_code == 1, outcome.text
    assert "agents.second.actions[0]: no agent of the team has an action 'lookup_ordr'" in (
        outcome.stderr
    )
    assert "(did you mean 'lookup_order'" in outcome.stderr
    assert agent_names(bimpe) == ["Bot"]


def test_a_new_stack_is_checked_against_the_agents_of_the_team(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    """No agent of this stack exists yet: the names come from an agent the team already has."""
    workflow = bimpe.sdk.workflows.create(name="By hand", system_prompt="Help.")
    bimpe.sdk.agents.create(workflow_id=workflow.id, name="Console agent", description="d")
    stack = make_stack(
        "fresh",
        {"stack.yaml": STACK, "resources.yaml": resources(("bot", "Bot", "cancel_apointment"))},
    )

    outcome = bimpe("plan", stack)

    assert outcome.exit_code == 1, outcome.text
    assert "'cancel_apointment' (did you mean 'cancel_appointment'" in outcome.stderr
    assert agent_names(bimpe) == ["Console agent"]

    (stack / "resources.yaml").write_text(resources(("bot", "Bot", "cancel_appointment")))
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    assert enabled(bimpe, "Bot") == {"cancel_appointment"}


def test_valid_names_on_an_empty_team_apply(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    """With no agent to learn the names from, the plan cannot know them: it does not guess."""
    stack = make_stack(
        "empty",
        {
            "stack.yaml": STACK,
            "resources.yaml": resources(
                ("bot", "Bot", "send_email, verify_payment"), ("two", "Two", "lookup_row")
            ),
        },
    )

    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    assert enabled(bimpe, "Bot") == {"send_email", "verify_payment"}
    assert enabled(bimpe, "Two") == {"lookup_row"}
