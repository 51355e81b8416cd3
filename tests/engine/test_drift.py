"""Drift end to end against the emulator: an agent's description edited and a knowledge base
deleted through the API are reported (text and JSON, exit 2), shown by plan apart from its
changes, restored by apply, after which drift exits 0; an agent deleted through the API is
reported once, with what went with it; --unmanaged lists an agent and a phone link made by
hand, never the public catalog; key order, text the API normalises and server defaults are not
drift, nor are fields under ignore_changes; a prompt edited through the API reads as a line
diff; sensitive values stay masked in every format; Markdown puts the summary first; a stack
never applied exits 0; drift reads exactly what plan reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe

SENSITIVE = "oncall-7f3k9@kora.example"


def _agent(bimpe: Bimpe, name: str) -> Any:
    return next(a for a in bimpe.sdk.agents.list().data if a.name == name)


def _workflow(bimpe: Bimpe, name: str) -> Any:
    return next(w for w in bimpe.sdk.workflows.list(scope="owned").data if w.name == name)


def _apply(bimpe: Bimpe, stack: Path, *args: str) -> None:
    applied = bimpe("apply", stack, "--auto-approve", *args)
    assert applied.exit_code == 0, applied.output + applied.stderr


def _edit_and_delete(bimpe: Bimpe) -> None:
    bot = _agent(bimpe, "Full bot")
    bimpe.sdk.agents.update(bot.id, description="Edited by hand")
    faq = next(kb for kb in bimpe.sdk.agents.knowledge_bases.list(bot.id) if kb.name == "FAQ")
    bimpe.sdk.agents.knowledge_bases.delete(bot.id, faq.id)


def test_api_edits_are_drift_until_apply_restores_them(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    _edit_and_delete(bimpe)

    drift = bimpe("drift", full_stack)
    assert drift.exit_code == 2, drift.output + drift.stderr
    assert "  ~ agents.bot  [id=" in drift.output
    assert '~ description: "Uses every agent field" -> "Edited by hand"' in drift.output
    assert "  - agents.bot.knowledge_bases.faq  [id=" in drift.output
    assert "(deleted outside bimpe-iac)" in drift.output
    assert drift.output.splitlines()[-1] == (
        "Drift: 1 changed, 1 deleted outside bimpe-iac (of 8 managed)."
    )

    document = json.loads(bimpe("drift", full_stack, "--format", "json").output)
    assert document["format_version"] == 1
    assert document["drift"] is True
    assert document["summary"] == {"managed": 8, "changed": 1, "deleted": 1, "unmanaged": None}
    by_address = {r["address"]: r for r in document["resources"]}
    assert by_address["agents.bot"]["fields"] == [
        {"field": "description", "applied": "Uses every agent field", "live": "Edited by hand"}
    ]
    assert by_address["agents.bot.knowledge_bases.faq"]["status"] == "deleted"

    plan = bimpe("plan", full_stack)
    section = plan.output.split("bimpe-iac will perform the following actions:")[0]
    assert section.startswith("Changed outside bimpe-iac (apply will restore it):")
    assert '~ description: "Uses every agent field" -> "Edited by hand"' in section
    assert "- agents.bot.knowledge_bases.faq (deleted outside bimpe-iac)" in section
    assert "# agents.bot.knowledge_bases.faq will be created (deleted outside" in plan.output
    assert plan.output.splitlines()[-1] == "Plan: 1 to add, 1 to change, 0 to destroy."

    _apply(bimpe, full_stack)
    after = bimpe("drift", full_stack)
    assert after.exit_code == 0, after.output
    assert after.output.splitlines()[-1] == (
        "No drift. The 8 resources this stack manages match the last apply."
    )
    assert _agent(bimpe, "Full bot").description == "Uses every agent field"


def test_an_agent_deleted_outside_is_reported_once(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    bimpe.sdk.agents.delete(_agent(bimpe, "Full bot").id)
    drift = bimpe("drift", full_stack, "--format", "json")
    assert drift.exit_code == 2
    resources = json.loads(drift.output)["resources"]
    deleted = [r for r in resources if r["status"] == "deleted"]
    assert [r["address"] for r in deleted] == ["agents.bot"]
    assert deleted[0]["gone_with_it"] == [
        "agents.bot.actions",
        "agents.bot.knowledge_bases.faq",
        "agents.bot.knowledge_bases.site",
        "agents.bot.live_status",
    ]
    text = bimpe("drift", full_stack).output
    assert "(deleted outside bimpe-iac)\n      - agents.bot.actions\n" in text
    # Deleting the agent unlinked its number: that link changed outside bimpe-iac too.
    changed = {r["address"]: r["fields"] for r in resources if r["status"] == "changed"}
    assert [f["field"] for f in changed['phone_numbers."+15550100001"']] == ["agent_id"]

    plan = bimpe("plan", full_stack).output
    section = plan.split("bimpe-iac will perform the following actions:")[0]
    assert "- agents.bot (deleted outside bimpe-iac)" in section
    assert "agents.bot.knowledge_bases" not in section


def test_unmanaged_lists_what_was_made_by_hand(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    hand = bimpe.sdk.agents.create(
        name="Hand-made bot",
        description="Made in the console",
        workflow_id=_workflow(bimpe, "Main workflow").id,
    )
    number = next(n for n in bimpe.sdk.phone_numbers.list().data if n.e164 == "+15550100002")
    bimpe.sdk.phone_numbers.update(number.id, agent_id=hand.id)

    assert bimpe("drift", full_stack).exit_code == 0
    text = bimpe("drift", full_stack, "--unmanaged")
    assert text.exit_code == 2
    assert "Not managed by this stack:" in text.output
    assert f'  agent  {hand.id}  "Hand-made bot"' in text.output
    assert f"  phone_link  {number.id}  +15550100002" in text.output
    assert text.output.splitlines()[-1] == "Drift: 2 not managed by this stack."

    document = json.loads(bimpe("drift", full_stack, "--unmanaged", "--format", "json").output)
    assert document["unmanaged"] == [
        {"kind": "agent", "id": hand.id, "name": "Hand-made bot", "e164": None},
        {"kind": "phone_link", "id": number.id, "name": None, "e164": "+15550100002"},
    ]


def test_cosmetic_differences_are_not_drift(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    main = _workflow(bimpe, "Main workflow").model_dump(mode="json")
    rules = [dict(reversed(list(rule.items()))) for rule in main["rules"]]
    rules[0] = {k: v for k, v in rules[0].items() if k not in ("condition", "action")}
    flows = [main["flows"][0], {"name": "Hours"}]
    bimpe.sdk.workflows.update(
        main["id"],
        # The API stores prompts with LF line ends and no trailing whitespace.
        system_prompt=main["system_prompt"].replace("\n", "\r\n") + "  \r\n\r\n",
        # Key order, and rules and flows that leave server defaults unset.
        rules=rules,
        flows=flows,
        tags=list(reversed(main["tags"])),
    )
    after = _workflow(bimpe, "Main workflow").model_dump(mode="json")
    assert after["updated_at"] != main["updated_at"]
    state = json.loads((full_stack / ".bimpe/state/full/test.json").read_text())
    applied = state["resources"]["workflows.main"]["values"]
    assert list(applied["guide"]) == ["steps", "youtube_url"]
    assert list(after["guide"]) == ["youtube_url", "steps"]

    drift = bimpe("drift", full_stack)
    assert drift.exit_code == 0, drift.output
    assert "No drift." in drift.output


def test_ignored_fields_are_not_drift(bimpe: Bimpe, full_stack: Path) -> None:
    manifest = full_stack / "resources.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    escalation_email: team@example.com\n",
            "    escalation_email: team@example.com\n"
            "    lifecycle: {ignore_changes: [business_description]}\n",
        )
    )
    _apply(bimpe, full_stack)
    bimpe.sdk.agents.update(_agent(bimpe, "Full bot").id, business_description="Edited")
    drift = bimpe("drift", full_stack)
    assert drift.exit_code == 0, drift.output


def test_prompt_edited_through_the_api_is_a_line_diff(bimpe: Bimpe, full_stack: Path) -> None:
    prompt = "\n".join(f"Rule {n:02d}: answer briefly." for n in range(1, 21))
    (full_stack / "prompts/main.md").write_text(prompt + "\n")
    _apply(bimpe, full_stack)
    edited = prompt.replace("Rule 10: answer briefly.", "Rule 10: answer at length.")
    bimpe.sdk.workflows.update(_workflow(bimpe, "Main workflow").id, system_prompt=edited)
    drift = bimpe("drift", full_stack)
    assert drift.exit_code == 2
    assert "~ system_prompt:" in drift.output
    assert "@@ -7,7 +7,7 @@" in drift.output
    assert "- Rule 10: answer [-briefly-]." in drift.output
    assert "+ Rule 10: answer {+at length+}." in drift.output
    assert "Rule 01" not in drift.output
    assert "… 6 unchanged lines …" in drift.output


def test_sensitive_values_stay_masked(bimpe: Bimpe, example: Any) -> None:
    stack = example("multi-env")
    _apply(bimpe, stack, "--env", "prod")
    sales = _agent(bimpe, "Kemi, sales")
    bimpe.sdk.agents.update(
        sales.id, escalation_email="desk@kora.example", description=f"Mail {SENSITIVE}"
    )
    text = bimpe("drift", stack, "--env", "prod")
    assert text.exit_code == 2
    # The field held a sensitive value at the last apply: both sides masked, even the value
    # typed by hand (it may be the secret itself, or the one before it).
    assert "~ escalation_email: (changed; the difference is sensitive)" in text.output
    assert "desk@kora.example" not in text.output
    assert '-> "Mail (sensitive)"' in text.output
    for fmt in ("text", "json", "markdown"):
        shown = bimpe("drift", stack, "--env", "prod", "--format", fmt)
        assert shown.exit_code == 2
        assert SENSITIVE not in shown.output + shown.stderr, fmt
    document = json.loads(bimpe("drift", stack, "--env", "prod", "--format", "json").output)
    fields = {r["address"]: r["fields"] for r in document["resources"]}["agents.sales"]
    assert {"field": "escalation_email", "applied": "(sensitive)", "live": "(sensitive)"} in fields


def test_markdown_puts_the_summary_first(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    _edit_and_delete(bimpe)
    markdown = bimpe("drift", full_stack, "--format", "markdown")
    assert markdown.exit_code == 2
    lines = markdown.output.splitlines()
    assert lines[0] == "### bimpe-iac drift: full (test)"
    assert lines[2] == "**Drift: 1 changed, 1 deleted outside bimpe-iac (of 8 managed).**"
    assert "| 🟡 changed | `agents.bot` | agent | `description` |" in lines
    assert "<details><summary>~ agents.bot</summary>" in markdown.output
    assert '!      ~ description: "Uses every agent field" -> "Edited by hand"' in lines


def test_a_stack_never_applied_has_no_drift(bimpe: Bimpe, full_stack: Path) -> None:
    drift = bimpe("drift", full_stack)
    assert drift.exit_code == 0, drift.output + drift.stderr
    assert drift.output.strip() == "No drift: this stack manages nothing yet (its state is empty)."


def _get_counts(bimpe: Bimpe) -> dict[str, int]:
    admin = Admin(bimpe.running)
    requests = dict(admin.counters()["requests"])
    admin.reset_counters()
    return requests


def test_drift_reads_what_plan_reads(bimpe: Bimpe, full_stack: Path) -> None:
    _apply(bimpe, full_stack)
    _get_counts(bimpe)
    assert bimpe("plan", full_stack).exit_code == 0
    planned = _get_counts(bimpe)
    assert bimpe("drift", full_stack, "--unmanaged").exit_code == 0
    assert _get_counts(bimpe) == planned
