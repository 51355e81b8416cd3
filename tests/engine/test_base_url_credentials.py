"""A user and password in a base URL (finding 7, its base-URL part; docs/http.md).

BimpeAI takes the API key as a bearer token in Authorization, the header HTTP Basic
credentials would need, so a URL's user and password cannot be sent as the URL means. They
are refused, exit 1 with one line, before any request; the password appears nowhere, not in
`--debug-http` logs, the error or a notice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import invoke
from stray_server import stray_server

PASSWORD = "hunter2-p%40ss"
SHOWN_PASSWORDS = ("hunter2", "p%40ss", "p@ss")


def _stack(make_stack: Callable[[str, dict[str, str]], Path], base_url: str | None) -> Path:
    target = (
        f"    target:\n      base_url: {base_url}\n      api_key_env: PROD_KEY\n"
        if base_url
        else "    target:\n      api_key_env: PROD_KEY\n"
    )
    return make_stack(
        "remote",
        {
            "stack.yaml": f"name: remote\nenvironments:\n  prod:\n{target}",
            "resources.yaml": "workflows:\n  main: {name: Main, system_prompt: You help.}\n",
        },
    )


@pytest.mark.parametrize("where", ["stack", "variable"])
def test_a_password_in_the_base_url_is_refused_and_never_shown(
    make_stack: Callable[[str, dict[str, str]], Path], where: str
) -> None:
    with stray_server() as stray:
        host = stray.url.removeprefix("http://")
        url = f"http://deploy:{PASSWORD}@{host}"
        stack = _stack(make_stack, url if where == "stack" else None)
        environ = {"PROD_KEY": "sk_live_x", "BIMPE_BASE_URL": url if where == "variable" else None}
        for command in (("plan", "--debug-http"), ("apply", "--auto-approve", "--debug-http")):
            outcome = invoke(*command, stack, env=environ)
            assert outcome.exit_code == 1, outcome.text
            assert len(outcome.stderr.splitlines()) == 1, outcome.stderr
            assert f"http://deploy:***@{host}" in outcome.stderr
            assert "remove them from the URL" in outcome.stderr
            assert not any(shown in outcome.text for shown in SHOWN_PASSWORDS), outcome.text
        assert stray.received == []
