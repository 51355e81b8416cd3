"""`--target` as Terraform users expect it, against the emulator: for plan and apply, the
target and what it needs to exist (an agent's children come with it); for destroy, the target
and whatever depends on it, never what it needs. The plan lists exactly that set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Bimpe

RESOURCES = """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
  sales: {name: Sales, system_prompt: Sell politely.}
agents:
  desk:
    workflow: triage
    name: Desk
    description: Front desk
    live_status: live
    actions: [send_email]
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Open 8 to 8.}
      returns: {type: text, name: Returns, content: Within 30 days.}
  night:
    workflow: triage
    name: Night
    description: After hours
  seller:
    workflow: sales
    name: Seller
    description: Sales line
phone_numbers:
  "+15550100001": {agent: desk, label: Main line}
"""
DESK = [
    "agents.desk",
    "agents.desk.actions",
    "agents.desk.knowledge_bases.faq",
    "agents.desk.knowledge_bases.returns",
    "agents.desk.live_status",
]
LINK = 'phone_numbers."+15550100001"'


@pytest.fixture
def stack(make_stack: Callable[[str, dict[str, str]], Path]) -> Path:
    return make_stack("targets", {"stack.yaml": "name: targets\n", "resources.yaml": RESOURCES})


def planned(bimpe: Bimpe, stack: Path, *args: str) -> dict[str, Any]:
    outcome = bimpe("plan", stack, "--format", "json", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    document: dict[str, Any] = json.loads(outcome.output)
    return document


def addresses(document: dict[str, Any]) -> list[str]:
    return sorted(change["address"] for change in document["changes"])


def applied(bimpe: Bimpe, stack: Path, *args: str) -> str:
    outcome = bimpe("apply", stack, "--auto-approve", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    return outcome.output


def agents(bimpe: Bimpe) -> dict[str, Any]:
    return {agent.name: agent for agent in bimpe.sdk.agents.list().data}


def workflow_names(bimpe: Bimpe) -> list[str]:
    return sorted(w.name for w in bimpe.sdk.workflows.list().data if w.name in ("Triage", "Sales"))


def test_destroy_target_of_one_knowledge_base_destroys_exactly_it(
    bimpe: Bimpe, stack: Path
) -> None:
    applied(bimpe, stack)
    target = "agents.desk.knowledge_bases.faq"
    assert addresses(planned(bimpe, stack, "--destroy", "--target", target)) == [target]
    text = bimpe("plan", stack, "--destroy", "--target", target).output
    assert text.splitlines()[-1] == "Plan: 0 to add, 0 to change, 1 to destroy."

    destroyed = bimpe("destroy", stack, "--target", target, "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr
    assert "Destroy complete! Resources: 1 destroyed." in destroyed.output

    team = agents(bimpe)
    assert sorted(team) == ["Desk", "Night", "Seller"]
    desk = team["Desk"]
    assert desk.status == "live"
    kbs = bimpe.sdk.agents.knowledge_bases.list(desk.id)
    assert [kb.name for kb in kbs] == ["Returns"]
    enabled = [a.action_name for a in bimpe.sdk.agents.actions.list(desk.id) if a.is_enabled]
    assert enabled == ["send_email"]
    assert workflow_names(bimpe) == ["Sales", "Triage"]
    numbers = {n.e164: n.agent_id for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+15550100001"] == desk.id
    # What stays is still managed as it was: nothing else to do but re-create the one KB.
    again = planned(bimpe, stack)
    acting = {c["address"]: c["action"] for c in again["changes"] if c["action"] != "noop"}
    assert acting == {target: "create"}


def test_destroy_target_of_a_workflow_takes_the_agents_that_use_it(
    bimpe: Bimpe, stack: Path
) -> None:
    applied(bimpe, stack)
    expected = sorted([*DESK, "agents.night", LINK, "workflows.triage"])
    assert addresses(planned(bimpe, stack, "--destroy", "--target", "workflows.triage")) == (
        expected
    )

    destroyed = bimpe("destroy", stack, "--target", "workflows.triage", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr
    assert f"Destroy complete! Resources: {len(expected)} destroyed." in destroyed.output
    assert sorted(agents(bimpe)) == ["Seller"]
    assert workflow_names(bimpe) == ["Sales"]
    numbers = {n.e164: n.agent_id for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+15550100001"] is None


def test_destroy_target_of_an_agent_takes_its_children_and_links_not_its_workflow(
    bimpe: Bimpe, stack: Path
) -> None:
    applied(bimpe, stack)
    document = planned(bimpe, stack, "--destroy", "--target", "agents.desk")
    assert addresses(document) == sorted([*DESK, LINK])
    assert {c["action"] for c in document["changes"]} == {"delete"}


def test_targeted_apply_of_a_new_agents_knowledge_base_creates_what_it_needs(
    bimpe: Bimpe, stack: Path
) -> None:
    target = "agents.desk.knowledge_bases.faq"
    document = planned(bimpe, stack, "--target", target)
    assert addresses(document) == ["agents.desk", target, "workflows.triage"]
    assert document["summary"] == {"add": 3, "change": 0, "destroy": 0}

    applied(bimpe, stack, "--target", target)
    team = agents(bimpe)
    assert sorted(team) == ["Desk"]
    assert [kb.name for kb in bimpe.sdk.agents.knowledge_bases.list(team["Desk"].id)] == ["FAQ"]
    assert workflow_names(bimpe) == ["Triage"]


def test_targeting_an_agent_takes_its_children_and_what_it_needs(bimpe: Bimpe, stack: Path) -> None:
    document = planned(bimpe, stack, "--target", "agents.desk")
    # Going live waits for the phone link when both change, but does not need it: the link
    # is left out, as are the other agents of the workflow.
    assert addresses(document) == sorted([*DESK, "workflows.triage"])
    text = bimpe("plan", stack, "--target", "agents.desk").output
    listed = sorted(line.split()[1] for line in text.splitlines() if line.startswith("  # "))
    assert listed == sorted([*DESK, "workflows.triage"])


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("plan", "Only this address, its children and what they need"),
        ("apply", "Only this address, its children and what they need"),
        ("destroy", "Only this address and whatever depends on it"),
    ],
)
def test_help_says_what_a_target_takes(bimpe: Bimpe, command: str, words: str) -> None:
    helped = bimpe(command, "--help")
    assert helped.exit_code == 0
    assert words in " ".join(helped.output.split())


def test_a_saved_targeted_plan_applies_as_it_was_planned(
    bimpe: Bimpe, stack: Path, tmp_path: Path
) -> None:
    target = "agents.desk.knowledge_bases.faq"
    saved = tmp_path / "faq.plan.json"
    made = bimpe("plan", stack, "--target", target, "--out", saved)
    assert made.exit_code == 0, made.output + made.stderr
    assert json.loads(saved.read_text())["targets"] == [target]
    applied(bimpe, stack, "--plan", str(saved))
    team = agents(bimpe)
    assert sorted(team) == ["Desk"]
    assert [kb.name for kb in bimpe.sdk.agents.knowledge_bases.list(team["Desk"].id)] == ["FAQ"]

    applied(bimpe, stack)
    destroy_plan = tmp_path / "destroy.plan.json"
    made = bimpe("plan", stack, "--destroy", "--target", "agents.night", "--out", destroy_plan)
    assert made.exit_code == 0, made.output + made.stderr
    applied(bimpe, stack, "--plan", str(destroy_plan))
    assert sorted(agents(bimpe)) == ["Desk", "Seller"]


def test_destroying_a_target_the_state_does_not_manage_says_so(bimpe: Bimpe, stack: Path) -> None:
    refused = bimpe("destroy", stack, "--target", "agents.desk", "--auto-approve")
    assert refused.exit_code == 1
    assert (
        "Error: --target agents.desk: the state manages nothing there, so nothing to destroy"
        in refused.stderr
    )
    assert "Traceback" not in refused.stderr
    unknown = bimpe("plan", stack, "--destroy", "--target", "agents.nobody")
    assert unknown.exit_code == 1
    assert "--target agents.nobody: no such resource in the manifest or state" in unknown.stderr
