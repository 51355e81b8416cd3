"""`bimpe-iac output` reads a state kept in PostgreSQL (chosen by `BIMPE_STATE_DSN`), with no
API key and no API to reach."""

from __future__ import annotations

import json
from pathlib import Path

from pg_support import make_state, run_cli, write_stack

from bimpe_iac.state.postgres import PostgresStateStore

STACK_YAML = """\
name: support
environments: {prod: {}}
outputs:
  bot_id: {value: "${agents.bot_0.id}", description: The first bot}
"""
RESOURCES = """\
workflows:
  main: {name: Main, system_prompt: You help.}
agents:
  bot_0: {workflow: main, name: Bot 0, description: Helps}
"""


def test_output_reads_the_postgres_state(tmp_path: Path, dsn: str) -> None:
    stack = write_stack(tmp_path / "support", STACK_YAML, RESOURCES)
    environ: dict[str, str | None] = {
        "BIMPE_STATE_DSN": dsn,
        "BIMPE_API_KEY": None,
        "BIMPE_BASE_URL": "http://127.0.0.1:9",
    }
    before = run_cli("output", "--stack", stack, env=environ)
    with PostgresStateStore(dsn, "support", "prod") as store:
        store.write(make_state(serial=1, resources=1))

    listed = run_cli("output", "--stack", stack, "--json", env=environ)
    bare = run_cli("output", "bot_id", "--stack", stack, env=environ)

    assert before.exit_code == 1
    assert "has no state yet" in before.stderr
    assert listed.exit_code == 0, listed.stderr
    assert json.loads(listed.output) == {
        "bot_id": {"value": "agt_0000", "sensitive": False, "description": "The first bot"}
    }
    assert bare.output == "agt_0000\n"
    assert not (stack / ".bimpe" / "state").exists()
