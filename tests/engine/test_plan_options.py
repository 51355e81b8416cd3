"""Plan options a CI pipeline leans on: --target narrows a run to an address and what it needs,
--max-deletions refuses mass deletion, --detailed-exitcode tells changes (2) from none (0) and
errors (1), and Markdown output fits pull-request comments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Bimpe


def test_target_takes_the_address_and_its_dependencies(bimpe: Bimpe, full_stack: Path) -> None:
    planned = bimpe("plan", full_stack, "--target", "agents.bot", "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    addresses = {c["address"] for c in json.loads(planned.output)["changes"]}
    assert "agents.bot" in addresses and "workflows.main" in addresses
    assert "agents.catalog-bot" not in addresses
    applied = bimpe("apply", full_stack, "--target", "agents.bot", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert [a.name for a in bimpe.sdk.agents.list().data] == ["Full bot"]


def test_unknown_target_is_an_error(bimpe: Bimpe, full_stack: Path) -> None:
    planned = bimpe("plan", full_stack, "--target", "agents.nobody")
    assert planned.exit_code == 1
    assert "--target agents.nobody" in planned.stderr


def test_detailed_exitcode_and_max_deletions(bimpe: Bimpe, full_stack: Path) -> None:
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 2
    assert bimpe("apply", full_stack, "--auto-approve").exit_code == 0
    assert bimpe("plan", full_stack, "--detailed-exitcode").exit_code == 0
    (full_stack / "resources.yaml").write_text("workflows: {}\n")
    refused = bimpe("plan", full_stack, "--max-deletions", "2", "--detailed-exitcode")
    assert refused.exit_code == 1
    assert "more than --max-deletions 2" in refused.stderr


def test_markdown_plan_leads_with_the_summary(bimpe: Bimpe, full_stack: Path) -> None:
    planned = bimpe("plan", full_stack, "--format", "markdown")
    assert planned.exit_code == 0
    assert planned.output.startswith("### bimpe-iac plan: full (test)")
    assert "Plan: 7 to add, 1 to change" in planned.output.split("<details>")[0]
