"""CLI conventions: --version, --help with examples on every command, --quiet, --no-input
and shell completion scripts."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from bimpe_iac import __version__
from bimpe_iac.cli import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"bimpe-iac, version {__version__}"


@pytest.mark.parametrize("path", _commands(cli), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


@pytest.mark.parametrize(
    "name", ["validate", "plan", "apply", "destroy", "drift", "smoke", "export", "clone"]
)
def test_main_commands_show_examples(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert "Example" in result.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_BIMPE_IAC_COMPLETE" in result.output
