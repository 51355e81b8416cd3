"""Adoption and import against the emulator: `plan --adopt` on a team that already holds the
stack's resources proposes imports and creates nothing; `apply --adopt` imports them (also
from a saved plan) and the next plan is empty; an adopted resource that differs is imported
and updated in one step; a name two live objects share, or one the state manages at another
address, is never adopted. `import ADDRESS ID` records one object with its live values, so the
next plan shows only its differences, and refuses what it cannot import."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Bimpe


def built_by_hand(bimpe: Bimpe, stack: Path) -> None:
    """The stack's resources exist in BimpeAI, but no state knows them."""
    applied = bimpe("apply", stack, "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    shutil.rmtree(stack / ".bimpe" / "state")


def plan_json(bimpe: Bimpe, stack: Path, *args: str) -> dict[str, Any]:
    planned = bimpe("plan", stack, "--format", "json", *args)
    assert planned.exit_code == 0, planned.output + planned.stderr
    document: dict[str, Any] = json.loads(planned.output)
    return document


def actions(document: dict[str, Any]) -> dict[str, str]:
    return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}


def team(bimpe: Bimpe) -> tuple[int, int]:
    agents = bimpe.sdk.agents.list().data
    workflows = bimpe.sdk.workflows.list(scope="owned").data
    return len(agents), len(workflows)


def agent_named(bimpe: Bimpe, name: str) -> Any:
    return next(a for a in bimpe.sdk.agents.list().data if a.name == name)


MANAGED = [
    "agents.bot",
    "agents.bot.actions",
    "agents.bot.knowledge_bases.faq",
    "agents.bot.knowledge_bases.site",
    "agents.bot.live_status",
    "agents.catalog-bot",
    "workflows.main",
]


def test_adopt_proposes_imports_and_creates_nothing(bimpe: Bimpe, full_stack: Path) -> None:
    built_by_hand(bimpe, full_stack)
    without = actions(plan_json(bimpe, full_stack, "--allow-duplicates", "--take-over-numbers"))
    assert [without[address] for address in MANAGED] == ["create"] * len(MANAGED)

    document = plan_json(bimpe, full_stack, "--adopt")
    assert actions(document) == dict.fromkeys(MANAGED, "import")
    assert document["summary"] == {"import": 7, "add": 0, "change": 0, "destroy": 0}
    text = bimpe("plan", full_stack, "--adopt").output
    assert "# agents.bot will be imported" in text
    assert "Plan: 7 to import, 0 to add, 0 to change, 0 to destroy." in text

    before = team(bimpe)
    applied = bimpe("apply", full_stack, "--adopt", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Apply complete! Resources: 7 imported, 0 added, 0 changed, 0 destroyed." in (
        applied.output
    )
    assert team(bimpe) == before
    again = bimpe("plan", full_stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    listed = bimpe("state", "list", full_stack).output
    assert 'phone_numbers."+15550100001"' in listed
    assert agent_named(bimpe, "Full bot").id in listed


def test_an_adopted_resource_that_differs_is_imported_then_updated(
    bimpe: Bimpe, full_stack: Path
) -> None:
    built_by_hand(bimpe, full_stack)
    manifest = full_stack / "resources.yaml"
    manifest.write_text(manifest.read_text().replace("persona: concise", "persona: friendly"))
    document = plan_json(bimpe, full_stack, "--adopt")
    bot = next(c for c in document["changes"] if c["address"] == "agents.bot")
    assert bot["action"] == "import"
    assert bot["fields"] == [{"field": "persona", "before": "concise", "after": "friendly"}]
    assert document["summary"] == {"import": 7, "add": 0, "change": 1, "destroy": 0}
    assert (
        "agents.bot will be imported, then updated in place"
        in bimpe("plan", full_stack, "--adopt").output
    )

    applied = bimpe("apply", full_stack, "--adopt", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert agent_named(bimpe, "Full bot").persona == "friendly"
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0


def test_a_saved_adopt_plan_applies_exactly(bimpe: Bimpe, full_stack: Path, tmp_path: Path) -> None:
    built_by_hand(bimpe, full_stack)
    saved = tmp_path / "adopt.plan.json"
    assert bimpe("plan", full_stack, "--adopt", "--out", saved).exit_code == 0
    before = team(bimpe)
    applied = bimpe("apply", full_stack, "--plan", saved)
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert team(bimpe) == before
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0


def test_a_shared_name_is_an_error_naming_both(bimpe: Bimpe, full_stack: Path) -> None:
    built_by_hand(bimpe, full_stack)
    original = agent_named(bimpe, "Catalog bot")
    twin = bimpe.sdk.agents.create(
        name="Catalog bot", description="A twin", workflow_id=original.workflow_id
    )
    refused = bimpe("plan", full_stack, "--adopt")
    assert refused.exit_code == 1
    assert "agents.catalog-bot: cannot adopt: 2 live agents named 'Catalog bot'" in refused.stderr
    assert original.id in refused.stderr and twin.id in refused.stderr
    assert "bimpe-iac import agents.catalog-bot ID" in refused.stderr


def test_an_object_managed_elsewhere_is_never_adopted(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    manifest = full_stack / "resources.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "phone_numbers:",
            "  same-name:\n    workflow: main\n    name: Full bot\n    description: Twin\n"
            "phone_numbers:",
        )
    )
    assert actions(plan_json(bimpe, full_stack, "--adopt")) == {"agents.same-name": "create"}


def test_import_records_live_values_so_plan_shows_only_differences(
    bimpe: Bimpe, full_stack: Path
) -> None:
    built_by_hand(bimpe, full_stack)
    bot = agent_named(bimpe, "Full bot")
    bimpe.sdk.agents.update(bot.id, persona="friendly")

    assert bimpe("import", "workflows.main", bot.workflow_id, full_stack).exit_code == 0
    imported = bimpe("import", "agents.bot", bot.id, full_stack)
    assert imported.exit_code == 0, imported.output + imported.stderr
    assert f"agents.bot: Import complete [id={bot.id}]" in imported.output
    assert "Not imported with it: agents.bot.actions, agents.bot.knowledge_bases.faq" in (
        imported.output
    )
    # The catalog bot is still unmanaged: this plan would make its twin, and says so.
    document = plan_json(bimpe, full_stack, "--allow-duplicates")
    bot_change = next(c for c in document["changes"] if c["address"] == "agents.bot")
    assert bot_change["action"] == "update"
    assert bot_change["fields"] == [{"field": "persona", "before": "friendly", "after": "concise"}]
    assert bot_change["drift"] == []

    faq = next(kb for kb in bimpe.sdk.agents.knowledge_bases.list(bot.id) if kb.name == "FAQ")
    address = "agents.bot.knowledge_bases.faq"
    assert bimpe("import", address, faq.id, full_stack).exit_code == 0
    assert address not in actions(plan_json(bimpe, full_stack, "--allow-duplicates"))


def test_import_refuses_what_it_cannot_import(bimpe: Bimpe, full_stack: Path) -> None:
    built_by_hand(bimpe, full_stack)
    bot = agent_named(bimpe, "Full bot")
    catalog = agent_named(bimpe, "Catalog bot")
    faq = next(kb for kb in bimpe.sdk.agents.knowledge_bases.list(bot.id) if kb.name == "FAQ")

    def refused(*args: str) -> str:
        outcome = bimpe("import", *args, full_stack)
        assert outcome.exit_code == 1, outcome.output
        return outcome.stderr

    assert "agents.nobody is not in the manifests of full (test)" in refused(
        "agents.nobody", bot.id
    )
    assert "BimpeAI has no agent agt_missing" in refused("agents.bot", "agt_missing")
    assert "BimpeAI has no workflow" in refused("workflows.main", bot.id)
    kb = "agents.bot.knowledge_bases.faq"
    assert f"{kb} belongs to agents.bot: import agents.bot first" in refused(kb, faq.id)

    assert bimpe("import", "agents.bot", bot.id, full_stack).exit_code == 0
    assert "agents.bot is already in the state" in refused("agents.bot", catalog.id)
    assert f"{bot.id} is already in the state, as agents.bot" in refused(
        "agents.catalog-bot", bot.id
    )
    assert "has the id of agents.bot: import it as" in refused("agents.bot.actions", faq.id)
