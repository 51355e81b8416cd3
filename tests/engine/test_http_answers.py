"""The HTTP stack under the SDK against answers the emulator never writes (finding 4).

Each answer comes through `misbehaving_server.misbehaving_relay`: bytes nobody asked for on a
keep-alive connection must never become the next request's answer, and a malformed frame is
an error (exit 1, one line), never a wrong answer. The checks read the team through the SDK.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bimpeai import APIConnectionError
from full_stack_checks import assert_applied_once
from misbehaving_server import Framing, bare_lf, misbehaving_relay, with_head

from bimpe_iac.connection import open_client, resolve_target
from bimpe_iac.emulator.server import RunningEmulator


def _environ(running: RunningEmulator, url: str) -> dict[str, str | None]:
    return {"BIMPE_API_KEY": running.emulator.api_key, "BIMPE_BASE_URL": url}


def test_unsolicited_bytes_on_an_idle_connection_never_become_an_answer(
    bimpe, full_stack: Path
) -> None:
    """After its first answer each connection also carries an empty listing nobody asked for.
    With one connection (parallelism 1), a client that reads it as the next answer sees every
    later answer shifted by one: the apply then creates twins or fails, and the plan after it
    is not empty."""
    from cli_runner import invoke

    running = bimpe.running
    with misbehaving_relay(running.url, unsolicited_after_first=True) as relay:
        env = _environ(running, relay.url)
        applied = invoke("apply", full_stack, "--auto-approve", "--parallelism", "1", env=env)
        assert applied.exit_code == 0, applied.text
        plan = invoke("plan", full_stack, "--detailed-exitcode", "--parallelism", "1", env=env)
        assert plan.exit_code == 0, plan.text
        assert "No changes" in plan.text
        assert relay.connections > 1  # a connection that got bytes unasked is not reused
    assert_applied_once(running, full_stack / ".bimpe" / "state" / "full" / "test.json")


MALFORMED: dict[str, Framing] = {
    "a plus sign in Content-Length": with_head(b"Content-Length: +2"),
    "an underscore in Content-Length": with_head(b"Content-Length: 1_0"),
    "two Content-Lengths that disagree": with_head(b"Content-Length: 5\r\nContent-Length: 7"),
    "a transfer coding that is not chunked": with_head(b"Transfer-Encoding: xchunked"),
}


@pytest.mark.parametrize("framing", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_frame_is_an_error_not_an_answer(
    start_emulator, tmp_path: Path, framing: Framing
) -> None:
    running: RunningEmulator = start_emulator()

    async def list_agents(url: str) -> None:
        target = resolve_target(
            environ={"BIMPE_API_KEY": running.emulator.api_key, "BIMPE_BASE_URL": url},
            max_retries=0,
        )
        async with open_client(target) as client:
            await client.agents.list()

    with misbehaving_relay(running.url, framing) as relay, pytest.raises(APIConnectionError):
        asyncio.run(list_agents(relay.url))


def test_a_malformed_frame_ends_the_command_with_one_line(bimpe, full_stack: Path) -> None:
    from cli_runner import invoke

    running = bimpe.running
    with misbehaving_relay(running.url, MALFORMED["a plus sign in Content-Length"]) as relay:
        plan = invoke("plan", full_stack, env=_environ(running, relay.url))
    assert plan.exit_code == 1, plan.text
    error = [line for line in plan.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and "could not reach BimpeAI" in error[0], plan.stderr
    assert "Traceback" not in plan.text


def test_an_answer_with_bare_lf_line_endings_is_read_as_httpx_reads_it(
    bimpe, full_stack: Path
) -> None:
    """h11 (httpx's parser) accepts a head whose lines end in LF alone; so does the client."""
    from cli_runner import invoke

    running = bimpe.running
    with misbehaving_relay(running.url, bare_lf) as relay:
        env = _environ(running, relay.url)
        applied = invoke("apply", full_stack, "--auto-approve", env=env)
        assert applied.exit_code == 0, applied.text
    assert_applied_once(running, full_stack / ".bimpe" / "state" / "full" / "test.json")


def test_an_answer_larger_than_the_cap_is_refused_before_it_fills_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A server may send any size of body; past the cap the read stops and the run ends with
    exit 1 in one line (shown with a 64 KB cap and a 1 MB answer)."""
    from cli_runner import invoke
    from example_copy import copy_example
    from stray_server import stray_server

    from bimpe_iac import http_client

    monkeypatch.setattr(http_client, "MAX_ANSWER_BYTES", 64 * 1024)
    huge = '{"message": "ok", "data": [], "padding": "' + "x" * 2**20 + '"}'
    stack = copy_example("support", tmp_path / "support")
    with stray_server(200, "application/json", huge) as api:
        env = {"BIMPE_API_KEY": "sk_test_cap", "BIMPE_BASE_URL": api.url}
        outcome = invoke("plan", stack, "--parallelism", "2", env=env)
    assert outcome.exit_code == 1, outcome.text
    assert outcome.stderr.strip().splitlines() == [
        "Error: could not reach BimpeAI (the answer is larger than 65,536 bytes)"
    ], outcome.stderr
