"""`bimpe-iac fmt`, run as a user runs it: every example is canonical; a shuffled, re-indented,
over-quoted manifest with comments is restored with every comment beside its key and loads to
the same stack; `--check` lists exactly the files that would change and writes nothing; a
second run changes nothing; bad YAML is reported as file:line:column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from example_copy import EXAMPLES, copy_example
from loading import load_stack

MODULES = EXAMPLES.parent / "modules"


def fmt(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bimpe_iac", "fmt", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    "directory",
    [*sorted(EXAMPLES.iterdir()), *sorted(MODULES.iterdir())],
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_every_example_is_canonical(directory: Path) -> None:
    result = fmt("--check", str(directory))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


STACK = """\
name: shuffled
environments:
    prod: {}
"""

SHUFFLED = """\
# Resources of the shuffled stack.
agents:
    # The agent people talk to.
    helper:
        name: "Helper"   # shown to customers
        # The language it answers in.
        language: 'en'
        workflow: "triage"
        description: Answers questions
        tags_note: '1'
workflows:
    triage:
        # Rules come before flows in the reference.
        rules:
            -   response: "We will look into it."   # what the agent says
                # the rule's own name
                name: Refunds
                id: refund
                trigger: "yes"
                enabled: true
        description: "Triage"
        # The prompt, inline.
        system_prompt: |
            You help customers.
            # This line is text, not a comment.
        name: Triage # the workflow's name
"""

CANONICAL = """\
# Resources of the shuffled stack.
workflows:
  triage:
    name: Triage  # the workflow's name
    # The prompt, inline.
    system_prompt: |
      You help customers.
      # This line is text, not a comment.
    description: Triage
    # Rules come before flows in the reference.
    rules:
      - id: refund
        # the rule's own name
        name: Refunds
        trigger: "yes"
        response: We will look into it.  # what the agent says
        enabled: true
agents:
  # The agent people talk to.
  helper:
    workflow: triage
    name: Helper  # shown to customers
    description: Answers questions
    # The language it answers in.
    language: en
    tags_note: '1'
"""


def _shuffled_stack(tmp_path: Path) -> Path:
    stack = tmp_path / "shuffled"
    stack.mkdir()
    (stack / "stack.yaml").write_text(STACK)
    (stack / "resources.yaml").write_text(SHUFFLED)
    return stack


def test_a_shuffled_manifest_is_restored_and_says_the_same(tmp_path: Path) -> None:
    stack = _shuffled_stack(tmp_path)
    (stack / "resources.yaml").write_text(SHUFFLED.replace("        tags_note: '1'\n", ""))
    before = load_stack(stack).resources

    result = fmt(str(stack), cwd=tmp_path)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["shuffled/stack.yaml", "shuffled/resources.yaml"]
    expected = CANONICAL.replace("    tags_note: '1'\n", "")
    assert (stack / "resources.yaml").read_text() == expected
    assert (stack / "stack.yaml").read_text() == "name: shuffled\nenvironments:\n  prod: {}\n"
    assert load_stack(stack).resources == before


def test_a_key_no_model_knows_goes_last_and_keeps_needed_quotes(tmp_path: Path) -> None:
    stack = _shuffled_stack(tmp_path)

    fmt(str(stack))

    assert (stack / "resources.yaml").read_text() == CANONICAL


def test_check_lists_exactly_the_files_that_would_change_and_writes_nothing(
    tmp_path: Path,
) -> None:
    stack = copy_example("support", tmp_path / "support")
    (stack / "more.yaml").write_text(SHUFFLED.replace("helper", "second").split("workflows:")[0])
    files = {path: path.read_bytes() for path in stack.rglob("*") if path.is_file()}

    result = fmt("--check", cwd=stack)

    assert (result.returncode, result.stdout) == (1, "more.yaml\n")
    assert {path: path.read_bytes() for path in stack.rglob("*") if path.is_file()} == files


def test_a_second_run_changes_nothing_and_touches_no_file(tmp_path: Path) -> None:
    stack = _shuffled_stack(tmp_path)
    fmt(str(stack))
    written = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in stack.iterdir()}

    again = fmt(str(stack))

    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in stack.iterdir()} == written
    assert fmt("--check", str(stack)).returncode == 0


def test_bad_yaml_is_located_and_left_as_it_is(tmp_path: Path) -> None:
    stack = _shuffled_stack(tmp_path)
    broken = "workflows:\n  triage:\n    name: [unclosed\n"
    (stack / "broken.yaml").write_text(broken)

    result = fmt(str(stack), cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "shuffled/broken.yaml:4:1: invalid YAML" in result.stderr
    assert (stack / "broken.yaml").read_text() == broken


def test_a_directory_without_a_stack_is_an_error(tmp_path: Path) -> None:
    result = fmt(str(tmp_path))

    assert result.returncode == 1
    assert "holds no stack.yaml" in result.stderr
