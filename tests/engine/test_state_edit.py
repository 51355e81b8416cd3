"""State edits without a server: a rename carries children, intents and references, keeps
create counts growing at both addresses and is idempotent; forgetting keeps the create count;
`moved:` blocks follow chains in any order, move a knowledge base after its agent, leave the
given state untouched, and refuse two resources arriving at one address."""

from __future__ import annotations

import pytest

from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.engine.state_edit import forget, moves_for, rename
from bimpe_iac.errors import PlanError
from bimpe_iac.manifest import MovedBlock
from bimpe_iac.model.plan import Move
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.model import Intent, ResourceState, StateDocument


def document() -> StateDocument:
    def entry(kind: str, id: str, *depends_on: str, parent: str | None = None) -> ResourceState:
        return ResourceState(
            kind=kind, id=id, parent_id=parent, depends_on=list(depends_on), generation=1
        )

    return StateDocument(
        stack="s",
        environment="e",
        resources={
            "workflows.w": entry("workflow", "wf_1"),
            "agents.a": entry("agent", "agt_1", "workflows.w"),
            "agents.a.knowledge_bases.k": entry(
                "knowledge_base", "kb_1", "agents.a", parent="agt_1"
            ),
            "agents.a.actions": entry("actions", "agt_1", "agents.a", parent="agt_1"),
            "agents.ab": entry("agent", "agt_2"),
        },
        generations={"agents.b": 3},
    )


def block(source: str, target: str) -> MovedBlock:
    return MovedBlock.model_validate({"from": source, "to": target})


def test_rename_carries_children_and_references() -> None:
    state = document()
    state.intents["agents.a"] = Intent(
        operation="create", idempotency_key="k", body_hash="h", started_at="t"
    )
    moves = moves_for(state, "agents.a", "agents.b", REGISTRY.sections)
    assert moves == (
        Move("agents.a", "agents.b"),
        Move("agents.a.actions", "agents.b.actions"),
        Move("agents.a.knowledge_bases.k", "agents.b.knowledge_bases.k"),
    )
    assert rename(state, moves) == moves
    assert sorted(state.resources) == [
        "agents.ab",
        "agents.b",
        "agents.b.actions",
        "agents.b.knowledge_bases.k",
        "workflows.w",
    ]
    assert state.resources["agents.b.knowledge_bases.k"].depends_on == ["agents.b"]
    assert state.resources["agents.b"].generation == 3
    assert state.generations == {
        "agents.a": 1,
        "agents.a.actions": 1,
        "agents.a.knowledge_bases.k": 1,
    }
    assert list(state.intents) == ["agents.b"]
    assert rename(state, moves) == ()


def test_forget_keeps_the_create_count() -> None:
    state = document()
    assert forget(state, "agents.a") == [
        "agents.a",
        "agents.a.actions",
        "agents.a.knowledge_bases.k",
    ]
    assert "agents.ab" in state.resources
    assert state.generations["agents.a"] == 1


def test_moved_blocks_follow_chains_and_leave_the_state_alone() -> None:
    state = document()
    blocks = [
        block("agents.b.knowledge_bases.k", "agents.b.knowledge_bases.faq"),
        block("agents.middle", "agents.b"),
        block("agents.a", "agents.middle"),
    ]
    moved, moves = follow_moved(blocks, state, REGISTRY.sections)
    assert "agents.a" in state.resources
    assert {"agents.b", "agents.b.actions", "agents.b.knowledge_bases.faq"} <= set(moved.resources)
    assert Move("agents.a", "agents.b") in moves
    assert Move("agents.a.knowledge_bases.k", "agents.b.knowledge_bases.faq") in moves


def test_moved_blocks_refuse_two_arrivals() -> None:
    with pytest.raises(PlanError, match=r"both agents\.a and agents\.ab would move to agents\.c"):
        follow_moved(
            [block("agents.a", "agents.c"), block("agents.ab", "agents.c")],
            document(),
            REGISTRY.sections,
        )
