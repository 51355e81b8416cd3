"""The lease lock of a state in PostgreSQL: one row per stack and environment.

A contender takes the lock in one statement: it inserts its row, or replaces the existing one
only if that row's lease has expired (`ON CONFLICT ... DO UPDATE ... WHERE expires_at < now`),
so two contenders can never both win. Lease times come from the database server's clock, so
runners whose clocks disagree still agree on when a lease ends. A heartbeat thread renews the
lease on the lock's own connection; a holder that crashes stops renewing and its lock can be
taken over once the lease runs out. Release deletes the row only while it is still the holder's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg.rows import TupleRow, dict_row

from bimpe_iac.errors import LockError, StateError
from bimpe_iac.state.backend import LockWait, locked_message
from bimpe_iac.state.identity import hostname, pid_namespace, timestamp, username
from bimpe_iac.state.lockfile import LockInfo

POLL_S = 0.2

log = logging.getLogger(__name__)

Connect = Callable[[], psycopg.Connection[TupleRow]]

_COLUMNS = "id, host, pid, pid_namespace, user_name, command, acquired_at, heartbeat_at, expires_at"
_KEY = "stack = %(stack)s AND environment = %(environment)s"

_TAKE = f"""
WITH previous AS (SELECT {_COLUMNS} FROM bimpe_state_locks WHERE {_KEY})
INSERT INTO bimpe_state_locks AS held (stack, environment, {_COLUMNS})
VALUES (
    %(stack)s, %(environment)s, %(id)s, %(host)s, %(pid)s, %(pid_namespace)s, %(user)s,
    %(command)s, statement_timestamp(), statement_timestamp(),
    statement_timestamp() + %(lease_s)s * interval '1 second'
)
ON CONFLICT (stack, environment) DO UPDATE SET
    id = excluded.id, host = excluded.host, pid = excluded.pid,
    pid_namespace = excluded.pid_namespace, user_name = excluded.user_name,
    command = excluded.command, acquired_at = excluded.acquired_at,
    heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at
WHERE held.expires_at < statement_timestamp()
RETURNING held.acquired_at, held.expires_at, (SELECT row_to_json(previous) FROM previous)
"""

_RENEW = f"""
UPDATE bimpe_state_locks
SET heartbeat_at = statement_timestamp(),
    expires_at = statement_timestamp() + %(lease_s)s * interval '1 second'
WHERE {_KEY} AND id = %(id)s
RETURNING heartbeat_at, expires_at
"""


@contextmanager
def hold_pg_lock(
    connect: Connect,
    stack: str,
    environment: str,
    command: str,
    *,
    timeout_s: float,
    lease_s: float,
    on_takeover: Callable[[str], None] = log.warning,
    on_wait: LockWait | None = None,
) -> Iterator[LockInfo]:
    """Hold the lock of `stack`/`environment`, waiting up to `timeout_s` for another holder
    (telling `on_wait` who holds it and for how long it has waited, at each look).
    `connect` opens the connection the lock and its heartbeat use. On exit the lock is released
    if this run still owns it; if it was taken over meanwhile and the body succeeded, a
    LockError says so."""
    if lease_s <= 0:
        raise ValueError("lease_s must be positive")
    key = {"stack": stack, "environment": environment}
    conn = connect()
    try:
        info = _acquire(conn, key, command, timeout_s, lease_s, on_takeover, on_wait)
    except BaseException:
        _close(conn)
        raise
    heartbeat = _Heartbeat(conn, connect, key, info, lease_s)
    try:
        try:
            yield info
        except BaseException:
            heartbeat.stop()
            try:
                _release_reconnecting(heartbeat, key, info)
            except (StateError, psycopg.Error) as exc:  # the run's own error matters more
                log.warning("%s", exc)
            raise
        heartbeat.stop()
        lost = _release_reconnecting(heartbeat, key, info)
    finally:
        _close(heartbeat.conn)
    if lost is not None:
        raise LockError(
            f"the state lock {info.id} was lost during this run ({lost}); "
            "another run may have changed the state meanwhile"
        )


def read_pg_lock(
    conn: psycopg.Connection[TupleRow], stack: str, environment: str
) -> LockInfo | None:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT {_COLUMNS} FROM bimpe_state_locks WHERE {_KEY}",
            {"stack": stack, "environment": environment},
        )
        .fetchone()
    )
    return None if row is None else _lock_info(row)


def force_pg_unlock(
    conn: psycopg.Connection[TupleRow], stack: str, environment: str, lock_id: str
) -> LockInfo:
    """Delete the lock of `stack`/`environment` if its id is `lock_id`; return what it was."""
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"DELETE FROM bimpe_state_locks WHERE {_KEY} AND id = %(id)s RETURNING {_COLUMNS}",
            {"stack": stack, "environment": environment, "id": lock_id},
        )
        .fetchone()
    )
    if row is not None:
        return _lock_info(row)
    current = read_pg_lock(conn, stack, environment)
    where = f"the state of {stack} ({environment})"
    if current is None:
        raise LockError(f"{where} is not locked")
    raise LockError(
        f"lock id {lock_id} does not match: {where} is locked by {current.holder()} "
        f"(lock id {current.id}); nothing was unlocked"
    )


def _acquire(
    conn: psycopg.Connection[TupleRow],
    key: Mapping[str, str],
    command: str,
    timeout_s: float,
    lease_s: float,
    on_takeover: Callable[[str], None],
    on_wait: LockWait | None,
) -> LockInfo:
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        wanted = {
            **key,
            "id": str(uuid.uuid4()),
            "host": hostname(),
            "pid": os.getpid(),
            "pid_namespace": pid_namespace(),
            "user": username(),
            "command": command,
            "lease_s": lease_s,
        }
        row = conn.execute(_TAKE, wanted).fetchone()
        if row is not None:
            acquired_at, expires_at, previous = row
            info = LockInfo(
                id=wanted["id"],
                host=wanted["host"],
                pid=wanted["pid"],
                user=wanted["user"],
                command=command,
                acquired_at=acquired_at,
                heartbeat_at=acquired_at,
                expires_at=expires_at,
                pid_namespace=wanted["pid_namespace"],
            )
            if previous is not None:
                stale = _lock_info(previous)
                if stale.expires_at <= acquired_at:
                    on_takeover(
                        f"took over a stale state lock held by {stale.holder()} (lock id "
                        f"{stale.id}): its lease expired at {timestamp(stale.expires_at)}"
                    )
            return info
        holder = read_pg_lock(conn, key["stack"], key["environment"])
        if holder is None:
            continue  # released meanwhile
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LockError(locked_message(holder, timeout_s))
        if on_wait is not None:
            on_wait(holder.holder(), time.monotonic() - started)
        time.sleep(min(POLL_S, remaining))


def _release_reconnecting(
    heartbeat: _Heartbeat, key: Mapping[str, str], info: LockInfo
) -> str | None:
    """`_release` on the lock's connection, or on a new one if the server dropped it since the
    last heartbeat (deleting by lock id twice is harmless). A LockError names the lock that is
    left held, and how to break it."""
    try:
        return _release(heartbeat.connection(), key, info)
    except psycopg.OperationalError:
        _close(heartbeat.conn)
    try:
        return _release(heartbeat.connection(), key, info)
    except (StateError, psycopg.Error) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise LockError(
            f"could not release the state lock {info.id} ({reason}); its lease ends at "
            f"{timestamp(info.expires_at)}, when the next run takes it over, or break it now "
            f"with `bimpe-iac state force-unlock {info.id}`"
        ) from None


def _release(
    conn: psycopg.Connection[TupleRow], key: Mapping[str, str], info: LockInfo
) -> str | None:
    """Delete the lock if it is still `info`'s; otherwise say what became of it."""
    deleted = conn.execute(
        f"DELETE FROM bimpe_state_locks WHERE {_KEY} AND id = %(id)s", {**key, "id": info.id}
    ).rowcount
    if deleted:
        return None
    current = read_pg_lock(conn, key["stack"], key["environment"])
    return "it was removed" if current is None else f"it is now held by {current.holder()}"


def _lock_info(row: Mapping[str, Any]) -> LockInfo:
    fields = dict(row)
    fields["user"] = fields.pop("user_name")
    return LockInfo.model_validate(fields)


def _close(conn: psycopg.Connection[TupleRow]) -> None:
    with suppress(psycopg.Error):
        conn.close()


class _Heartbeat:
    """Renews a held lock's lease every third of it, in a daemon thread. `conn` is the lock's
    connection, replaced by a new one from `connect` when it breaks."""

    def __init__(
        self,
        conn: psycopg.Connection[TupleRow],
        connect: Connect,
        key: Mapping[str, str],
        info: LockInfo,
        lease_s: float,
    ) -> None:
        self.conn, self._connect = conn, connect
        self._key, self._info, self._lease_s = key, info, lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state lock heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def connection(self) -> psycopg.Connection[TupleRow]:
        """The lock's connection, reopened if it broke."""
        if self.conn.closed:
            self.conn = self._connect()
        return self.conn

    def _run(self) -> None:
        while not self._stopped.wait(self._lease_s / 3):
            try:
                lost = self._renew()
            except (StateError, psycopg.Error) as exc:
                log.warning("could not renew the state lock %s: %s", self._info.id, exc)
                _close(self.conn)
                continue
            if lost:
                log.error("the state lock %s was lost", self._info.id)
                return

    def _renew(self) -> bool:
        """Extend the lease; True when the lock is no longer this run's."""
        row = (
            self.connection()
            .execute(_RENEW, {**self._key, "id": self._info.id, "lease_s": self._lease_s})
            .fetchone()
        )
        if row is None:
            return True
        self._info.heartbeat_at, self._info.expires_at = row
        return False
