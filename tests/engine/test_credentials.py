"""Credentials are explicit (docs/credentials.md).

An environment that names a key variable or a base URL and lacks the key stops with exit 1
naming the variable, before anything is read or written; the embedded emulator is used only
when the environment names no target, or when asked (`--emulator`, `target: {emulator: true}`);
an explicit `base_url` wins over BIMPE_BASE_URL, and the key goes only where the environment
says. A base URL that answers, but not as the API does, is a user error with a hint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bimpeai import BimpeAI
from cli_runner import invoke
from stray_server import StrayServer, stray_server

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from conftest import Bimpe

NO_CREDENTIALS: dict[str, str | None] = {
    name: None
    for name in (
        "BIMPE_API_KEY",
        "BIMPE_STAGING_API_KEY",
        "BIMPE_PROD_API_KEY",
        "BIMPE_BASE_URL",
        "BIMPE_STATE_DSN",
        "PROD_KEY",
    )
}

STACK = "<stack>"
TALKING_COMMANDS = [
    ("plan", STACK),
    ("apply", STACK, "--auto-approve"),
    ("destroy", STACK, "--auto-approve"),
    ("drift", STACK),
    ("smoke", STACK),
    ("import", "agents.support-bot", "agt_1", STACK),
]


def _files(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*")}


@pytest.fixture
def stray() -> StrayServer:
    with stray_server() as served:
        yield served  # type: ignore[misc]


@pytest.mark.parametrize("missing", [None, "", "   "], ids=["unset", "empty", "blank"])
@pytest.mark.parametrize("command", TALKING_COMMANDS, ids=lambda c: c[0])
def test_a_named_key_variable_without_a_key_stops_before_anything(
    example: Callable[[str], Path],
    stray: StrayServer,
    tmp_path: Path,
    command: tuple[str, ...],
    missing: str | None,
) -> None:
    """Finding 2: CI gives an empty variable for a missing secret; that never means the
    emulator when the environment names its key variable."""
    stack = example("multi-env")
    before = _files(stack)
    emulator_db = tmp_path / "embedded.db"
    environ = {
        **NO_CREDENTIALS,
        "BIMPE_PROD_API_KEY": missing,
        "BIMPE_BASE_URL": stray.url,
        "BIMPE_EMULATOR_DB": str(emulator_db),
    }
    arguments = [stack if argument == STACK else argument for argument in command]
    outcome = invoke(*arguments, "--env", "prod", env=environ)
    assert outcome.exit_code == 1, outcome.text
    assert outcome.output == ""
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("Error: BIMPE_PROD_API_KEY is not set or is empty")
    assert "emulator" not in lines[0].split("(")[0]
    assert _files(stack) == before  # no state, no .bimpe/, no lock
    assert not (stack / ".bimpe").exists()
    assert not emulator_db.exists()
    assert stray.received == []


def test_a_named_base_url_without_a_key_stops_before_anything(
    make_stack: Callable[[str, dict[str, str]], Path], stray: StrayServer, tmp_path: Path
) -> None:
    """Finding 2 as reported: base_url and api_key_env named, PROD_KEY empty."""
    stack = make_stack(
        "remote",
        {
            "stack.yaml": f"name: remote\nenvironments:\n  prod:\n    target:\n"
            f"      base_url: {stray.url}\n      api_key_env: PROD_KEY\n",
            "resources.yaml": "workflows:\n  main: {name: Main, system_prompt: You help.}\n",
        },
    )
    environ = {**NO_CREDENTIALS, "PROD_KEY": "", "BIMPE_EMULATOR_DB": str(tmp_path / "e.db")}
    for command in (("apply", "--auto-approve"), ("smoke",)):
        outcome = invoke(*command, stack, env=environ)
        assert outcome.exit_code == 1, outcome.text
        assert outcome.stderr.startswith("Error: PROD_KEY is not set or is empty")
        assert len(outcome.stderr.splitlines()) == 1
    assert not (stack / ".bimpe").exists()
    assert not (tmp_path / "e.db").exists()
    assert stray.received == []


def test_no_target_and_no_key_uses_the_emulator_and_names_the_variable(
    example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = example("support")
    environ = {**NO_CREDENTIALS, "BIMPE_EMULATOR_DB": str(tmp_path / "embedded.db")}
    applied = invoke("apply", stack, "--auto-approve", env=environ)
    assert applied.exit_code == 0, applied.text
    assert "No BIMPE_API_KEY set: using the local BimpeAI emulator" in applied.stderr
    assert (tmp_path / "embedded.db").exists()


def test_an_explicit_base_url_wins_and_the_key_goes_only_there(
    make_stack: Callable[[str, dict[str, str]], Path],
    start_emulator: Callable[..., RunningEmulator],
    tmp_path: Path,
) -> None:
    """Finding 3: BIMPE_BASE_URL names another server; nothing reaches it, the key included."""
    chosen = start_emulator(tmp_path / "chosen.db")
    other = start_emulator(tmp_path / "other.db")
    key = chosen.emulator.api_key
    stack = make_stack(
        "remote",
        {
            "stack.yaml": f"name: remote\nenvironments:\n  prod:\n    target:\n"
            f"      base_url: {chosen.url}\n      api_key_env: PROD_KEY\n",
            "resources.yaml": "workflows:\n  main: {name: Main, system_prompt: You help.}\n",
        },
    )
    with stray_server() as stray:
        for variable in (other.url, stray.url):
            environ = {**NO_CREDENTIALS, "PROD_KEY": key, "BIMPE_BASE_URL": variable}
            applied = invoke("apply", stack, "--auto-approve", env=environ)
            assert applied.exit_code == 0, applied.text
            notice = f"Using the environment's base_url {chosen.url}; BIMPE_BASE_URL is ignored."
            assert notice in applied.stderr.splitlines()
            drift = invoke("drift", stack, env=environ)
            assert drift.exit_code == 0, drift.text
        assert stray.received == []
    with BimpeAI(api_key=key, base_url=chosen.url) as sdk:
        assert [w.name for w in sdk.workflows.list().data].count("Main") == 1
    with BimpeAI(api_key=other.emulator.api_key, base_url=other.url) as sdk:
        assert "Main" not in [w.name for w in sdk.workflows.list().data]
    assert other.emulator.api_key != key


def test_base_url_variable_fills_in_when_the_environment_names_none(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    """multi-env names only its key variables: BIMPE_BASE_URL says where the API is."""
    planned = bimpe("plan", example("multi-env"), "--env", "staging")
    assert planned.exit_code == 0, planned.text
    assert "BIMPE_BASE_URL is ignored" not in planned.stderr
    assert "emulator" not in planned.stderr


@pytest.mark.parametrize("asked", ["flag", "stack.yaml"])
def test_asking_for_the_emulator_sends_the_key_nowhere(
    make_stack: Callable[[str, dict[str, str]], Path],
    stray: StrayServer,
    tmp_path: Path,
    asked: str,
) -> None:
    target = "api_key_env: PROD_KEY" if asked == "flag" else "emulator: true"
    stack = make_stack(
        "local",
        {
            "stack.yaml": f"name: local\nenvironments:\n  prod:\n    target: {{{target}}}\n",
            "resources.yaml": "workflows:\n  main: {name: Main, system_prompt: You help.}\n",
        },
    )
    environ = {
        **NO_CREDENTIALS,
        "PROD_KEY": "sk_never_sent",
        "BIMPE_API_KEY": "sk_never_sent",
        "BIMPE_BASE_URL": stray.url,
        "BIMPE_EMULATOR_DB": str(tmp_path / "asked.db"),
    }
    flag = ("--emulator",) if asked == "flag" else ()
    applied = invoke("apply", stack, "--auto-approve", *flag, env=environ)
    assert applied.exit_code == 0, applied.text
    assert "Using the local BimpeAI emulator" in applied.stderr
    assert "sk_never_sent" not in applied.text
    again = invoke("plan", stack, *flag, env=environ)
    assert again.exit_code == 0, again.text
    assert "No changes" in again.output
    assert stray.received == []
    assert (tmp_path / "asked.db").exists()


@pytest.mark.parametrize("field", ["base_url: https://api.example.test", "api_key_env: PROD_KEY"])
def test_emulator_with_a_remote_target_is_a_located_error(
    make_stack: Callable[[str, dict[str, str]], Path], field: str
) -> None:
    stack = make_stack(
        "both",
        {
            "stack.yaml": f"name: both\nenvironments:\n  prod:\n    target:\n      emulator: true\n"
            f"      {field}\n"
        },
    )
    checked = invoke("validate", stack, env=NO_CREDENTIALS)
    assert checked.exit_code == 1
    name = field.split(":")[0]
    column = len(f"      {name}: ") + 1  # at the value
    located = f"stack.yaml:6:{column}: environments.prod.target: emulator: true uses"
    assert located in checked.output
    assert f"no {name}; remove {name}" in checked.output


@pytest.mark.parametrize(
    ("status", "content_type", "body", "said"),
    [
        (200, "text/html", "<html><body>Welcome to nginx!</body></html>", "an HTML page"),
        (404, "application/json", '{"detail": "Not Found"}', "JSON that is not"),
        (200, "application/json", '{"items": [], "total": 0}', "JSON that is not"),
        (404, "text/plain", "404 page not found", "a text/plain body"),
    ],
    ids=["html-200", "json-404", "json-of-another-shape", "text-404"],
)
@pytest.mark.parametrize("command", ["plan", "drift", "export"])
def test_a_base_url_that_is_not_the_api_is_a_user_error(
    example: Callable[[str], Path],
    tmp_path: Path,
    command: str,
    status: int,
    content_type: str,
    body: str,
    said: str,
) -> None:
    """Finding 7: not "Internal error" exit 3, but one line with a hint."""
    stack = example("support")
    arguments = ("export", "--out", tmp_path / "out") if command == "export" else (command, stack)
    with stray_server(status, content_type, body) as stray:
        environ = {**NO_CREDENTIALS, "BIMPE_API_KEY": "sk_test_key", "BIMPE_BASE_URL": stray.url}
        outcome = invoke(*arguments, env=environ)
        assert stray.received, "the command never asked the server"
    assert outcome.exit_code == 1, outcome.text
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith(f"Error: {stray.url} answered GET /")
    assert said in lines[0]
    assert lines[0].endswith("is this the API URL?")
    assert "sk_test_key" not in outcome.text


def test_clone_needs_the_key_each_environment_names(
    make_stack: Callable[[str, dict[str, str]], Path], stray: StrayServer, tmp_path: Path
) -> None:
    stack = make_stack(
        "kora",
        {
            "stack.yaml": "name: kora\nenvironments:\n"
            "  staging: {target: {api_key_env: STAGING_KEY}}\n"
            "  prod: {target: {api_key_env: PROD_KEY}}\n"
        },
    )
    environ = {
        **NO_CREDENTIALS,
        "STAGING_KEY": "sk_staging",
        "PROD_KEY": "",
        "BIMPE_BASE_URL": stray.url,
        "BIMPE_EMULATOR_DB": str(tmp_path / "e.db"),
    }
    cloned = invoke("clone", stack, "--from-env", "staging", "--to-env", "prod", env=environ)
    assert cloned.exit_code == 1, cloned.text
    assert cloned.stderr.startswith("Error: PROD_KEY is not set or is empty")
    assert not (stack / ".bimpe").exists()
    assert stray.received == []
