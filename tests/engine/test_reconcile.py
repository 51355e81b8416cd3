"""Reconciliation end to end against the emulator: every field of every kind converges to an
empty plan; a single field change is exactly one update; removals delete children first;
prevent_destroy survives the removal of its block; saved plans are applied exactly and refused
when stale; multi-env applies for both environments without leaking its sensitive var."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Bimpe


def plan_summary(output: str) -> str:
    found = re.search(r"^(Plan: .*|No changes\..*)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def test_every_field_of_every_kind_converges(bimpe: Bimpe, full_stack: Path) -> None:
    applied = bimpe("apply", full_stack, "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    again = bimpe("plan", full_stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert plan_summary(again.output).startswith("No changes.")
    agents = {a.name: a for a in bimpe.sdk.agents.list().data}
    assert agents["Full bot"].status == "paused"
    assert agents["Full bot"].status_reason == "Waiting for launch"
    public = {w.name: w.id for w in bimpe.sdk.workflows.list(scope="public").data}
    assert agents["Catalog bot"].workflow_id == public["Customer Support Triage"]


EDITS = [
    ("description: Everything a workflow can say", "description: Changed", "workflows.main"),
    ("tags: [b-tag, a-tag]", "tags: [a-tag, c-tag]", "workflows.main"),
    ("response: Sorry about that.", "response: Very sorry.", "workflows.main"),
    ("      - name: Hours", "      - name: Opening hours", "workflows.main"),
    ("persona: concise", "persona: friendly", "agents.bot"),
    ("business_email: hello@example.com", "business_email: hi@example.com", "agents.bot"),
    ("actions: [send_email, escalate_to_human]", "actions: [send_email]", "agents.bot.actions"),
    ("live_status: paused", "live_status: live", "agents.bot.live_status"),
    ("description: Common questions", "description: FAQs", "agents.bot.knowledge_bases.faq"),
    (
        "url: https://example.com/help",
        "url: https://example.com/faq",
        "agents.bot.knowledge_bases.site",
    ),
    ("label: Main line", "label: Sales line", 'phone_numbers."+15550100001"'),
]


@pytest.mark.parametrize(
    ("old", "new", "address"), EDITS, ids=[f"{e[2]}:{e[0][:20]}" for e in EDITS]
)
def test_one_field_change_is_exactly_one_update(
    bimpe: Bimpe, full_stack: Path, old: str, new: str, address: str
) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    manifest = full_stack / "resources.yaml"
    assert old in manifest.read_text()
    manifest.write_text(manifest.read_text().replace(old, new))
    planned = bimpe("plan", full_stack, "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    document = json.loads(planned.output)
    actionable = [c for c in document["changes"] if c["action"] != "noop"]
    assert [(c["address"], c["action"]) for c in actionable] == [(address, "update")]
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    assert plan_summary(bimpe("plan", full_stack).output).startswith("No changes.")


def test_prompt_edit_shows_a_line_diff_not_two_blobs(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    prompt = full_stack / "prompts/main.md"
    prompt.write_text("You are a careful assistant.\nAnswer in two sentences.\n")
    planned = bimpe("plan", full_stack)
    assert "[-briefly.-]{+in two sentences.+}" in planned.output.replace(" ", "") or (
        "briefly" in planned.output and "two sentences" in planned.output
    )
    assert planned.output.count("careful assistant") == 1
    assert plan_summary(planned.output) == "Plan: 0 to add, 1 to change, 0 to destroy."


def test_knowledge_base_type_change_is_a_replace(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    manifest = full_stack / "resources.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "site: {type: url, name: Site, description: Our site, url: https://example.com/help}",
            "site: {type: text, name: Site, description: Our site, content: Now inline.}",
        )
    )
    planned = bimpe("plan", full_stack)
    assert "must be replaced" in planned.output
    assert plan_summary(planned.output) == "Plan: 1 to add, 0 to change, 1 to destroy."
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    agent = next(a for a in bimpe.sdk.agents.list().data if a.name == "Full bot")
    kinds = {kb.name: kb.type for kb in bimpe.sdk.agents.knowledge_bases.list(agent.id)}
    assert kinds == {"FAQ": "text", "Site": "text"}


def test_removed_agent_is_deleted_children_first(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    manifest = full_stack / "resources.yaml"
    text = manifest.read_text()
    start = text.index("  bot:\n")
    end = text.index("  catalog-bot:\n")
    text = text[:start] + text[end:]
    text = text[: text.index("phone_numbers:")]
    manifest.write_text(text)
    applied = bimpe("apply", full_stack, "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    lines = [line for line in applied.output.splitlines() if "Destruction complete" in line]
    order = [line.split(":")[0] for line in lines]
    assert order.index("agents.bot.knowledge_bases.faq") < order.index("agents.bot")
    assert order.index('phone_numbers."+15550100001"') < order.index("agents.bot")
    assert [a.name for a in bimpe.sdk.agents.list().data] == ["Catalog bot"]
    numbers = {n.e164: n.agent_id for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+15550100001"] is None


def test_prevent_destroy_holds_after_its_block_is_removed(bimpe: Bimpe, full_stack: Path) -> None:
    manifest = full_stack / "resources.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    name: Catalog bot\n",
            "    name: Catalog bot\n    lifecycle: {prevent_destroy: true}\n",
        )
    )
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    text = manifest.read_text()
    kept = text[: text.index("  catalog-bot:\n")] + text[text.index("phone_numbers:") :]
    manifest.write_text(kept)
    refused = bimpe("apply", full_stack, "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy forbids destroying agents.catalog-bot" in refused.stderr
    assert "Catalog bot" in {a.name for a in bimpe.sdk.agents.list().data}


def test_saved_plan_is_applied_exactly_and_refused_when_stale(
    bimpe: Bimpe, full_stack: Path, tmp_path: Path
) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    manifest = full_stack / "resources.yaml"
    manifest.write_text(manifest.read_text().replace("persona: concise", "persona: friendly"))
    saved = tmp_path / "change.plan.json"
    assert bimpe("plan", full_stack, "--out", saved).exit_code == 0
    agent = next(a for a in bimpe.sdk.agents.list().data if a.name == "Full bot")
    bimpe.sdk.agents.update(agent.id, description="Edited by hand in the Console")
    refused = bimpe("apply", full_stack, "--plan", saved)
    assert refused.exit_code == 1
    assert "stale" in refused.stderr and "agents.bot" in refused.stderr
    assert bimpe.sdk.agents.retrieve(agent.id).persona == "concise"

    fresh = tmp_path / "fresh.plan.json"
    assert bimpe("plan", full_stack, "--out", fresh).exit_code == 0
    applied = bimpe("apply", full_stack, "--plan", fresh)
    assert applied.exit_code == 0, applied.output + applied.stderr
    restored = bimpe.sdk.agents.retrieve(agent.id)
    assert restored.persona == "friendly"
    assert restored.description == "Uses every agent field"


def test_multi_env_applies_both_environments_and_keeps_the_secret_out(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("multi-env")
    for env in ("staging", "prod"):
        applied = bimpe("apply", stack, "--env", env, "--auto-approve")
        assert applied.exit_code == 0, applied.output + applied.stderr
        assert "oncall-7f3k9" not in applied.output + applied.stderr
        again = bimpe("plan", stack, "--env", env, "--detailed-exitcode")
        assert again.exit_code == 0, again.output
    names = sorted(a.name for a in bimpe.sdk.agents.list().data)
    assert names == [
        "Ada, VIP concierge",
        "Kemi, sales",
        "Kemi, sales [staging]",
        "Kofi, support",
        "Kofi, support [staging]",
        "Kora Accra",
        "Kora Lagos",
        "Kora Lagos [staging]",
    ]
    for state in (stack / ".bimpe" / "state").rglob("*.json"):
        assert "oncall-7f3k9" not in state.read_text()


def test_apply_plan_file_from_the_stack_directory(
    bimpe: Bimpe, full_stack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "saved.plan.json"
    assert bimpe("plan", full_stack, "--out", saved).exit_code == 0
    monkeypatch.chdir(full_stack)
    applied = bimpe("apply", saved)
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Apply complete!" in applied.output
    assert plan_summary(bimpe("plan", ".").output).startswith("No changes.")
