"""The command that `plan --out` prints, and the environment `apply --plan` takes.

Covers: run from another directory than the stack's, with spaces in the paths, the printed
command (taken exactly, split as a shell splits it) applies the saved plan, and the team then
holds the environment's objects once each; `apply --plan FILE` without --env takes the
environment from the file; an --env that disagrees with the file is refused, naming both, and
nothing is applied.
"""

from __future__ import annotations

import shlex
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bimpeai import BimpeAI

if TYPE_CHECKING:
    from conftest import Bimpe

STAGING_AGENTS = {
    "Kofi, support [staging]": 1,
    "Kemi, sales [staging]": 1,
    "Kora Lagos [staging]": 1,
}


def _agents(sdk: BimpeAI) -> Counter[str]:
    return Counter(agent.name for agent in sdk.agents.list().data)


@pytest.fixture
def stack(example: Callable[[str], Path], tmp_path: Path) -> Path:
    target = tmp_path / "my stacks" / "kora env"
    target.parent.mkdir()
    return Path(shutil.move(example("multi-env"), target))


def _printed_command(output: str) -> list[str]:
    hint = "Apply exactly it with: "
    line = next(line for line in output.splitlines() if hint in line)
    return shlex.split(line.split(hint, 1)[1])


def test_the_printed_apply_command_works_from_where_it_was_printed(
    bimpe: Bimpe, stack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "work dir"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    planned = bimpe(
        "plan", "../my stacks/kora env", "--env", "staging", "--out", "staging plan.json"
    )
    assert planned.exit_code == 0, planned.text

    command = _printed_command(planned.output)
    assert command[0] == "bimpe-iac"
    applied = bimpe(*command[1:])

    assert applied.exit_code == 0, applied.text
    assert "Apply complete!" in applied.output
    assert _agents(bimpe.sdk) == STAGING_AGENTS


def test_apply_plan_takes_the_environment_from_the_file(
    bimpe: Bimpe, stack: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "staging.plan.json"
    assert bimpe("plan", stack, "--env", "staging", "--out", saved).exit_code == 0

    refused = bimpe("apply", stack, "--env", "prod", "--plan", saved)
    assert refused.exit_code == 1, refused.text
    assert "staging" in refused.stderr and "prod" in refused.stderr
    assert "Traceback" not in refused.text
    assert _agents(bimpe.sdk) == {}

    applied = bimpe("apply", stack, "--plan", saved)
    assert applied.exit_code == 0, applied.text
    assert _agents(bimpe.sdk) == STAGING_AGENTS
