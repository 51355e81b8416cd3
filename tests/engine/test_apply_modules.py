"""Modules end to end against the emulator, the team read back through the SDK: a module used
twice makes two workflows and two agents with their own names, each agent on its own use's
workflow; a change to one use's inputs updates only that use's resources; removing a use, or
destroying it with --target module.NAME, deletes only its resources; a `moved:` block takes a
stack's own resources into a module and `state mv` follows a renamed use, nothing recreated;
import records an object under a module address and --adopt finds each use's objects; drift
names module addresses; a sensitive input stays out of plans, apply output and the state; a
second plan is empty each time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Bimpe

MODULE = {
    "module.yaml": """
inputs:
  brand: {type: string}
  persona: {type: string, default: friendly}
  email: {type: string, sensitive: true, default: team-4c8v@shop.example}
""",
    "prompts/storefront.md": "You answer shoppers kindly.\n",
    "shop.yaml": """
workflows:
  storefront: {name: "${var.brand} storefront", system_prompt: {file: prompts/storefront.md}}
agents:
  assistant:
    workflow: storefront
    name: ${var.brand} assistant
    description: Helps ${var.brand} shoppers
    persona: ${var.persona}
    escalation_email: ${var.email}
    knowledge_bases:
      faq: {type: text, name: FAQ, content: "${var.brand} ships in 2 days."}
""",
}
TWO_USES = """
name: brands
environments:
  test: {}
modules:
  kora: {source: ../modules/shop, inputs: {brand: Kora}}
  zuri: {source: ../modules/shop, inputs: {brand: Zuri}}
"""
KORA_INBOX = "kora-5t2w@shop.example"


@pytest.fixture
def stack(make_stack: Callable[[str, dict[str, str]], Path]) -> Path:
    make_stack("modules/shop", MODULE)
    return make_stack("stack", {"stack.yaml": TWO_USES})


def applied(bimpe: Bimpe, stack: Path, *args: str) -> None:
    outcome = bimpe("apply", stack, "--auto-approve", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr


def planned(bimpe: Bimpe, stack: Path, *args: str) -> dict[str, str]:
    """The plan's actions by address, noops left out."""
    outcome = bimpe("plan", stack, "--format", "json", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    document: dict[str, Any] = json.loads(outcome.output)
    return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}


def converged(bimpe: Bimpe, stack: Path) -> bool:
    return bimpe("plan", stack, "--detailed-exitcode").exit_code == 0


def agents(bimpe: Bimpe) -> dict[str, Any]:
    return {a.name: a for a in bimpe.sdk.agents.list().data}


def workflows(bimpe: Bimpe) -> dict[str, str]:
    """The team's own workflows' ids by name."""
    return {w.name: w.id for w in bimpe.sdk.workflows.list(scope="owned").data}


def state_addresses(stack: Path) -> set[str]:
    document = json.loads((stack / ".bimpe" / "state" / "brands" / "test.json").read_text())
    return set(document["resources"])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_module_used_twice_makes_two_sets_of_resources(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)

    made = agents(bimpe)
    assert set(made) == {"Kora assistant", "Zuri assistant"}
    flows = workflows(bimpe)
    assert set(flows) == {"Kora storefront", "Zuri storefront"}
    for brand in ("Kora", "Zuri"):
        agent = made[f"{brand} assistant"]
        assert agent.workflow_id == flows[f"{brand} storefront"]
        assert agent.persona == "friendly"
        faq = bimpe.sdk.agents.knowledge_bases.list(agent.id)
        assert [kb.content for kb in faq] == [f"{brand} ships in 2 days."]
    assert converged(bimpe, stack)


def test_a_change_to_one_use_updates_only_its_resources(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    before = {name: agent.id for name, agent in agents(bimpe).items()}
    edit(stack / "stack.yaml", "inputs: {brand: Zuri}", "inputs: {brand: Zuri, persona: concise}")

    assert planned(bimpe, stack) == {"module.zuri.agents.assistant": "update"}
    applied(bimpe, stack)

    after = agents(bimpe)
    assert {name: agent.id for name, agent in after.items()} == before
    assert after["Zuri assistant"].persona == "concise"
    assert after["Kora assistant"].persona == "friendly"
    assert converged(bimpe, stack)


def test_removing_a_use_deletes_only_its_resources(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    kora = agents(bimpe)["Kora assistant"].id
    edit(stack / "stack.yaml", "  zuri: {source: ../modules/shop, inputs: {brand: Zuri}}\n", "")

    assert set(planned(bimpe, stack).values()) == {"delete"}
    applied(bimpe, stack)

    assert [agent.id for agent in agents(bimpe).values()] == [kora]
    assert set(workflows(bimpe)) == {"Kora storefront"}
    assert all(a.startswith("module.kora.") for a in state_addresses(stack))
    assert converged(bimpe, stack)


def test_a_use_is_a_target(bimpe: Bimpe, stack: Path) -> None:
    assert set(planned(bimpe, stack, "--target", "module.zuri.agents.assistant")) == {
        "module.zuri.workflows.storefront",
        "module.zuri.agents.assistant",
        "module.zuri.agents.assistant.knowledge_bases.faq",
    }
    applied(bimpe, stack, "--target", "module.kora")
    assert set(agents(bimpe)) == {"Kora assistant"}
    applied(bimpe, stack)

    destroyed = bimpe("destroy", stack, "--target", "module.kora", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr

    assert set(agents(bimpe)) == {"Zuri assistant"}
    assert set(workflows(bimpe)) == {"Zuri storefront"}
    assert planned(bimpe, stack, "--target", "module.zuri") == {}


def test_a_moved_block_takes_the_stacks_resources_into_a_module(bimpe: Bimpe, stack: Path) -> None:
    inputs = {"brand": "Kora", "persona": "friendly", "email": "team-4c8v@shop.example"}
    own = MODULE["shop.yaml"]
    for name, value in inputs.items():
        own = own.replace(f"${{var.{name}}}", value)
    (stack / "prompts").mkdir()
    (stack / "prompts" / "storefront.md").write_text(MODULE["prompts/storefront.md"])
    (stack / "shop.yaml").write_text(own)
    edit(stack / "stack.yaml", "  kora: {source: ../modules/shop, inputs: {brand: Kora}}\n", "")
    applied(bimpe, stack)
    kora = agents(bimpe)["Kora assistant"].id

    (stack / "shop.yaml").write_text(
        "moved:\n"
        "  - {from: workflows.storefront, to: module.kora.workflows.storefront}\n"
        "  - {from: agents.assistant, to: module.kora.agents.assistant}\n"
    )
    edit(
        stack / "stack.yaml",
        "modules:\n",
        "modules:\n  kora: {source: ../modules/shop, inputs: {brand: Kora}}\n",
    )

    assert planned(bimpe, stack) == {}
    applied(bimpe, stack)

    assert agents(bimpe)["Kora assistant"].id == kora
    assert "module.kora.agents.assistant.knowledge_bases.faq" in state_addresses(stack)
    assert not any(a.startswith("agents.") for a in state_addresses(stack))
    assert converged(bimpe, stack)


def test_state_mv_follows_a_renamed_use(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    zuri = agents(bimpe)["Zuri assistant"].id
    edit(stack / "stack.yaml", "  zuri:", "  zuri_ke:")

    for address in ("workflows.storefront", "agents.assistant"):
        moved = bimpe("state", "mv", f"module.zuri.{address}", f"module.zuri_ke.{address}", stack)
        assert moved.exit_code == 0, moved.output + moved.stderr

    assert planned(bimpe, stack) == {}
    assert agents(bimpe)["Zuri assistant"].id == zuri
    assert "module.zuri_ke.agents.assistant.knowledge_bases.faq" in state_addresses(stack)


def test_import_records_an_object_under_a_module_address(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    kora = agents(bimpe)["Kora assistant"].id
    address = "module.kora.agents.assistant"
    forgotten = bimpe("state", "rm", address, stack)
    assert forgotten.exit_code == 0, forgotten.output + forgotten.stderr

    imported = bimpe("import", address, kora, stack)
    assert imported.exit_code == 0, imported.output + imported.stderr

    faq = bimpe.sdk.agents.knowledge_bases.list(kora)[0].id
    assert bimpe("import", f"{address}.knowledge_bases.faq", faq, stack).exit_code == 0
    assert planned(bimpe, stack) == {}


def test_a_sensitive_input_stays_out_of_output_and_state(bimpe: Bimpe, stack: Path) -> None:
    edit(
        stack / "stack.yaml",
        "inputs: {brand: Kora}",
        f"inputs: {{brand: Kora, email: {KORA_INBOX}}}",
    )

    shown = [bimpe("plan", stack), bimpe("plan", stack, "--format", "json")]
    shown.append(bimpe("apply", stack, "--auto-approve"))

    assert all(outcome.exit_code == 0 for outcome in shown)
    assert all(KORA_INBOX not in outcome.text for outcome in shown)
    assert '+ escalation_email: "(sensitive)"' in shown[0].output
    state = (stack / ".bimpe" / "state" / "brands" / "test.json").read_text()
    assert KORA_INBOX not in state and "team-4c8v@shop.example" not in state
    assert agents(bimpe)["Kora assistant"].escalation_email == KORA_INBOX
    assert agents(bimpe)["Zuri assistant"].escalation_email == "team-4c8v@shop.example"


def test_adopt_finds_each_uses_objects_by_their_names(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    ids = {name: agent.id for name, agent in agents(bimpe).items()}
    (stack / ".bimpe" / "state" / "brands" / "test.json").unlink()

    adopted = planned(bimpe, stack, "--adopt")

    assert set(adopted.values()) == {"import"}
    assert {a for a in adopted if a.endswith(".agents.assistant")} == {
        "module.kora.agents.assistant",
        "module.zuri.agents.assistant",
    }
    applied(bimpe, stack, "--adopt")
    assert {name: agent.id for name, agent in agents(bimpe).items()} == ids
    assert converged(bimpe, stack)


def test_drift_names_the_module_address(bimpe: Bimpe, stack: Path) -> None:
    applied(bimpe, stack)
    bimpe.sdk.agents.update(agents(bimpe)["Zuri assistant"].id, persona="concise")

    drift = bimpe("drift", stack)

    assert drift.exit_code == 2, drift.output + drift.stderr
    assert "  ~ module.zuri.agents.assistant  [id=" in drift.output
    assert "module.kora" not in drift.output
    applied(bimpe, stack)
    assert agents(bimpe)["Zuri assistant"].persona == "friendly"
