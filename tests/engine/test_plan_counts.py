"""One count everywhere: what the summary line says is what JSON says, what --max-deletions
checks and what --detailed-exitcode tells; moves are counted; a destroy plan lists what it
destroys without its fields and its apply ends "Destroy complete!"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Bimpe

EVERYTHING = [
    "agents.bot",
    "agents.bot.actions",
    "agents.bot.knowledge_bases.faq",
    "agents.bot.knowledge_bases.site",
    "agents.bot.live_status",
    "agents.catalog-bot",
    'phone_numbers."+15550100001"',
    "workflows.main",
]


def applied(bimpe: Bimpe, stack: Path) -> str:
    outcome = bimpe("apply", stack, "--auto-approve")
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    return outcome.output


def test_destroy_plan_counts_the_same_in_every_place(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    text = bimpe("plan", full_stack, "--destroy", "--detailed-exitcode")
    assert text.exit_code == 2
    assert text.output.splitlines()[-1] == "Plan: 0 to add, 0 to change, 8 to destroy."
    document = json.loads(bimpe("plan", full_stack, "--destroy", "--format", "json").output)
    assert document["summary"] == {"add": 0, "change": 0, "destroy": len(EVERYTHING)}
    markdown = bimpe("plan", full_stack, "--destroy", "--format", "markdown").output
    assert "**Plan: 0 to add, 0 to change, 8 to destroy.**" in markdown

    refused = bimpe("plan", full_stack, "--destroy", "--max-deletions", "7")
    assert refused.exit_code == 1
    assert "this plan destroys 8 resources, more than --max-deletions 7" in refused.stderr
    allowed = bimpe("plan", full_stack, "--destroy", "--max-deletions", "8")
    assert allowed.exit_code == 0, allowed.stderr


def test_destroy_plan_lists_resources_not_null_fields(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    text = bimpe("plan", full_stack, "--destroy").output
    assert "null" not in text
    listed = sorted(line.split()[1] for line in text.splitlines() if line.startswith("  # "))
    assert listed == EVERYTHING
    assert "  - agent agents.bot  [id=" in text
    assert '      - name: "Full bot"' in text
    assert "persona" not in text and "escalation_email" not in text
    kept = "(only no longer managed: BimpeAI keeps it as it is)"
    assert f"# agents.bot.actions will be destroyed {kept}" in text
    assert f"# agents.bot.live_status will be destroyed {kept}" in text

    destroyed = bimpe("destroy", full_stack, "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr
    last = destroyed.output.rstrip().splitlines()[-1]
    assert last.startswith("Destroy complete! Resources: 8 destroyed. (")
    assert "Apply complete" not in destroyed.output
    assert bimpe.sdk.agents.list().data == []


def test_a_plan_of_moves_alone_counts_them_and_exits_2(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    manifest = full_stack / "resources.yaml"
    text = manifest.read_text().replace("  catalog-bot:\n", "  catalog:\n")
    manifest.write_text(text + "moved:\n  - {from: agents.catalog-bot, to: agents.catalog}\n")
    planned = bimpe("plan", full_stack, "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output + planned.stderr
    assert (
        planned.output.splitlines()[-1] == "Plan: 1 to move, 0 to add, 0 to change, 0 to destroy."
    )
    document = json.loads(bimpe("plan", full_stack, "--format", "json").output)
    assert document["summary"] == {"move": 1, "add": 0, "change": 0, "destroy": 0}
    output = applied(bimpe, full_stack)
    assert "Apply complete! Resources: 1 moved, 0 added, 0 changed, 0 destroyed." in output
    again = bimpe("plan", full_stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("No changes.")
