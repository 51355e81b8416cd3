"""Phone numbers are not taken silently: relinking a number that an agent this stack does not
manage holds is refused before any change, naming the number and that agent, unless the user
passes --take-over-numbers. Destroying a link, by destroy or by removing it from the
manifest, leaves the number with no agent and no label."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Bimpe

NUMBER = "+15550100002"


def stack_files(name: str, label: str, link: bool = True) -> dict[str, str]:
    resources = f"""
workflows:
  main: {{name: {name} workflow, system_prompt: Help.}}
agents:
  bot: {{workflow: main, name: {name} bot, description: Answers the phone}}
"""
    if link:
        resources += f'phone_numbers:\n  "{NUMBER}": {{agent: bot, label: {label}}}\n'
    return {
        "stack.yaml": f"name: {name.lower()}\nenvironments:\n  test: {{}}\n",
        "resources.yaml": resources,
    }


def number(bimpe: Bimpe) -> Any:
    return next(n for n in bimpe.sdk.phone_numbers.list(limit=100).data if n.e164 == NUMBER)


def agent_id(bimpe: Bimpe, name: str) -> str:
    return next(a.id for a in bimpe.sdk.agents.list(limit=100).data if a.name == name)


def agent_names(bimpe: Bimpe) -> list[str]:
    return sorted(a.name for a in bimpe.sdk.agents.list(limit=100).data)


def test_a_second_stack_does_not_take_a_number_silently(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    first = make_stack("first", stack_files("First", "First line"))
    assert bimpe("apply", first, "--auto-approve").exit_code == 0
    holder = agent_id(bimpe, "First bot")
    second = make_stack("second", stack_files("Second", "Second line"))

    for command in ("plan", "apply"):
        outcome = bimpe(command, second, *(["--auto-approve"] if command == "apply" else []))
        assert outcome.exit_code == 1, outcome.text
        assert "Traceback" not in outcome.text
        assert (
            f"phone_numbers.\"{NUMBER}\": {NUMBER} is linked to the agent 'First bot'"
            f" ({holder}), which the state of this stack does not manage:"
            " pass --take-over-numbers to link it here"
        ) in outcome.stderr
    linked = number(bimpe)
    assert (linked.agent_id, linked.label) == (holder, "First line")
    assert agent_names(bimpe) == ["First bot"]

    taken = bimpe("apply", second, "--auto-approve", "--take-over-numbers")

    assert taken.exit_code == 0, taken.text
    linked = number(bimpe)
    assert (linked.agent_id, linked.label) == (agent_id(bimpe, "Second bot"), "Second line")
    # Once this stack holds it, its next plan needs no choice.
    assert bimpe("plan", second, "--detailed-exitcode").exit_code == 0

    destroyed = bimpe("destroy", second, "--auto-approve")

    assert destroyed.exit_code == 0, destroyed.text
    linked = number(bimpe)
    assert (linked.agent_id, linked.label) == (None, None)


def test_removing_a_link_clears_its_agent_and_label(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    stack = make_stack("one", stack_files("One", "Main line"))
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    assert number(bimpe).label == "Main line"
    (stack / "resources.yaml").write_text(stack_files("One", "", link=False)["resources.yaml"])

    applied = bimpe("apply", stack, "--auto-approve")

    assert applied.exit_code == 0, applied.text
    linked = number(bimpe)
    assert (linked.agent_id, linked.label) == (None, None)
    assert agent_names(bimpe) == ["One bot"]


def test_an_idle_number_is_linked_without_a_choice(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    stack = make_stack("idle", stack_files("Idle", "Idle line"))

    applied = bimpe("apply", stack, "--auto-approve")

    assert applied.exit_code == 0, applied.text
    assert number(bimpe).agent_id == agent_id(bimpe, "Idle bot")
