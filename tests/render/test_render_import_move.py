"""Imports and moves in every rendering: the text header and summary line (the usual line
when nothing is imported), Markdown rows, the JSON document (summary, `moved`, schema, exact
round trip, an import without after refused, older documents without `moved` still read) and
apply progress."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import Change, FieldChange, Move, Plan
from bimpe_iac.render import plan_document
from bimpe_iac.render.json import plan_from_json, plan_to_json
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.progress import format_apply_summary, format_progress
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.render.values import no_mask

SCHEMA = json.loads(Path(plan_document.SCHEMA_PATH).read_text(encoding="utf-8"))


def imported(fields: tuple[FieldChange, ...] = ()) -> Change:
    before = {"name": "Bot", "persona": "concise"}
    after = dict(before, **{item.field: item.after for item in fields})
    return Change(
        address="agents.bot",
        kind="agent",
        action="import",
        id="agt_1",
        parent=None,
        before=before,
        after=after,
        fields=fields,
        fingerprint="fp-1",
    )


@pytest.fixture
def import_plan(make_plan: Callable[..., Plan]) -> Plan:
    persona = FieldChange("persona", "concise", "friendly")
    moved = Move("workflows.old", "workflows.triage")
    noop = Change("workflows.triage", "workflow", "noop", "wf_1", None, {}, {})
    return make_plan(imported((persona,)), noop, moved=(moved,))


def test_text_header_fields_and_summary(import_plan: Plan) -> None:
    text = render_plan_text(import_plan, color=False, mask=no_mask)
    assert "  # agents.bot will be imported, then updated in place" in text
    assert " <= agent agents.bot  [id=agt_1]" in text
    assert '~ persona: "concise" -> "friendly"' in text
    assert "  # workflows.old has moved to workflows.triage" in text
    assert text.splitlines()[-1] == (
        "Plan: 1 to import, 1 to move, 0 to add, 1 to change, 0 to destroy."
    )


def test_an_import_as_it_is_changes_nothing(make_plan: Callable[..., Plan]) -> None:
    text = render_plan_text(make_plan(imported()), color=False, mask=no_mask)
    assert "  # agents.bot will be imported\n" in text
    assert text.splitlines()[-1] == "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."


def test_summary_without_imports_is_unchanged(plan: Plan) -> None:
    text = render_plan_text(plan, color=False, mask=no_mask)
    assert text.splitlines()[-1] == "Plan: 2 to add, 1 to change, 2 to destroy."
    assert plan_to_json(plan)["summary"] == {"add": 2, "change": 1, "destroy": 2}


def test_a_move_alone_is_a_change(make_plan: Callable[..., Plan]) -> None:
    plan = make_plan(moved=(Move("agents.a", "agents.b"),))
    assert plan.has_changes
    text = render_plan_text(plan, color=False, mask=no_mask)
    assert "# agents.a has moved to agents.b" in text
    # What the summary says agrees with --detailed-exitcode (2: something to do).
    assert text.splitlines()[-1] == "Plan: 1 to move, 0 to add, 0 to change, 0 to destroy."
    assert plan.counts() == {"move": 1, "add": 0, "change": 0, "destroy": 0}


def test_markdown_rows(import_plan: Plan) -> None:
    part = render_plan_markdown(import_plan, mask=no_mask)[0]
    assert "| 🔵 import | `agents.bot` | agent | `persona` |" in part
    assert "| ⚪ move | `workflows.triage` | workflow | (moved from `workflows.old`) |" in part
    assert "**Plan: 1 to import, 1 to move, 0 to add, 1 to change, 0 to destroy.**" in part


def test_json_document_round_trips_and_meets_its_schema(import_plan: Plan) -> None:
    document = plan_to_json(import_plan)
    assert document["summary"] == {"import": 1, "move": 1, "add": 0, "change": 1, "destroy": 0}
    assert document["moved"] == [{"from": "workflows.old", "to": "workflows.triage"}]
    assert document["changes"][0]["action"] == "import"
    jsonschema.validate(document, SCHEMA)
    assert plan_from_json(document) == import_plan
    assert plan_from_json(json.loads(json.dumps(document))) == import_plan


def test_json_reads_documents_without_moved_or_import(plan: Plan) -> None:
    document = plan_to_json(plan)
    del document["moved"]
    assert plan_from_json(document) == plan
    document["summary"]["import"] = 0
    assert plan_from_json(document) == plan


def test_json_refuses_an_import_without_after_or_a_wrong_count(import_plan: Plan) -> None:
    document = plan_to_json(import_plan)
    document["changes"][0]["after"] = None
    with pytest.raises(PlanError, match=r"changes\[0\].after: an import needs after"):
        plan_from_json(document)
    document = plan_to_json(replace(import_plan, changes=(imported(),)))
    document["summary"]["import"] = 2
    with pytest.raises(PlanError, match=re.escape("summary: {'import': 2")):
        plan_from_json(document)


def test_progress_and_apply_summary() -> None:
    assert format_progress("agents.bot", "import", "started") == "agents.bot: Importing..."
    done = format_progress("agents.bot", "import", "done", 0.5, "agt_1")
    assert done == "agents.bot: Import complete after 0.5s [id=agt_1]"
    summary = format_apply_summary({"import": 3, "add": 0, "change": 1, "destroy": 0})
    assert summary == "Apply complete! Resources: 3 imported, 0 added, 1 changed, 0 destroyed."
