"""`${var.NAME}`, `${env.NAME}` and the `$${` escape, as a stack author writes them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError

WriteStack = Callable[[dict[str, str | bytes]], Path]

WORKFLOW = """\
workflows:
  triage:
    name: {name}
    system_prompt: You answer questions.
    flows:
      - name: Orders
        priority: {priority}
"""
AGENT_WITH_STATUS = """\
agents:
  bot:
    workflow: triage
    name: Bot
    description: A bot
    live_status: ${var.status}
"""


def test_double_dollar_writes_a_literal_reference(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\nvars: {suffix: ' (beta)'}\n",
            "w.yaml": WORKFLOW.format(name="'Costs $${price} each${var.suffix}'", priority=1),
        }
    )

    stack = load_stack(stack_dir, environ={})

    assert stack.top("workflows")["triage"].name == "Costs ${price} each (beta)"


def test_environment_variables_are_read(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": """\
            name: s
            environments:
              prod:
                target: {base_url: "${env.BIMPE_URL}", api_key_env: PROD_KEY}
                vars: {region: "${env.REGION}"}
            """,
            "w.yaml": WORKFLOW.format(name="Triage ${var.region} ${env.REGION}", priority=1),
        }
    )

    stack = load_stack(
        stack_dir, "prod", environ={"BIMPE_URL": "https://api.example", "REGION": "ng"}
    )

    assert stack.target.base_url == "https://api.example"
    assert stack.top("workflows")["triage"].name == "Triage ng ng"


def test_a_whole_value_reference_keeps_the_type_of_the_var(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\nvars: {priority: 3, label: 7}\n",
            "w.yaml": WORKFLOW.format(name="Triage ${var.label}", priority="${var.priority}"),
        }
    )

    stack = load_stack(stack_dir, environ={})

    flows = stack.top("workflows")["triage"].flows or []
    assert flows[0].priority == 3
    assert stack.top("workflows")["triage"].name == "Triage 7"


def test_vars_refer_to_other_vars_and_environment_overrides(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": """\
            name: s
            vars:
              brand: Bimpe
              title: ${var.brand} support${var.suffix}
              suffix: ""
            environments:
              staging:
                vars: {suffix: " (staging)"}
            """,
            "w.yaml": WORKFLOW.format(name="${var.title}", priority=1),
        }
    )

    stack = load_stack(stack_dir, "staging", environ={})

    assert stack.top("workflows")["triage"].name == "Bimpe support (staging)"


def test_an_unresolved_var_is_reported_once_where_it_is_defined(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": "name: s\nvars: {status: '${env.STATUS}'}\n",
            "w.yaml": WORKFLOW.format(name="Triage", priority=1) + AGENT_WITH_STATUS,
        }
    )

    with pytest.raises(InvalidStackError) as raised:
        load_stack(stack_dir, environ={})

    assert [i.message for i in raised.value.issues] == ["environment variable 'STATUS' is not set"]


def test_other_environments_may_use_unset_environment_variables(write_stack: WriteStack) -> None:
    stack_dir = write_stack(
        {
            "stack.yaml": """\
            name: s
            environments:
              staging: {}
              prod:
                target: {base_url: "${env.PROD_URL}"}
                vars: {token: "${env.PROD_TOKEN}"}
            """,
        }
    )

    assert load_stack(stack_dir, "staging", environ={}).environment == "staging"
