"""Helpers for state tests: documents of a given size, and child processes forked from the test
process (they start in milliseconds, with everything already imported)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bimpe_iac.state.model import Intent, ResourceState, StateDocument

STACK, ENVIRONMENT = "support", "prod"


def _make_state(resources: int = 3, *, serial: int = 1) -> StateDocument:
    doc = StateDocument(stack=STACK, environment=ENVIRONMENT, serial=serial)
    doc.resources["workflow.main"] = ResourceState(kind="workflow", id="wf_0001")
    for n in range(resources - 1):
        doc.resources[f"agent.support_{n}"] = ResourceState(
            kind="agent",
            id=f"agt_{n:08d}",
            parent_id="wf_0001",
            values={
                "name": f"Support agent {n}",
                "description": "Answers billing questions for the Lagos office.",
                "system_prompt": "You are a courteous support agent. " * 8,
                "temperature": 0.3,
                "voice": {"provider": "eleven", "id": "v_123"},
                "api_key": "***",
            },
            hashes={field: f"{n:032x}" for field in ("name", "description", "api_key")},
            depends_on=["workflow.main"],
            generation=1,
        )
    doc.intents["agent.new"] = Intent(
        operation="create", idempotency_key="k-1", body_hash="b" * 32, started_at="2025-01-01"
    )
    doc.generations["agent.retired"] = 2
    return doc


@pytest.fixture
def make_state() -> Callable[..., StateDocument]:
    """`make_state(resources=3, serial=1)`: a state of stack "support", environment "prod",
    like one an apply leaves: agents with prompts, hashes and dependencies, an intent."""
    return _make_state
