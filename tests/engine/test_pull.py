"""`bimpe-iac pull`: edits made in the Console (here through the official SDK) are written
into the stack's own files, in place, with every comment, key order and quote kept; the next
plan is empty and drift exits 0. A field edited both in code and in the Console is a conflict
that writes nothing until a side is taken."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bimpeai import BimpeAI
from example_copy import EXAMPLES, copy_example

if TYPE_CHECKING:
    from conftest import Bimpe

COMMENTS = {
    "    category: customer_support\n": "    category: customer_support  # as in the Console\n",
    "    rules:\n": "    # Rules run before flows.\n    rules:\n",
    "      - id: angry-customer\n": "      # Escalate early.\n      - id: angry-customer\n",
    "    faq:\n": "    faq:  # asked every day\n",
    "  support-bot:\n": "  support-bot:  # the one agent\n",
}


def commented(stack: Path) -> Path:
    """The support example with comments on several keys, as a team keeps its manifests."""
    manifest = stack / "support.yaml"
    text = manifest.read_text()
    for line, replacement in COMMENTS.items():
        assert line in text
        text = text.replace(line, replacement, 1)
    manifest.write_text(text)
    return stack


def files_of(stack: Path) -> dict[str, str]:
    return {
        p.relative_to(stack).as_posix(): p.read_text()
        for p in sorted(stack.rglob("*"))
        if p.is_file() and ".bimpe" not in p.parts
    }


def changed_lines(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """Per file, the lines a `git diff` shows removed (-) and added (+)."""
    out: dict[str, list[str]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, "").splitlines(), after.get(name, "").splitlines()
        lines = [
            line
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        if lines:
            out[name] = lines
    return out


def applied(bimpe: Bimpe, example: Callable[[str], Path]) -> Path:
    stack = commented(example("support"))
    outcome = bimpe("apply", stack, "--env", "prod", "--auto-approve")
    assert outcome.exit_code == 0, outcome.text
    return stack


def workflow_of(sdk: BimpeAI) -> Any:
    (workflow,) = [w for w in sdk.workflows.list(scope="owned")]
    return workflow


def edit_in_console(sdk: BimpeAI) -> None:
    """A rule's response, a flow step, an FAQ answer, a prompt line and a knowledge line."""
    workflow = workflow_of(sdk)
    rules = [r.model_dump(exclude_none=True) for r in workflow.rules or []]
    rules[0]["response"] = "Sorry about that! A colleague will sort out your refund today."
    flows = [f.model_dump(exclude_none=True) for f in workflow.flows or []]
    flows[1]["conversation_steps"][0]["content"] = "We're open every day, 8am to 8pm WAT."
    faq = [f.model_dump(exclude_none=True) for f in workflow.faq or []]
    faq[0]["answer"] = "Lagos: next working day. Elsewhere: 2-4 working days."
    prompt = workflow.system_prompt.replace("Keep answers short.", "Keep answers to two sentences.")
    sdk.workflows.update(workflow.id, rules=rules, flows=flows, faq=faq, system_prompt=prompt)
    (agent,) = sdk.agents.list()
    (returns,) = [
        kb for kb in sdk.agents.knowledge_bases.list(agent.id) if kb.name.startswith("Returns")
    ]
    content = (returns.content or "").replace("within 14 days", "within 30 days")
    sdk.agents.knowledge_bases.update(agent.id, returns.id, content=content)


def test_console_edits_land_in_their_files_and_only_there(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    before = files_of(stack)
    edit_in_console(bimpe.sdk)

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text

    after = files_of(stack)
    assert changed_lines(before, after) == {
        "kb/returns.md": [
            "-Most items can be returned within 14 days of delivery if they are unused and in"
            " their",
            "+Most items can be returned within 30 days of delivery if they are unused and in"
            " their",
        ],
        "prompts/triage.md": [
            "-- Greet the customer once, then get straight to the point. Keep answers short.",
            "+- Greet the customer once, then get straight to the point. Keep answers to two"
            " sentences.",
        ],
        "support.yaml": [
            "-          I'm sorry this didn't work out. I'm passing you to a member of our team"
            " who can",
            "-          look at your order and process a refund.",
            "+          Sorry about that! A colleague will sort out your refund today.",
            "-            content: We're open Monday to Saturday, 8am to 8pm West Africa Time.",
            "+            content: We're open every day, 8am to 8pm WAT.",
            "-        answer: Orders within Lagos arrive in 1-2 working days; elsewhere in Nigeria,"
            " 3-5.",
            "+        answer: 'Lagos: next working day. Elsewhere: 2-4 working days.'",
        ],
    }
    for comment in COMMENTS.values():
        assert comment in after["support.yaml"]

    plan = bimpe("plan", stack, "--env", "prod", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.text
    drift = bimpe("drift", stack, "--env", "prod")
    assert drift.exit_code == 0, drift.text


def test_pull_check_exits_2_until_pulled(bimpe: Bimpe, example: Callable[[str], Path]) -> None:
    stack = applied(bimpe, example)
    assert bimpe("pull", stack, "--env", "prod", "--check").exit_code == 0
    edit_in_console(bimpe.sdk)
    before = files_of(stack)

    check = bimpe("pull", stack, "--env", "prod", "--check")
    assert check.exit_code == 2, check.text
    assert files_of(stack) == before
    assert "workflows.triage" in check.output

    assert bimpe("pull", stack, "--env", "prod").exit_code == 0
    again = bimpe("pull", stack, "--env", "prod", "--check")
    assert again.exit_code == 0, again.text


def test_the_same_field_edited_on_both_sides_is_a_conflict_that_writes_nothing(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    workflow = workflow_of(bimpe.sdk)
    faq = [f.model_dump(exclude_none=True) for f in workflow.faq or []]
    faq[1]["answer"] = "Yes: reply with the new address (Console)."
    bimpe.sdk.workflows.update(workflow.id, faq=faq)
    manifest = stack / "support.yaml"
    code_answer = "Yes, until it ships. Send the new address (code)."
    manifest.write_text(
        manifest.read_text().replace(
            "Yes, until the order ships. Reply with your order number and the new address.",
            code_answer,
        )
    )
    before = files_of(stack)
    state_before = (stack / ".bimpe").rglob("*.json")
    states = {p: p.read_bytes() for p in state_before}

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 1, outcome.text
    assert "workflows.triage.faq[Can I change my delivery address?].answer" in outcome.output
    assert "Yes: reply with the new address (Console)." in outcome.output
    assert code_answer in outcome.output
    assert files_of(stack) == before
    assert {p: p.read_bytes() for p in states} == states

    taken = bimpe("pull", stack, "--env", "prod", "--take", "live")
    assert taken.exit_code == 0, taken.text
    assert "Yes: reply with the new address (Console)." in manifest.read_text()
    assert bimpe("drift", stack, "--env", "prod").exit_code == 0


def test_a_value_written_as_a_var_is_not_replaced_by_a_literal(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    (agent,) = bimpe.sdk.agents.list()
    bimpe.sdk.agents.update_live_status(agent.id, status="paused")
    before = files_of(stack)

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text
    assert files_of(stack) == before
    assert "agents.support-bot.live_status" in outcome.output
    assert "${var.live_status}" in outcome.output
    drift = bimpe("drift", stack, "--env", "prod")
    assert drift.exit_code == 2  # still drifted: the var decides, and the user has not yet


def test_objects_made_in_the_console_under_a_managed_agent_become_entries(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    (agent,) = sdk.agents.list()
    sdk.agents.knowledge_bases.create(
        agent.id,
        {"type": "text", "name": "Gift cards", "content": "Gift cards never expire."},
    )
    workflow = workflow_of(sdk)
    rules = [r.model_dump(exclude_none=True) for r in workflow.rules or []]
    rules.insert(
        1,
        {
            "id": "vip",
            "name": "VIPs",
            "trigger": "A VIP writes",
            "response": "Hi!",
            "enabled": True,
        },
    )
    sdk.workflows.update(workflow.id, rules=rules)

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text
    text = (stack / "support.yaml").read_text()
    assert (
        text.index("id: refund-request") < text.index("id: vip") < text.index("id: angry-customer")
    )
    assert "      # Escalate early.\n      - id: angry-customer\n" in text
    assert "gift-cards:" in text
    assert "Gift cards never expire." in (stack / "kb/support-bot/gift-cards.md").read_text()

    plan = bimpe("plan", stack, "--env", "prod", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.text
    assert bimpe("drift", stack, "--env", "prod").exit_code == 0
    names = [kb.name for kb in sdk.agents.knowledge_bases.list(agent.id)]
    assert sorted(names) == ["Gift cards", "Help centre", "Returns and refunds policy"]


def test_a_reorder_and_a_tag_from_the_console_keep_the_comments_with_their_items(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    workflow = workflow_of(sdk)
    rules = [r.model_dump(exclude_none=True) for r in workflow.rules or []]
    sdk.workflows.update(
        workflow.id, rules=list(reversed(rules)), tags=[*(workflow.tags or []), "vip"]
    )

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text
    text = (stack / "support.yaml").read_text()
    assert "      # Escalate early.\n      - id: angry-customer\n" in text
    assert text.index("id: angry-customer") < text.index("id: refund-request")
    assert "tags: [support, tier-1, vip]" in text
    assert bimpe("plan", stack, "--env", "prod", "--detailed-exitcode").exit_code == 0
    assert bimpe("drift", stack, "--env", "prod").exit_code == 0


def test_unmanaged_agents_and_workflows_are_written_as_new_files(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    sales = sdk.workflows.create(name="Sales", system_prompt="You sell things.")
    sdk.agents.create(workflow_id=sales.id, name="Kemi", description="Sells")

    plain = bimpe("pull", stack, "--env", "prod")
    assert plain.exit_code == 0, plain.text
    assert "Nothing to pull" in plain.output

    outcome = bimpe("pull", stack, "--env", "prod", "--unmanaged")
    assert outcome.exit_code == 0, outcome.text
    assert (stack / "workflows-sales.yaml").exists()
    assert "workflow: sales" in (stack / "agents-kemi.yaml").read_text()
    plan = bimpe("plan", stack, "--env", "prod", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.text
    drift = bimpe("drift", stack, "--env", "prod", "--unmanaged")
    assert drift.exit_code == 0, drift.text
    assert sorted(a.name for a in sdk.agents.list()) == ["Ada from Bimpe Stores", "Kemi"]


def test_take_code_keeps_the_manifests_and_target_limits_the_pull(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied(bimpe, example)
    sdk = bimpe.sdk
    workflow = workflow_of(sdk)
    sdk.workflows.update(workflow.id, description="Edited in the Console.")
    (agent,) = sdk.agents.list()
    sdk.agents.update(agent.id, business_name="Bimpe Stores Ltd")
    manifest = stack / "support.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "description: Answers common questions and hands everything else to a person.",
            "description: Edited in code.",
        )
    )

    only_agent = bimpe("pull", stack, "--env", "prod", "--target", "agents.support-bot")
    assert only_agent.exit_code == 0, only_agent.text
    text = manifest.read_text()
    assert "business_name: Bimpe Stores Ltd" in text
    assert "description: Edited in code." in text

    conflict = bimpe("pull", stack, "--env", "prod")
    assert conflict.exit_code == 1
    kept = bimpe("pull", stack, "--env", "prod", "--take", "code")
    assert kept.exit_code == 0, kept.text
    assert manifest.read_text() == text
    plan = bimpe("plan", stack, "--env", "prod")
    assert "Edited in code." in plan.output


def test_sensitive_fields_are_never_pulled_and_modules_are_named_not_edited(
    bimpe: Bimpe, tmp_path: Path
) -> None:
    copy_example("shop", tmp_path / "modules" / "shop", examples=EXAMPLES.parent / "modules")
    stack = copy_example("brands", tmp_path / "stacks" / "brands")
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    before = files_of(stack.parent)
    (kora,) = [a for a in bimpe.sdk.agents.list() if a.name.startswith("Kora")]
    leaked = "someone-else-7x1p@elsewhere.example"
    bimpe.sdk.agents.update(kora.id, escalation_email=leaked, description="Edited live.")

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text
    assert "module.kora.agents.assistant.escalation_email: sensitive; never pulled" in (
        outcome.output
    )
    assert "module.kora.agents.assistant.description" in outcome.output
    assert "module" in outcome.output.split("module.kora.agents.assistant.description")[1]
    for secret in (leaked, "escalations-4k2q@brands.example"):
        assert secret not in outcome.text
    assert files_of(stack.parent) == before


def test_a_console_edit_already_made_in_code_is_recorded_as_agreed(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    """As after a pull interrupted between writing the files and the state: the manifests
    already say what the Console has, and the next pull records it."""
    stack = applied(bimpe, example)
    (agent,) = bimpe.sdk.agents.list()
    bimpe.sdk.agents.update(agent.id, business_name="Bimpe Stores Ltd")
    manifest = stack / "support.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "business_name: Bimpe Stores", "business_name: Bimpe Stores Ltd"
        )
    )
    assert bimpe("drift", stack, "--env", "prod").exit_code == 2
    before = files_of(stack)

    outcome = bimpe("pull", stack, "--env", "prod")
    assert outcome.exit_code == 0, outcome.text
    assert files_of(stack) == before
    assert bimpe("drift", stack, "--env", "prod").exit_code == 0
    assert bimpe("plan", stack, "--env", "prod", "--detailed-exitcode").exit_code == 0
