"""Apply through an unreliable network: with 30% of requests dropped after the server committed
them, reruns of apply converge and every logical resource exists exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from emulator_admin import Admin

if TYPE_CHECKING:
    from conftest import Bimpe


def test_dropped_after_commit_never_duplicates(bimpe: Bimpe, full_stack: Path) -> None:
    stack = full_stack
    admin = Admin(bimpe.running)
    admin.set_faults(
        fault_rate=0.3, fault_kinds={"drop_after_commit": 1.0}, seed=11, retry_after_s=0
    )
    outcomes = []
    for _ in range(4):
        outcome = bimpe("apply", stack, "--auto-approve")
        outcomes.append(outcome.exit_code)
        if outcome.exit_code == 0:
            break
    assert outcomes[-1] == 0, outcomes
    admin.set_faults()
    assert "No changes." in bimpe("plan", stack).output

    workflows = Counter(w.name for w in bimpe.sdk.workflows.list(scope="owned").data)
    agents = bimpe.sdk.agents.list().data
    assert workflows == {"Main workflow": 1}
    assert Counter(a.name for a in agents) == {"Full bot": 1, "Catalog bot": 1}
    bot = next(a for a in agents if a.name == "Full bot")
    kbs = Counter(kb.name for kb in bimpe.sdk.agents.knowledge_bases.list(bot.id))
    assert kbs == {"FAQ": 1, "Site": 1}
