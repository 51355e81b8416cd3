"""Loading `enabled:`, `environments:` and `for_each:`: which resources a stack declares in
each environment, the instances a for_each makes and what their bodies say, vars that hold
lists and maps, and that the three fields reach no kind. The located errors are in the
invalid corpus (for-each-*, each-outside-for-each, reference-to-other-environment, ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError
from bimpe_iac.resources.base import managed

WriteStack = Callable[[dict[str, str | bytes]], Path]

STACK = """\
name: s
vars:
  regions: [ng, gh]
  desks:
    lagos: {timezone: Africa/Lagos, vip: true}
    accra: {timezone: Africa/Accra, vip: false}
  with_vip: false
  token: {value: [tok-one, tok-two], sensitive: true}
environments:
  staging: {}
  prod:
    vars:
      with_vip: true
      regions: [ng, gh, ke]
"""
WORKFLOWS = """\
workflows:
  triage:
    for_each: ${var.regions}
    name: Triage ${each.key}
    system_prompt: Answer kindly in ${each.value}.
  vip:
    environments: [prod]
    name: VIP
    system_prompt: Answer very kindly.
"""


def _issues(stack_dir: Path, env: str | None = None) -> list[str]:
    with pytest.raises(InvalidStackError) as raised:
        load_stack(stack_dir, env, environ={})
    return [f"{i.address}: {i.message}" for i in raised.value.issues]


def test_each_environment_declares_its_own_resources(write_stack: WriteStack) -> None:
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": WORKFLOWS})

    staging = load_stack(stack_dir, "staging", environ={})
    prod = load_stack(stack_dir, "prod", environ={})

    assert list(staging.resources) == ['workflows.triage["ng"]', 'workflows.triage["gh"]']
    assert list(prod.resources) == [
        'workflows.triage["ng"]',
        'workflows.triage["gh"]',
        'workflows.triage["ke"]',
        "workflows.vip",
    ]
    ke = prod.resources['workflows.triage["ke"]']
    assert (ke.key, ke.spec.name, ke.spec.system_prompt) == (
        'triage["ke"]',
        "Triage ke",
        "Answer kindly in ke.",
    )
    assert staging.count("workflows") == 2


def test_instances_of_a_map_hold_their_values_and_what_they_hold(write_stack: WriteStack) -> None:
    agents = """\
agents:
  desk:
    for_each: ${var.desks}
    workflow: 'triage["ng"]'
    name: Desk ${each.key}
    description: Desk in ${each.key}
    timezone: ${each.value.timezone}
    knowledge_bases:
      faq: {type: text, name: "FAQ ${each.key}", content: Open.}
      vip:
        enabled: ${each.value.vip}
        type: text
        name: VIP
        content: Priority.
      extra: {type: text, name: Extra, content: More., enabled: false}
"""
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": WORKFLOWS, "a.yaml": agents})

    stack = load_stack(stack_dir, "staging", environ={})

    lagos = stack.resources['agents.desk["lagos"]']
    assert lagos.spec.timezone == "Africa/Lagos"
    assert lagos.spec.workflow == 'triage["ng"]'
    assert lagos.refers_to("workflows", lagos.spec.workflow) == 'workflows.triage["ng"]'
    held = [e.address for e in stack.entries("knowledge_bases")]
    assert held == [
        'agents.desk["lagos"].knowledge_bases.faq',
        'agents.desk["lagos"].knowledge_bases.vip',
        'agents.desk["accra"].knowledge_bases.faq',
    ]
    faq = stack.resources['agents.desk["accra"].knowledge_bases.faq']
    assert faq.holder == 'agents.desk["accra"]' and faq.spec.name == "FAQ accra"
    assert str(faq.spec.source).endswith("a.yaml:9:7")


def test_the_fields_reach_no_kind(write_stack: WriteStack) -> None:
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": WORKFLOWS})

    stack = load_stack(stack_dir, "prod", environ={})

    vip = stack.resources["workflows.vip"].spec
    for entry in stack.resources.values():
        assert entry.spec.enabled is None and entry.spec.for_each is None
    written = type(vip).model_validate(
        {"name": "VIP", "system_prompt": "Hi.", "enabled": True, "environments": ["prod"]}
    )
    assert set(managed(written, exclude={"lifecycle"})) == {"name", "system_prompt"}


def test_a_sensitive_list_var_masks_every_item_and_makes_no_instance_key(
    write_stack: WriteStack,
) -> None:
    workflows = """\
workflows:
  triage:
    name: Triage
    system_prompt: Answer kindly.
    tags: ${var.token}
  keyed:
    for_each: ${var.token}
    name: Keyed
    system_prompt: Answer kindly.
"""
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": workflows})

    with pytest.raises(InvalidStackError) as raised:
        load_stack(stack_dir, "staging", environ={})

    assert sorted(f"{i.address}: {i.message}" for i in raised.value.issues) == [
        f"workflows.keyed.for_each[{index}]: instance key '(sensitive)' holds a sensitive"
        " var's value: keys are shown in addresses and plans"
        for index in (0, 1)
    ]
    assert "tok-" not in str(raised.value)
    stack_dir.joinpath("w.yaml").write_text(workflows.split("  keyed:")[0], encoding="utf-8")
    stack = load_stack(stack_dir, "staging", environ={})
    assert stack.top("workflows")["triage"].tags == ["tok-one", "tok-two"]
    assert stack.mask("tok-one and tok-two") == "(sensitive) and (sensitive)"


def test_a_reference_to_an_instance_of_another_environment_says_where_it_is(
    write_stack: WriteStack,
) -> None:
    agents = """\
agents:
  desk:
    workflow: 'triage["ke"]'
    name: Desk
    description: Front desk
  vip-desk:
    enabled: ${var.with_vip}
    workflow: vip
    name: VIP desk
    description: VIP
phone_numbers:
  "+2348012345678": {agent: vip-desk}
"""
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": WORKFLOWS, "a.yaml": agents})

    assert len(load_stack(stack_dir, "prod", environ={}).entries("agents")) == 2
    assert _issues(stack_dir, "staging") == [
        "agents.desk.workflow: unknown workflow 'triage[\"ke\"]' (did you mean 'triage[\"ng\"]'?)",
        "phone_numbers.\"+2348012345678\".agent: agent 'vip-desk' is disabled here"
        " (enabled: false)",
    ]


def test_a_resource_of_another_environment_may_share_its_key(write_stack: WriteStack) -> None:
    workflows = """\
workflows:
  triage:
    environments: [staging]
    name: Triage (staging)
    system_prompt: Answer kindly.
"""
    other = workflows.replace("staging", "prod")
    stack_dir = write_stack({"stack.yaml": STACK, "a.yaml": workflows, "b.yaml": other})

    assert load_stack(stack_dir, "prod", environ={}).top("workflows")["triage"].name == (
        "Triage (prod)"
    )


def test_a_map_var_with_a_key_named_value_is_a_declaration(write_stack: WriteStack) -> None:
    stack_text = "name: s\nvars:\n  sizes: {value: {value: 1, other: 2}}\n"
    workflows = """\
workflows:
  triage:
    for_each: ${var.sizes}
    name: Triage ${each.value}
    system_prompt: Answer kindly.
"""
    stack_dir = write_stack({"stack.yaml": stack_text, "w.yaml": workflows})

    stack = load_stack(stack_dir, environ={})

    names = [e.spec.name for e in stack.entries("workflows")]
    assert names == ["Triage 1", "Triage 2"]


def test_a_for_each_inside_an_instance_has_its_own_each(write_stack: WriteStack) -> None:
    agents = """\
agents:
  desk:
    for_each: [ng, gh]
    workflow: 'triage["${each.key}"]'
    name: Desk ${each.key}
    description: Desk
    knowledge_bases:
      doc:
        for_each: {hours: Open 8 to 8., returns: Within 30 days.}
        type: text
        name: Doc ${each.key}
        content: ${each.value}
"""
    stack_dir = write_stack({"stack.yaml": STACK, "w.yaml": WORKFLOWS, "a.yaml": agents})

    stack = load_stack(stack_dir, "staging", environ={})

    gh = stack.resources['agents.desk["gh"]']
    assert gh.refers_to("workflows", gh.spec.workflow) == 'workflows.triage["gh"]'
    returns = stack.resources['agents.desk["gh"].knowledge_bases.doc["returns"]']
    assert (returns.spec.name, returns.spec.content) == ("Doc returns", "Within 30 days.")
    assert len(stack.entries("knowledge_bases")) == 4
