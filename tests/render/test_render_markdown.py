"""Markdown for pull-request comments: heading, summary first, a table of changes, a
collapsed ```diff block per change, and splitting into parts under the limit with every
fence closed in the part that opens it; a diff too big for any part is cut with a note."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bimpe_iac.model.plan import Change, FieldChange, Plan
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.text import render_plan_text

FENCE = re.compile(r"^(`{3,})(diff)?$", re.MULTILINE)
LIMIT = 65000


def no_mask(text: str) -> str:
    return text


def assert_balanced(part: str) -> None:
    fences = FENCE.findall(part)
    assert len(fences) % 2 == 0, part[-500:]
    for opening, closing in zip(fences[::2], fences[1::2], strict=True):
        assert opening[1] == "diff" and closing[1] == "" and opening[0] == closing[0]
    assert part.count("<details>") == part.count("</details>")


def rewrite(make_prompt: Callable[..., str], lines: int, address: str) -> Change:
    """An update that changes every line of a `lines`-line prompt."""
    before = make_prompt(lines)
    after = before.replace("calm tone", "warm and friendly tone")
    return Change(
        address,
        "workflow",
        "update",
        f"wf_{address.split('.')[-1]}",
        None,
        {"system_prompt": before},
        {"system_prompt": after},
        fields=(FieldChange("system_prompt", before, after),),
    )


def test_a_small_plan_is_one_part(plan: Plan) -> None:
    parts = render_plan_markdown(plan, mask=no_mask)
    assert len(parts) == 1
    part = parts[0]
    lines = part.splitlines()
    assert lines[0] == "### bimpe-iac plan: support (prod)"
    assert lines[2] == "**Plan: 2 to add, 1 to change, 2 to destroy.**"
    assert "| 🟡 update | `workflows.triage` | workflow | `name`, `system_prompt`, `faq` |" in part
    assert "| 🟢 create | `agents.bot` | agent | (new) |" in part
    assert "| 🔴 delete | `agents.legacy` | agent | (removed) |" in part
    assert "<details><summary>~ workflows.triage</summary>" in part
    assert "phone_numbers" not in part
    assert_balanced(part)


def test_details_use_the_uncoloured_diff_with_marks_first(plan: Plan) -> None:
    part = render_plan_markdown(plan, mask=no_mask)[0]
    assert "\x1b" not in part
    assert '!      ~ name: "Triage" -> "Triage desk"' in part
    assert (
        "-          - Rule 30: greet the caller, confirm the account and answer in a [-calm-]"
        in part
    )
    assert "@@ -27,7 +27,7 @@" in part
    triage = part.split("<summary>~ workflows.triage</summary>")[1].split("</details>")[0]
    assert "Rule 01:" not in triage


def test_drift_has_its_own_block(plan: Plan) -> None:
    part = render_plan_markdown(plan, mask=no_mask)[0]
    assert "<summary>Changed outside bimpe-iac (apply will restore it)</summary>" in part


def test_no_changes(make_plan: Callable[..., Plan]) -> None:
    parts = render_plan_markdown(make_plan(), mask=no_mask)
    assert parts == [
        "### bimpe-iac plan: support (prod)\n\n"
        "**No changes. The live configuration matches the manifests.**\n"
    ]


def test_a_long_plan_splits_between_blocks(
    make_plan: Callable[..., Plan], make_prompt: Callable[..., str]
) -> None:
    changes = [rewrite(make_prompt, 60, f"workflows.flow{n:03d}") for n in range(40)]
    plan = make_plan(*changes)
    assert len(render_plan_text(plan, color=False, mask=no_mask)) > 200_000

    parts = render_plan_markdown(plan, mask=no_mask)

    assert len(parts) > 3
    assert parts[0].splitlines()[2] == "**Plan: 0 to add, 40 to change, 0 to destroy.**"
    for number, part in enumerate(parts, start=1):
        assert len(part) < LIMIT
        assert part.startswith(
            f"### bimpe-iac plan: support (prod) (part {number} of {len(parts)})"
        )
        assert_balanced(part)
    everything = "".join(parts)
    for change in changes:
        assert everything.count(f"<summary>~ {change.address}</summary>") == 1
    assert "cut short" not in everything


def test_a_huge_diff_is_cut_inside_its_fence(
    make_plan: Callable[..., Plan], make_prompt: Callable[..., str]
) -> None:
    plan = make_plan(rewrite(make_prompt, 3000, "workflows.huge"), rewrite(make_prompt, 5, "w.s"))
    parts = render_plan_markdown(plan, mask=no_mask)
    for part in parts:
        assert len(part) < LIMIT
        assert_balanced(part)
    everything = "".join(parts)
    assert re.search(r"… diff cut short here: \d+ more lines; run plan to see all\n```", everything)
    assert "<summary>~ w.s</summary>" in everything


def test_a_huge_single_line_is_cut_too(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    plan = make_plan(update(description=("a " * 50_000, "b " * 50_000)))
    parts = render_plan_markdown(plan, mask=no_mask)
    assert all(len(part) < LIMIT for part in parts)
    for part in parts:
        assert_balanced(part)


def test_backticks_in_values_get_a_longer_fence(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    before = "Answer in prose.\n" * 3
    after = "Answer with a code block:\n```python\nprint('hi')\n```\n"
    part = render_plan_markdown(make_plan(update(system_prompt=(before, after))), mask=no_mask)[0]
    assert "````diff\n" in part
    assert "\n````\n" in part


def test_table_cells_escape_pipes(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    part = render_plan_markdown(make_plan(update("agents.a|b", name=("a", "b"))), mask=no_mask)[0]
    assert "`agents.a\\|b`" in part


def test_a_tiny_limit_is_refused(plan: Plan) -> None:
    with pytest.raises(ValueError, match="too small"):
        render_plan_markdown(plan, mask=no_mask, limit=500)


def test_a_table_too_long_for_the_first_part_is_cut(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    changes = [update(f"agents.bot{n:04d}", name=("a", "b")) for n in range(2000)]
    parts = render_plan_markdown(make_plan(*changes), mask=no_mask)
    assert all(len(part) < LIMIT for part in parts)
    assert re.search(r"_… and \d+ more changes, in the details below\._", parts[0])
    everything = "".join(parts)
    assert everything.count("<summary>~ agents.bot") == 2000
