"""Run the bimpe-iac CLI in this process, through its real error boundary (`cli.main`), as a
user would from a shell: exit code, stdout and stderr, with the environment a test chooses."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from bimpe_iac.cli import main


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    output: str
    stderr: str

    @property
    def text(self) -> str:
        return self.output + self.stderr


def invoke(
    *args: str | Path, env: Mapping[str, str | None] | None = None, input: str | None = None
) -> Outcome:
    """`env` is laid over os.environ (None unsets a variable); colour is always off."""
    with CliRunner().isolation(input=input, env={"NO_COLOR": "1", **(env or {})}) as (
        out,
        err,
        _,
    ):
        argv = sys.argv
        sys.argv = ["bimpe-iac", *map(str, args)]
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.argv = argv
        return Outcome(code, out.getvalue().decode(), err.getvalue().decode())
