"""The plan a user reads after editing the support example, against the emulator: items of
named lists by their names (a changed rule, a moved flow), a set by what it gains, an agent's
workflow by its key (the ids only with --verbose), and a changed word marked so that it reads
one way without colour."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Bimpe

OLD_RESPONSE = "look at your order and process a refund."
NEW_RESPONSE = "look at your order and process a refund today."


def applied_support(bimpe: Bimpe, example: Callable[[str], Path]) -> Path:
    stack = example("support")
    applied = bimpe("apply", stack, "--env", "prod", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    return stack


def edit(stack: Path, old: str, new: str) -> None:
    manifest = stack / "support.yaml"
    text = manifest.read_text()
    assert text.count(old) == 1, old
    manifest.write_text(text.replace(old, new))


def block(output: str, address: str) -> list[str]:
    """The lines of the change at `address`, after its two header lines."""
    found = re.search(rf"^  # {re.escape(address)} .*\n.*\n((?:      .*\n)*)", output, re.M)
    assert found, output
    return found.group(1).splitlines()


def swap_flows(stack: Path) -> None:
    manifest = stack / "support.yaml"
    text = manifest.read_text()
    head, rest = text.split("    flows:\n")
    after = re.search(r"^    \S", rest, re.M)
    assert after is not None
    flows, tail = rest[: after.start()], rest[after.start() :]
    order_status, opening_hours = flows.split("      - name: Opening hours\n")
    swapped = "      - name: Opening hours\n" + opening_hours + order_status
    manifest.write_text(head + "    flows:\n" + swapped + tail)


def test_one_rule_changed_two_flows_reordered_and_a_tag_added_show_as_three_facts(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied_support(bimpe, example)
    edit(stack, "process a refund.", "process a refund today.")
    swap_flows(stack)
    edit(stack, "tags: [support, tier-1]", "tags: [support, tier-1, vip]")
    planned = bimpe("plan", stack, "--env", "prod")
    assert planned.exit_code == 0, planned.output + planned.stderr
    lines = block(planned.output, "workflows.triage")
    assert lines == [
        "      ~ rules:",
        "          ~ [refund-request]:",
        "              ~ response:",
        "                    @@ -1 +1 @@",
        "                  - I'm sorry this didn't work out. I'm passing you to a member of our"
        " team who can look at your order and process a refund.",
        "                  + I'm sorry this didn't work out. I'm passing you to a member of our"
        " team who can look at your order and process a refund{+ today+}.",
        "                … 5 unchanged keys …",
        "            … 1 unchanged item …",
        "      ~ flows:",
        '          ~ moved "Opening hours" before "Order status"',
        "            … 1 unchanged item …",
        "      ~ tags:",
        '          + "vip"',
        "            … 2 unchanged items …",
    ]
    assert planned.output.splitlines()[-1] == "Plan: 0 to add, 1 to change, 0 to destroy."


SALES = """  sales:
    name: Sales desk
    system_prompt: You help customers choose the right product for their kitchen.

agents:
"""


def test_a_changed_agent_workflow_reads_as_keys_and_the_ids_only_with_verbose(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    edit(stack, "\nagents:\n", "\n" + SALES)
    applied = bimpe("apply", stack, "--env", "prod", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    ids = {w.name: w.id for w in bimpe.sdk.workflows.list().data}
    triage, sales = ids["Customer support triage"], ids["Sales desk"]
    edit(stack, "workflow: triage", "workflow: sales")

    planned = bimpe("plan", stack, "--env", "prod")
    assert planned.exit_code == 0, planned.output + planned.stderr
    assert block(planned.output, "agents.support-bot") == [
        "      ~ workflow_id: workflows.triage -> workflows.sales"
    ]
    assert triage not in planned.output and sales not in planned.output

    verbose = bimpe("-v", "plan", stack, "--env", "prod")
    assert verbose.exit_code == 0, verbose.output + verbose.stderr
    assert block(verbose.output, "agents.support-bot") == [
        f"      ~ workflow_id: workflows.triage ({triage}) -> workflows.sales ({sales})"
    ]


def test_a_changed_word_reads_one_way_without_colour(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = applied_support(bimpe, example)
    prompt = stack / "prompts" / "triage.md"
    prompt.write_text(prompt.read_text().replace("- Quote prices", "* Quote prices"))
    planned = bimpe("plan", stack, "--env", "prod")
    assert planned.exit_code == 0, planned.output + planned.stderr
    assert "\x1b[" not in planned.output
    lines = block(planned.output, "workflows.triage")
    # The removed word is "-" itself: escaped inside the mark, it cannot read as `[---]`.
    assert "          - [-\\--] Quote prices in naira (₦) and times in West Africa Time." in lines
    assert "          + {+*+} Quote prices in naira (₦) and times in West Africa Time." in lines
