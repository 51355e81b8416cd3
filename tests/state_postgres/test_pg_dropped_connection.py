"""An apply whose PostgreSQL connections the server drops while it runs (a failover, a restart,
an idle-session killer), simulated with `pg_terminate_backend` on every bimpe-iac backend.

Covers: connections dropped when the lock is taken, or halfway through the apply, still give
exit 0, a state holding every resource, every object on the team once, and no lock row left
behind; a lock that cannot be released even on a new connection is named by its id, with
when its lease ends and the command that breaks it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from pg_support import ENVIRONMENT, STACK, write_stack
from test_pg_concurrent_apply import (
    AGENTS,
    RESOURCES,
    STACK_YAML,
    assert_consistent,
    environ,
    finish,
    start,
    wait_for_holder,
)

from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.errors import LockError
from bimpe_iac.state.pg_connection import connect
from bimpe_iac.state.pg_lock import hold_pg_lock
from bimpe_iac.state.postgres import PostgresStateStore


@pytest.fixture
def slow_emulator(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator(latency_ms=150)


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    return write_stack(tmp_path / "support", STACK_YAML, RESOURCES)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def terminate_bimpe_backends(dsn: str) -> int:
    """Drop every connection bimpe-iac holds to the server; return how many there were."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'bimpe-iac' AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def head_serial(store: PostgresStateStore) -> int:
    history = store.history(STACK, ENVIRONMENT)
    return history[-1].serial if history else 0


def wait_until(condition: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.parametrize("when", ["lock taken", "halfway"])
def test_an_apply_survives_dropped_connections(
    stack_dir: Path,
    dsn: str,
    slow_emulator: RunningEmulator,
    processes: list[subprocess.Popen[str]],
    when: str,
) -> None:
    apply = start(
        stack_dir, environ(slow_emulator, dsn), "apply", "--auto-approve", "--parallelism", "1"
    )
    processes.append(apply)
    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
        wait_for_holder(store, apply.pid)
        if when == "halfway":
            wait_until(lambda: head_serial(store) >= 3)
        os.kill(apply.pid, signal.SIGSTOP)  # its connections die while it cannot notice
        try:
            dropped = terminate_bimpe_backends(dsn)
        finally:
            os.kill(apply.pid, signal.SIGCONT)
        code, out, err = finish(apply)

        assert dropped >= 2  # the store's connection and the lock's
        assert code == 0, err
        assert f"Resources: {1 + AGENTS} added" in out
        assert store.lock_status() is None
        assert_consistent(store, slow_emulator)


def test_a_lock_that_cannot_be_released_is_named(dsn: str) -> None:
    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
        store.lock_status()  # creates the tables
    opened: list[psycopg.Connection[tuple[object, ...]]] = []

    def connect_once() -> psycopg.Connection[tuple[object, ...]]:
        if opened:  # the server is gone for good: no new connection can be made
            raise psycopg.OperationalError("connection refused")
        opened.append(connect(dsn))
        return opened[0]

    with (
        pytest.raises(LockError) as raised,
        hold_pg_lock(connect_once, STACK, ENVIRONMENT, "apply", timeout_s=0, lease_s=30) as info,
    ):
        terminate_bimpe_backends(dsn)

    message = str(raised.value)
    assert f"could not release the state lock {info.id}" in message
    assert "its lease ends at" in message
    assert f"bimpe-iac state force-unlock {info.id}" in message
