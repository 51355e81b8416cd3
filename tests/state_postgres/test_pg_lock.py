"""The PostgreSQL lease lock, with real processes against a real server.

Covers: a lock held by another process excludes a second holder, with a LockError naming the
holder's user, host, pid, command and lock id; `lock_status` shows the holder; waiting with a
timeout succeeds once the holder releases, and fails naming the holder after the timeout when
it does not; the lock of a process killed with SIGKILL is taken over once its lease expires,
not before (the takeover time is measured and printed); the heartbeat keeps a live holder's
lock past its first lease; of several contenders for an expired lock exactly one wins;
force-unlock needs the lock's id, and the holder whose lock was broken learns it at release;
release removes only the holder's own lock; locks of other environments are independent.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import psycopg
import pytest
from pg_support import ENVIRONMENT, STACK

from bimpe_iac.errors import LockError
from bimpe_iac.state.identity import hostname, timestamp, username
from bimpe_iac.state.postgres import PostgresStateStore

Spawn = Callable[..., Any]
APPLY = "bimpe-iac apply -e prod"


def hold(conn: Connection, dsn: str, lease_s: float) -> None:
    """Hold the lock, say its id, then release when told (or be killed)."""
    with (
        PostgresStateStore(dsn, STACK, ENVIRONMENT) as store,
        store.lock(APPLY, lease_s=lease_s) as info,
    ):
        conn.send(info.id)
        conn.recv()
    conn.send("released")


def new_store(dsn: str, environment: str = ENVIRONMENT) -> PostgresStateStore:
    return PostgresStateStore(dsn, STACK, environment)


def test_a_lock_excludes_a_second_holder_and_names_it(spawn: Spawn, dsn: str) -> None:
    holder = spawn(hold, dsn, 30)
    lock_id = holder.receive()
    with new_store(dsn) as store:
        held = store.lock_status()
        assert held is not None
        assert (held.id, held.pid, held.command, held.host) == (
            lock_id,
            holder.pid,
            APPLY,
            hostname(),
        )
        assert held.acquired_at <= held.heartbeat_at < held.expires_at

        with pytest.raises(LockError) as caught, store.lock("bimpe-iac plan"):
            pass

        assert str(caught.value) == (
            f"state is locked by {username()}@{hostname()} pid {holder.pid} running '{APPLY}' "
            f"since {timestamp(held.acquired_at)} (lock id {lock_id}); wait with "
            f"--lock-timeout, or if that run is dead: bimpe-iac state force-unlock {lock_id}"
        )
        holder.send("go")
        assert holder.receive() == "released"
        assert store.lock_status() is None


def test_waiting_succeeds_when_the_holder_releases(spawn: Spawn, dsn: str) -> None:
    holder = spawn(hold, dsn, 30)
    lock_id = holder.receive()
    threading.Timer(0.5, holder.send, ("go",)).start()
    started = time.monotonic()

    with new_store(dsn) as store, store.lock("bimpe-iac plan", timeout_s=10) as info:
        waited = time.monotonic() - started
        assert info.id != lock_id and info.pid == os.getpid()

    assert 0.4 < waited < 5
    assert holder.receive() == "released"


def test_waiting_fails_naming_the_holder_after_the_timeout(spawn: Spawn, dsn: str) -> None:
    holder = spawn(hold, dsn, 30)
    lock_id = holder.receive()
    started = time.monotonic()

    with (
        new_store(dsn) as store,
        pytest.raises(LockError) as caught,
        store.lock("bimpe-iac plan", timeout_s=0.8),
    ):
        pass

    assert 0.8 <= time.monotonic() - started < 3
    message = str(caught.value)
    assert message.startswith(
        f"still locked after waiting 0.8s; state is locked by {username()}@{hostname()} "
        f"pid {holder.pid} running '{APPLY}'"
    )
    assert message.endswith(f"wait longer with --lock-timeout, or if that run is dead: "
                            f"bimpe-iac state force-unlock {lock_id}")  # fmt: skip


def test_a_killed_holders_lock_is_taken_over_once_its_lease_expires(
    spawn: Spawn, dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lease_s = 2.0
    holder = spawn(hold, dsn, lease_s)
    lock_id = holder.receive()
    time.sleep(1.0)  # past the first heartbeat
    with new_store(dsn) as store:
        held = store.lock_status()
        assert held is not None and held.id == lock_id

        holder.kill()
        killed = time.monotonic()
        with pytest.raises(LockError, match=f"lock id {lock_id}"), store.lock("bimpe-iac plan"):
            pass
        with store.lock("bimpe-iac apply", timeout_s=10) as info:
            taken = time.monotonic()
        assert info.id != lock_id

    takeover_s = taken - killed
    lease_left_s = (held.expires_at - held.heartbeat_at).total_seconds()
    assert lease_left_s == pytest.approx(lease_s, abs=0.01)
    # The lease ran between a third of it and all of it past the kill (last heartbeat at most
    # lease/3 before), and the contender polls every 0.2s.
    assert lease_s / 3 < takeover_s < lease_s + 1.0
    with capsys.disabled():
        print(
            f"\n[takeover] lease {lease_s:g}s: a lock left by kill -9 was taken over "
            f"{takeover_s:.2f}s after the kill"
        )


def insert_expired_lock(dsn: str) -> None:
    """A lock row as a run on another host leaves it when it crashes."""
    with psycopg.connect(dsn, autocommit=True) as conn, new_store(dsn) as store:
        store.read(STACK, ENVIRONMENT)  # the tables
        conn.execute(
            "INSERT INTO bimpe_state_locks SELECT %s, %s, 'dead-1', 'build-7', 4242, NULL, "
            "'ada', %s, now() - interval '1 hour', now() - interval '31 seconds', "
            "now() - interval '1 second'",
            (STACK, ENVIRONMENT, APPLY),
        )


def test_a_takeover_is_reported(dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    insert_expired_lock(dsn)

    with new_store(dsn) as store, caplog.at_level("WARNING"), store.lock("bimpe-iac plan"):
        pass

    (message,) = caplog.messages
    assert message.startswith(
        f"took over a stale state lock held by ada@build-7 pid 4242 running '{APPLY}' since "
    )
    assert "(lock id dead-1): its lease expired at " in message


def test_the_heartbeat_keeps_a_live_lock(dsn: str) -> None:
    with new_store(dsn) as store, store.lock(APPLY, lease_s=1.0) as info:
        first_expiry = info.expires_at
        time.sleep(2.0)
        with new_store(dsn) as other, pytest.raises(LockError), other.lock("bimpe-iac plan"):
            pass
        held = store.lock_status()
        assert held is not None and held.id == info.id
        assert held.expires_at > first_expiry


def test_of_many_contenders_for_an_expired_lock_exactly_one_wins(dsn: str) -> None:
    insert_expired_lock(dsn)
    winners: list[str] = []
    losers: list[str] = []
    barrier = threading.Barrier(6)
    release = threading.Event()

    def contend() -> None:
        with new_store(dsn) as store:
            store.lock_status()
            barrier.wait()
            try:
                with store.lock(APPLY) as info:
                    winners.append(info.id)
                    release.wait(10)
            except LockError as exc:
                losers.append(str(exc))

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(winners) + len(losers) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join()

    assert len(winners) == 1 and len(losers) == 5
    assert all(f"(lock id {winners[0]})" in message for message in losers)


def test_force_unlock_needs_the_id_and_the_broken_holder_learns_it(dsn: str) -> None:
    with new_store(dsn) as store, new_store(dsn) as other:
        with pytest.raises(LockError, match=r"the state of support \(prod\) is not locked"):
            store.force_unlock("nope")
        with pytest.raises(LockError) as lost, store.lock(APPLY) as info:
            with pytest.raises(LockError, match=r"lock id nope does not match.*nothing"):
                other.force_unlock("nope")
            broken = other.force_unlock(info.id)
            assert broken.id == info.id and broken.pid == os.getpid()
            assert other.lock_status() is None
            with other.lock("bimpe-iac plan") as second:
                assert second.id != info.id

    assert str(lost.value) == (
        f"the state lock {info.id} was lost during this run (it was removed); "
        "another run may have changed the state meanwhile"
    )


def test_release_removes_only_the_holders_own_lock(dsn: str) -> None:
    with (
        new_store(dsn) as store,
        psycopg.connect(dsn, autocommit=True) as conn,
        pytest.raises(LockError, match="it is now held by ada@build-7"),
        store.lock(APPLY) as info,
    ):
        conn.execute(
            "UPDATE bimpe_state_locks SET id = 'other', host = 'build-7', user_name = 'ada' "
            "WHERE id = %s",
            (info.id,),
        )
    with new_store(dsn) as store:
        held = store.lock_status()
        assert held is not None and held.id == "other"


def test_environments_lock_independently(dsn: str) -> None:
    with (
        new_store(dsn) as prod,
        new_store(dsn, "staging") as staging,
        prod.lock(APPLY) as first,
        staging.lock(APPLY) as second,
    ):
        assert first.id != second.id
        assert prod.lock_status() == first
        status = staging.lock_status()
        assert status is not None and status.id == second.id
