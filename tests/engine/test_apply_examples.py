"""Apply the example stacks from empty against the emulator, then check the second plan is
empty and that destroy removes everything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from example_copy import EXAMPLES, copy_example

if TYPE_CHECKING:
    from conftest import Bimpe


def test_support_applies_from_empty_and_converges(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    applied = bimpe("apply", stack, "--env", "prod", "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Apply complete!" in applied.output

    agents = bimpe.sdk.agents.list().data
    assert [a.name for a in agents] == ["Ada from Bimpe Stores"]
    agent = agents[0]
    assert agent.status == "live"
    kbs = {kb.name: kb for kb in bimpe.sdk.agents.knowledge_bases.list(agent.id)}
    assert set(kbs) == {"Returns and refunds policy", "Help centre"}
    enabled = {a.action_name for a in bimpe.sdk.agents.actions.list(agent.id) if a.is_enabled}
    assert enabled == {"escalate_to_human", "send_email"}
    numbers = {n.e164: n for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+2348012345678"].agent_id == agent.id

    again = bimpe("plan", stack, "--env", "prod", "--detailed-exitcode")
    assert again.exit_code == 0, again.output + again.stderr
    assert "No changes" in again.output


def test_destroy_is_refused_while_prevent_destroy_holds(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    refused = bimpe("destroy", stack, "--env", "prod", "--auto-approve")
    assert refused.exit_code == 1
    assert "prevent_destroy forbids destroying agents.support-bot" in refused.stderr
    assert len(bimpe.sdk.agents.list().data) == 1


def test_destroy_removes_what_the_stack_created(
    bimpe: Bimpe, example: Callable[[str], Path]
) -> None:
    stack = example("support")
    manifest = stack / "support.yaml"
    manifest.write_text(
        manifest.read_text().replace("prevent_destroy: true", "prevent_destroy: false")
    )
    assert bimpe("apply", stack, "--env", "prod", "--auto-approve").exit_code == 0
    destroyed = bimpe("destroy", stack, "--env", "prod", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.output + destroyed.stderr
    assert "Destroy complete! Resources: 7 destroyed." in destroyed.output
    assert bimpe.sdk.agents.list().data == []
    assert bimpe.sdk.workflows.list(scope="owned").data == []
    numbers = {n.e164: n for n in bimpe.sdk.phone_numbers.list().data}
    assert numbers["+2348012345678"].agent_id is None
    again = bimpe("plan", stack, "--env", "prod", "--destroy", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_brands_applies_the_shop_module_twice_and_converges(bimpe: Bimpe, tmp_path: Path) -> None:
    # The stack names its module by a path relative to itself: both are copied where they sit.
    copy_example("modules", tmp_path / "modules", examples=EXAMPLES.parent)
    stack = copy_example("brands", tmp_path / "stacks" / "brands")

    applied = bimpe("apply", stack, "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "escalations-4k2q@brands.example" not in applied.output

    agents = {a.name: a for a in bimpe.sdk.agents.list().data}
    assert set(agents) == {"Kora shop assistant", "Zuri shop assistant"}
    assert agents["Zuri shop assistant"].timezone == "Africa/Nairobi"
    assert agents["Kora shop assistant"].timezone == "Africa/Lagos"
    flows = {w.id: w.name for w in bimpe.sdk.workflows.list(scope="owned").data}
    assert flows[agents["Kora shop assistant"].workflow_id] == "Kora storefront"
    assert flows[agents["Zuri shop assistant"].workflow_id] == "Zuri storefront"
    for agent in agents.values():
        kbs = bimpe.sdk.agents.knowledge_bases.list(agent.id)
        assert [kb.name for kb in kbs] == ["Delivery and returns"]
        assert agent.escalation_email == "escalations-4k2q@brands.example"

    again = bimpe("plan", stack, "--detailed-exitcode")
    assert again.exit_code == 0, again.output + again.stderr
