"""Exit 3 is for bugs: one line on screen naming a crash log that holds the traceback, and no
secret, on screen or in the log (finding 7).

An answer with the envelope but objects the SDK cannot read (a required field missing) used to
be the bug reached here; it is now an API error, exit 1 (docs/hostile-api.md). The bug is now
an SDK model that raises what nothing expects, quoting the object it was given, so whatever the
answer held (here the team's sensitive escalation address, and the key a server echoed) is in
the error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bimpeai import Workflow
from cli_runner import invoke
from example_copy import copy_example
from stray_server import stray_server

from bimpe_iac.crash_log import crash_log_dir
from bimpe_iac.secrets import REDACTED, Secret, remember, scrub

KEY = "sk_live_crash_7d1e4b"
ESCALATION = "oncall-7f3k9@kora.example"  # sensitive in examples/stacks/multi-env prod


def _unreadable_answer() -> str:
    """The envelope, with workflows lacking every field but these."""
    echoed = {"id": "wf_1", "escalation_email": ESCALATION, "echo": "{authorization}"}
    return json.dumps({"message": "ok", "data": [echoed]})


def test_an_answer_the_sdk_cannot_read_is_an_api_error(tmp_path: Path, crash_logs: Path) -> None:
    stack = copy_example("multi-env", tmp_path / "multi-env")
    with stray_server(200, "application/json", _unreadable_answer()) as api:
        env = {"BIMPE_PROD_API_KEY": KEY, "BIMPE_BASE_URL": api.url}
        outcome = invoke("plan", stack, "--env", "prod", env=env)
    assert outcome.exit_code == 1, outcome.text
    assert outcome.stderr.startswith("Error: BimpeAI sent an answer that is not the API's: ")
    assert len(outcome.stderr.splitlines()) == 1
    assert not list(crash_logs.glob("crash-*.log"))
    for secret in (KEY, ESCALATION):
        assert secret not in outcome.text


def _unexpected(cls: type, data: object, *args: object, **kwargs: object) -> object:
    raise RuntimeError(f"cannot read {data!r}")


def test_a_bug_writes_a_crash_log_without_secrets(
    tmp_path: Path, crash_logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Workflow, "model_validate", classmethod(_unexpected))
    stack = copy_example("multi-env", tmp_path / "multi-env")
    with stray_server(200, "application/json", _unreadable_answer()) as api:
        env = {"BIMPE_PROD_API_KEY": KEY, "BIMPE_BASE_URL": api.url}
        outcome = invoke("plan", stack, "--env", "prod", env=env)
    assert api.received and api.received[0].headers["authorization"] == f"Bearer {KEY}"

    assert outcome.exit_code == 3, outcome.text
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    logs = sorted(crash_logs.glob("crash-*.log"))
    assert len(logs) == 1
    assert lines[0].startswith("Internal error: RuntimeError: ")
    assert lines[0].endswith(
        f"This is a bug in bimpe-iac; the traceback is in {logs[0]}; please report it."
    )
    text = logs[0].read_text()
    assert "Traceback (most recent call last):" in text
    assert "RuntimeError: cannot read" in text
    assert "bimpeai" in text  # the SDK frames, where it failed
    assert f"command: bimpe-iac plan {stack} --env prod" in text
    assert REDACTED in text  # what pydantic quoted was there, and scrubbed
    for secret in (KEY, ESCALATION):
        assert secret not in text
        assert secret not in outcome.text


def test_the_crash_log_directory_follows_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BIMPE_CRASH_LOG_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert crash_log_dir() == tmp_path / "cache" / "bimpe-iac"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert crash_log_dir() == Path.home() / ".cache" / "bimpe-iac"


def test_scrub_replaces_every_known_secret_longest_first() -> None:
    Secret("sk_scrub_abc")
    remember(["door-4242", "door-4242-extra"])
    text = scrub("key sk_scrub_abc, code door-4242-extra and door-4242")
    assert text == f"key {REDACTED}, code {REDACTED} and {REDACTED}"
