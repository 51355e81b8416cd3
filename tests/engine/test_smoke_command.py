"""`bimpe-iac smoke` after an apply: every agent answers a test chat and linked agents complete
a test call; a paused AI fails the check clearly with exit 1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cli_runner import invoke

if TYPE_CHECKING:
    from conftest import Bimpe


@pytest.mark.parametrize(("name", "env"), [("support", "prod"), ("multi-env", "staging")])
def test_smoke_passes_for_the_examples(
    bimpe: Bimpe, example: Callable[[str], Path], name: str, env: str
) -> None:
    stack = example(name)
    assert bimpe("apply", stack, "--env", env, "--auto-approve").exit_code == 0
    checked = bimpe("smoke", stack, "--env", env, "--timeout", "5")
    assert checked.exit_code == 0, checked.output + checked.stderr
    assert "Smoke check passed" in checked.output
    assert "FAIL" not in checked.output
    if name == "support":
        assert "agents.support-bot  call" in checked.output


def test_smoke_fails_clearly_when_the_ai_is_paused(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    assert bimpe("smoke", stack, "--env", "prod", "--timeout", "2").exit_code == 0
    agent = bimpe.sdk.agents.list().data[0]
    conversation = bimpe.sdk.conversations.list(agent.id, channel="test_webchat").data[0]
    bimpe.sdk.conversations.set_ai_status(agent.id, conversation.id, is_ai_chat_paused=True)
    checked = bimpe("smoke", stack, "--env", "prod", "--timeout", "1")
    assert checked.exit_code == 1
    assert "FAIL" in checked.output
    assert "the AI is paused on the test conversation" in checked.output
    assert "Smoke check failed: 1 of 2 checks." in checked.stderr


def test_smoke_before_apply_says_to_apply(bimpe: Bimpe, example: Callable[[str], Path]) -> None:
    checked = bimpe("smoke", example("support"), "--env", "prod")
    assert checked.exit_code == 1
    assert "manages no agent yet" in checked.stderr


@pytest.mark.parametrize(("name", "env"), [("support", "prod"), ("multi-env", "prod")])
def test_smoke_on_the_embedded_emulator(
    example: Callable[[str], Path], tmp_path: Path, name: str, env: str
) -> None:
    """No API key at all: apply and smoke run on the in-process emulator, by default for a
    stack that names no target (support), when asked for one that names its key variable."""
    stack = example(name)
    environ: dict[str, str | None] = {
        key: None
        for key in ("BIMPE_API_KEY", "BIMPE_PROD_API_KEY", "BIMPE_BASE_URL", "BIMPE_STATE_DSN")
    }
    environ["BIMPE_EMULATOR_DB"] = str(tmp_path / "embedded.db")
    asked = ("--emulator",) if name == "multi-env" else ()
    applied = invoke("apply", stack, "--env", env, "--auto-approve", *asked, env=environ)
    assert applied.exit_code == 0, applied.text
    checked = invoke("smoke", stack, "--env", env, *asked, env=environ)
    assert checked.exit_code == 0, checked.text
    assert "Smoke check passed" in checked.output
