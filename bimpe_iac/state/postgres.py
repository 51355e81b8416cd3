"""The PostgreSQL state backend, shared by a team and its CI runners.

Every write is kept as a version (`bimpe_state_versions`: serial, lineage, document, time and
writer); `bimpe_state_heads` names the current serial of each stack and environment. A write
locks the head row, checks that the new serial advances past it and that the lineage is the
same, then inserts the version and moves the head, all in one transaction. A connection the
server dropped is reopened, and the operation tried once more. The tables are created on first
use (`migrations.py`); the lease lock is in `pg_lock.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.rows import TupleRow

from bimpe_iac.errors import LockError, StateError
from bimpe_iac.state.backend import DEFAULT_LEASE_S, LockWait, VersionSummary
from bimpe_iac.state.codec import UnreadableState, decode_state
from bimpe_iac.state.identity import current_writer, timestamp, utc_now
from bimpe_iac.state.lockfile import LockInfo
from bimpe_iac.state.migrations import migrate
from bimpe_iac.state.model import StateDocument, Writer
from bimpe_iac.state.pg_connection import connect, database_errors, describe_dsn, mask
from bimpe_iac.state.pg_lock import force_pg_unlock, hold_pg_lock, read_pg_lock
from bimpe_iac.state.snapshot import Snapshot, Stamp

_KEY = "stack = %(stack)s AND environment = %(environment)s"

T = TypeVar("T")


class PostgresStateStore:
    """The state of `stack`/`environment` in the database at `dsn`. The connection opens on
    first use (creating or upgrading the tables) and stays open until `close`."""

    def __init__(
        self, dsn: str, stack: str, environment: str, *, command: str | None = None
    ) -> None:
        """`command` is recorded as the writer's command; by default, this process's."""
        self._dsn = dsn
        self.stack, self.environment = stack, environment
        self.command = command
        self._conn: psycopg.Connection[TupleRow] | None = None

    def __repr__(self) -> str:
        return (
            f"PostgresStateStore({describe_dsn(self._dsn)!r}, {self.stack!r}, {self.environment!r})"
        )

    @property
    def location(self) -> str:
        return f"the state of {self.stack} ({self.environment}) in {describe_dsn(self._dsn)}"

    def read(self, stack: str, environment: str) -> StateDocument:
        row = self._one(
            "SELECT v.document::text FROM bimpe_state_heads h JOIN bimpe_state_versions v "
            "USING (stack, environment, serial) "
            "WHERE h.stack = %(stack)s AND h.environment = %(environment)s",
            stack,
            environment,
        )
        if row is None:
            return StateDocument(stack=stack, environment=environment)
        return self._decode(row[0], stack, environment)

    def write(self, doc: StateDocument, *, stamp: bool = True) -> None:
        written = self._store(Snapshot.of(doc), stamp=stamp)
        doc.updated_at, doc.writer = written.updated_at, written.writer

    def write_snapshot(
        self, snapshot: Snapshot, *, compact: bool = False, backup: bool = True
    ) -> Stamp:
        """Store `snapshot` as a new version; every version is kept as it is (jsonb, which has
        no layout to make canonical), so `compact` and `backup` change nothing."""
        return self._store(snapshot, stamp=True)

    def _store(self, snapshot: Snapshot, *, stamp: bool) -> Stamp:
        if stamp:
            written = Stamp(timestamp(utc_now()), current_writer(self.command))
            snapshot = snapshot.stamped(written)
        else:
            written = Stamp.of(snapshot)
        self._run("cannot write to", lambda conn: self._insert(conn, snapshot))
        return written

    def history(self, stack: str, environment: str) -> list[VersionSummary]:
        rows = self._run(
            "cannot read from",
            lambda conn: conn.execute(
                "SELECT serial, lineage, written_at, writer, "
                "(SELECT count(*) FROM jsonb_object_keys(document -> 'resources')) "
                f"FROM bimpe_state_versions WHERE {_KEY} ORDER BY serial",
                {"stack": stack, "environment": environment},
            ).fetchall(),
        )
        return [
            VersionSummary(
                serial=int(serial),
                lineage=str(lineage),
                written_at=timestamp(written_at),
                writer=None if writer is None else Writer.model_validate(writer),
                resources=int(resources),
            )
            for serial, lineage, written_at, writer, resources in rows
        ]

    def read_version(self, stack: str, environment: str, serial: int) -> StateDocument:
        row = self._one(
            f"SELECT document::text FROM bimpe_state_versions WHERE {_KEY} AND serial = %(serial)s",
            stack,
            environment,
            serial=serial,
        )
        if row is None:
            raise StateError(f"{self.location} has no version with serial {serial}")
        return self._decode(row[0], stack, environment)

    def lock(
        self,
        command: str,
        *,
        timeout_s: float = 0,
        lease_s: float = DEFAULT_LEASE_S,
        on_wait: LockWait | None = None,
    ) -> AbstractContextManager[LockInfo]:
        """Hold the lock of this store's stack and environment; see `pg_lock.hold_pg_lock`."""
        return self._hold(command, timeout_s, lease_s, on_wait)

    def lock_status(self) -> LockInfo | None:
        return self._run(
            "cannot read the lock from",
            lambda conn: read_pg_lock(conn, self.stack, self.environment),
        )

    def force_unlock(self, lock_id: str) -> LockInfo:
        return self._run(
            "cannot unlock the state in",
            lambda conn: force_pg_unlock(conn, self.stack, self.environment, lock_id),
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> PostgresStateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _hold(
        self, command: str, timeout_s: float, lease_s: float, on_wait: LockWait | None
    ) -> Iterator[LockInfo]:
        self._connection()  # the tables exist before the lock's own connection looks for them
        with (
            _masked_lock_errors(self._dsn),
            database_errors(self._dsn, "cannot lock the state in"),
            hold_pg_lock(
                lambda: connect(self._dsn),
                self.stack,
                self.environment,
                command,
                timeout_s=timeout_s,
                lease_s=lease_s,
                on_wait=on_wait,
            ) as info,
        ):
            yield info

    def _connection(self) -> psycopg.Connection[TupleRow]:
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn = None
        if self._conn is None:
            conn = connect(self._dsn)
            try:
                with database_errors(self._dsn, "cannot set up the tables in"):
                    migrate(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _run(self, doing: str, operation: Callable[[psycopg.Connection[TupleRow]], T]) -> T:
        """`operation` on the connection, once more on a new one if the connection dropped (a
        server restart, a failover, an idle timeout); database errors become StateErrors."""
        conn = self._connection()
        with database_errors(self._dsn, doing):
            try:
                return operation(conn)
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
            return operation(self._connection())

    def _one(self, query: str, stack: str, environment: str, **params: Any) -> TupleRow | None:
        values = {"stack": stack, "environment": environment, **params}
        return self._run("cannot read from", lambda conn: conn.execute(query, values).fetchone())

    def _insert(self, conn: psycopg.Connection[TupleRow], doc: Snapshot) -> None:
        key = {"stack": doc.stack, "environment": doc.environment}
        document = doc.compact_json().decode()
        writer = doc.data.get("writer")
        with conn.transaction():
            # A placeholder head (serial -1) for a first write; a concurrent first write waits
            # here until this transaction ends, and then sees the real head.
            conn.execute(
                "INSERT INTO bimpe_state_heads (stack, environment, serial, lineage) "
                "VALUES (%(stack)s, %(environment)s, -1, %(lineage)s) ON CONFLICT DO NOTHING",
                {**key, "lineage": doc.lineage},
            )
            head = conn.execute(
                f"SELECT serial, lineage FROM bimpe_state_heads WHERE {_KEY} FOR UPDATE", key
            ).fetchone()
            assert head is not None
            if (head[0], head[1]) == (doc.serial, doc.lineage):
                same = conn.execute(
                    "SELECT document = %(document)s::jsonb FROM bimpe_state_versions "
                    f"WHERE {_KEY} AND serial = %(serial)s",
                    {**key, "document": document, "serial": doc.serial},
                ).fetchone()
                if same is not None and same[0]:
                    return  # this very write, committed before a dropped connection said so
            self._check_successor(int(head[0]), str(head[1]), doc)
            conn.execute(
                "INSERT INTO bimpe_state_versions "
                "(stack, environment, serial, lineage, document, writer) VALUES "
                "(%(stack)s, %(environment)s, %(serial)s, %(lineage)s, %(document)s::jsonb, "
                "%(writer)s::jsonb)",
                {
                    **key,
                    "serial": doc.serial,
                    "lineage": doc.lineage,
                    "document": document,
                    "writer": _json(writer),
                },
            )
            conn.execute(
                f"UPDATE bimpe_state_heads SET serial = %(serial)s WHERE {_KEY}",
                {**key, "serial": doc.serial},
            )

    def _decode(self, text: str, stack: str, environment: str) -> StateDocument:
        try:
            doc = decode_state(text.encode())
        except UnreadableState as exc:
            raise StateError(f"{self.location} {exc}") from None
        if (doc.stack, doc.environment) != (stack, environment):
            raise StateError(
                f"{self.location} holds stack {doc.stack!r} environment {doc.environment!r}"
            )
        return doc

    def _check_successor(self, serial: int, lineage: str, doc: Snapshot) -> None:
        if serial < 0:
            return  # the first version of this state
        refuse = f"refusing to write {self.location}"
        if doc.lineage != lineage:
            raise StateError(
                f"{refuse}: it holds lineage {lineage} and this state is lineage "
                f"{doc.lineage}; they are different states"
            )
        if doc.serial <= serial:
            raise StateError(
                f"{refuse}: this state's serial {doc.serial} does not advance past the stored "
                f"{serial}; another run may have written it since this one read it"
            )


@contextmanager
def _masked_lock_errors(dsn: str) -> Iterator[None]:
    """A LockError may quote a database error, which may quote the DSN."""
    try:
        yield
    except LockError as exc:
        raise LockError(mask(str(exc), dsn)) from None


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()
