"""Outputs and command-line vars against the emulator: plan (text and Markdown) shows
"(known after apply)" for what it creates; apply prints the outputs with the ids it just
stored; `output` prints them from the state alone (no request at all, even with the API
unreachable), one bare value, or JSON; a sensitive var overridden with --var stays masked in
plan, apply and `output --json`; no state yet, an unknown output name or an undeclared --var
is exit 1; `plan --out` names the vars that applying its plan needs."""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cli_runner import invoke
from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe

ROTATED = "rotated-pin-7731"
STACK = """\
name: shop
vars:
  brand: Kora
  desk_pin: {value: pin-0000, sensitive: true}
environments:
  prod:
    vars:
      brand: Kora Prod
outputs:
  support_agent_id:
    value: ${agents.support.id}
    description: The support agent, for the smoke job
  greeting: "Welcome to ${var.brand}"
  pin: "${var.desk_pin}"
  faq_id: {value: "${agents.support.knowledge_bases.faq.id}", sensitive: true}
"""
RESOURCES = """\
workflows:
  storefront: {name: "${var.brand} storefront", system_prompt: "Desk pin ${var.desk_pin}."}
agents:
  support:
    workflow: storefront
    name: ${var.brand} support
    description: Helps
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Ask us.}
"""


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    directory = tmp_path / "shop"
    directory.mkdir()
    (directory / "stack.yaml").write_text(STACK)
    (directory / "resources.yaml").write_text(RESOURCES)
    return directory


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _applied(bimpe: Bimpe, stack: Path, *args: str) -> str:
    outcome = bimpe("apply", stack, "--auto-approve", *args)
    assert outcome.exit_code == 0, outcome.text
    return outcome.output


def _agent_id(bimpe: Bimpe, name: str) -> str:
    return str(next(a.id for a in bimpe.sdk.agents.list().data if a.name == name))


def test_plan_shows_what_is_known_after_apply(bimpe: Bimpe, stack: Path) -> None:
    planned = bimpe("plan", stack, "--var", "brand=Flagged")

    assert planned.exit_code == 0, planned.text
    block = planned.output.split("\nOutputs:\n\n", 1)[1].splitlines()
    assert block == [
        "support_agent_id = (known after apply)",
        'greeting = "Welcome to Flagged"',
        "pin = (sensitive)",
        "faq_id = (known after apply)",
    ]
    markdown = bimpe("plan", stack, "--format", "markdown", "--var", "brand=Flagged")
    assert markdown.output.rstrip().endswith(
        "**Outputs**\n\n| output | value |\n|---|---|\n"
        "| `support_agent_id` | (known after apply) |\n"
        '| `greeting` | "Welcome to Flagged" |\n'
        "| `pin` | (sensitive) |\n"
        "| `faq_id` | (known after apply) |"
    )


def test_apply_prints_the_ids_it_stored_and_output_reads_them_without_the_api(
    bimpe: Bimpe, stack: Path
) -> None:
    applied = _applied(bimpe, stack)
    agent_id = _agent_id(bimpe, "Kora Prod support")
    assert applied.split("\nOutputs:\n\n", 1)[1].splitlines() == [
        f'support_agent_id = "{agent_id}"',
        'greeting = "Welcome to Kora Prod"',
        "pin = (sensitive)",
        "faq_id = (sensitive)",
    ]
    admin = Admin(bimpe.running)
    admin.reset_counters()
    unreachable = {**bimpe.environ, "BIMPE_BASE_URL": f"http://127.0.0.1:{_closed_port()}"}

    listed = invoke("output", "--stack", stack, env=unreachable)
    as_json = invoke("output", "--stack", stack, "--json", env=unreachable)
    bare = invoke("output", "support_agent_id", "--stack", stack, env={"BIMPE_API_KEY": None})

    assert listed.exit_code == as_json.exit_code == bare.exit_code == 0, listed.text
    assert listed.output.splitlines() == [
        f'support_agent_id = "{agent_id}"',
        'greeting = "Welcome to Kora Prod"',
        "pin = (sensitive)",
        "faq_id = (sensitive)",
    ]
    assert json.loads(as_json.output) == {
        "support_agent_id": {
            "value": agent_id,
            "sensitive": False,
            "description": "The support agent, for the smoke job",
        },
        "greeting": {"value": "Welcome to Kora Prod", "sensitive": False, "description": None},
        "pin": {"value": "(sensitive)", "sensitive": True, "description": None},
        "faq_id": {"value": "(sensitive)", "sensitive": True, "description": None},
    }
    assert bare.output == f"{agent_id}\n"
    assert admin.counters()["requests"] == {}


def test_a_sensitive_var_overridden_on_the_command_line_stays_masked(
    bimpe: Bimpe, stack: Path
) -> None:
    flags = ("--var", f"desk_pin={ROTATED}")
    planned = bimpe("plan", stack, *flags)
    planned_json = bimpe("plan", stack, "--format", "json", *flags)
    applied = _applied(bimpe, stack, *flags)
    listed = bimpe("output", "--stack", stack, "--json", *flags)
    bare = bimpe("output", "pin", "--stack", stack, *flags)

    for outcome in (planned, planned_json, listed, bare):
        assert outcome.exit_code == 0, outcome.text
        assert ROTATED not in outcome.text
    assert ROTATED not in applied
    assert "Desk pin (sensitive)." in planned.output
    assert json.loads(listed.output)["pin"] == {
        "value": "(sensitive)",
        "sensitive": True,
        "description": None,
    }
    assert bare.output == "(sensitive)\n"
    assert "never prints its value" in bare.stderr
    workflow = next(w for w in bimpe.sdk.workflows.list().data if w.name == "Kora Prod storefront")
    assert workflow.system_prompt == f"Desk pin {ROTATED}."  # sent, never shown
    state = json.loads((stack / ".bimpe" / "state" / "shop" / "prod.json").read_text())
    assert ROTATED not in json.dumps(state)
    assert state["writer"]["command"].endswith("--var 'desk_pin=(redacted)'")


def test_output_without_state_unknown_names_and_undeclared_vars_exit_1(
    bimpe: Bimpe, stack: Path
) -> None:
    no_state = bimpe("output", "--stack", stack)
    undeclared = bimpe("plan", stack, "--var", "brnad=Kora")
    _applied(bimpe, stack, "--target", "workflows.storefront")
    not_applied = bimpe("output", "support_agent_id", "--stack", stack)
    listed = bimpe("output", "--stack", stack)
    unknown = bimpe("output", "suport_agent_id", "--stack", stack)

    assert no_state.exit_code == 1
    assert "has no state yet" in no_state.stderr
    assert "apply it first" in no_state.stderr
    assert undeclared.exit_code == 1
    assert "--var brnad: undeclared var 'brnad' (did you mean 'brand'?)" in undeclared.stderr
    assert not_applied.exit_code == 1
    assert "the state holds no agents.support; apply it first" in not_applied.stderr
    assert listed.output.splitlines() == ['greeting = "Welcome to Kora Prod"', "pin = (sensitive)"]
    assert unknown.exit_code == 1
    assert "no output 'suport_agent_id' (did you mean 'support_agent_id'?)" in unknown.stderr


def test_a_var_file_then_var_flags_set_what_apply_sends(
    bimpe: Bimpe, stack: Path, tmp_path: Path
) -> None:
    vars_file = tmp_path / "prod.vars.yaml"
    vars_file.write_text(textwrap.dedent("brand: From file\n"))

    from_file = _applied(bimpe, stack, "--var-file", vars_file)
    both = _applied(bimpe, stack, "--var-file", vars_file, "--var", "brand=From flag")

    assert 'greeting = "Welcome to From file"' in from_file
    assert 'greeting = "Welcome to From flag"' in both
    names = sorted(a.name for a in bimpe.sdk.agents.list().data)
    assert names == ["From flag support"]


def test_plan_out_names_the_vars_its_apply_command_needs(
    bimpe: Bimpe, stack: Path, tmp_path: Path
) -> None:
    plan_file = tmp_path / "prod.plan.json"
    flags = ("--var", "brand=Canary", "--var", f"desk_pin={ROTATED}")

    planned = bimpe("plan", stack, "--out", plan_file, *flags)
    applied = bimpe("apply", stack, "--plan", plan_file, *flags)

    assert planned.exit_code == 0, planned.text
    assert planned.output.rstrip().endswith(
        f"--plan {plan_file} --var brand=Canary --var 'desk_pin=(sensitive)'"
    )
    assert ROTATED not in plan_file.read_text()
    assert applied.exit_code == 0, applied.text
    assert 'greeting = "Welcome to Canary"' in applied.output
