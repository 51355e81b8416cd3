"""Long text changes: one hunk per changed stretch with 3 lines of context, folds for the
rest, changed words marked inside changed line pairs, and never either text whole."""

from __future__ import annotations

from collections.abc import Callable

from bimpe_iac.model.plan import Change, Plan
from bimpe_iac.render.lines import ansi, plain
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.render.textdiff import text_diff, text_preview


def no_mask(text: str) -> str:
    return text


def test_one_word_changed_in_line_30_of_60_shows_one_folded_hunk(
    edited: tuple[str, str],
    make_plan: Callable[..., Plan],
    update: Callable[..., Change],
) -> None:
    before, after = edited
    text = render_plan_text(
        make_plan(update(system_prompt=(before, after))), color=False, mask=no_mask
    )

    assert text.count("@@") == 2  # one hunk header: "@@ ... @@"
    assert "@@ -27,7 +27,7 @@" in text
    assert "… 26 unchanged lines …" in text
    assert "… 27 unchanged lines …" in text
    for number in (27, 28, 29, 31, 32, 33):
        assert f"Rule {number}:" in text
    for number in (1, 26, 34, 60):
        assert f"Rule {number:02d}:" not in text
    assert "- Rule 30: greet the caller, confirm the account and answer in a [-calm-] tone." in text
    assert "+ Rule 30: greet the caller, confirm the account and answer in a {+warm+} tone." in text


def test_context_is_three_lines_on_each_side() -> None:
    before = "\n".join(f"line {n}" for n in range(1, 21))
    after = before.replace("line 10", "line ten")
    lines = plain(text_diff(before, after, indent=0)).splitlines()
    body = [line for line in lines if "unchanged" not in line and "@@" not in line]
    assert [line.strip() for line in body] == [
        "line 7",
        "line 8",
        "line 9",
        "- line [-10-]",
        "+ line {+ten+}",
        "line 11",
        "line 12",
        "line 13",
    ]


def test_distant_changes_make_two_hunks_with_a_fold_between(
    make_prompt: Callable[..., str],
) -> None:
    before = make_prompt(60)
    after = make_prompt(60, {5: "Rule 05: a new rule.", 50: "Rule 50: another new rule."})
    text = plain(text_diff(before, after, indent=0))
    assert text.count("@@ -") == 2
    assert "… 38 unchanged lines …" in text  # lines 9 to 46
    assert "… 1 unchanged line …" in text  # line 1
    assert "… 7 unchanged lines …" in text  # lines 54 to 60


def test_inserted_and_removed_lines_are_whole_lines() -> None:
    before = "alpha\nbeta\ngamma"
    after = "alpha\nbeta\nnew line\ngamma"
    text = plain(text_diff(before, after, indent=0))
    assert "+ new line" in text
    assert "{+" not in text
    assert "@@ -1,3 +1,4 @@" in text


def test_unlike_lines_are_not_marked_word_by_word() -> None:
    text = plain(text_diff("Say hello politely.", "Transfer billing questions to Ada.", 0))
    assert "- Say hello politely." in text
    assert "+ Transfer billing questions to Ada." in text
    assert "[-" not in text and "{+" not in text


def test_adjacent_changed_words_are_marked_as_one_run() -> None:
    text = plain(text_diff("answer in a calm tone", "answer in a warm friendly tone", 0))
    assert "{+warm friendly+}" in text


def test_only_a_final_newline_differs() -> None:
    text = plain(text_diff("one\ntwo\n", "one\ntwo", 0))
    assert "final newline" in text


def test_control_characters_are_spelled_out() -> None:
    text = plain(text_diff("a\nb\x1b[2Jc", "a\nb\x1b[2Jd", 0))
    assert "\x1b" not in text
    assert "\\x1b" in text


def test_created_text_shows_its_first_ten_lines_and_a_count(
    make_prompt: Callable[..., str],
) -> None:
    text = plain(text_preview(make_prompt(60), indent=0, sign="+"))
    assert "Rule 10:" in text
    assert "Rule 11:" not in text
    assert "(50 more lines)" in text


def test_a_short_created_text_shows_whole(make_prompt: Callable[..., str]) -> None:
    text = plain(text_preview(make_prompt(12), indent=0, sign="+"))
    assert "Rule 12:" in text
    assert "more lines" not in text


def test_text_that_looks_like_a_mark_is_escaped_in_plain_text_only() -> None:
    lines = text_diff("keep [-this-] and a-b here", "keep [-this-] and a+b here", 0)
    text = plain(lines)
    assert "- keep [\\-this-] and a[-\\--]b here" in text
    assert "+ keep [\\-this-] and a{+\\++}b here" in text
    assert "[\\-" not in ansi(lines)
