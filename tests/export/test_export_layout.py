"""Export without a server: keys slugified and de-duplicated whatever the input order, agents
on a workflow neither the team's nor public referenced by id with a warning, and `${` in a
manifest escaped so it is not interpolated."""

from __future__ import annotations

from typing import Any

import pytest

from bimpe_iac.export.layout import lay_out
from bimpe_iac.export.write import dump, escape
from bimpe_iac.model.export import ExportedTeam, VarReference
from bimpe_iac.resources import REGISTRY
from bimpe_iac.resources.export_keys import Named, assign_keys, slugify


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Support Bot", "support-bot"),
        ("  Été — Café!  ", "ete-cafe"),
        ("Tier 1 / FAQ", "tier-1-faq"),
        ("日本語", "agent"),
        ("x" * 80, "x" * 63),
    ],
)
def test_slugify(name: str, key: str) -> None:
    assert slugify(name, "agent") == key


def test_duplicate_keys_do_not_depend_on_input_order() -> None:
    items = [
        Named("b", "Support", "2024-01-02", "{}"),
        Named("a", "Support", "2024-01-01", "{}"),
        Named("c", "Support 2", "2024-01-01", "{}"),
        Named("d", "support!", "2024-01-01", "{}"),
    ]
    keys = assign_keys(items, "workflow")
    assert keys == {"a": "support", "b": "support-2", "c": "support-2-2", "d": "support-3"}
    assert assign_keys(reversed(items), "workflow") == keys


def agent(**fields: Any) -> dict[str, Any]:
    return {"id": "agt_1", "name": "Bot", "description": "d", "status": "development", **fields}


def test_a_workflow_of_another_team_is_referenced_by_id() -> None:
    agents = [agent(workflow_id="wf_x")]
    team = ExportedTeam(top={"agents": agents})
    layout = lay_out(team, REGISTRY.sections)
    assert layout.section("agents")["bot"]["workflow"] == {"id": "wf_x"}
    assert layout.warnings == (
        "agents.bot: its workflow wf_x is neither the team's nor in the public catalog;"
        " it is referenced by id",
    )


def test_escape_doubles_the_dollar_of_every_reference() -> None:
    assert escape({"a": ["${x} and $${y}", 1], "b": "plain"}) == {
        "a": ["$${x} and $$${y}", 1],
        "b": "plain",
    }


def test_a_credential_reference_is_written_as_a_reference_and_plain_text_escaped() -> None:
    data = {"secret_key": VarReference("shop_paystack_secret_key"), "note": "${not.a.ref}"}
    assert dump(escape(data), None) == (
        "secret_key: ${var.shop_paystack_secret_key}\nnote: $${not.a.ref}\n"
    )
