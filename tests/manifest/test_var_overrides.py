"""Vars given on the command line: var files then `--var`, over stack.yaml's vars and the
environment's; undeclared names and bad var files are located errors; a sensitive var stays
sensitive when overridden; a value given so is never read as a template; an error about a
value made with one says where it was given."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from loading import load_stack

from bimpe_iac.manifest import VarOverrides

WriteStack = Callable[[dict[str, str | bytes]], Path]
SECRET = "desk-4471@bimpe"

STACK = f"""\
name: s
vars:
  brand: Stack
  suffix: ""
  priority: 1
  token: {{value: {SECRET}, sensitive: true}}
  greeting: Welcome to ${{var.brand}}
environments:
  prod:
    vars:
      brand: Env
"""
RESOURCES = """\
workflows:
  triage:
    name: ${var.brand}${var.suffix}
    system_prompt: "${var.greeting}, token ${var.token}"
    flows: [{name: Orders, priority: "${var.priority}"}]
"""


@pytest.fixture
def stack_dir(write_stack: WriteStack) -> Path:
    return write_stack({"stack.yaml": STACK, "resources.yaml": RESOURCES})


def _workflow(stack_dir: Path, overrides: VarOverrides) -> tuple[str, str, int]:
    stack = load_stack(stack_dir, "prod", overrides=overrides)
    workflow = stack.top("workflows")["triage"]
    return workflow.name, stack.mask(workflow.system_prompt), workflow.flows[0].priority


def test_without_overrides_the_environment_wins_over_the_stack(stack_dir: Path) -> None:
    assert _workflow(stack_dir, VarOverrides()) == (
        "Env",
        "Welcome to Env, token (sensitive)",
        1,
    )


def test_var_files_in_order_then_vars_in_order(stack_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "first.yaml"
    first.write_text("brand: First\nsuffix: ' (1)'\npriority: 3\n")
    second = tmp_path / "second.yaml"
    second.write_text("brand: Second\n")
    overrides = VarOverrides(
        assignments=(("brand", "Flag"), ("brand", "Last flag")), files=(first, second)
    )

    name, prompt, priority = _workflow(stack_dir, overrides)

    assert name == "Last flag (1)"
    assert prompt == "Welcome to Last flag, token (sensitive)"  # vars using it follow it
    assert priority == 3  # a var file keeps numbers


def test_a_var_file_alone_wins_over_the_environment(stack_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "prod.yaml"
    file.write_text("brand: File\n")

    assert _workflow(stack_dir, VarOverrides(files=(file,)))[0] == "File"


def test_a_command_line_value_is_not_a_template(stack_dir: Path) -> None:
    overrides = VarOverrides(assignments=(("brand", "Kora ${var.suffix} $${"),))

    assert _workflow(stack_dir, overrides)[0] == "Kora ${var.suffix} $${"


def test_a_sensitive_var_stays_sensitive_when_overridden(stack_dir: Path) -> None:
    stack = load_stack(stack_dir, "prod", overrides=VarOverrides((("token", "rotated-91"),)))

    prompt = stack.top("workflows")["triage"].system_prompt
    assert "rotated-91" in prompt
    assert stack.mask(prompt) == "Welcome to Env, token (sensitive)"
    assert stack.mask(f"old {SECRET}") == "old (sensitive)"  # the replaced value too


def test_an_undeclared_var_is_an_error_naming_it(
    stack_dir: Path, run_validate: Callable[..., Result]
) -> None:
    result = run_validate(str(stack_dir), "--env", "prod", "--var", "brnad=Kora")

    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "--var brnad: undeclared var 'brnad' (did you mean 'brand'?): declare it in the vars:"
        " of stack.yaml to give it a value"
    )


def test_errors_in_a_var_file_are_located(
    stack_dir: Path,
    tmp_path: Path,
    run_validate: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text("brand: [a, b]\nprioriti: 2\n")
    Path("broken.yaml").write_text("brand: 'open\n")
    Path("list.yaml").write_text("- brand\n")

    result = run_validate(
        str(stack_dir),
        *("--env", "prod", "--var-file", "bad.yaml", "--var-file", "broken.yaml"),
        *("--var-file", "list.yaml", "--var-file", "missing.yaml"),
    )

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "bad.yaml:1:8: var 'brand': expected a string, number or boolean, got a list"
    assert lines[1].startswith("bad.yaml:2:1: undeclared var 'prioriti' (did you mean 'priority'?)")
    assert lines[2].startswith("broken.yaml:2:1: invalid YAML")
    assert lines[3] == (
        "list.yaml:1:1: a var file is a mapping of var names to values, as in 'brand: Kora'"
    )
    assert lines[4] == "missing.yaml: file does not exist"
    assert lines[5] == "5 errors in stack stack"


def test_a_bad_value_from_a_sensitive_override_is_masked_in_errors(
    write_stack: WriteStack, run_validate: Callable[..., Result]
) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\nvars:\n  mail: {value: a@b.example, sensitive: true}\n",
            "resources.yaml": MAILED_AGENT,
        }
    )

    result = run_validate(str(stack_dir), "--var", "mail=not-an-email-77", "--format", "json")

    assert result.exit_code == 1
    assert "not-an-email-77" not in result.output
    errors = json.loads(result.output)["errors"]
    assert "'(sensitive)' is not a valid email address (var.mail is set by --var mail)" in [
        e["message"] for e in errors
    ]


MAILED_AGENT = """\
workflows:
  triage: {name: Triage, system_prompt: You answer.}
agents:
  bot: {workflow: triage, name: Bot, description: Helps, escalation_email: "${var.mail}"}
"""


def test_malformed_var_flags_are_usage_errors(
    stack_dir: Path, run_validate: Callable[..., Result]
) -> None:
    no_equals = run_validate(str(stack_dir), "--var", "sk_live_51abc")
    bad_name = run_validate(str(stack_dir), "--var", "my-brand=Kora")

    assert no_equals.exit_code == bad_name.exit_code == 2
    assert "expected NAME=VALUE" in no_equals.output
    assert "sk_live_51abc" not in no_equals.output  # perhaps a value meant for a var
    assert "'my-brand' is not a var name" in bad_name.output


def test_an_error_about_a_value_from_the_command_line_says_where_it_was_given(
    write_stack: WriteStack,
    tmp_path: Path,
    run_validate: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_stack(
        {
            "stack.yaml": "name: s\nvars:\n  mail: a@b.example\n",
            "resources.yaml": MAILED_AGENT,
        }
    )
    monkeypatch.chdir(tmp_path)
    Path("prod.yaml").write_text("# prod\nmail: desk\n")

    from_flag = run_validate("stack", "--var", "mail=nobody")
    from_file = run_validate("stack", "--var-file", "prod.yaml")

    assert from_flag.output.splitlines()[0] == (
        "stack/resources.yaml:4:76: agents.bot.escalation_email: 'nobody' is not a valid email"
        " address (var.mail is set by --var mail)"
    )
    assert from_file.output.splitlines()[0].endswith(
        "'desk' is not a valid email address (var.mail is set by prod.yaml:2:1)"
    )


DESKS = """\
workflows:
  triage: {name: Triage, system_prompt: You answer.}
agents:
  desk:
    for_each: ${var.regions}
    workflow: triage
    name: Desk ${each.key}
    description: Helps
    escalation_email: "${var.mail}"
"""


def test_an_error_in_an_instance_or_its_for_each_says_where_the_var_was_given(
    write_stack: WriteStack,
    tmp_path: Path,
    run_validate: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_stack(
        {
            "stack.yaml": "name: s\nvars:\n  mail: a@b.example\n  regions: [ng]\n",
            "resources.yaml": DESKS,
        }
    )
    monkeypatch.chdir(tmp_path)

    in_body = run_validate("stack", "--var", "mail=nobody")
    in_for_each = run_validate("stack", "--var", "regions=ng")

    assert in_body.output.splitlines()[0] == (
        "stack/resources.yaml:9:23: agents.desk[\"ng\"].escalation_email: 'nobody' is not a"
        " valid email address (var.mail is set by --var mail)"
    )
    assert in_for_each.output.splitlines()[0] == (
        "stack/resources.yaml:5:15: agents.desk.for_each: for_each takes a list of strings or"
        " a mapping, got 'ng' (var.regions is set by --var regions)"
    )
