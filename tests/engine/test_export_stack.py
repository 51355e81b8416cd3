"""`bimpe-iac export --stack`: the team of a stack's environment written as that stack writes
it. With no drift, `diff -r` against the stack is empty; after edits made through the SDK, it
shows exactly those edits, in the files that declare them, with the rest of each file (its
comments, quoting and templates) as written. Without --stack, export refuses to read an empty
local emulator nobody asked for."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cli_runner import Outcome
from teams import run_cli

if TYPE_CHECKING:
    from conftest import Bimpe


def diff(stack: Path, out: Path) -> list[str]:
    """The lines `diff -r` prints, leaving out the stack's own state directory."""
    found = subprocess.run(
        ["diff", "-r", "-x", ".bimpe", str(stack), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.splitlines()


def exported_diff(bimpe: Bimpe, stack: Path, env: str, out: Path) -> tuple[Outcome, list[str]]:
    """Export the team of `env` of `stack` to `out`, and the lines `diff -r` shows."""
    outcome = bimpe("export", "--stack", stack, "--env", env, "--out", out)
    assert outcome.exit_code == 0, outcome.text
    return outcome, diff(stack, out)


def changed(lines: list[str]) -> list[str]:
    return [line for line in lines if line[:1] in "<>"]


def applied(bimpe: Bimpe, example: Callable[[str], Path]) -> Path:
    stack = example("multi-env")
    outcome = bimpe("apply", stack, "--env", "staging", "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    return stack


def test_a_team_without_drift_exports_to_its_stack_exactly(
    bimpe: Bimpe, example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = applied(bimpe, example)
    outcome, lines = exported_diff(bimpe, stack, "staging", tmp_path / "exported")
    assert lines == []
    assert "The team is as the stack describes it." in outcome.output


def test_edits_on_the_team_show_as_exactly_those_differences(
    bimpe: Bimpe, example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    (workflow,) = [w for w in sdk.workflows.list(scope="owned") if w.name.startswith("Store")]
    rules = [rule.model_dump(exclude_none=True) for rule in workflow.rules or []]
    rules[1]["response"] = "We match any price."
    sdk.workflows.update(workflow.id, rules=rules)
    (sales,) = [a for a in sdk.agents.list() if a.name.startswith("Kemi")]
    (payments,) = [
        kb for kb in sdk.agents.knowledge_bases.list(sales.id) if kb.name == "Payment options"
    ]
    sdk.agents.knowledge_bases.update(sales.id, payments.id, content="Cash only.")

    out = tmp_path / "exported"
    outcome, lines = exported_diff(bimpe, stack, "staging", out)
    assert changed(lines) == [
        *[f"< {line}" for line in (stack / "kb" / "payments.md").read_text().splitlines()],
        "> Cash only.",
        "<           We don't match other stores' prices, but I can tell you about our current",
        "<           promotions and instalment plans.",
        ">           We match any price.",
    ], "\n".join(lines)
    written = (out / "workflows.yaml").read_text()
    assert written.startswith("# yaml-language-server: $schema=")
    assert "name: Storefront assistant${var.suffix}" in written
    assert "The team differs from the stack in: kb/payments.md, workflows.yaml" in outcome.output


def test_export_without_a_team_named_refuses_the_empty_emulator(tmp_path: Path) -> None:
    environ: dict[str, str | None] = {"BIMPE_API_KEY": None, "BIMPE_BASE_URL": None}
    refused = run_cli(environ, "export", "--out", tmp_path / "out")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Error: no team named: BIMPE_API_KEY is not set, so export")
    for way in ("--api-key-env", "BIMPE_API_KEY", "--stack", "--emulator"):
        assert way in refused.stderr
    assert not (tmp_path / "out").exists()

    asked = run_cli(environ, "export", "--out", tmp_path / "out", "--emulator")
    assert asked.exit_code == 0, asked.text


def test_resources_gone_from_the_team_are_removed_and_new_ones_exported(
    bimpe: Bimpe, example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    agents = {a.name: a for a in sdk.agents.list()}
    support = agents["Kofi, support [staging]"]
    (delivery,) = [
        kb for kb in sdk.agents.knowledge_bases.list(support.id) if kb.name.startswith("Delivery")
    ]
    sdk.agents.knowledge_bases.delete(support.id, delivery.id)
    sdk.agents.create(
        workflow_id=agents["Kemi, sales [staging]"].workflow_id,
        name="Ama, returns",
        description="Takes returns.",
    )

    out = tmp_path / "exported"
    _, lines = exported_diff(bimpe, stack, "staging", out)
    assert changed(lines) == [
        "<       delivery:",
        "<         type: text",
        "<         name: Delivery and returns",
        "<         content: {file: kb/delivery.md}",
    ], "\n".join(lines)
    assert f"Only in {out}: exported.yaml" in lines
    new = (out / "exported.yaml").read_text()
    assert "  ama-returns:\n    workflow: storefront\n    name: Ama, returns\n" in new
    assert bimpe("validate", out, "--env", "staging").exit_code == 0


def test_a_sensitive_value_that_differs_keeps_its_reference(
    bimpe: Bimpe, example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = example("multi-env")
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    (sales,) = [a for a in bimpe.sdk.agents.list() if a.name.startswith("Kemi")]
    bimpe.sdk.agents.update(sales.id, escalation_email="leaked@elsewhere.example")

    outcome, lines = exported_diff(bimpe, stack, "prod", tmp_path / "exported")
    assert lines == []
    assert (
        "Warning: agents.sales.escalation_email: the team's value is not what the stack's"
        " sensitive var gives; the reference is kept"
    ) in outcome.stderr
    assert "oncall-7f3k9" not in outcome.text


MODULE = {
    "module.yaml": "inputs:\n  brand: {type: string}\n",
    "shop.yaml": """
workflows:
  storefront: {name: "${var.brand} storefront", system_prompt: Sell kindly.}
agents:
  assistant: {workflow: storefront, name: "${var.brand} assistant", description: Sells.}
""",
}
USES_MODULE = """
name: brands
environments:
  prod: {}
modules:
  kora: {source: ../shop, inputs: {brand: Kora}}
"""
INSTANCES = """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
agents:
  desk:
    for_each: [ng, gh]
    workflow: triage
    name: Desk ${each.key}
    description: Serves ${each.key}
"""


def write_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def test_a_module_resource_edited_in_the_console_is_named_not_hidden(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    write_files(tmp_path / "shop", MODULE)
    stack = write_files(tmp_path / "stack", {"stack.yaml": USES_MODULE})
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    clean = bimpe("export", "--stack", stack, "--env", "prod", "--out", tmp_path / "clean")
    assert clean.exit_code == 0, clean.text
    assert "Warning" not in clean.stderr
    (assistant,) = bimpe.sdk.agents.list()
    bimpe.sdk.agents.update(assistant.id, name="Kora assistant (edited)")

    outcome = bimpe("export", "--stack", stack, "--env", "prod", "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.text
    assert (
        "Warning: module.kora.agents.assistant: declared in a way export cannot rewrite yet;"
        " kept as written, though the team differs"
    ) in outcome.stderr
    assert "The team is as the stack describes it." not in outcome.output
    assert "The team differs from the stack in: module.kora.agents.assistant" in outcome.output


def test_an_instance_edited_in_the_console_is_not_reported_as_matching(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    stack = write_files(
        tmp_path / "stack", {"stack.yaml": "name: desks\n", "agents.yaml": INSTANCES}
    )
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    (lagos,) = [a for a in bimpe.sdk.agents.list() if a.name == "Desk ng"]
    bimpe.sdk.agents.update(lagos.id, description="Edited by hand")

    outcome = bimpe("export", "--stack", stack, "--env", "default", "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.text
    assert 'Warning: agents.desk["ng"]: declared in a way export cannot' in outcome.stderr
    assert "The team is as the stack describes it." not in outcome.output
    assert 'The team differs from the stack in: agents.desk["ng"]' in outcome.output


def test_export_stack_takes_the_vars_the_apply_was_given(
    bimpe: Bimpe, example: Callable[[str], Path], tmp_path: Path
) -> None:
    stack = example("multi-env")
    given = ("--env", "staging", "--var", "suffix= [canary]")
    assert bimpe("apply", stack, *given, "--auto-approve").exit_code == 0
    assert any(a.name == "Kemi, sales [canary]" for a in bimpe.sdk.agents.list())

    outcome = bimpe("export", "--stack", stack, *given, "--out", tmp_path / "out")
    assert outcome.exit_code == 0, outcome.text
    assert diff(stack, tmp_path / "out") == []
    assert "The team is as the stack describes it." in outcome.output
    without_stack = bimpe("export", "--out", tmp_path / "team", "--var", "suffix=x")
    assert without_stack.exit_code == 2
    assert "give --stack" in without_stack.stderr
