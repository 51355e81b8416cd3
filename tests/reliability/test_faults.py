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

import importlib.util
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from bimpeai import BimpeAI
from click.testing import CliRunner

from bimpe_iac.cli import main
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


def _load_bench() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "scale.py"
    spec = importlib.util.spec_from_file_location("bench_scale", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


scale = _load_bench()


class Cli:
    """The CLI run in-process against one emulator, as its default team."""

    def __init__(self, running: RunningEmulator) -> None:
        self.running = running
        self.env = {
            "BIMPE_API_KEY": running.emulator.api_key,
            "BIMPE_BASE_URL": running.url,
            "NO_COLOR": "1",
        }

    def __call__(self, *args: str | Path) -> tuple[int, str, str]:
        with CliRunner().isolation(env=self.env) as (out, err, _):
            argv, sys.argv = sys.argv, ["bimpe-iac", *map(str, args)]
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            finally:
                sys.argv = argv
            return code, out.getvalue().decode(), err.getvalue().decode()

    def admin(self, method: str, path: str, body: object = None) -> object:
        response = httpx.request(
            method,
            f"{self.running.url}/_emulator{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.running.emulator.admin_token}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["data"]


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
    cli = Cli(running)
    for index in range(0, AGENTS, 10):
        cli.admin("POST", "/teams/team_default/phone-numbers", {"e164": scale.phone(index)})
    stack = tmp_path / "stack"
    resources = scale.generate(stack, AGENTS)
    cli.admin("PUT", "/faults", {**FAULTS, "seed": seed})

    codes = []
    for _ in range(MAX_APPLIES):
        code, out, err = cli("apply", stack, "--auto-approve")
        codes.append(code)
        if code == 0:
            break
    counters = cli.admin("GET", "/counters")
    cli.admin("PUT", "/faults", {})
    assert codes[-1] == 0, f"applies: {codes}\n{out[-3000:]}\n{err[-3000:]}"

    code, out, err = cli("plan", stack, "--detailed-exitcode")
    assert code == 0, out[-3000:] + err
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
