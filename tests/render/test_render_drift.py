"""Drift reports rendered: colour only on request, every string masked in every format, a
sensitive difference named but not shown, the JSON document versioned, and the summary line."""

from __future__ import annotations

import json

from bimpe_iac.engine.drift import Drifted, DriftReport, Unmanaged
from bimpe_iac.model.plan import FieldChange
from bimpe_iac.render.drift import (
    render_drift_json,
    render_drift_markdown,
    render_drift_text,
    summary,
)

SECRET = "s3cret-inbox@example.com"


def mask(text: str) -> str:
    return text.replace(SECRET, "(sensitive)")


REPORT = DriftReport(
    stack="support",
    environment="prod",
    managed=5,
    resources=(
        Drifted(
            "agents.bot",
            "agent",
            "agt_1",
            changed=(
                FieldChange("description", "Helps", f"Write to {SECRET}"),
                FieldChange("escalation_email", "(sensitive)", SECRET),
            ),
        ),
        Drifted(
            "agents.gone", "agent", "agt_2", deleted=True, gone_with_it=("agents.gone.actions",)
        ),
    ),
    unmanaged=(Unmanaged("phone_link", "pn_1", None, "+15550100002"),),
)


def test_text_is_plain_unless_colour_is_asked_for() -> None:
    plain = render_drift_text(REPORT, color=False, mask=mask)
    assert "\x1b[" not in plain
    assert "\x1b[" in render_drift_text(REPORT, color=True, mask=mask)
    assert "  - agents.gone  [id=agt_2]  (deleted outside bimpe-iac)" in plain
    assert "      - agents.gone.actions" in plain
    assert "  phone_link  pn_1  +15550100002" in plain


def test_no_format_shows_a_sensitive_value() -> None:
    text = render_drift_text(REPORT, color=False, mask=mask)
    assert '~ description: "Helps" -> "Write to (sensitive)"' in text
    assert "~ escalation_email: (changed; the difference is sensitive)" in text
    for shown in (
        text,
        render_drift_json(REPORT, mask=mask),
        render_drift_markdown(REPORT, mask=mask),
    ):
        assert SECRET not in shown


def test_json_is_a_versioned_document() -> None:
    document = json.loads(render_drift_json(REPORT, mask=mask))
    assert document["format_version"] == 1
    assert document["summary"] == {"managed": 5, "changed": 1, "deleted": 1, "unmanaged": 1}
    assert document["resources"][1] == {
        "address": "agents.gone",
        "kind": "agent",
        "id": "agt_2",
        "status": "deleted",
        "gone_with_it": ["agents.gone.actions"],
    }


def test_summaries() -> None:
    assert summary(REPORT) == (
        "Drift: 1 changed, 1 deleted outside bimpe-iac (of 5 managed); 1 not managed by this stack."
    )
    assert summary(DriftReport("s", "e", 3)) == (
        "No drift. The 3 resources this stack manages match the last apply."
    )
    assert summary(DriftReport("s", "e", 1)) == (
        "No drift. The one resource this stack manages matches the last apply."
    )
    assert summary(DriftReport("s", "e", 0, unmanaged=())) == (
        "No drift: this stack manages nothing yet (its state is empty)."
    )
