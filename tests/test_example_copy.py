"""The README's main command applies examples/stacks/support in place and leaves its state and
emulator database in `.bimpe/`; the tests that copy an example must start from nothing."""

from __future__ import annotations

import re
from pathlib import Path

from example_copy import EXAMPLES, copy_example

TESTS = Path(__file__).parent


def test_a_copy_leaves_out_what_a_run_left_in_the_example(tmp_path: Path) -> None:
    examples = tmp_path / "examples"
    left = examples / "support" / ".bimpe" / "state" / "support"
    left.mkdir(parents=True)
    (left / "prod.json").write_text('{"serial": 7}\n')
    (examples / "support" / ".bimpe" / "emulator.db").write_bytes(b"SQLite format 3\0")
    (examples / "support" / "stack.yaml").write_text("name: support\n")
    (examples / "support" / "prompts").mkdir()
    (examples / "support" / "prompts" / "main.md").write_text("You help.\n")

    copy = copy_example("support", tmp_path / "copy", examples=examples)

    copied = sorted(str(path.relative_to(copy)) for path in copy.rglob("*"))
    assert copied == ["prompts", "prompts/main.md", "stack.yaml"]


def test_the_real_examples_are_copied_whole_but_for_runs(tmp_path: Path) -> None:
    copy = copy_example("support", tmp_path / "support")
    expected = {
        str(path.relative_to(EXAMPLES / "support"))
        for path in (EXAMPLES / "support").rglob("*")
        if ".bimpe" not in path.relative_to(EXAMPLES / "support").parts
    }
    assert {str(path.relative_to(copy)) for path in copy.rglob("*")} == expected


def test_every_test_copies_examples_through_copy_example() -> None:
    """A plain copytree of an example would carry `.bimpe/` again."""
    offenders = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if path.name != "example_copy.py" and re.search(r"copytree\(\s*EXAMPLE", path.read_text())
    ]
    assert offenders == []
