"""A failed operation stops the changes that wait for it, lets independent ones finish, is
reported with the API's request id, and exits 1; the next run continues from the state."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Bimpe

STACK = {
    "stack.yaml": "name: partial\nenvironments:\n  test: {}\n",
    "resources.yaml": """
workflows:
  main: {name: Main, system_prompt: You help.}
agents:
  good:
    workflow: main
    name: Good bot
    description: Fine
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Hello}
  broken:
    workflow: {id: wf_does_not_exist}
    name: Broken bot
    description: Points at a workflow that is not there
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Hello}
""",
}


def test_failure_skips_dependents_and_the_next_run_continues(
    bimpe: Bimpe, make_stack: Callable[[str, dict[str, str]], Path]
) -> None:
    stack = make_stack("partial", STACK)
    failed = bimpe("apply", stack, "--auto-approve")
    assert failed.exit_code == 1
    assert re.search(r"agents\.broken: .*404.*request id [0-9a-f-]{36}", failed.stderr), (
        failed.stderr
    )
    assert "agents.broken.knowledge_bases.faq: Skipped" in failed.output
    assert "Good bot" in {a.name for a in bimpe.sdk.agents.list().data}

    manifest = stack / "resources.yaml"
    manifest.write_text(manifest.read_text().replace("{id: wf_does_not_exist}", "main"))
    fixed = bimpe("apply", stack, "--auto-approve")
    assert fixed.exit_code == 0, fixed.output + fixed.stderr
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in fixed.output
    names = sorted(a.name for a in bimpe.sdk.agents.list().data)
    assert names == ["Broken bot", "Good bot"]
