"""Fixtures for end-to-end runs of the CLI against a private emulator over loopback HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from click.testing import CliRunner

from bimpe_iac.cli import main
from bimpe_iac.emulator.server import RunningEmulator

EXAMPLES = Path(__file__).parents[2] / "examples" / "stacks"


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    stderr: str


@dataclass
class Bimpe:
    """The CLI, run in-process with the emulator's key and URL in its environment."""

    running: RunningEmulator
    sdk: BimpeAI

    @property
    def environ(self) -> dict[str, str | None]:
        return {
            "BIMPE_API_KEY": self.running.emulator.api_key,
            "BIMPE_BASE_URL": self.running.url,
            "NO_COLOR": "1",
        }

    def __call__(self, *args: str | Path, input: str | None = None) -> Outcome:
        runner = CliRunner()
        with runner.isolation(input=input, env=self.environ) as (out, err, _):
            code = 0
            import sys

            argv = sys.argv
            sys.argv = ["bimpe-iac", *map(str, args)]
            try:
                main()
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            finally:
                sys.argv = argv
            return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def bimpe(start_emulator: Callable[..., RunningEmulator]) -> Iterator[Bimpe]:
    running = start_emulator()
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        yield Bimpe(running, sdk)


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], Path]:
    """A copy of an example stack in a temporary directory (its state lands there too)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(EXAMPLES / name, target)
        return target

    return copy
