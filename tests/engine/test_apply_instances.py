"""Resources present in some environments only (`environments:`, `enabled:`) and declared once
per item of a `for_each`, planned and applied against the emulator and read back through the
SDK: what exists in which team, that adding or removing an instance touches only it, and that
an instance keeps its id through `moved:`, `state mv` and `--target`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from bimpeai import BimpeAI
from cli_runner import invoke
from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe

MakeStack = Callable[[str, dict[str, str]], Path]

STACK = """
name: regions
vars:
  regions:
    ng: {timezone: Africa/Lagos, country: Nigeria}
environments:
  staging:
    target: {api_key_env: BIMPE_STAGING_API_KEY}
  prod:
    target: {api_key_env: BIMPE_PROD_API_KEY}
    vars:
      regions:
        ng: {timezone: Africa/Lagos, country: Nigeria}
        gh: {timezone: Africa/Accra, country: Ghana}
"""
RESOURCES = """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
agents:
  regional:
    for_each: ${var.regions}
    workflow: triage
    name: Desk ${each.value.country}
    description: Serves ${each.key}
    timezone: ${each.value.timezone}
    knowledge_bases:
      faq: {type: text, name: "FAQ ${each.key}", content: Open 8 to 8.}
  vip:
    environments: [prod]
    workflow: triage
    name: VIP desk
    description: For the best customers
"""


def regions(*names: str) -> str:
    """A for_each over a map written in the resource file."""
    zones = {"ng": "Africa/Lagos", "gh": "Africa/Accra", "ke": "Africa/Nairobi"}
    lines = "".join(f"      {n}: {{timezone: {zones[n]}}}\n" for n in names)
    return f"""
workflows:
  triage: {{name: Triage, system_prompt: Answer kindly.}}
agents:
  regional:
    for_each:
{lines}    workflow: triage
    name: Desk ${{each.key}}
    description: Serves ${{each.key}}
    timezone: ${{each.value.timezone}}
    knowledge_bases:
      faq: {{type: text, name: "FAQ ${{each.key}}", content: Open 8 to 8.}}
      returns: {{type: text, name: Returns, content: Within 30 days.}}
"""


@dataclass
class Teams:
    """Staging on the fixture's team, prod on a team of its own: the CLI's environment and an
    SDK client for each."""

    environ: dict[str, str | None]
    staging: BimpeAI
    prod: BimpeAI


@pytest.fixture
def teams(bimpe: Bimpe) -> Iterator[Teams]:
    prod = Admin(bimpe.running).new_team("prod")
    with BimpeAI(api_key=prod.api_key, base_url=bimpe.running.url) as sdk:
        yield Teams({**bimpe.environ, "BIMPE_PROD_API_KEY": prod.api_key}, bimpe.sdk, sdk)


def run(environ: dict[str, str | None], *args: str | Path) -> str:
    outcome = invoke(*args, env=environ)
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    return outcome.output


def apply(environ: dict[str, str | None], stack: Path, *args: str) -> str:
    return run(environ, "apply", stack, "--auto-approve", *args)


def acting(environ: dict[str, str | None], stack: Path, *args: str) -> dict[str, str]:
    """The plan's changes other than no-ops, by address."""
    document: dict[str, Any] = json.loads(run(environ, "plan", stack, "--format", "json", *args))
    return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}


def desks(sdk: BimpeAI) -> dict[str, Any]:
    return {agent.name: agent for agent in sdk.agents.list(limit=100).data}


def kb_names(sdk: BimpeAI, agent_id: str) -> list[str]:
    return sorted(kb.name for kb in sdk.agents.knowledge_bases.list(agent_id))


def ids(sdk: BimpeAI) -> dict[str, str]:
    """Every agent's and knowledge base's id, by agent name (and knowledge base name)."""
    out: dict[str, str] = {}
    for name, agent in desks(sdk).items():
        out[name] = agent.id
        for kb in sdk.agents.knowledge_bases.list(agent.id):
            out[f"{name}/{kb.name}"] = kb.id
    return out


def test_an_agent_for_prod_only_exists_in_prods_team(teams: Teams, make_stack: MakeStack) -> None:
    stack = make_stack("regions", {"stack.yaml": STACK, "main.yaml": RESOURCES})
    apply(teams.environ, stack, "--env", "staging")
    apply(teams.environ, stack, "--env", "prod")

    assert "VIP desk" not in desks(teams.staging)
    assert "VIP desk" in desks(teams.prod)
    assert acting(teams.environ, stack, "--env", "staging") == {}
    assert acting(teams.environ, stack, "--env", "prod") == {}


def test_for_each_from_a_var_that_differs_per_environment(
    teams: Teams, make_stack: MakeStack
) -> None:
    stack = make_stack("regions", {"stack.yaml": STACK, "main.yaml": RESOURCES})
    apply(teams.environ, stack, "--env", "staging")
    apply(teams.environ, stack, "--env", "prod")

    staging, prod = desks(teams.staging), desks(teams.prod)
    assert sorted(staging) == ["Desk Nigeria"]
    assert sorted(prod) == ["Desk Ghana", "Desk Nigeria", "VIP desk"]
    assert prod["Desk Ghana"].timezone == "Africa/Accra"
    assert prod["Desk Nigeria"].timezone == "Africa/Lagos"
    assert kb_names(teams.prod, prod["Desk Ghana"].id) == ["FAQ gh"]
    assert kb_names(teams.staging, staging["Desk Nigeria"].id) == ["FAQ ng"]


def test_a_disabled_knowledge_base_is_not_created_and_is_deleted_when_disabled_later(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    body = """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
agents:
  desk:
    workflow: triage
    name: Desk
    description: Front desk
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Open 8 to 8.}
      vip: {type: text, name: VIP, content: Priority line., enabled: ENABLED}
"""
    stack = make_stack(
        "kb",
        {
            "stack.yaml": "name: kb\nvars: {with_vip: false}\n",
            "main.yaml": body.replace("ENABLED", "'${var.with_vip}'"),
        },
    )
    apply(bimpe.environ, stack)
    desk = desks(bimpe.sdk)["Desk"]
    assert kb_names(bimpe.sdk, desk.id) == ["FAQ"]

    (stack / "main.yaml").write_text(body.replace("ENABLED", "true"), encoding="utf-8")
    assert acting(bimpe.environ, stack) == {"agents.desk.knowledge_bases.vip": "create"}
    apply(bimpe.environ, stack)
    assert kb_names(bimpe.sdk, desk.id) == ["FAQ", "VIP"]

    (stack / "main.yaml").write_text(body.replace("ENABLED", "false"), encoding="utf-8")
    assert acting(bimpe.environ, stack) == {"agents.desk.knowledge_bases.vip": "delete"}
    apply(bimpe.environ, stack)
    assert kb_names(bimpe.sdk, desk.id) == ["FAQ"]
    assert desks(bimpe.sdk)["Desk"].id == desk.id


def test_for_each_over_a_map_of_regions_sets_each_timezone(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    stack = make_stack(
        "regions", {"stack.yaml": "name: regions\n", "main.yaml": regions("ng", "gh")}
    )
    output = apply(bimpe.environ, stack)
    assert 'agents.regional["ng"]' in output

    team = desks(bimpe.sdk)
    assert {name: agent.timezone for name, agent in team.items()} == {
        "Desk ng": "Africa/Lagos",
        "Desk gh": "Africa/Accra",
    }
    assert kb_names(bimpe.sdk, team["Desk gh"].id) == ["FAQ gh", "Returns"]
    assert acting(bimpe.environ, stack) == {}


def test_adding_a_key_creates_one_agent_and_its_knowledge_bases_only(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    stack = make_stack(
        "regions", {"stack.yaml": "name: regions\n", "main.yaml": regions("ng", "gh")}
    )
    apply(bimpe.environ, stack)
    before = ids(bimpe.sdk)

    (stack / "main.yaml").write_text(regions("ng", "gh", "ke"), encoding="utf-8")
    assert acting(bimpe.environ, stack) == {
        'agents.regional["ke"]': "create",
        'agents.regional["ke"].knowledge_bases.faq': "create",
        'agents.regional["ke"].knowledge_bases.returns': "create",
    }
    apply(bimpe.environ, stack)

    after = ids(bimpe.sdk)
    assert {name: after[name] for name in before} == before
    assert sorted(set(after) - set(before)) == ["Desk ke", "Desk ke/FAQ ke", "Desk ke/Returns"]
    assert desks(bimpe.sdk)["Desk ke"].timezone == "Africa/Nairobi"


def test_removing_a_key_deletes_only_what_it_declared(bimpe: Bimpe, make_stack: MakeStack) -> None:
    stack = make_stack(
        "regions", {"stack.yaml": "name: regions\n", "main.yaml": regions("ng", "gh", "ke")}
    )
    apply(bimpe.environ, stack)
    before = ids(bimpe.sdk)

    (stack / "main.yaml").write_text(regions("ng", "ke"), encoding="utf-8")
    assert acting(bimpe.environ, stack) == {
        'agents.regional["gh"]': "delete",
        'agents.regional["gh"].knowledge_bases.faq': "delete",
        'agents.regional["gh"].knowledge_bases.returns': "delete",
    }
    apply(bimpe.environ, stack)

    kept = {name: id for name, id in before.items() if not name.startswith("Desk gh")}
    assert ids(bimpe.sdk) == kept


PLAIN = """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
agents:
  lagos:
    workflow: triage
    name: Desk ng
    description: Serves ng
    timezone: Africa/Lagos
    knowledge_bases:
      faq: {type: text, name: FAQ ng, content: Open 8 to 8.}
      returns: {type: text, name: Returns, content: Within 30 days.}
"""


def test_moved_from_a_plain_agent_to_an_instance_and_back_keeps_the_ids(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    stack = make_stack("regions", {"stack.yaml": "name: regions\n", "main.yaml": PLAIN})
    apply(bimpe.environ, stack)
    before = ids(bimpe.sdk)

    to_instance = "moved:\n  - {from: agents.lagos, to: 'agents.regional[\"ng\"]'}\n"
    (stack / "main.yaml").write_text(regions("ng") + to_instance, encoding="utf-8")
    assert acting(bimpe.environ, stack) == {}
    apply(bimpe.environ, stack)
    assert ids(bimpe.sdk) == before

    to_plain = "moved:\n  - {from: 'agents.regional[\"ng\"]', to: agents.lagos}\n"
    (stack / "main.yaml").write_text(PLAIN + to_plain, encoding="utf-8")
    assert acting(bimpe.environ, stack) == {}
    apply(bimpe.environ, stack)
    assert ids(bimpe.sdk) == before


def test_state_mv_and_target_take_instance_addresses_and_a_for_each_targets_each(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    stack = make_stack("regions", {"stack.yaml": "name: regions\n", "main.yaml": PLAIN})
    apply(bimpe.environ, stack)
    before = ids(bimpe.sdk)

    output = run(bimpe.environ, "state", "mv", "agents.lagos", 'agents.regional["ng"]', stack)
    assert (
        'Moved agents.lagos.knowledge_bases.faq to agents.regional["ng"].knowledge_bases.faq'
        in (output)
    )
    (stack / "main.yaml").write_text(regions("ng", "gh"), encoding="utf-8")
    assert acting(bimpe.environ, stack, "--target", 'agents.regional["ng"]') == {}
    assert acting(bimpe.environ, stack, "--target", 'agents.regional["gh"]') == {
        'agents.regional["gh"]': "create",
        'agents.regional["gh"].knowledge_bases.faq': "create",
        'agents.regional["gh"].knowledge_bases.returns': "create",
    }
    (stack / "main.yaml").write_text(regions("ng", "gh", "ke"), encoding="utf-8")
    assert sorted(acting(bimpe.environ, stack, "--target", "agents.regional")) == [
        f'agents.regional["{region}"]{held}'
        for region in ("gh", "ke")
        for held in ("", ".knowledge_bases.faq", ".knowledge_bases.returns")
    ]
    apply(bimpe.environ, stack, "--target", 'agents.regional["gh"]')
    after = ids(bimpe.sdk)
    assert "Desk ke" not in after
    assert {name: after[name] for name in before} == before
    assert "Desk gh" in after


def test_a_boolean_var_given_on_the_command_line_turns_a_resource_off(
    bimpe: Bimpe, make_stack: MakeStack
) -> None:
    stack = make_stack(
        "promo",
        {
            "stack.yaml": "name: promo\nvars:\n  with_promo: true\n",
            "resources.yaml": """
workflows:
  triage: {name: Triage, system_prompt: Answer kindly.}
  promo: {name: Promo, system_prompt: Sell the promo., enabled: "${var.with_promo}"}
""",
        },
    )
    apply(bimpe.environ, stack)
    assert sorted(w.name for w in bimpe.sdk.workflows.list(scope="owned")) == ["Promo", "Triage"]

    apply(bimpe.environ, stack, "--var", "with_promo=false")
    assert [w.name for w in bimpe.sdk.workflows.list(scope="owned")] == ["Triage"]
    apply(bimpe.environ, stack, "--var", "with_promo=true")
    assert sorted(w.name for w in bimpe.sdk.workflows.list(scope="owned")) == ["Promo", "Triage"]
