"""SQLite persistence for the emulator: every API object is one JSON row in `objects`.

One generic table keeps the server small: an object has a kind (agent, workflow, ...), an owning
team ('' for the public catalog), an optional parent (the agent of a knowledge base, say), an
insertion sequence for stable ordering, and its public JSON. Lists filter and sort on JSON paths.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bimpe_iac.state.files import make_private_dirs

PUBLIC_TEAM = ""
_INDEXED = frozenset({"created_at", "name"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    team_id TEXT NOT NULL,
    parent_id TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    created_at TEXT GENERATED ALWAYS AS (json_extract(data, '$.created_at')) VIRTUAL,
    name TEXT GENERATED ALWAYS AS (json_extract(data, '$.name')) VIRTUAL
);
CREATE INDEX IF NOT EXISTS objects_listing ON objects (kind, team_id, parent_id, seq);
CREATE INDEX IF NOT EXISTS objects_by_created ON objects (kind, team_id, created_at, seq);
CREATE INDEX IF NOT EXISTS objects_by_name ON objects (kind, team_id, name, seq);
CREATE INDEX IF NOT EXISTS objects_parent ON objects (parent_id);
CREATE TABLE IF NOT EXISTS teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    agent_limit INTEGER,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY,
    team_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    team_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    body BLOB,
    created_at REAL NOT NULL,
    PRIMARY KEY (team_id, key)
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


def _dump(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()


def now_iso() -> str:
    """A UTC timestamp with microseconds, so two writes in one millisecond still differ."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Listing:
    items: list[dict[str, Any]]
    total: int


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    fingerprint: str
    state: str
    status: int
    body: bytes
    created_at: float


class Store:
    """All emulator data. Calls are short and synchronous; one lock makes them thread-safe."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            make_private_dirs(Path(self.path).parent)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # The emulator must survive a process restart, not a power cut: skip fsync for speed.
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA foreign_keys=OFF")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
        self._seq = int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes so a handler's changes commit together or not at all."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- objects ---------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def insert(self, kind: str, team_id: str, obj: dict[str, Any], parent_id: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO objects (id, kind, team_id, parent_id, seq, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (obj["id"], kind, team_id, parent_id, self._next_seq(), _dump(obj)),
            )

    def insert_many(
        self, kind: str, team_id: str, objs: Sequence[dict[str, Any]], parent_id: str = ""
    ) -> None:
        with self._lock:
            rows = [(o["id"], kind, team_id, parent_id, self._next_seq(), _dump(o)) for o in objs]
            self._db.executemany(
                "INSERT INTO objects (id, kind, team_id, parent_id, seq, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def replace(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("UPDATE objects SET data = ? WHERE id = ?", (_dump(obj), obj["id"]))

    def replace_many(self, objs: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE objects SET data = ? WHERE id = ?",
                [(_dump(o), o["id"]) for o in objs],
            )

    def get(
        self, kind: str, object_id: str, teams: Sequence[str], parent_id: str | None = None
    ) -> dict[str, Any] | None:
        """The object if it is of `kind` and owned by one of `teams` (and under `parent_id`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT team_id, parent_id, data FROM objects WHERE id = ? AND kind = ?",
                (object_id, kind),
            ).fetchone()
        if row is None or row[0] not in teams:
            return None
        if parent_id is not None and row[1] != parent_id:
            return None
        obj: dict[str, Any] = orjson.loads(row[2])
        return obj

    def owner(self, object_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT team_id FROM objects WHERE id = ?", (object_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def children(self, kind: str, parent_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM objects WHERE kind = ? AND parent_id = ? ORDER BY seq",
                (kind, parent_id),
            ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def find(self, kind: str, team_id: str | None, **equals: Any) -> list[dict[str, Any]]:
        """Objects of a kind in a team (any team for None) whose JSON fields equal the values."""
        clauses = ["kind = ?"]
        params: list[Any] = [kind]
        if team_id is not None:
            clauses.append("team_id = ?")
            params.append(team_id)
        for field, value in equals.items():
            clauses.append(f"json_extract(data, '$.{field}') IS ?")
            params.append(value)
        with self._lock:
            rows = self._db.execute(
                f"SELECT data FROM objects WHERE {' AND '.join(clauses)} ORDER BY seq", params
            ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def delete(self, object_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM objects WHERE id = ?", (object_id,))

    def delete_children(self, parent_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM objects WHERE parent_id = ?", (parent_id,))

    def count(self, kind: str, team_id: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM objects WHERE kind = ? AND team_id = ?", (kind, team_id)
            ).fetchone()
        return int(row[0])

    def query(
        self,
        kind: str,
        teams: Sequence[str],
        *,
        parent_id: str | None = None,
        search: str | None = None,
        search_fields: Sequence[str] = ("name",),
        filters: dict[str, Any] | None = None,
        sort_field: str = "created_at",
        descending: bool = False,
        offset: int = 0,
        limit: int = 20,
    ) -> Listing:
        clauses = ["kind = ?", f"team_id IN ({','.join('?' * len(teams))})"]
        params: list[Any] = [kind, *teams]
        if parent_id is not None:
            clauses.append("parent_id = ?")
            params.append(parent_id)
        if search:
            likes = [f"json_extract(data, '$.{f}') LIKE ? ESCAPE '\\'" for f in search_fields]
            clauses.append(f"({' OR '.join(likes)})")
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.extend([pattern + "%"] * len(search_fields))
        for field, value in (filters or {}).items():
            clauses.append(f"json_extract(data, '$.{field}') IS ?")
            params.append(value)
        where = " AND ".join(clauses)
        direction = "DESC" if descending else "ASC"
        column = sort_field if sort_field in _INDEXED else f"json_extract(data, '$.{sort_field}')"
        order = f"{column} {direction}, seq {direction}"
        with self._lock:
            total = int(
                self._db.execute(f"SELECT COUNT(*) FROM objects WHERE {where}", params).fetchone()[
                    0
                ]
            )
            rows = self._db.execute(
                f"SELECT data FROM objects WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return Listing(items=[orjson.loads(r[0]) for r in rows], total=total)

    # --- teams and keys --------------------------------------------------------------------

    def create_team(self, team_id: str, name: str, agent_limit: int | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO teams (id, name, agent_limit, created_at) VALUES (?, ?, ?, ?)",
                (team_id, name, agent_limit, now_iso()),
            )

    def team(self, team_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, agent_limit, created_at FROM teams WHERE id = ?", (team_id,)
            ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "name": row[1], "agent_limit": row[2], "created_at": row[3]}

    def teams(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, agent_limit, created_at FROM teams ORDER BY created_at"
            ).fetchall()
        return [{"id": r[0], "name": r[1], "agent_limit": r[2], "created_at": r[3]} for r in rows]

    def add_key(self, key: str, team_id: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO api_keys (key, team_id, created_at) VALUES (?, ?, ?)",
                (key, team_id, now_iso()),
            )

    def team_for_key(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT team_id FROM api_keys WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def keys_of(self, team_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM api_keys WHERE team_id = ? ORDER BY created_at", (team_id,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    # --- idempotency -----------------------------------------------------------------------

    def idempotency_get(self, team_id: str, key: str) -> IdempotencyRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, state, status, body, created_at FROM idempotency"
                " WHERE team_id = ? AND key = ?",
                (team_id, key),
            ).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(row[0], row[1], row[2], row[3], row[4])

    def idempotency_save(
        self, team_id: str, key: str, fingerprint: str, status: int, body: bytes, at: float
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency"
                " (team_id, key, fingerprint, state, status, body, created_at)"
                " VALUES (?, ?, ?, 'done', ?, ?, ?)",
                (team_id, key, fingerprint, status, body, at),
            )

    def idempotency_expire(self, before: float) -> None:
        with self._lock:
            self._db.execute("DELETE FROM idempotency WHERE created_at < ?", (before,))

    # --- settings and reset ----------------------------------------------------------------

    def setting(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", (name, value)
            )

    def reset(self) -> None:
        """Forget every team, key and object; settings (admin token) stay."""
        with self._lock:
            for table in ("objects", "teams", "api_keys", "idempotency"):
                self._db.execute(f"DELETE FROM {table}")
