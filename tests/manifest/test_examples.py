"""The example stacks in examples/stacks validate, and load into the values the engine
will plan from."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from loading import load_stack

from bimpe_iac.resources.knowledge_base import TextKnowledgeBaseSpec, UrlKnowledgeBaseSpec
from bimpe_iac.resources.phone_link import PhoneLinkSpec

REPO = Path(__file__).resolve().parents[2]
SUPPORT = REPO / "examples" / "stacks" / "support"
MULTI_ENV = REPO / "examples" / "stacks" / "multi-env"
# The examples declare no integrations: their sections are counted as zero after the others.
NO_INTEGRATIONS = r"(, 0 [A-Za-z ]+)*\.\n"


@pytest.fixture(autouse=True)
def _from_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        ("support", "1 workflow, 1 agent, 2 knowledge bases, 1 phone link"),
        # Both uses of examples/modules/shop count.
        ("brands", "2 workflows, 2 agents, 2 knowledge bases, 0 phone links"),
    ],
)
def test_single_environment_examples_are_valid(
    name: str, counts: str, run_validate: Callable[..., Result]
) -> None:
    result = run_validate(f"examples/stacks/{name}")

    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"Stack {name} \(env prod\) is valid: {counts}" + NO_INTEGRATIONS, result.output
    ), result.output


@pytest.mark.parametrize(
    ("env", "counts"),
    [
        # staging: one region, no VIP agent; prod: two regions and the VIP agent.
        ("staging", "3 agents, 5 knowledge bases"),
        ("prod", "5 agents, 6 knowledge bases"),
    ],
)
def test_multi_env_example_is_valid_in_each_environment(
    env: str, counts: str, run_validate: Callable[..., Result]
) -> None:
    result = run_validate("examples/stacks/multi-env", "--env", env)

    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"Stack kora-electronics \(env {env}\) is valid: 1 workflow, {counts},"
        r" 1 phone link" + NO_INTEGRATIONS,
        result.output,
    ), result.output


def test_installed_command_validates_multi_env_for_prod() -> None:
    command = Path(sys.executable).parent / "bimpe-iac"

    completed = subprocess.run(
        [str(command), "validate", "examples/stacks/multi-env", "--env", "prod"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "is valid" in completed.stdout


def test_json_output_of_a_valid_stack(run_validate: Callable[..., Result]) -> None:
    result = run_validate("examples/stacks/support", "--format", "json")

    assert result.exit_code == 0
    document = json.loads(result.output)
    counts = document.pop("counts")
    assert document == {"valid": True, "stack": "support", "environment": "prod"}
    assert {name: n for name, n in counts.items() if n} == {
        "workflows": 1,
        "agents": 1,
        "knowledge_bases": 2,
        "phone_links": 1,
    }
    integrations = {"connectors", "pipedream_apps", "custom_apis", "custom_api_tools"}
    integrations.add("mcp_servers")
    assert integrations <= set(counts)


def test_support_example_loads_every_resource() -> None:
    stack = load_stack(SUPPORT)

    triage = stack.top("workflows")["triage"]
    assert triage.system_prompt.startswith("You are Ada, the customer support assistant")
    assert [rule.id for rule in triage.rules or []] == ["refund-request", "angry-customer"]
    assert triage.faq and triage.faq[0].question == "How long does delivery take?"
    bot = stack.top("agents")["support-bot"]
    assert bot.workflow == "triage"
    assert bot.live_status == "live"
    assert bot.actions == ["escalate_to_human", "send_email"]
    assert bot.lifecycle.prevent_destroy is True
    returns = bot.knowledge_bases["returns"]
    assert isinstance(returns, TextKnowledgeBaseSpec)
    assert returns.content.startswith("# Returns and refunds\n")
    assert isinstance(bot.knowledge_bases["help-centre"], UrlKnowledgeBaseSpec)
    assert stack.top("phone_numbers") == {
        "+2348012345678": PhoneLinkSpec(agent="support-bot", label="Support line")
    }


def test_multi_env_example_differs_by_environment() -> None:
    staging = load_stack(MULTI_ENV, "staging")
    prod = load_stack(MULTI_ENV, "prod")

    assert staging.top("agents")["sales"].name == "Kemi, sales [staging]"
    assert prod.top("agents")["sales"].name == "Kemi, sales"
    assert staging.top("agents")["support"].live_status == "development"
    assert prod.top("agents")["support"].live_status == "live"
    assert staging.target.api_key_env == "BIMPE_STAGING_API_KEY"
    assert prod.target.api_key_env == "BIMPE_PROD_API_KEY"
    assert prod.state.path == MULTI_ENV / ".bimpe/state/kora-electronics/prod.json"
    assert staging.sensitive_values == frozenset()
    assert prod.sensitive_values == {"oncall-7f3k9@kora.example"}
    # Both agents run the one workflow, whose prompt and knowledge come from files.
    assert {agent.workflow for agent in prod.top("agents").values()} == {"storefront"}
    assert "Kora Electronics" in prod.top("workflows")["storefront"].system_prompt
