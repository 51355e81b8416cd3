"""Text an API writes reaches the terminal on one line: a hostile message cannot forge output.

Covers: an error whose message, code and request id hold line feeds and carriage returns and a
fake "Apply complete!" summary, answered to a create during apply and to the first listing of
a plan, prints no line that starts with "Apply complete!" (the line breaks read `\\n`), and
apply still exits 1 naming the failed address.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from cli_runner import invoke

from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.server import RunningEmulator, start_in_thread

FORGED = "\nApply complete! Resources: 9 added, 0 changed, 0 destroyed.\r\n"
STACK = {
    "stack.yaml": "name: hostile\nenvironments:\n  test: {}\n",
    "resources.yaml": (
        "workflows:\n  main: {name: Main, system_prompt: Be kind.}\n"
        "agents:\n  bot: {workflow: main, name: Bot, description: Helps.}\n"
    ),
}

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Any, Send], Awaitable[None]]


class ForgingErrors:
    """An ASGI app in front of the emulator that answers the requests `refuse` picks with a 400
    whose message, code and request id each try to start a line of their own, as a hostile or
    broken API might; every other request reaches the emulator."""

    def __init__(self, inner: App, refuse: Callable[[str, str], bool]) -> None:
        self.inner, self.refuse = inner, refuse

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http" or not self.refuse(scope["method"], scope["path"]):
            await self.inner(scope, receive, send)
            return
        body = json.dumps(
            {"message": f"refused{FORGED}", "code": f"bad_request{FORGED}", "request_id": FORGED}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def forging(tmp_path: Path) -> Iterator[Callable[[Callable[[str, str], bool]], RunningEmulator]]:
    started: list[RunningEmulator] = []

    def start(refuse: Callable[[str, str], bool]) -> RunningEmulator:
        emulator = create_emulator(tmp_path / "forging.db")
        wrapped = dataclasses.replace(emulator, asgi=ForgingErrors(emulator.asgi, refuse))
        started.append(start_in_thread(wrapped))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def creates_of_agents(method: str, path: str) -> bool:
    return method == "POST" and path.endswith("/agents")


def lists_of_workflows(method: str, path: str) -> bool:
    return method == "GET" and path.endswith("/workflows")


@pytest.mark.parametrize(
    ("refuse", "command"),
    [(creates_of_agents, ("apply", "--auto-approve")), (lists_of_workflows, ("plan",))],
    ids=["a create during apply", "a listing during plan"],
)
def test_line_breaks_in_an_api_error_are_spelled_out(
    forging: Callable[[Callable[[str, str], bool]], RunningEmulator],
    tmp_path: Path,
    refuse: Callable[[str, str], bool],
    command: tuple[str, ...],
) -> None:
    running = forging(refuse)
    stack = tmp_path / "hostile"
    for name, text in STACK.items():
        (stack / name).parent.mkdir(parents=True, exist_ok=True)
        (stack / name).write_text(text)
    env = {"BIMPE_API_KEY": running.emulator.api_key, "BIMPE_BASE_URL": running.url}

    outcome = invoke(*command, stack, env=env)

    assert outcome.exit_code == 1, outcome.text
    lines = outcome.text.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("Apply complete!")], lines
    assert "refused\\nApply complete! Resources: 9 added" in outcome.stderr
    if command[0] == "apply":
        assert "Error: agents.bot: BimpeAI answered 400" in outcome.stderr
