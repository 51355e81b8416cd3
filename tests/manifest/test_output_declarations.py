"""`outputs:` of stack.yaml: the shorthand and the long form, vars resolved when the stack
loads, references to resources checked against the stack's addresses (nested ones included),
and outputs made of a sensitive var marked sensitive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from loading import load_stack

from bimpe_iac.manifest import VarOverrides

WriteStack = Callable[[dict[str, str | bytes]], Path]

RESOURCES = """\
workflows:
  storefront: {name: Storefront, system_prompt: You sell.}
agents:
  support:
    workflow: storefront
    name: Support
    description: Helps
    knowledge_bases:
      faq: {type: text, name: FAQ, content: Ask us.}
phone_numbers:
  "+15550100001": {agent: support}
"""


def _stack(outputs: str) -> dict[str, str | bytes]:
    stack = (
        "name: s\nvars:\n  brand: Kora\n  priority: 2\n"
        "  secret_thing: {value: hunter2-x, sensitive: true}\n  label: 'L ${var.secret_thing}'\n"
        f"outputs:\n{outputs}"
    )
    return {"stack.yaml": stack, "resources.yaml": RESOURCES}


def test_outputs_resolve_vars_and_keep_resource_ids_for_later(write_stack: WriteStack) -> None:
    outputs = """\
  support_agent_id:
    value: ${agents.support.id}
    description: The support agent, for the smoke job
  greeting: "Welcome to ${var.brand}"
  hidden: {value: "${var.secret_thing}", sensitive: true}
  uses_secret: "label ${var.label}"
  faq: "${agents.support.knowledge_bases.faq.id}/${workflows.storefront.id}"
  line: ${phone_numbers."+15550100001".id}
  priority: ${var.priority}
"""
    stack = load_stack(write_stack(_stack(outputs)))
    by_name = {output.name: output for output in stack.outputs}
    ids = {
        "agents.support": "agt_1",
        "agents.support.knowledge_bases.faq": "kb_2",
        "workflows.storefront": "wf_3",
        'phone_numbers."+15550100001"': "pn_4",
    }

    assert list(by_name) == [
        "support_agent_id",
        "greeting",
        "hidden",
        "uses_secret",
        "faq",
        "line",
        "priority",
    ]
    assert by_name["support_agent_id"].value(ids) == "agt_1"
    assert by_name["support_agent_id"].description == "The support agent, for the smoke job"
    assert by_name["greeting"].value({}) == "Welcome to Kora"
    assert by_name["faq"].value(ids) == "kb_2/wf_3"
    assert by_name["line"].value(ids) == "pn_4"
    assert by_name["priority"].value({}) == 2  # one var keeps its type
    assert by_name["support_agent_id"].value({}) is None  # not applied yet
    assert [name for name, o in by_name.items() if o.sensitive] == ["hidden", "uses_secret"]


def test_an_output_of_an_overridden_sensitive_var_is_sensitive(write_stack: WriteStack) -> None:
    stack = load_stack(
        write_stack(_stack('  shown: "${var.secret_thing}"\n')),
        overrides=VarOverrides((("secret_thing", "rotated"),)),
    )

    (output,) = stack.outputs
    assert output.sensitive
    assert output.value({}) == "rotated"


def test_unknown_addresses_attributes_and_references_are_located(
    write_stack: WriteStack, run_validate: Callable[..., Result]
) -> None:
    outputs = """\
  a: ${agents.suport.id}
  b: "id ${agents.support.name}"
  c: ${agent.support.id}
  d: ${var.brnad}
  e: ${support}
  f: "${agents.support.knowledge_bases.fac.id}"
"""
    stack_dir = write_stack(_stack(outputs))

    result = run_validate(str(stack_dir))

    assert result.exit_code == 1
    lines = [line.split("stack.yaml:", 1)[1] for line in result.output.splitlines()[:-1]]
    assert lines == [
        "8:6: outputs.a: no resource 'agents.suport' in the stack (did you mean 'agents.support'?)",
        "9:10: outputs.b: 'name' is not an attribute of agents.support: only 'id' is",
        "10:6: outputs.c: 'agent.support' is not a resource address (one of workflows.KEY,"
        " agents.KEY, " + lines[2].split("agents.KEY, ", 1)[1],
        "11:6: outputs.d: unknown var 'brnad' (did you mean 'brand'?)",
        "12:6: outputs.e: invalid reference '${support}': write ${var.NAME}, ${env.NAME} or"
        " ${ADDRESS.id} (the id of a resource of the stack)",
        "13:7: outputs.f: no resource 'agents.support.knowledge_bases.fac' in the stack"
        " (did you mean 'agents.support.knowledge_bases.faq'?)",
    ]


def test_an_output_name_must_be_a_plain_name(
    write_stack: WriteStack, run_validate: Callable[..., Result]
) -> None:
    result = run_validate(str(write_stack(_stack("  agent-id: ${agents.support.id}\n"))))

    assert result.exit_code == 1
    assert "'agent-id' is not a valid output name" in result.output


def test_outputs_are_checked_beside_the_other_errors_of_stack_yaml(
    write_stack: WriteStack, run_validate: Callable[..., Result]
) -> None:
    stack_dir = write_stack(_stack("  a: ${agents.nope.id}\n"))

    result = run_validate(str(stack_dir), "--var", "nope=1")

    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("--var nope: undeclared var 'nope'")
    assert "outputs.a: no resource 'agents.nope' in the stack" in result.output
    assert result.output.splitlines()[-1].startswith("2 errors")
