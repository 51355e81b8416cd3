"""A var marked sensitive never shows its value: not in validate's text or JSON output,
not in an error's message, and `Stack.mask` hides it in anything the engine prints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError

WriteStack = Callable[[dict[str, str | bytes]], Path]
SECRET = "desk-4471@bimpe"

STACK = f"""\
name: s
vars:
  escalation: {{value: {SECRET}, sensitive: true}}
  support_name: Support
environments:
  prod:
    vars:
      escalation: {SECRET}
"""
RESOURCES = """\
workflows:
  triage: {name: "Triage ${var.escalation}", system_prompt: You answer questions.}
agents:
  bot:
    workflow: triage
    name: ${var.support_name}
    description: Reaches ${var.escalation} when stuck
    escalation_email: ${var.escalation}
    persona: ${var.escalation}
"""


@pytest.fixture
def stack_dir(write_stack: WriteStack) -> Path:
    return write_stack({"stack.yaml": STACK, "resources.yaml": RESOURCES})


def test_text_output_masks_the_value(
    stack_dir: Path, run_validate: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stack_dir)

    result = run_validate(".", "--env", "prod")

    assert result.exit_code == 1
    assert SECRET not in result.output
    assert result.output == (
        "resources.yaml:8:23: agents.bot.escalation_email:"
        " '(sensitive)' is not a valid email address\n"
        "resources.yaml:9:14: agents.bot.persona:"
        " '(sensitive)' is not one of professional, friendly, concise\n"
        "2 errors in stack .\n"
    )


def test_json_output_masks_the_value(
    stack_dir: Path, run_validate: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(stack_dir)

    result = run_validate(".", "--env", "prod", "--format", "json")

    assert SECRET not in result.output
    messages = [error["message"] for error in json.loads(result.output)["errors"]]
    assert messages[0] == "'(sensitive)' is not a valid email address"


def test_error_raised_by_the_api_is_masked(stack_dir: Path) -> None:
    with pytest.raises(InvalidStackError) as raised:
        load_stack(stack_dir, "prod")

    assert SECRET not in str(raised.value)


def test_stack_masks_any_text(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": STACK.replace("@bimpe", "@bimpe.example"),
            "resources.yaml": RESOURCES.replace("    persona: ${var.escalation}\n", ""),
        }
    )
    secret = SECRET.replace("@bimpe", "@bimpe.example")

    stack = load_stack(stack_dir, "prod")

    assert stack.sensitive_values == {secret}
    assert stack.top("agents")["bot"].escalation_email == secret
    description = stack.top("agents")["bot"].description
    assert stack.mask(description) == "Reaches (sensitive) when stuck"
    assert stack.mask("no secret here") == "no secret here"
