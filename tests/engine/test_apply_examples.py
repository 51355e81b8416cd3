"""Apply the example stacks from empty against the emulator, then check the second plan is
empty and that destroy removes everything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

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
