"""The files bimpe-iac leaves in a stack: who may read them, and where they may be.

Covers: `plan --out`, the state, its backup and the lock file (while held) are mode 0600, and
the directories bimpe-iac creates (`.bimpe/`, `.bimpe/state/...`) mode 0700, also when an
older state file or plan file was world-readable; a `.bimpe/` or `.bimpe/state` that is a
symbolic link leading outside the stack is refused (exit 1, one line) and nothing is written
through it, as is an emulator database (or its directory) linked outside; a state file that
is a symbolic link is refused; a state file above the size cap
is refused with a clear error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cli_runner import invoke

from bimpe_iac.errors import StateError
from bimpe_iac.state.local import MAX_STATE_BYTES, LocalStateStore

if TYPE_CHECKING:
    from conftest import Bimpe

STACK = {
    "stack.yaml": "name: rest\nenvironments:\n  test: {}\n",
    "resources.yaml": (
        "workflows:\n  main: {name: Main, system_prompt: Be kind.}\n"
        "agents:\n  bot: {workflow: main, name: Bot, description: Helps.}\n"
    ),
}


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def state_file(stack: Path) -> Path:
    return stack / ".bimpe" / "state" / "rest" / "test.json"


def agents_named(bimpe: Bimpe, name: str) -> int:
    return sum(1 for agent in bimpe.sdk.agents.list().data if agent.name == name)


@pytest.fixture
def stack(make_stack: Callable[[str, dict[str, str]], Path]) -> Path:
    return make_stack("rest", STACK)


def test_plan_file_state_backup_and_directories_are_private(bimpe: Bimpe, stack: Path) -> None:
    plan_file = stack / "plan.json"
    plan_file.write_text("an older plan, world-readable\n")
    plan_file.chmod(0o644)

    assert bimpe("plan", stack, "--out", plan_file).exit_code == 0
    assert mode(plan_file) == 0o600
    assert bimpe("apply", stack, "--plan", plan_file).exit_code == 0

    state = state_file(stack)
    for directory in (stack / ".bimpe", stack / ".bimpe" / "state", state.parent):
        assert mode(directory) == 0o700, directory
    assert mode(state) == 0o600
    state.chmod(0o644)  # as an older bimpe-iac or a hand edit may have left it
    (stack / "resources.yaml").write_text(
        STACK["resources.yaml"].replace("name: Bot,", "name: Bot 2,")
    )

    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    backup = state.with_name(state.name + ".backup")
    assert mode(state) == 0o600 and mode(backup) == 0o600


def test_the_lock_file_is_private_while_held(tmp_path: Path) -> None:
    store = LocalStateStore(tmp_path / ".bimpe" / "state" / "s" / "e.json")

    with store.lock("apply"):
        lock = tmp_path / ".bimpe" / "state" / "s" / "e.json.lock"
        assert mode(lock) == 0o600
        assert mode(tmp_path / ".bimpe") == 0o700


@pytest.mark.parametrize("linked", [".bimpe", ".bimpe/state"])
def test_a_symlinked_state_directory_leading_outside_is_refused(
    bimpe: Bimpe, stack: Path, tmp_path: Path, linked: str
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (stack / linked).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, stack / linked)

    for command in (("plan", stack), ("apply", stack, "--auto-approve")):
        outcome = bimpe(*command)
        assert outcome.exit_code == 1, outcome.text
        assert "outside the stack directory" in outcome.stderr
        assert "Traceback" not in outcome.text

    assert list(outside.iterdir()) == []
    assert agents_named(bimpe, "Bot") == 0


def test_a_symlinked_emulator_directory_is_refused_before_the_database_opens(
    stack: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    os.symlink(outside, stack / ".bimpe")

    outcome = invoke("plan", stack, "--emulator", env={"BIMPE_API_KEY": None})

    assert outcome.exit_code == 1, outcome.text
    assert "outside the stack directory" in outcome.stderr
    assert list(outside.iterdir()) == []


def test_a_symlinked_state_file_is_refused(bimpe: Bimpe, stack: Path) -> None:
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    state = state_file(stack)
    kept = state.with_name("kept.json")
    state.rename(kept)
    os.symlink(kept.name, state)  # inside the stack, but not the regular file it should be

    outcome = bimpe("plan", stack)

    assert outcome.exit_code == 1, outcome.text
    assert "symbolic link" in outcome.stderr and str(state) in outcome.stderr
    assert os.path.islink(state)


def test_a_state_file_above_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with path.open("wb") as file:
        file.truncate(MAX_STATE_BYTES + 1)

    with pytest.raises(StateError, match=r"larger than the .* limit") as raised:
        LocalStateStore(path).read("s", "e")
    assert str(path) in str(raised.value)


def test_a_symlinked_emulator_database_is_refused(stack: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.db"
    (stack / ".bimpe").mkdir()
    os.symlink(outside, stack / ".bimpe" / "emulator.db")

    outcome = invoke("plan", stack, "--emulator", env={"BIMPE_API_KEY": None})

    assert outcome.exit_code == 1, outcome.text
    assert "emulator.db leads outside the stack directory" in outcome.stderr
    assert not outside.exists()
