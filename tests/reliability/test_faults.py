"""Apply a generated stack through an unreliable network, seeded so a failure can be replayed.

Covers: for each of 5 seeds, a stack of 20 agents (2 text knowledge bases and 3 actions each,
a workflow per 10 agents, a phone link on every 10th agent: `bench/scale.py`'s generator) is
applied against an emulator that fails 30% of requests with every fault kind (500, 503 and 429
answers, connections dropped before and after the request was handled) and allows 200 requests
a second. Reruns of apply (at most 6) converge; every workflow, agent and knowledge base exists
exactly once; the state holds no intent left over; and a plan after it has nothing to do. Each
seed prints one line of figures: faults injected by kind, applies needed, duplicates found.

BIMPE_SOAK=1 applies 100 agents instead of 20.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import scale  # bench/scale.py
from bimpeai import BimpeAI
from cli_runner import invoke
from emulator_admin import Admin

from bimpe_iac.emulator.faults import FAULT_KINDS
from bimpe_iac.emulator.server import RunningEmulator

AGENTS = 100 if os.environ.get("BIMPE_SOAK") == "1" else 20
SEEDS = (1, 2, 3, 4, 5)
MAX_APPLIES = 6
FAULTS = {
    "fault_rate": 0.3,
    "fault_kinds": dict.fromkeys(FAULT_KINDS, 1.0),
    "rate_limit": 200,
    "retry_after_s": 0,
}


def _duplicates(sdk: BimpeAI, agents: int) -> int:
    """How many workflows, agents and knowledge bases exist other than exactly once, as the
    generated stack declares them (missing ones count too)."""
    workflows = Counter(w.name for w in sdk.workflows.list(scope="owned", limit=100))
    wanted = Counter(f"Workflow {w}" for w in range(max(1, agents // 10)))
    found = Counter(a.name for a in sdk.agents.list(limit=100))
    extra = sum(((workflows - wanted) + (wanted - workflows)).values())
    names = Counter(f"Agent {a}" for a in range(agents))
    extra += sum(((found - names) + (names - found)).values())
    for agent in sdk.agents.list(limit=100):
        index = agent.name.removeprefix("Agent ")
        kbs = Counter(kb.name for kb in sdk.agents.knowledge_bases.list(agent.id))
        expected = Counter({f"FAQ {index}": 1, f"Policy {index}": 1})
        extra += sum(((kbs - expected) + (expected - kbs)).values())
    return extra


@pytest.mark.timeout(600 if AGENTS > 20 else 120)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_faulty_network_converges_without_duplicates(
    start_emulator: Callable[..., RunningEmulator], tmp_path: Path, seed: int
) -> None:
    running = start_emulator(tmp_path / "emulator.db")
    admin = Admin(running)
    env = {"BIMPE_API_KEY": running.emulator.api_key, "BIMPE_BASE_URL": running.url}
    for index in range(0, AGENTS, 10):
        admin.call("POST", "/teams/team_default/phone-numbers", {"e164": scale.phone(index)})
    stack = tmp_path / "stack"
    resources = scale.generate(stack, AGENTS)
    admin.call("PUT", "/faults", {**FAULTS, "seed": seed})

    codes = []
    for _ in range(MAX_APPLIES):
        applied = invoke("apply", stack, "--auto-approve", env=env)
        codes.append(applied.exit_code)
        if applied.exit_code == 0:
            break
    counters = admin.call("GET", "/counters")
    admin.call("PUT", "/faults", {})
    assert codes[-1] == 0, f"applies: {codes}\n{applied.text[-6000:]}"

    planned = invoke("plan", stack, "--detailed-exitcode", env=env)
    assert planned.exit_code == 0, planned.text[-6000:]
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        duplicates = _duplicates(sdk, AGENTS)
    state = json.loads((stack / ".bimpe" / "state" / "scale" / "bench.json").read_text())
    assert isinstance(counters, dict)
    faults = counters["faults"]
    requests = sum(counters["requests"].values())
    by_kind = ", ".join(f"{kind} {faults.get(kind, 0)}" for kind in FAULT_KINDS)
    print(
        f"\nseed {seed}: {AGENTS} agents, {resources} resources; {requests} requests,"
        f" faults {sum(faults.values())} ({by_kind}); applies {len(codes)} (exit codes {codes});"
        f" duplicates {duplicates}"
    )
    assert duplicates == 0
    assert state["intents"] == {}
    assert len(state["resources"]) == resources
    assert sum(faults.values()) > 0
