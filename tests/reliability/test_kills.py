"""SIGKILL at 20 random moments: each cycle changes the stack (one agent added, one removed),
kills an apply at a random time, checks the state file still parses, then runs a fresh apply.
After every cycle the team holds exactly what the manifests say: no duplicate, no orphan."""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bimpeai import BimpeAI
from cli_process import start_cli

from bimpe_iac.emulator.server import RunningEmulator

CYCLES = 20
WINDOW = 3


def _write(stack: Path, cycle: int) -> set[str]:
    """The stack of one cycle; returns the agent names it declares."""
    stack.mkdir(exist_ok=True)
    (stack / "stack.yaml").write_text("name: kills\nenvironments:\n  test: {}\n")
    names = {f"Agent {n}" for n in range(cycle, cycle + WINDOW)}
    lines = ["workflows:", "  main: {name: Main, system_prompt: You help.}", "agents:"]
    for n in range(cycle, cycle + WINDOW):
        lines += [
            f"  a-{n}:",
            "    workflow: main",
            f"    name: Agent {n}",
            "    description: Survives kills",
            "    actions: [send_email]",
            "    knowledge_bases:",
            f"      faq: {{type: text, name: FAQ {n}, content: Answers {n}.}}",
            f"      more: {{type: text, name: More {n}, content: More answers {n}.}}",
        ]
    (stack / "resources.yaml").write_text("\n".join(lines) + "\n")
    return names


def test_twenty_random_kills_leave_no_duplicate_and_no_orphan(
    start_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    running = start_emulator(latency_ms=80)
    stack = tmp_path / "kills"
    state = stack / ".bimpe" / "state" / "kills" / "test.json"
    chance = random.Random(20)
    killed_mid_run = 0
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        for cycle in range(CYCLES):
            wanted = _write(stack, cycle)
            process = start_cli(running, "apply", stack)
            time.sleep(chance.uniform(0.5, 1.6))
            if process.poll() is None:
                killed_mid_run += 1
            process.send_signal(signal.SIGKILL)
            process.wait()
            if state.exists():
                json.loads(state.read_text())
            assert start_cli(running, "apply", stack).wait(timeout=120) == 0

            agents = sdk.agents.list(limit=100).data
            assert Counter(a.name for a in agents) == Counter(wanted), f"cycle {cycle}"
            assert [w.name for w in sdk.workflows.list(scope="owned").data] == ["Main"]
            for agent in agents:
                kbs = Counter(kb.name for kb in sdk.agents.knowledge_bases.list(agent.id))
                number = agent.name.split()[-1]
                assert kbs == {f"FAQ {number}": 1, f"More {number}": 1}, f"cycle {cycle}"
            # The state manages exactly those agents, and no create is left pending.
            document = json.loads(state.read_text())
            assert document["intents"] == {}, f"cycle {cycle}: {json.dumps(document)}"
            managed = {e["id"] for e in document["resources"].values() if e["kind"] == "agent"}
            assert managed == {a.id for a in agents}, f"cycle {cycle}"
    print(f"\n{CYCLES} cycles, {killed_mid_run} kills landed while apply was running")
    assert killed_mid_run >= CYCLES // 4


def _bot_stack(stack: Path, description: str) -> None:
    stack.mkdir(exist_ok=True)
    (stack / "stack.yaml").write_text("name: killed\nenvironments:\n  test: {}\n")
    (stack / "resources.yaml").write_text(
        "workflows:\n  main: {name: Main, system_prompt: You help.}\n"
        f"agents:\n  bot: {{workflow: main, name: Bot, description: {description}}}\n"
    )


def test_a_kill_between_create_and_answer_then_an_edit_leaves_one_agent(
    start_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    """Killed while the agent's create is at the server (its intent stored, its answer not
    back), then the manifest is edited: the next apply updates the agent the killed run
    made (or makes it, if the request never arrived), never a second one."""
    running = start_emulator(latency_ms=1000)
    stack = tmp_path / "killed"
    state = stack / ".bimpe" / "state" / "killed" / "test.json"
    _bot_stack(stack, "First")
    process = start_cli(running, "apply", stack)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if state.exists() and "agents.bot" in json.loads(state.read_text() or "{}").get(
            "intents", {}
        ):
            break
        time.sleep(0.02)
    time.sleep(0.75)  # past the server's commit (half the latency), before the answer
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert "agents.bot" in json.loads(state.read_text())["intents"]
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        made = [a.id for a in sdk.agents.list().data]
        _bot_stack(stack, "Second")
        assert start_cli(running, "apply", stack).wait(timeout=120) == 0
        agents = sdk.agents.list().data
    assert [(a.name, a.description) for a in agents] == [("Bot", "Second")]
    if made:
        assert [a.id for a in agents] == made
    document = json.loads(state.read_text())
    assert document["intents"] == {}
    assert document["resources"]["agents.bot"]["id"] == agents[0].id
