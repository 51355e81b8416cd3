"""Loading uses of modules: each use's resources are under `module.NAME.`, built from the
module's files with its inputs as vars (defaults filled in), references staying in the use and
`{file: ...}` read from the module's directory; `validate` counts them. Problems in a module's
files are located there and name the use; problems with inputs, sources and module.yaml are
located where they are written; a sensitive input is masked like a sensitive var."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError

MODULE_YAML = """
inputs:
  brand: {type: string, description: The brand's name}
  email: {type: string, sensitive: true}
  priority: {type: number, default: 2}
"""
SHOP = """
workflows:
  storefront:
    name: ${var.brand} storefront
    system_prompt: {file: prompts/storefront.md}
    flows: [{name: Orders, priority: "${var.priority}"}]
agents:
  assistant:
    workflow: storefront
    name: ${var.brand} assistant
    description: Helps ${var.brand} shoppers
    escalation_email: ${var.email}
"""
STACK = """
name: brands
vars:
  inbox: {value: inbox-9q3z@brands.example, sensitive: true}
modules:
  kora:
    source: ../modules/shop
    inputs: {brand: Kora, email: "${var.inbox}", priority: 5}
  zuri:
    source: ../modules/shop
    inputs: {brand: Zuri, email: zuri-7m1x@brands.example}
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write {path: text} under a fresh directory (the current one) and return the stack's
    directory, `stack/`; the module's files go under `modules/shop/`."""
    monkeypatch.chdir(tmp_path)

    def write(module: dict[str, str] | None = None, stack: dict[str, str] | None = None) -> Path:
        written = {
            **{
                f"modules/shop/{name}": text
                for name, text in (
                    module
                    or {
                        "module.yaml": MODULE_YAML,
                        "shop.yaml": SHOP,
                        "prompts/storefront.md": "Be kind.\n",
                    }
                ).items()
            },
            **{f"stack/{name}": text for name, text in (stack or {"stack.yaml": STACK}).items()},
        }
        for name, text in written.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return tmp_path / "stack"

    return write


def errors(directory: Path, env: str | None = None) -> list[str]:
    with pytest.raises(InvalidStackError) as raised:
        load_stack(directory, env)
    return [issue.render() for issue in raised.value.issues]


def test_each_use_has_its_own_resources_built_from_its_inputs(files: Callable[..., Path]) -> None:
    stack = load_stack(files())

    assert sorted(stack.resources) == [
        "module.kora.agents.assistant",
        "module.kora.workflows.storefront",
        "module.zuri.agents.assistant",
        "module.zuri.workflows.storefront",
    ]
    kora = stack.resources["module.kora.workflows.storefront"].spec
    zuri = stack.resources["module.zuri.workflows.storefront"].spec
    assert (kora.name, kora.flows[0].priority) == ("Kora storefront", 5)
    assert (zuri.name, zuri.flows[0].priority) == ("Zuri storefront", 2)
    assert kora.system_prompt == "Be kind.\n"
    assert kora.source.file == Path.cwd() / "modules" / "shop" / "shop.yaml"
    agent = stack.resources["module.zuri.agents.assistant"]
    assert agent.refers_to("workflows", agent.spec.workflow) == "module.zuri.workflows.storefront"


def test_validate_counts_the_resources_of_every_use(
    files: Callable[..., Path], run_validate: Callable[..., Result]
) -> None:
    result = run_validate(str(files()), "--format", "json")

    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["counts"]
    assert (counts["workflows"], counts["agents"]) == (2, 2)


def test_sensitive_inputs_are_masked(files: Callable[..., Path]) -> None:
    stack = load_stack(files())

    assert stack.mask("zuri-7m1x@brands.example") == "(sensitive)"
    assert stack.mask("inbox-9q3z@brands.example") == "(sensitive)"
    broken = SHOP.replace("escalation_email: ${var.email}", "persona: ${var.email}")
    module = {"module.yaml": MODULE_YAML, "shop.yaml": broken, "prompts/storefront.md": "Hi.\n"}

    found = errors(files(module))

    assert found == [
        "modules/shop/shop.yaml:11:14: module.kora.agents.assistant.persona: '(sensitive)' is not"
        " one of professional, friendly, concise (in module.kora, used at stack/stack.yaml:5:3)",
        "modules/shop/shop.yaml:11:14: module.zuri.agents.assistant.persona: '(sensitive)' is not"
        " one of professional, friendly, concise (in module.zuri, used at stack/stack.yaml:8:3)",
    ]


def test_problems_in_a_modules_files_point_there_and_name_each_use(
    files: Callable[..., Path],
) -> None:
    broken = SHOP.replace("workflow: storefront", "workflow: storfront").replace(
        "{file: prompts/storefront.md}", "{file: ../../stack/stack.yaml}"
    )
    found = errors(files({"module.yaml": MODULE_YAML, "shop.yaml": broken}))

    assert found == [
        "modules/shop/shop.yaml:4:27: module.kora.workflows.storefront.system_prompt: file"
        " '../../stack/stack.yaml' is outside the module directory"
        " (in module.kora, used at stack/stack.yaml:5:3)",
        "modules/shop/shop.yaml:4:27: module.zuri.workflows.storefront.system_prompt: file"
        " '../../stack/stack.yaml' is outside the module directory"
        " (in module.zuri, used at stack/stack.yaml:8:3)",
        "modules/shop/shop.yaml:8:15: module.kora.agents.assistant.workflow: unknown workflow"
        " 'storfront' (did you mean 'storefront'?) (in module.kora, used at stack/stack.yaml:5:3)",
        "modules/shop/shop.yaml:8:15: module.zuri.agents.assistant.workflow: unknown workflow"
        " 'storfront' (did you mean 'storefront'?) (in module.zuri, used at stack/stack.yaml:8:3)",
    ]


def test_a_module_reaches_only_its_own_resources(files: Callable[..., Path]) -> None:
    stack_files = {
        "stack.yaml": STACK,
        "own.yaml": "workflows:\n  main: {name: Main, system_prompt: Be brief.}\n",
    }
    module = {
        "module.yaml": MODULE_YAML,
        "shop.yaml": SHOP.replace("workflow: storefront", "workflow: main"),
        "prompts/storefront.md": "Be kind.\n",
    }

    found = errors(files(module, stack_files))

    assert len(found) == 2
    assert all("agents.assistant.workflow: unknown workflow 'main'" in line for line in found)


def test_inputs_are_checked_where_the_use_gives_them(files: Callable[..., Path]) -> None:
    stack = """
    name: brands
    modules:
      kora:
        source: ../modules/shop
        inputs: {brand: Kora, email: a@b.example, priorty: 3}
      zuri:
        source: ../modules/shop
        inputs: {email: true, priority: two}
    """

    found = errors(files(stack={"stack.yaml": stack}))

    assert found == [
        "stack/stack.yaml:5:47: modules.kora.inputs.priorty: unknown input 'priorty' of the"
        " module at '../modules/shop' (did you mean 'priority'?)",
        "stack/stack.yaml:6:3: modules.zuri: missing input 'brand' of the module at"
        " '../modules/shop'",
        "stack/stack.yaml:8:21: modules.zuri.inputs.email: expected a string, got true",
        "stack/stack.yaml:8:37: modules.zuri.inputs.priority: expected a number, got 'two'",
    ]


def test_sources_are_local_module_directories(files: Callable[..., Path]) -> None:
    stack = """
    name: brands
    modules:
      a: {source: "git::https://example.com/shop.git"}
      b: {source: "https://example.com/shop.zip"}
      c: {source: ../modules/none}
      d: {source: ../modules/shop/prompts}
      e: {source: /srv/modules/shop}
      f: {source: "../modules\\0shop"}
    """

    found = errors(files(stack={"stack.yaml": stack}))

    local = "is not a local path: modules come from local directories only"
    assert found == [
        f"stack/stack.yaml:3:15: modules.a.source: 'git::https://example.com/shop.git' {local}"
        " (a path relative to the stack directory)",
        f"stack/stack.yaml:4:15: modules.b.source: 'https://example.com/shop.zip' {local}"
        " (a path relative to the stack directory)",
        "stack/stack.yaml:5:15: modules.c.source: '../modules/none' does not exist",
        "stack/stack.yaml:6:15: modules.d.source: '../modules/shop/prompts' holds no"
        " module.yaml: a module's directory declares its inputs there",
        "stack/stack.yaml:7:15: modules.e.source: '/srv/modules/shop' must be a path relative"
        " to the stack directory",
        "stack/stack.yaml:8:15: modules.f.source: '../modules\x00shop' cannot be read"
        " (embedded null byte)",
    ]


def test_module_yaml_is_checked_once_however_many_uses(files: Callable[..., Path]) -> None:
    module_yaml = """
    inputs:
      brand: {type: text}
      priority: {type: number, default: high}
    modules: {inner: {source: ../other}}
    """
    module = {"module.yaml": module_yaml, "shop.yaml": "workflows: {}\n"}

    found = errors(files(module))

    assert found == [
        "modules/shop/module.yaml:2:17: inputs.brand.type: 'text' is not one of string, number,"
        " bool",
        "modules/shop/module.yaml:3:37: inputs.priority: the default of a number input"
        " must be a number",
        "modules/shop/module.yaml:4:1: modules: a module cannot use modules; use each module"
        " from the stack's stack.yaml",
    ]


def test_environment_variables_are_not_read_in_a_module(files: Callable[..., Path]) -> None:
    module = {
        "module.yaml": "inputs: {}\n",
        "shop.yaml": 'workflows:\n  w: {name: x, system_prompt: "${env.HOME}"}\n',
    }
    stack = "name: brands\nmodules:\n  a: {source: ../modules/shop}\n"

    found = errors(files(module, {"stack.yaml": stack}))

    assert found == [
        "modules/shop/shop.yaml:2:32: module.a.workflows.w.system_prompt: a module reads only"
        " its inputs, not environment variables: give the value as an input of the use in"
        " stack.yaml, which may write ${env.NAME} (in module.a, used at stack/stack.yaml:3:3)"
    ]


def test_moved_in_a_module_is_relative_to_the_use(files: Callable[..., Path]) -> None:
    module = {
        "module.yaml": MODULE_YAML,
        "shop.yaml": SHOP.replace("  assistant:", "  helper:")
        + "moved:\n  - {from: agents.assistant, to: agents.helper}\n",
        "prompts/storefront.md": "Be kind.\n",
    }
    stack_files = {
        "stack.yaml": STACK,
        "moves.yaml": "moved:\n  - {from: agents.desk, to: module.kora.agents.helper}\n",
    }

    stack = load_stack(files(module, stack_files))

    moves = {(block.from_, block.to) for block in stack.moved}
    assert moves == {
        ("agents.desk", "module.kora.agents.helper"),
        ("module.kora.agents.assistant", "module.kora.agents.helper"),
        ("module.zuri.agents.assistant", "module.zuri.agents.helper"),
    }


def test_a_phone_number_is_held_by_one_use_only(files: Callable[..., Path]) -> None:
    module = {
        "module.yaml": MODULE_YAML,
        "shop.yaml": SHOP + 'phone_numbers:\n  "+2348012345678": {agent: assistant}\n',
        "prompts/storefront.md": "Be kind.\n",
    }

    found = errors(files(module))

    assert found == [
        'modules/shop/shop.yaml:13:3: module.zuri.phone_numbers."+2348012345678": phone link'
        " '+2348012345678' is also declared by module.kora at modules/shop/shop.yaml:13:3; it"
        " names one object in BimpeAI, which only one of them may hold"
    ]


def test_environments_and_instance_keys_in_a_module_follow_the_stacks_rules(
    files: Callable[..., Path],
) -> None:
    two_environments = STACK.replace("modules:", "environments: {staging: {}, prod: {}}\nmodules:")
    extra = """
  vip: {workflow: storefront, name: VIP, description: Prod only, environments: [prod]}
  typo: {workflow: storefront, name: Typo, description: Never, environments: [prd]}
"""
    module = {
        "module.yaml": MODULE_YAML,
        "shop.yaml": SHOP + extra,
        "prompts/storefront.md": "Be kind.\n",
    }
    stack = files(module, {"stack.yaml": two_environments})

    found = [line for line in errors(stack, "staging") if "module.kora" in line]
    assert found == [
        "modules/shop/shop.yaml:14:79: module.kora.agents.typo.environments[0]: unknown"
        " environment 'prd' (did you mean 'prod'?); stack.yaml declares staging, prod"
        " (in module.kora, used at stack/stack.yaml:6:3)",
    ]
    module["shop.yaml"] = SHOP + extra.replace("[prd]", "[prod]")
    stack = files(module, {"stack.yaml": two_environments})
    assert "module.kora.agents.vip" in load_stack(stack, "prod").resources
    assert "module.kora.agents.vip" not in load_stack(stack, "staging").resources

    keyed = (
        SHOP
        + "  desk: {for_each: ['${var.email}'], workflow: storefront, name: D, description: D}\n"
    )
    module = {"module.yaml": MODULE_YAML, "shop.yaml": keyed, "prompts/storefront.md": "Hi.\n"}
    refused = errors(files(module))
    assert len(refused) == 2
    assert all("holds a sensitive var's value" in line for line in refused), refused
    assert not [line for line in refused if "brands.example" in line]
