"""State commands against the emulator: `state list` (sorted address, kind, id), `state show`
(facts and masked values), `state mv` (children and depends_on follow, the serial advances,
nothing is recreated; refusals), `state rm` (children forgotten, the objects stay in BimpeAI,
and `plan --adopt` finds them again), and `moved:` blocks (a renamed key plans no create or
delete, apply keeps the id and writes the rename, also when nothing else changes; chains;
a block whose target the state already holds is refused)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Bimpe

BOT_ADDRESSES = [
    "agents.bot",
    "agents.bot.actions",
    "agents.bot.knowledge_bases.faq",
    "agents.bot.knowledge_bases.site",
    "agents.bot.live_status",
]


def applied(bimpe: Bimpe, stack: Path, *args: str) -> None:
    outcome = bimpe("apply", stack, "--auto-approve", *args)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr


def state_of(stack: Path, env: str = "test", name: str = "full") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (stack / ".bimpe" / "state" / name / f"{env}.json").read_text()
    )
    return document


def changes(bimpe: Bimpe, stack: Path, *args: str) -> dict[str, Any]:
    planned = bimpe("plan", stack, "--format", "json", *args)
    assert planned.exit_code == 0, planned.output + planned.stderr
    document: dict[str, Any] = json.loads(planned.output)
    return document


def actions(document: dict[str, Any]) -> dict[str, str]:
    return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}


def rename_bot(stack: Path, moved: str = "") -> None:
    """Rename the agent key `bot` to `helper` in the manifest, with `moved` appended."""
    manifest = stack / "resources.yaml"
    text = (
        manifest.read_text()
        .replace("  bot:\n", "  helper:\n")
        .replace("agent: bot", "agent: helper")
    )
    manifest.write_text(text + moved)


def bot_id(bimpe: Bimpe) -> str:
    return str(next(a.id for a in bimpe.sdk.agents.list().data if a.name == "Full bot"))


def test_list_is_sorted_with_kind_and_id(bimpe: Bimpe, full_stack: Path) -> None:
    empty = bimpe("state", "list", full_stack)
    assert empty.exit_code == 0
    assert "manages nothing yet" in empty.output
    applied(bimpe, full_stack)
    lines = bimpe("state", "list", full_stack).output.splitlines()
    addresses = [line.split()[0] for line in lines]
    assert addresses == sorted(state_of(full_stack)["resources"])
    assert lines[0].split() == ["agents.bot", "agent", bot_id(bimpe)]


def test_show_gives_facts_and_masks_sensitive_values(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("multi-env")
    applied(bimpe, stack, "--env", "prod")
    shown = bimpe("state", "show", "agents.support", stack, "--env", "prod")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.output.splitlines()
    assert lines[0] == "# agents.support"
    assert "kind:            agent" in lines
    assert "depends on:      workflows.storefront" in lines
    assert "prevent_destroy: true" in lines
    assert '  escalation_email: "(sensitive)"' in lines
    assert "oncall-7f3k9" not in shown.output
    missing = bimpe("state", "show", "agents.suport", stack, "--env", "prod")
    assert missing.exit_code == 1
    assert "agents.suport is not in the state (did you mean 'agents.support'?)" in missing.stderr


def test_mv_renames_children_and_references_without_recreating(
    bimpe: Bimpe, full_stack: Path
) -> None:
    applied(bimpe, full_stack)
    before = state_of(full_stack)
    moved = bimpe("state", "mv", "agents.bot", "agents.helper", full_stack)
    assert moved.exit_code == 0, moved.stderr
    assert "Moved agents.bot.knowledge_bases.faq to agents.helper.knowledge_bases.faq" in (
        moved.output
    )
    after = state_of(full_stack)
    assert after["serial"] == before["serial"] + 1
    renamed = {a.replace("agents.bot", "agents.helper") for a in BOT_ADDRESSES}
    assert renamed <= set(after["resources"])
    assert not set(BOT_ADDRESSES) & set(after["resources"])
    assert after["resources"]["agents.helper"]["id"] == before["resources"]["agents.bot"]["id"]
    phone = after["resources"]['phone_numbers."+15550100001"']
    assert phone["depends_on"] == ["agents.helper"]

    rename_bot(full_stack)
    assert actions(changes(bimpe, full_stack)) == {}


def test_mv_refuses_what_would_break_the_state(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    before = state_of(full_stack)

    def refused(old: str, new: str) -> str:
        outcome = bimpe("state", "mv", old, new, full_stack)
        assert outcome.exit_code == 1, outcome.output
        return outcome.stderr

    assert "agents.catalog-bot is already in the state" in refused(
        "agents.bot", "agents.catalog-bot"
    )
    assert "a move keeps the kind of resource" in refused("workflows.main", "agents.main")
    assert "a knowledge base stays with its agent" in refused(
        "agents.bot.knowledge_bases.faq", "agents.catalog-bot.knowledge_bases.faq"
    )
    assert "move with it" in refused("agents.bot.actions", "agents.other.actions")
    assert "agents.nope is not in the state" in refused("agents.nope", "agents.other")
    assert state_of(full_stack)["serial"] == before["serial"]


def test_rm_forgets_children_and_leaves_bimpeai_alone(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    agent = bot_id(bimpe)
    removed = bimpe("state", "rm", "agents.bot", full_stack)
    assert removed.exit_code == 0, removed.stderr
    assert [line for line in removed.output.splitlines() if line.startswith("Removed")] == [
        f"Removed {address}" for address in BOT_ADDRESSES
    ]
    assert "Forgot 5 resources; they stay in BimpeAI" in removed.output
    assert not set(BOT_ADDRESSES) & set(state_of(full_stack)["resources"])
    assert bimpe.sdk.agents.retrieve(agent).name == "Full bot"

    # The forgotten agent is live and unmanaged: creating it again needs a choice.
    refused = bimpe("plan", full_stack)
    assert refused.exit_code == 1
    assert "agents.bot: an agent named 'Full bot' already exists" in refused.stderr
    twin = changes(bimpe, full_stack, "--allow-duplicates", "--take-over-numbers")
    assert actions(twin)["agents.bot"] == "create"
    adopted = bimpe("plan", full_stack, "--adopt", "--format", "json")
    assert {
        c["address"] for c in json.loads(adopted.output)["changes"] if c["action"] == "import"
    } == set(BOT_ADDRESSES)


def test_moved_block_renames_without_recreating(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    agent = bot_id(bimpe)
    rename_bot(full_stack, "moved:\n  - {from: agents.bot, to: agents.helper}\n")

    document = changes(bimpe, full_stack)
    assert actions(document) == {}
    assert {"from": "agents.bot", "to": "agents.helper"} in document["moved"]
    text = bimpe("plan", full_stack)
    assert "# agents.bot has moved to agents.helper" in text.output
    assert "Plan: 5 to move, 0 to add, 0 to change, 0 to destroy." in text.output
    assert "agents.bot" in state_of(full_stack)["resources"]

    applied(bimpe, full_stack)
    resources = state_of(full_stack)["resources"]
    assert resources["agents.helper"]["id"] == agent
    assert "agents.helper.knowledge_bases.faq" in resources
    assert not set(BOT_ADDRESSES) & set(resources)
    assert [a.id for a in bimpe.sdk.agents.list().data if a.name == "Full bot"] == [agent]

    manifest = full_stack / "resources.yaml"
    manifest.write_text(manifest.read_text().split("moved:")[0])
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0


def test_moved_block_with_a_change_and_a_chain(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    agent = bot_id(bimpe)
    rename_bot(
        full_stack,
        "moved:\n  - {from: agents.middle, to: agents.helper}\n"
        "  - {from: agents.bot, to: agents.middle}\n",
    )
    manifest = full_stack / "resources.yaml"
    manifest.write_text(manifest.read_text().replace("persona: concise", "persona: friendly"))
    document = changes(bimpe, full_stack)
    assert actions(document) == {"agents.helper": "update"}
    assert {"from": "agents.bot", "to": "agents.helper"} in document["moved"]
    assert "# (moved from agents.bot)" in bimpe("plan", full_stack).output
    applied(bimpe, full_stack)
    assert state_of(full_stack)["resources"]["agents.helper"]["id"] == agent
    assert bimpe.sdk.agents.retrieve(agent).persona == "friendly"


def test_moved_block_onto_a_managed_address_is_refused(bimpe: Bimpe, full_stack: Path) -> None:
    applied(bimpe, full_stack)
    rename_bot(full_stack, "moved:\n  - {from: agents.bot, to: agents.helper}\n")
    assert bimpe("state", "mv", "agents.catalog-bot", "agents.helper", full_stack).exit_code == 0
    refused = bimpe("plan", full_stack)
    assert refused.exit_code == 1
    assert (
        "moved: agents.bot cannot move to agents.helper, which the state holds already"
        in refused.stderr
    )
