"""The PostgreSQL state schema, built by numbered migrations on first use.

`bimpe_schema_version` records each migration applied. `migrate` applies the missing ones in
one transaction under an advisory lock, so concurrent first runs neither race nor half-apply;
a database already at the latest version costs one short transaction. Migrations are only ever
appended: an applied one is never edited.
"""

from __future__ import annotations

from typing import Final

import psycopg
from psycopg.rows import TupleRow

from bimpe_iac.errors import StateError

_ADVISORY_KEY: Final = 0x62696D7065_01  # "bimpe" and the schema's number
_VERSION_TABLE: Final = """
CREATE TABLE IF NOT EXISTS bimpe_schema_version (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
)"""

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: every version of every state, the current serial of each, and the locks.
    """
    CREATE TABLE bimpe_state_versions (
        stack text NOT NULL,
        environment text NOT NULL,
        serial bigint NOT NULL CHECK (serial >= 0),
        lineage text NOT NULL,
        document jsonb NOT NULL,
        written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        writer jsonb,
        PRIMARY KEY (stack, environment, serial)
    );
    CREATE TABLE bimpe_state_heads (
        stack text NOT NULL,
        environment text NOT NULL,
        serial bigint NOT NULL,
        lineage text NOT NULL,
        PRIMARY KEY (stack, environment)
    );
    CREATE TABLE bimpe_state_locks (
        stack text NOT NULL,
        environment text NOT NULL,
        id text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        pid_namespace text,
        user_name text NOT NULL,
        command text NOT NULL,
        acquired_at timestamptz NOT NULL,
        heartbeat_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (stack, environment)
    );
    """,
    # 2: documents of state version 1 kept a plain SHA-256 digest of every field, sensitive
    # ones too, from which a short secret can be guessed; every kept version loses them.
    # The documents stay at version 1: they are upgraded as they are read (state/upgrade.py).
    """
    UPDATE bimpe_state_versions
    SET document = jsonb_set(
        jsonb_set(
            document,
            '{resources}',
            coalesce(
                (SELECT jsonb_object_agg(key, CASE jsonb_typeof(value)
                    WHEN 'object' THEN value || '{"hashes": {}}'::jsonb ELSE value END)
                 FROM jsonb_each(document -> 'resources')),
                '{}'::jsonb
            )
        ),
        '{intents}',
        coalesce(
            (SELECT jsonb_object_agg(key, CASE jsonb_typeof(value)
                WHEN 'object' THEN value || '{"body_hash": ""}'::jsonb ELSE value END)
             FROM jsonb_each(document -> 'intents')),
            '{}'::jsonb
        )
    )
    WHERE document ->> 'version' = '1'
      AND jsonb_typeof(document -> 'resources') = 'object'
      AND jsonb_typeof(document -> 'intents') = 'object';
    """,
)

LATEST: Final = len(MIGRATIONS)


def migrate(conn: psycopg.Connection[TupleRow]) -> int:
    """Apply the migrations this database lacks; return the version it is at."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_KEY,))
        conn.execute(_VERSION_TABLE)
        row = conn.execute("SELECT coalesce(max(version), 0) FROM bimpe_schema_version").fetchone()
        current = int(row[0]) if row else 0
        if current > LATEST:
            raise StateError(
                f"the state database was set up by a newer bimpe-iac (schema version {current}; "
                f"this one knows up to {LATEST}); upgrade bimpe-iac"
            )
        for version in range(current + 1, LATEST + 1):
            conn.execute(MIGRATIONS[version - 1])
            conn.execute("INSERT INTO bimpe_schema_version (version) VALUES (%s)", (version,))
    return max(current, LATEST)
