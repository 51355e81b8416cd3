"""The terminal plan: drift section first, one header per change with its symbol, kind and
reason, the fields each action shows, values inline or as blocks, lists of named items by
name (moves as moves), other lists by position, sets as items gained and lost, ids of known
resources as their addresses, colours only on request, and the exact summary line last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bimpe_iac.model.plan import Change, FieldChange, Plan, Ref
from bimpe_iac.render.text import NO_CHANGES, render_plan_text


def no_mask(text: str) -> str:
    return text


def render(plan: Plan) -> str:
    return render_plan_text(plan, color=False, mask=no_mask)


def test_summary_is_the_exact_last_line(plan: Plan) -> None:
    assert render(plan).splitlines()[-1] == "Plan: 2 to add, 1 to change, 2 to destroy."


def test_no_changes(make_plan: Callable[..., Plan]) -> None:
    noop = Change("agents.bot", "agent", "noop", "agt_1", None, {"name": "a"}, {"name": "a"})
    assert render(make_plan(noop)) == NO_CHANGES
    assert NO_CHANGES == "No changes. The live configuration matches the manifests."


def test_headers_say_what_happens_and_why(plan: Plan) -> None:
    text = render(plan)
    assert "  # workflows.triage will be updated in place\n  ~ workflow workflows.triage" in text
    assert "# agents.bot will be created (deleted outside bimpe-iac)\n  + agent agents.bot" in text
    assert (
        "# agents.bot.knowledge_bases.faq must be replaced (type changed)\n"
        "-/+ knowledge_base agents.bot.knowledge_bases.faq  [id=kb_9]"
    ) in text
    assert "# agents.legacy will be destroyed\n  - agent agents.legacy  [id=agt_old]" in text


def test_noop_changes_are_not_listed(plan: Plan) -> None:
    assert "phone_numbers.+15550001111" not in render(plan)


def test_drift_section_comes_before_the_plan(plan: Plan) -> None:
    text = render(plan)
    drift = text.index("Changed outside bimpe-iac (apply will restore it):")
    assert drift < text.index("bimpe-iac will perform the following actions:")
    section = text[drift : text.index("bimpe-iac will perform")]
    assert "~ workflows.triage" in section
    assert '~ name: "Triage desk" -> "Triage"' in section
    assert "last applied -> now live" in section


def test_update_shows_only_changed_fields(plan: Plan) -> None:
    text = render(plan)
    assert '~ name: "Triage" -> "Triage desk"' in text
    assert "~ system_prompt:" in text


def test_create_shows_every_field_and_refs_as_known_after_apply(plan: Plan) -> None:
    text = render(plan)
    assert '+ name: "Support bot"' in text
    assert "+ workflow_id: workflows.triage (known after apply)" in text
    assert '+ languages: ["en", "yo"]' in text
    assert "+ persona: |" in text
    assert "(15 more lines)" in text


def test_delete_shows_only_what_identifies_it(plan: Plan) -> None:
    text = render(plan)
    assert "  - agent agents.legacy  [id=agt_old]" in text
    assert '- name: "Legacy bot"' in text
    assert "persona" not in text.split("# agents.legacy will be destroyed")[1]


def test_replace_shows_changed_fields_with_removed_and_added_values(plan: Plan) -> None:
    text = render(plan)
    assert '~ type: "text" -> "url"' in text
    assert '~ content: "Old facts." -> null' in text
    assert '~ url: null -> "https://example.com/faq"' in text


def test_named_list_items_diff_by_name(plan: Plan) -> None:
    section = render(plan).split("~ faq:")[1].split("\n  #")[0]
    assert section.splitlines()[1:] == [
        '          ~ ["What are your hours?"]:',
        '              ~ answer: "Monday to Friday, 9am to 5pm." -> '
        '"Monday to Saturday, 9am to 5pm."',
        "                … 1 unchanged key …",
        '          + ["Do you ship abroad?"]: '
        '{"question": "Do you ship abroad?", "answer": "Yes, to 14 countries."}',
        "            … 2 unchanged items …",
    ]


def test_a_reorder_reads_as_a_move_and_a_removal_by_name(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    first, second, third = ({"id": key, "enabled": True} for key in ("a", "b", "refund-request"))
    edited = {**third, "enabled": False}
    text = render(make_plan(update(rules=([first, second, third], [edited, first]))))
    section = text.split("~ rules:\n")[1].split("\n\n")[0]
    assert section.splitlines() == [
        '          ~ moved "refund-request" before "a"',
        "          ~ [refund-request]:",
        "              ~ enabled: true -> false",
        "                … 1 unchanged key …",
        '          - [b]: {"id": "b", "enabled": true}',
        "            … 1 unchanged item …",
    ]


def test_set_fields_show_the_items_gained_and_lost(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    text = render(make_plan(update(tags=(["a", "b"], ["a", "c"]))))
    section = text.split("~ tags:\n")[1].split("\n\n")[0]
    assert section.splitlines() == [
        '          + "c"',
        '          - "b"',
        "            … 1 unchanged item …",
    ]


def test_long_list_elements_diff_key_by_key(
    make_plan: Callable[..., Plan], update: Callable[..., Change], make_prompt: Callable[..., str]
) -> None:
    rule = {"name": "escalate", "when": {"intent": "billing"}, "instructions": make_prompt(20)}
    edited = {**rule, "instructions": make_prompt(20, {10: "Rule 10: transfer to billing."})}
    text = render(make_plan(update(rules=([rule, rule], [rule, edited]))))
    assert "~ rules:" in text
    assert "… 1 unchanged item …" in text
    assert "~ [1]:" in text
    assert "~ instructions:" in text
    assert "@@ -7,7 +7,7 @@" in text
    assert "… 2 unchanged keys …" in text
    assert "Rule 01:" not in text


def test_nested_dicts_diff_key_by_key(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    before = {"tone": "calm", "limits": {"max_turns": 20, "handoff": True}, "old": 1}
    after = {"tone": "calm", "limits": {"max_turns": 30, "handoff": True}, "new": [1, 2]}
    text = render(make_plan(update(settings=(before, after))))
    assert (
        '~ limits: {"max_turns": 20, "handoff": true} -> {"max_turns": 30, "handoff": true}' in text
    )
    assert "+ new: [1, 2]" in text
    assert "- old: 1" in text
    assert "tone" not in text


def test_short_containers_are_inline_json(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    text = render(make_plan(update(steps=(["a"], ["a", "b"]), limits=({"x": 1}, {"x": 2}))))
    assert '~ steps: ["a"] -> ["a", "b"]' in text
    assert '~ limits: {"x": 1} -> {"x": 2}' in text


def test_a_ref_in_an_update(make_plan: Callable[..., Plan], update: Callable[..., Change]) -> None:
    text = render(make_plan(update(workflow_id=("wf_9", Ref("workflows.new")))))
    assert '~ workflow_id: "wf_9" -> workflows.new (known after apply)' in text


def test_ids_of_resources_in_the_plan_read_as_their_addresses(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    agent = replace(update("agents.bot", workflow_id=("wf_1", "wf_2")), id="agt_1", kind="agent")
    triage = replace(update("workflows.triage"), action="noop")
    sales = replace(update("workflows.sales"), id="wf_2", action="noop")
    plan = make_plan(agent, triage, sales)
    assert "~ workflow_id: workflows.triage -> workflows.sales" in render(plan)
    verbose = render_plan_text(plan, color=False, mask=no_mask, verbose=True)
    assert "~ workflow_id: workflows.triage (wf_1) -> workflows.sales (wf_2)" in verbose


def test_created_blocks_read_like_yaml(make_plan: Callable[..., Plan]) -> None:
    flows = [{"step": "greet", "say": "Hello!"}, {"step": "route", "to": ["sales", "support"]}]
    create = Change("workflows.w", "workflow", "create", None, None, None, {"flows": flows})
    text = render(make_plan(create))
    assert '+ - step: "greet"\n' in text
    assert '+   say: "Hello!"\n' in text
    assert '+   to: ["sales", "support"]' in text


def test_warnings_come_before_the_summary(plan: Plan) -> None:
    lines = render(plan).splitlines()
    assert lines[-3] == "Warning: agents.legacy has prevent_destroy unset"


def test_plain_output_has_no_escape_codes_and_color_output_has(plan: Plan) -> None:
    assert "\x1b[" not in render(plan)
    colored = render_plan_text(plan, color=True, mask=no_mask)
    assert "\x1b[32m+\x1b[0m" in colored  # green +
    assert "\x1b[33m~\x1b[0m" in colored  # yellow ~
    assert "\x1b[31m-\x1b[0m" in colored  # red -
    assert "\x1b[1;7;32mwarm\x1b[0m" in colored  # the new word highlighted
    assert "{+" not in colored and "[-calm-]" not in colored


def test_drift_only_change_is_shown(make_plan: Callable[..., Plan]) -> None:
    change = Change(
        "agents.bot",
        "agent",
        "update",
        "agt_1",
        None,
        {"name": "Edited"},
        {"name": "Bot"},
        fields=(FieldChange("name", "Edited", "Bot"),),
        drift=(FieldChange("name", "Bot", "Edited"),),
    )
    text = render(make_plan(change))
    assert text.startswith("Changed outside bimpe-iac (apply will restore it):")
    assert text.endswith("Plan: 0 to add, 1 to change, 0 to destroy.")
