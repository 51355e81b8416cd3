"""Lifecycle settings are changes: adding or removing `prevent_destroy`, or changing
`ignore_changes`, plans a state-only update (shown, counted, no request to BimpeAI) that apply
saves; protection follows the manifests while they declare a resource and the state once they
no longer do, in destroy too; and the README's advice for a protected resource works when
followed word for word."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe

CATALOG = "    name: Catalog bot\n"
ADVICE = "set `prevent_destroy: false` on it and apply before removing it"


def state_entry(stack: Path, address: str, name: str = "full", env: str = "test") -> Any:
    document = json.loads((stack / ".bimpe" / "state" / name / f"{env}.json").read_text())
    return document["resources"][address]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def applied(bimpe: Bimpe, stack: Path, *args: str) -> str:
    outcome = bimpe("apply", stack, "--auto-approve", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    return outcome.output


def writes(bimpe: Bimpe) -> dict[str, int]:
    requests = Admin(bimpe.running).counters()["requests"]
    return {k: v for k, v in requests.items() if not k.startswith("GET")}


def test_adding_prevent_destroy_is_a_state_only_change_that_apply_saves(
    bimpe: Bimpe, full_stack: Path
) -> None:
    applied(bimpe, full_stack)
    manifest = full_stack / "resources.yaml"
    edit(manifest, CATALOG, CATALOG + "    lifecycle: {prevent_destroy: true}\n")

    text = bimpe("plan", full_stack, "--detailed-exitcode")
    assert text.exit_code == 2, text.output + text.stderr
    assert "# agents.catalog-bot will be updated in the state only" in text.output
    assert "(state only)" in text.output
    assert "~ lifecycle.prevent_destroy: false -> true" in text.output
    assert text.output.splitlines()[-1] == "Plan: 0 to add, 1 to change, 0 to destroy."
    document = json.loads(bimpe("plan", full_stack, "--format", "json").output)
    acting = [c for c in document["changes"] if c["action"] != "noop"]
    assert [(c["address"], c["action"], c["fields"]) for c in acting] == [
        ("agents.catalog-bot", "update", [])
    ]
    assert acting[0]["lifecycle"] == [
        {"field": "lifecycle.prevent_destroy", "before": False, "after": True}
    ]
    assert document["summary"] == {"add": 0, "change": 1, "destroy": 0}
    markdown = bimpe("plan", full_stack, "--format", "markdown").output
    assert "`lifecycle.prevent_destroy` (state only)" in markdown

    agent = next(a for a in bimpe.sdk.agents.list().data if a.name == "Catalog bot")
    Admin(bimpe.running).reset_counters()
    output = applied(bimpe, full_stack)
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in output
    assert writes(bimpe) == {}
    assert bimpe.sdk.agents.retrieve(agent.id).updated_at == agent.updated_at
    assert state_entry(full_stack, "agents.catalog-bot")["prevent_destroy"] is True
    again = bimpe("plan", full_stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("No changes.")

    # Protected by the state now that the block is gone: removing the agent is refused.
    kept = manifest.read_text()
    kept = kept[: kept.index("  catalog-bot:\n")] + kept[kept.index("phone_numbers:") :]
    manifest.write_text(kept)
    refused = bimpe("apply", full_stack, "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy forbids destroying agents.catalog-bot" in refused.stderr
    assert "Catalog bot" in {a.name for a in bimpe.sdk.agents.list().data}


def test_removing_protection_then_the_resource_deletes_it(bimpe: Bimpe, full_stack: Path) -> None:
    manifest = full_stack / "resources.yaml"
    edit(manifest, CATALOG, CATALOG + "    lifecycle: {prevent_destroy: true}\n")
    applied(bimpe, full_stack)
    assert state_entry(full_stack, "agents.catalog-bot")["prevent_destroy"] is True
    # The advice, word for word: set `prevent_destroy: false`, apply, then remove it.
    edit(manifest, "lifecycle: {prevent_destroy: true}", "lifecycle: {prevent_destroy: false}")
    output = applied(bimpe, full_stack)
    assert "~ lifecycle.prevent_destroy: true -> false" in output
    assert state_entry(full_stack, "agents.catalog-bot")["prevent_destroy"] is False
    text = manifest.read_text()
    manifest.write_text(
        text[: text.index("  catalog-bot:\n")] + text[text.index("phone_numbers:") :]
    )
    output = applied(bimpe, full_stack)
    assert "Resources: 0 added, 0 changed, 1 destroyed." in output
    assert "Catalog bot" not in {a.name for a in bimpe.sdk.agents.list().data}


def test_changing_ignore_changes_is_saved(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    manifest = full_stack / "resources.yaml"
    edit(manifest, CATALOG, CATALOG + "    lifecycle: {ignore_changes: [description]}\n")
    planned = bimpe("plan", full_stack)
    assert '~ lifecycle.ignore_changes: [] -> ["description"]' in planned.output
    assert planned.output.splitlines()[-1] == "Plan: 0 to add, 1 to change, 0 to destroy."
    applied(bimpe, full_stack)
    assert state_entry(full_stack, "agents.catalog-bot")["ignore_changes"] == ["description"]
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0
    edit(manifest, "    lifecycle: {ignore_changes: [description]}\n", "")
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 2
    applied(bimpe, full_stack)
    assert state_entry(full_stack, "agents.catalog-bot")["ignore_changes"] == []


def test_destroy_follows_the_manifests_lifecycle(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    manifest = full_stack / "resources.yaml"
    # Declared protected, not applied yet: destroy still refuses it.
    edit(manifest, CATALOG, CATALOG + "    lifecycle: {prevent_destroy: true}\n")
    refused = bimpe("destroy", full_stack, "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy forbids destroying agents.catalog-bot" in refused.stderr
    refused = bimpe("plan", full_stack, "--destroy")
    assert refused.exit_code == 1
    assert sorted(a.name for a in bimpe.sdk.agents.list().data) == ["Catalog bot", "Full bot"]


def test_the_readme_advice_lets_the_support_example_be_destroyed(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    applied(bimpe, stack)
    refused = bimpe("destroy", stack, "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy forbids destroying agents.support-bot" in refused.stderr
    assert ADVICE in refused.stderr

    edit(stack / "support.yaml", "prevent_destroy: true", "prevent_destroy: false")
    output = applied(bimpe, stack)
    assert "~ lifecycle.prevent_destroy: true -> false" in output
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in output

    destroyed = bimpe("destroy", stack, "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr
    assert (
        destroyed.output.rstrip()
        .splitlines()[-1]
        .startswith("Destroy complete! Resources: 7 destroyed.")
    )
    assert bimpe.sdk.agents.list().data == []
    names = {w.name for w in bimpe.sdk.workflows.list().data}
    assert "Customer support triage" not in names
    numbers = {n.e164: n.agent_id for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+2348012345678"] is None


def test_a_saved_state_only_plan_applies(bimpe: Bimpe, full_stack: Path, tmp_path: Path) -> None:
    applied(bimpe, full_stack)
    edit(
        full_stack / "resources.yaml", CATALOG, CATALOG + "    lifecycle: {prevent_destroy: true}\n"
    )
    saved = tmp_path / "lifecycle.plan.json"
    assert bimpe("plan", full_stack, "--out", saved).exit_code == 0
    output = applied(bimpe, full_stack, "--plan", str(saved))
    assert "Apply complete! Resources: 0 added, 1 changed, 0 destroyed." in output
    assert state_entry(full_stack, "agents.catalog-bot")["prevent_destroy"] is True
