"""The answer at apply's and destroy's prompt.

Covers: any answer but "yes" (here "no", an empty line, end of input) is "Apply cancelled." or
"Destroy cancelled." with exit 1 (not 130, the code of Ctrl-C), nothing changed in the team, and
the lock released: an apply right after it takes the lock at once; the same with "no" typed
at a real (pseudo-)terminal by an apply process.
"""

from __future__ import annotations

import os
import pty
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bimpeai import BimpeAI
from cli_process import start_cli

from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.ui import UI

if TYPE_CHECKING:
    from conftest import Bimpe


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stdin is a terminal the user answers at (the runner's input stands in for it)."""
    monkeypatch.setattr(UI, "can_prompt", lambda: True)


def _team(sdk: BimpeAI) -> Counter[str]:
    names = Counter(f"workflow {w.name}" for w in sdk.workflows.list(scope="owned").data)
    names.update(f"agent {a.name}" for a in sdk.agents.list().data)
    return names


def _lock_file(stack: Path) -> Path:
    return stack / ".bimpe" / "state" / "full" / "test.json.lock"


@pytest.mark.parametrize("answer", ["no\n", "\n", "YES please\n", ""], ids=repr)
def test_no_at_the_apply_prompt_cancels_with_exit_1(
    bimpe: Bimpe, full_stack: Path, terminal: None, answer: str
) -> None:
    cancelled = bimpe("apply", full_stack, input=answer)

    assert cancelled.exit_code == 1, cancelled.text
    assert "Only 'yes' will be accepted" in cancelled.output
    assert "Apply cancelled." in cancelled.text
    assert "Aborted" not in cancelled.text and "Traceback" not in cancelled.text
    assert _team(bimpe.sdk) == {}
    assert not _lock_file(full_stack).exists()
    applied = bimpe("apply", full_stack, "--auto-approve")
    assert applied.exit_code == 0, applied.text
    assert _team(bimpe.sdk) == {
        "workflow Main workflow": 1,
        "agent Full bot": 1,
        "agent Catalog bot": 1,
    }


def test_no_at_the_destroy_prompt_keeps_everything(
    bimpe: Bimpe, full_stack: Path, terminal: None
) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    before = _team(bimpe.sdk)

    cancelled = bimpe("destroy", full_stack, input="no\n")

    assert cancelled.exit_code == 1, cancelled.text
    assert "Destroy cancelled." in cancelled.text
    assert _team(bimpe.sdk) == before
    assert not _lock_file(full_stack).exists()
    destroyed = bimpe("destroy", full_stack, input="yes\n")
    assert destroyed.exit_code == 0, destroyed.text
    assert _team(bimpe.sdk) == {}


def test_no_typed_at_a_real_terminal_cancels(
    start_emulator: Callable[..., RunningEmulator], full_stack: Path
) -> None:
    running = start_emulator()
    user, tty = pty.openpty()
    try:
        process = start_cli(running, "apply", full_stack, capture=True, args=[], stdin=tty)
        assert process.stdout is not None
        shown = ""
        while not shown.endswith("Only 'yes' will be accepted: "):
            character = process.stdout.read(1)
            assert character, shown
            shown += character
        os.write(user, b"no\n")
        out, err = process.communicate(timeout=30)
    finally:
        os.close(user)
        os.close(tty)

    assert process.returncode == 1, shown + out + err
    assert "Apply cancelled." in err
    assert not _lock_file(full_stack).exists()
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        assert _team(sdk) == {}
