"""Concurrent `bimpe-iac apply` processes on one stack and environment, against an emulator with
latency so that they overlap, with the state in PostgreSQL (and, for comparison, local).

Covers: two applies started together both succeed: one applies, the other waits for the lock
and then finds nothing to do; the state's history has strictly increasing serials and one
lineage, and every resource exists once on the platform; while an apply holds the lock, an
apply without --lock-timeout fails at once naming the holder, `plan --lock` fails the same way,
and a plain plan runs; after kill -9 of a lock holder, the next apply takes the lock over once
its lease expires; SIGTERM mid-apply exits 143 with what finished stored and deletes the lock
row (a PostgreSQL lock has no dead-pid check: a row left behind would block every run for a
lease), so the next apply, without --lock-timeout, takes the lock at once and converges; an
apply waiting for the lock says who holds it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from bimpeai import BimpeAI
from forked import Child
from pg_support import write_stack

from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.postgres import PostgresStateStore

AGENTS = 4
STACK_YAML = "name: support\nenvironments: {prod: {}}\n"
RESOURCES = """
workflows:
  triage: {name: Triage, system_prompt: You route support questions.}
agents:
""" + "".join(
    f"  bot-{n}: {{workflow: triage, name: Bot {n}, description: Support bot {n}}}\n"
    for n in range(AGENTS)
)


@pytest.fixture
def slow_emulator(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator(latency_ms=150)


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    return write_stack(tmp_path / "support", STACK_YAML, RESOURCES)


def environ(emulator: RunningEmulator, dsn: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIMPE_")}
    env.update(BIMPE_API_KEY=emulator.emulator.api_key, BIMPE_BASE_URL=emulator.url, NO_COLOR="1")
    if dsn is not None:
        env["BIMPE_STATE_DSN"] = dsn
    return env


def start(stack_dir: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", *args, str(stack_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout_s: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout_s)
    return process.returncode, out, err


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for_holder(store: StateStore, pid: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        held = store.lock_status()
        if held is not None and held.pid == pid:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the lock")


def assert_consistent(store: StateStore, emulator: RunningEmulator) -> None:
    history = store.history("support", "prod")
    serials = [v.serial for v in history]
    assert serials == sorted(set(serials)) and serials, serials
    assert len({v.lineage for v in history}) == 1
    current = store.read("support", "prod")
    assert len(current.resources) == 1 + AGENTS and not current.intents
    with BimpeAI(api_key=emulator.emulator.api_key, base_url=emulator.url) as sdk:
        agents = [agent.name for agent in sdk.agents.list()]
        workflows = [w.name for w in sdk.workflows.list() if w.name == "Triage"]
    assert sorted(agents) == [f"Bot {n}" for n in range(AGENTS)]
    assert workflows == ["Triage"]


def two_applies_at_once(
    stack_dir: Path, env: dict[str, str], processes: list[subprocess.Popen[str]]
) -> None:
    apply = ("apply", "--auto-approve", "--lock-timeout", "2m")
    processes += [start(stack_dir, env, *apply), start(stack_dir, env, *apply)]
    ended = []
    for process in processes:
        code, out, err = finish(process)
        assert code == 0, err
        ended.append((time.monotonic(), out))
    applied = [end for end, out in ended if f"Resources: {1 + AGENTS} added" in out]
    waited = [end for end, out in ended if out.startswith("No changes.")]
    assert len(applied) == 1 and len(waited) == 1, [out for _, out in ended]


def test_two_applies_at_once_on_postgres_state(
    stack_dir: Path,
    dsn: str,
    slow_emulator: RunningEmulator,
    processes: list[subprocess.Popen[str]],
) -> None:
    two_applies_at_once(stack_dir, environ(slow_emulator, dsn), processes)

    with PostgresStateStore(dsn, "support", "prod") as store:
        assert_consistent(store, slow_emulator)
        assert store.lock_status() is None


def test_two_applies_at_once_on_local_state(
    stack_dir: Path, slow_emulator: RunningEmulator, processes: list[subprocess.Popen[str]]
) -> None:
    two_applies_at_once(stack_dir, environ(slow_emulator, None), processes)

    store = LocalStateStore(stack_dir / ".bimpe" / "state" / "support" / "prod.json")
    assert_consistent(store, slow_emulator)
    assert store.lock_status() is None


def test_while_an_apply_holds_the_lock_others_fail_cleanly_and_plans_run(
    stack_dir: Path,
    dsn: str,
    slow_emulator: RunningEmulator,
    processes: list[subprocess.Popen[str]],
) -> None:
    env = environ(slow_emulator, dsn)
    holder = start(stack_dir, env, "apply", "--auto-approve", "--parallelism", "1")
    processes.append(holder)
    with PostgresStateStore(dsn, "support", "prod") as store:
        wait_for_holder(store, holder.pid)
        os.kill(holder.pid, signal.SIGSTOP)  # a slow apply, deterministically
        try:
            others = [
                start(stack_dir, env, "apply", "--auto-approve"),
                start(stack_dir, env, "plan", "--lock", "--lock-timeout", "1s"),
                start(stack_dir, env, "plan"),
            ]
            processes += others
            second, locked_plan, plan = (finish(process) for process in others)
            held = store.lock_status()
        finally:
            os.kill(holder.pid, signal.SIGCONT)
        code, _, err = finish(holder)

        assert code == 0, err
        assert held is not None and held.pid == holder.pid and held.command == "apply"
        assert second[0] == 1
        assert "Error: state is locked by " in second[2]
        assert f"pid {holder.pid} running 'apply'" in second[2]
        assert f"bimpe-iac state force-unlock {held.id}" in second[2]
        assert locked_plan[0] == 1
        assert "Error: still locked after waiting 1s; state is locked by " in locked_plan[2]
        assert plan[0] == 0, plan[2]
        assert f"{1 + AGENTS} to add" in plan[1]
        assert_consistent(store, slow_emulator)


def hold_and_wait(conn: Connection, dsn: str) -> None:
    with (
        PostgresStateStore(dsn, "support", "prod") as store,
        store.lock("apply", lease_s=2) as info,
    ):
        conn.send(info.id)
        conn.recv()


def test_after_kill_9_of_the_holder_the_next_apply_takes_over_when_the_lease_expires(
    stack_dir: Path,
    dsn: str,
    slow_emulator: RunningEmulator,
    spawn: Callable[..., Child],
) -> None:
    holder = spawn(hold_and_wait, dsn)
    lock_id = holder.receive()
    holder.kill()
    env = environ(slow_emulator, dsn)

    code, _, err = finish(start(stack_dir, env, "apply", "--auto-approve", "--lock-timeout", "30s"))

    assert code == 0, err
    assert "took over a stale state lock held by " in err
    assert f"(lock id {lock_id}): its lease expired at " in err
    with PostgresStateStore(dsn, "support", "prod") as store:
        assert_consistent(store, slow_emulator)


def test_sigterm_mid_apply_deletes_the_lock_row_and_keeps_what_finished(
    stack_dir: Path,
    dsn: str,
    slow_emulator: RunningEmulator,
    processes: list[subprocess.Popen[str]],
) -> None:
    env = environ(slow_emulator, dsn)
    apply = start(stack_dir, env, "apply", "--auto-approve", "--parallelism", "1")
    processes.append(apply)
    assert apply.stdout is not None
    with PostgresStateStore(dsn, "support", "prod") as store:
        wait_for_holder(store, apply.pid)
        lines = []
        for line in apply.stdout:
            lines.append(line)
            if ": Creation complete" in line:  # the workflow; the agents follow one by one
                apply.send_signal(signal.SIGTERM)
                break
        code, out, err = finish(apply)
        out = "".join(lines) + out

        assert code == 143, out + err
        assert "Terminated." in err and "Traceback" not in out + err
        assert store.lock_status() is None
        stored = store.read("support", "prod")
        assert 0 < len(stored.resources) < 1 + AGENTS and not stored.intents
        for line in out.splitlines():
            if " complete" in line:
                assert line.split(":")[0] in stored.resources, line

        code, out, err = finish(start(stack_dir, env, "apply", "--auto-approve"))
        assert code == 0, out + err
        assert_consistent(store, slow_emulator)


def test_waiting_for_a_postgres_lock_says_who_holds_it(
    stack_dir: Path, dsn: str, slow_emulator: RunningEmulator, spawn: Callable[..., Child]
) -> None:
    holder = spawn(hold_and_wait, dsn)
    holder.receive()
    env = environ(slow_emulator, dsn)

    code, _, err = finish(start(stack_dir, env, "apply", "--auto-approve", "--lock-timeout", "2s"))

    assert code == 1, err
    waits = [line for line in err.splitlines() if line.startswith("Waiting for the state lock")]
    assert len(waits) == 1, err
    assert waits[0].startswith("Waiting for the state lock (0.")
    assert "of at most 2.0s): it is held by " in waits[0]
    assert f"pid {holder.pid} running 'apply' since " in waits[0]
    assert "Error: still locked after waiting 2s; state is locked by " in err
