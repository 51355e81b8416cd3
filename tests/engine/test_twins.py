"""Same-name twins: when the state is lost, a create whose name matches a live object of the
same kind that no state manages is refused before any change, naming the live object, until
the user chooses `--adopt` (manage it) or `--allow-duplicates` (create another)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Bimpe


def names(bimpe: Bimpe) -> Counter[str]:
    """Every workflow the team owns, agent and knowledge base, counted by kind and name."""
    sdk = bimpe.sdk
    found: Counter[str] = Counter()
    for workflow in sdk.workflows.list(scope="owned", limit=100).data:
        found[f"workflow {workflow.name}"] += 1
    for agent in sdk.agents.list(limit=100).data:
        found[f"agent {agent.name}"] += 1
        for kb in sdk.agents.knowledge_bases.list(agent.id):
            found[f"knowledge base {agent.name}/{kb.name}"] += 1
    return found


def lose_state(stack: Path) -> None:
    shutil.rmtree(stack / ".bimpe" / "state")


def test_lost_state_refuses_twins_and_changes_nothing(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    before = names(bimpe)
    assert set(before.values()) == {1}
    workflow_id = next(
        w.id for w in bimpe.sdk.workflows.list(scope="owned").data if w.name == "Main workflow"
    )
    lose_state(full_stack)

    planned = bimpe("plan", full_stack)
    applied = bimpe("apply", full_stack, "--auto-approve")

    for outcome in (planned, applied):
        assert outcome.exit_code == 1, outcome.text
        assert "Traceback" not in outcome.text
        assert (
            f"workflows.main: a workflow named 'Main workflow' already exists ({workflow_id})"
            " and the state does not manage it: use --adopt to manage it, or --allow-duplicates"
            " to create another"
        ) in outcome.stderr
        assert "agents.bot: an agent named 'Full bot' already exists" in outcome.stderr
        assert "agents.catalog-bot: an agent named 'Catalog bot' already exists" in outcome.stderr
    assert "Apply complete" not in applied.text
    assert names(bimpe) == before


def test_adopt_after_a_lost_state_makes_no_twins(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    before = names(bimpe)
    lose_state(full_stack)

    adopted = bimpe("apply", full_stack, "--auto-approve", "--adopt")

    assert adopted.exit_code == 0, adopted.text
    assert names(bimpe) == before
    again = bimpe("plan", full_stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.text


def test_allow_duplicates_creates_the_twins(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path], tmp_path: Path
) -> None:
    stack = make_stack(
        "plain",
        {
            "stack.yaml": "name: plain\nenvironments:\n  test: {}\n",
            "resources.yaml": """
workflows:
  main: {name: Triage, system_prompt: Help.}
agents:
  bot:
    workflow: main
    name: Bot
    description: d
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Hours are 8 to 8.}
""",
        },
    )
    assert bimpe("apply", stack, "--auto-approve").exit_code == 0
    lose_state(stack)
    plan_file = tmp_path / "twins.plan.json"

    planned = bimpe("plan", stack, "--allow-duplicates", "--out", plan_file)
    assert planned.exit_code == 0, planned.text
    applied = bimpe("apply", stack, "--plan", plan_file, "--allow-duplicates")

    assert applied.exit_code == 0, applied.text
    assert names(bimpe) == Counter(
        {"workflow Triage": 2, "agent Bot": 2, "knowledge base Bot/FAQ": 2}
    )


def test_a_knowledge_base_named_like_an_unmanaged_one_of_its_agent_is_flagged(
    bimpe: Bimpe, full_stack: Path
) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    state = json.loads(next((full_stack / ".bimpe" / "state").rglob("*.json")).read_text())
    agent_id = state["resources"]["agents.bot"]["id"]
    by_hand = bimpe.sdk.agents.knowledge_bases.create(
        agent_id, {"type": "text", "name": "Prices", "content": "Ten naira."}
    )
    resources = full_stack / "resources.yaml"
    resources.write_text(
        resources.read_text().replace(
            "    knowledge_bases:\n",
            "    knowledge_bases:\n      prices: {type: text, name: Prices, content: Ten.}\n",
        )
    )

    planned = bimpe("plan", full_stack)

    assert planned.exit_code == 1, planned.text
    assert (
        f"agents.bot.knowledge_bases.prices: a knowledge base named 'Prices' already exists"
        f" ({by_hand.id})"
    ) in planned.stderr
    assert "agents.bot:" not in planned.stderr.replace("agents.bot.knowledge_bases", "")
    adopted = bimpe("apply", full_stack, "--auto-approve", "--adopt")
    assert adopted.exit_code == 0, adopted.text
    assert names(bimpe)["knowledge base Full bot/Prices"] == 1


def test_a_targeted_plan_is_not_refused_for_twins_outside_its_target(
    bimpe: Bimpe, full_stack: Path
) -> None:
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    lose_state(full_stack)
    resources = full_stack / "resources.yaml"
    resources.write_text(
        resources.read_text().replace(
            "workflows:\n", "workflows:\n  extra: {name: Extra workflow, system_prompt: Hi.}\n", 1
        )
    )
    before = names(bimpe)

    applied = bimpe("apply", full_stack, "--auto-approve", "--target", "workflows.extra")

    assert applied.exit_code == 0, applied.text
    assert names(bimpe) == before + Counter({"workflow Extra workflow": 1})
    refused = bimpe("plan", full_stack, "--target", "agents.catalog-bot")
    assert refused.exit_code == 1
    assert "agents.catalog-bot: an agent named 'Catalog bot' already exists" in refused.stderr
    assert "workflows.main" not in refused.stderr
