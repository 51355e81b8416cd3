"""Helpers for manifest tests: write a stack into a temporary directory, and run
`bimpe-iac validate` in-process the way a user runs it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result


@pytest.fixture
def write_stack(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write files (dedented text, or bytes as they are) into a fresh stack directory."""

    def write(files: dict[str, str | bytes]) -> Path:
        directory = tmp_path / "stack"
        for name, content in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        directory.mkdir(exist_ok=True)
        return directory

    return write


@pytest.fixture
def run_validate() -> Callable[..., Result]:
    from bimpe_iac.cli import cli

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["validate", *args])

    return run
