"""The state lock, with real lock files and real processes.

Covers: a lock held by another process excludes a second holder, with a LockError naming the
holder's user, host, pid, command and lock id; waiting with a timeout succeeds once the holder
releases, and fails naming the holder when it does not; the lock of a process killed with
SIGKILL (reaped or still a zombie) is taken over at once, with a note; an expired lease from
another host is taken over, a live one blocks; a dead pid from another pid namespace is not
judged; of several contenders for a stale lock exactly one wins; an unreadable lock file blocks
until it has been untouched for a lease; the heartbeat extends the lease past its first expiry;
release removes only the holder's own lock and reports a lost one; force-unlock needs the id;
the lock file's content; `read_lock`.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from bimpe_iac.errors import LockError, StateError
from bimpe_iac.state.identity import hostname, timestamp, username
from bimpe_iac.state.lock import force_unlock, hold_lock, read_lock

Spawn = Callable[..., Any]
APPLY = "bimpe-iac apply -e prod"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "prod.json"


def lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def hold(conn: Connection, path: Path, hold_s: float | None) -> None:
    """Hold the lock, say its id, then release after `hold_s` or when told (or be killed)."""
    with hold_lock(path, APPLY) as info:
        conn.send(info.id)
        if hold_s is None:
            conn.recv()
        else:
            time.sleep(hold_s)
    conn.send("released")


def write_lock(
    path: Path,
    *,
    expires_in_s: float,
    host: str = "build-7",
    pid: int = 4242,
    pid_namespace: str | None = None,
) -> str:
    """A lock file written by hand, as another run would leave it."""
    now = datetime.now(UTC)
    lock_id = str(uuid.uuid4())
    content = {
        "id": lock_id,
        "host": host,
        "pid": pid,
        "user": "ada",
        "command": APPLY,
        "acquired_at": (now - timedelta(hours=1)).isoformat(),
        "heartbeat_at": (now - timedelta(seconds=5)).isoformat(),
        "expires_at": (now + timedelta(seconds=expires_in_s)).isoformat(),
        "pid_namespace": pid_namespace,
    }
    lock_file(path).write_text(json.dumps(content))
    return lock_id


def dead_pid(spawn: Spawn) -> int:
    child = spawn(lambda conn: None)
    child.join()
    pid: int = child.pid
    return pid


def test_a_lock_excludes_a_second_holder(spawn: Spawn, path: Path) -> None:
    holder = spawn(hold, path, None)
    lock_id = holder.receive()
    held = read_lock(path)
    assert held is not None and held.id == lock_id

    with pytest.raises(LockError) as caught, hold_lock(path, "bimpe-iac plan"):
        pass

    assert str(caught.value) == (
        f"state is locked by {username()}@{hostname()} pid {holder.pid} running '{APPLY}' "
        f"since {timestamp(held.acquired_at)} (lock id {lock_id}); "
        f"wait with --lock-timeout, or if that run is dead: bimpe-iac state force-unlock {lock_id}"
    )
    holder.send("go")
    assert holder.receive() == "released"
    assert read_lock(path) is None


def test_waiting_succeeds_when_the_holder_releases(spawn: Spawn, path: Path) -> None:
    holder = spawn(hold, path, 0.4)
    lock_id = holder.receive()
    started = time.monotonic()

    with hold_lock(path, "bimpe-iac plan", timeout_s=10) as info:
        waited = time.monotonic() - started
        assert info.id != lock_id and info.pid == os.getpid()

    assert 0.1 < waited < 5
    assert holder.receive() == "released"


def test_waiting_fails_naming_the_holder_when_it_does_not_release(path: Path) -> None:
    lock_id = write_lock(path, expires_in_s=60)
    started = time.monotonic()

    with pytest.raises(LockError) as caught, hold_lock(path, "bimpe-iac plan", timeout_s=0.3):
        pass

    assert time.monotonic() - started >= 0.3
    message = str(caught.value)
    assert message.startswith("still locked after waiting 0.3s; state is locked by ada@build-7")
    assert message.endswith(
        f"wait longer with --lock-timeout, or if that run is dead: "
        f"bimpe-iac state force-unlock {lock_id}"
    )


def test_the_lock_of_a_killed_process_is_taken_over_at_once(spawn: Spawn, path: Path) -> None:
    holder = spawn(hold, path, None)
    holder.receive()
    dead = read_lock(path)
    assert dead is not None
    holder.kill()
    notes: list[str] = []

    with hold_lock(path, APPLY, on_takeover=notes.append) as info:
        assert read_lock(path) == info

    assert notes == [
        f"took over a stale state lock held by {dead.holder()} (lock id {dead.id}): "
        f"its process {holder.pid} no longer exists"
    ]
    assert dead.holder().startswith(f"{username()}@{hostname()} pid {holder.pid} running")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_the_lock_of_a_zombie_is_taken_over(spawn: Spawn, path: Path) -> None:
    holder = spawn(hold, path, None)
    holder.receive()
    os.kill(holder.pid, signal.SIGKILL)  # and not reaped: the process stays a zombie
    stat = Path(f"/proc/{holder.pid}/stat")
    deadline = time.monotonic() + 5
    while stat.read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    notes: list[str] = []

    with hold_lock(path, APPLY, on_takeover=notes.append):
        pass

    assert notes[0].endswith(f"its process {holder.pid} no longer exists")


def test_an_expired_lease_from_another_host_is_taken_over(path: Path) -> None:
    old_id = write_lock(path, expires_in_s=-60)
    notes: list[str] = []

    with hold_lock(path, APPLY, on_takeover=notes.append) as info:
        assert info.id != old_id
        assert read_lock(path) == info

    assert len(notes) == 1
    assert f"held by ada@build-7 pid 4242 running '{APPLY}'" in notes[0]
    assert f"(lock id {old_id}): its lease expired at " in notes[0]
    assert not lock_file(path).exists()


def test_a_live_lease_from_another_host_blocks(path: Path) -> None:
    lock_id = write_lock(path, expires_in_s=60)

    holder = f"locked by ada@build-7 pid 4242 .*lock id {lock_id}"
    with pytest.raises(LockError, match=holder), hold_lock(path, "bimpe-iac plan"):
        pass
    assert read_lock(path) is not None


def test_a_dead_pid_of_another_pid_namespace_is_not_judged(spawn: Spawn, path: Path) -> None:
    # Same host name, as a container sharing the host's network has: its pids are not ours.
    write_lock(path, expires_in_s=60, host=hostname(), pid=dead_pid(spawn), pid_namespace="pid:[1]")

    with pytest.raises(LockError), hold_lock(path, "bimpe-iac plan"):
        pass


def contend(conn: Connection, path: Path, start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.monotonic()))
    notes: list[str] = []
    try:
        with hold_lock(path, "contender", on_takeover=notes.append):
            conn.send(("won", notes))
            # Hold long enough that a contender slowed down by a busy machine still finds it held.
            time.sleep(1.5)
    except LockError:
        conn.send(("locked", notes))


def test_only_one_contender_takes_over_a_stale_lock(spawn: Spawn, path: Path) -> None:
    for _ in range(3):
        write_lock(path, expires_in_s=-1)
        start_at = time.monotonic() + 0.5
        contenders = [spawn(contend, path, start_at) for _ in range(6)]

        results = [contender.receive() for contender in contenders]

        assert sorted(outcome for outcome, _ in results) == ["locked"] * 5 + ["won"]
        # The stale lock is taken over at most once: the contender that moved it aside may
        # still lose to one that found the path free in that moment, and then no one took over.
        assert sum(len(notes) for _, notes in results) <= 1
        for contender in contenders:
            assert contender.join() == 0
        assert read_lock(path) is None


def test_an_unreadable_lock_blocks_until_untouched_for_a_lease(path: Path) -> None:
    lock_file(path).write_bytes(b"")

    unreadable = r"state is locked: lock file .*prod\.json\.lock is empty"
    with pytest.raises(LockError, match=unreadable), hold_lock(path, APPLY, lease_s=30):
        pass

    a_minute_ago = time.time() - 60
    os.utime(lock_file(path), (a_minute_ago, a_minute_ago))
    notes: list[str] = []
    with hold_lock(path, APPLY, lease_s=30, on_takeover=notes.append):
        pass
    assert notes == [
        f"took over a stale state lock {lock_file(path)}: "
        "its file is empty and has not changed for over 30s"
    ]


def test_the_heartbeat_extends_the_lease(path: Path) -> None:
    with hold_lock(path, APPLY, lease_s=0.3) as info:
        first = read_lock(path)
        assert first is not None
        time.sleep(0.5)  # past the first expiry
        later = read_lock(path)
        assert later is not None and later.id == first.id
        assert later.heartbeat_at > first.heartbeat_at
        assert later.expires_at > first.expires_at > datetime.now(UTC) - timedelta(seconds=0.3)
        assert info.expires_at >= later.expires_at, "the held LockInfo is renewed in place"
        with pytest.raises(LockError), hold_lock(path, "bimpe-iac plan"):
            pass


def test_release_leaves_a_lock_that_is_not_its_own(path: Path) -> None:
    with pytest.raises(LockError, match="was lost during this run"), hold_lock(path, APPLY) as info:
        force_unlock(path, info.id)
        other_id = write_lock(path, expires_in_s=60)

    lock = read_lock(path)
    assert lock is not None and lock.id == other_id


def test_force_unlock_needs_the_lock_id(path: Path) -> None:
    lock_id = write_lock(path, expires_in_s=60)

    with pytest.raises(LockError, match=f"lock id wrong does not match.*lock id {lock_id}"):
        force_unlock(path, "wrong")
    assert lock_file(path).exists()

    removed = force_unlock(path, lock_id)
    assert (removed.id, removed.host, removed.pid) == (lock_id, "build-7", 4242)
    assert read_lock(path) is None
    with pytest.raises(LockError, match="is not locked"):
        force_unlock(path, lock_id)


def test_the_lock_file_holds_the_holder_and_its_lease(path: Path) -> None:
    with hold_lock(path, APPLY, lease_s=12) as info:
        content = json.loads(lock_file(path).read_text())

    assert set(content) == {
        "id", "host", "pid", "user", "command", "acquired_at", "heartbeat_at", "expires_at",
        "pid_namespace",
    }  # fmt: skip
    assert (content["id"], content["pid"], content["command"]) == (info.id, os.getpid(), APPLY)
    assert (content["host"], content["user"]) == (hostname(), username())
    assert info.expires_at - info.heartbeat_at == timedelta(seconds=12)


def test_read_lock(path: Path) -> None:
    assert read_lock(path) is None

    lock_file(path).write_text('{"id": "x"}')
    with pytest.raises(StateError, match=r"lock file .*prod\.json\.lock is not a lock"):
        read_lock(path)
