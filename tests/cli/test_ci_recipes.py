"""The CI recipes and pre-commit hooks: valid YAML, and every `bimpe-iac` invocation in them
names a real command and only options that command has."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bimpe_iac.cli import cli

ROOT = Path(__file__).parents[2]
RECIPES = [ROOT / "examples/ci/github-actions.yml", ROOT / "examples/ci/gitlab-ci.yml"]


def _scripts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "entry", "before_script") and isinstance(value, str):
                yield value
            elif key in ("script", "before_script") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, str))
            else:
                yield from _scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scripts(item)


def _invocations(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        # The marker comment "<!-- bimpe-iac plan -->" is text, not a command.
        for match in re.finditer(r"(?<!<!-- )bimpe-iac\s+([^|;&>)]*)", line):
            words = shlex.split(match.group(1).replace("$", "X"), comments=True)
            if words:
                yield words


def _check(words: list[str]) -> None:
    command: click.Command = cli
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name = words.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"no command {name!r} under {command.name!r}"
        command = found
    assert not isinstance(command, click.Group), f"{command.name} needs a subcommand"
    options = {opt for param in command.params for opt in param.opts}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{command.name} has no option {word}"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_uses_real_commands_and_flags(recipe: Path) -> None:
    document = yaml.safe_load(recipe.read_text())
    invocations = [w for script in _scripts(document) for w in _invocations(script)]
    commands = {w[0] for w in invocations}
    assert {"plan", "apply", "drift"} <= commands
    for words in invocations:
        _check(list(words))


def test_pre_commit_hook_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    entries = {hook["id"]: hook["entry"] for hook in hooks}
    assert entries["bimpe-iac-validate"] == "bimpe-iac validate"
    _check(["validate", "--env"])


def test_checker_catches_a_made_up_flag() -> None:
    with pytest.raises(AssertionError):
        _check(["plan", "--no-such-flag"])


def _readme_commands() -> tuple[str, str]:
    """The README's main command and its test command, as a newcomer copies them."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()]
    main = next(line for line in lines if line.startswith("python3 -m venv") and "apply" in line)
    tests = next(line for line in lines if line.startswith("python3 -m venv") and "pytest" in line)
    return main, tests


def test_ci_runs_the_readme_main_command_then_its_test_command() -> None:
    """Finding 6: the two commands are proven in the order a newcomer types them."""
    main, tests = _readme_commands()
    assert "bimpe-iac apply examples/stacks/support --auto-approve" in main
    steps = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert main in steps and tests in steps
    assert steps.index(main) < steps.index(tests)
