"""The PostgreSQL state store against a real server.

Covers: the tables are created on first use by versioned migrations, which are idempotent and
safe when several processes start at once, and a database set up by a newer bimpe-iac is
refused; a missing state reads as a fresh one; every write is kept as a version with its serial,
lineage, time and writer, and `read_version` gives each back; a write whose serial does not
advance, or whose lineage differs, is rejected and changes nothing; concurrent first writes of
different lineages leave one state; `stamp=False` keeps a document's time and writer; a store
whose connection the server dropped reconnects and carries on, and a write repeated after a lost
commit acknowledgement is recognised as done; the DSN's password never appears in a repr, a
location or an error.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from pg_cluster import Cluster
from pg_support import ENVIRONMENT, STACK, make_state

from bimpe_iac.errors import StateError
from bimpe_iac.state.migrations import LATEST, migrate
from bimpe_iac.state.model import StateDocument, Writer
from bimpe_iac.state.postgres import PostgresStateStore


def schema_versions(dsn: str) -> list[int]:
    with psycopg.connect(dsn) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM bimpe_schema_version")]


def test_migrations_create_the_tables_once_and_are_idempotent(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert migrate(conn) == LATEST
        assert migrate(conn) == LATEST
    assert schema_versions(dsn) == list(range(1, LATEST + 1))

    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
        assert store.history(STACK, ENVIRONMENT) == []
    assert schema_versions(dsn) == list(range(1, LATEST + 1))


def test_migrations_from_many_connections_at_once_apply_once(dsn: str) -> None:
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
                store.read(STACK, ENVIRONMENT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert schema_versions(dsn) == list(range(1, LATEST + 1))


def test_a_database_from_a_newer_bimpe_iac_is_refused(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn)
        conn.execute("INSERT INTO bimpe_schema_version (version) VALUES (%s)", (LATEST + 1,))

    newer = rf"newer bimpe-iac \(schema version {LATEST + 1}; .*upgrade"
    with pytest.raises(StateError, match=newer):
        PostgresStateStore(dsn, STACK, ENVIRONMENT).read(STACK, ENVIRONMENT)


def test_kept_versions_of_state_version_1_lose_their_plain_digests(dsn: str) -> None:
    import json

    from bimpe_iac.state.digests import UNVERIFIED
    from bimpe_iac.state.migrations import MIGRATIONS

    entry = {
        "kind": "agent",
        "id": "agt_1",
        "values": {"name": "Kemi", "escalation_email": "(sensitive)"},
        "hashes": {"name": "0" * 32, "escalation_email": "f" * 32},
    }
    intent = {
        "operation": "create",
        "idempotency_key": "k",
        "body_hash": "e" * 32,
        "started_at": "2026-01-01T00:00:00Z",
    }
    document = {
        "format": "bimpe-iac-state",
        "version": 1,
        "lineage": "l",
        "serial": 1,
        "stack": STACK,
        "environment": ENVIRONMENT,
        "resources": {"agents.sales": entry},
        "intents": {"agents.x": intent},
    }
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bimpe_schema_version (version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        conn.execute(MIGRATIONS[0])
        conn.execute("INSERT INTO bimpe_schema_version (version) VALUES (1)")
        conn.execute(
            "INSERT INTO bimpe_state_versions (stack, environment, serial, lineage, document)"
            " VALUES (%s, %s, 1, 'l', %s::jsonb)",
            (STACK, ENVIRONMENT, json.dumps(document)),
        )
        conn.execute("INSERT INTO bimpe_state_heads VALUES (%s, %s, 1, 'l')", (STACK, ENVIRONMENT))
        assert migrate(conn) == LATEST
        (kept,) = conn.execute("SELECT document::text FROM bimpe_state_versions").fetchone() or (
            "",
        )
    assert "0" * 32 not in kept and "f" * 32 not in kept and "e" * 32 not in kept
    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
        doc = store.read(STACK, ENVIRONMENT)
    assert doc.resources["agents.sales"].sensitive == {"/escalation_email": UNVERIFIED}
    assert doc.resources["agents.sales"].hashes == {}


def test_a_missing_state_reads_as_a_fresh_one(store: PostgresStateStore) -> None:
    doc = store.read(STACK, ENVIRONMENT)

    assert (doc.stack, doc.environment, doc.serial, doc.resources) == (STACK, ENVIRONMENT, 0, {})


def test_every_version_is_kept_with_serial_lineage_time_and_writer(
    store: PostgresStateStore,
) -> None:
    doc = make_state(serial=1, resources=1)
    written = []
    for serial in (1, 2, 3):
        doc.serial = serial
        doc.resources["agents.bot_0"].values["name"] = f"revision {serial}"
        store.write(doc)
        written.append(doc.model_copy(deep=True))

    history = store.history(STACK, ENVIRONMENT)
    assert [v.serial for v in history] == [1, 2, 3]
    assert {v.lineage for v in history} == {doc.lineage}
    assert [v.resources for v in history] == [1, 1, 1]
    assert all(v.written_at and v.written_at.endswith("Z") for v in history)
    assert all(v.writer is not None and v.writer.host and v.writer.pid for v in history)
    assert history[0].written_at <= history[-1].written_at  # type: ignore[operator]
    for version in written:
        assert store.read_version(STACK, ENVIRONMENT, version.serial) == version
    assert store.read(STACK, ENVIRONMENT) == written[-1]
    with pytest.raises(StateError, match="has no version with serial 7"):
        store.read_version(STACK, ENVIRONMENT, 7)


def test_a_write_that_does_not_advance_the_serial_is_rejected(
    store: PostgresStateStore,
) -> None:
    doc = make_state(serial=5)
    store.write(doc)

    for serial in (5, 4):
        stale = doc.model_copy(update={"serial": serial, "resources": {}})
        with pytest.raises(StateError, match=f"serial {serial} does not advance past the stored 5"):
            store.write(stale)

    assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [5]
    assert store.read(STACK, ENVIRONMENT).resources == doc.resources


def test_a_write_of_another_lineage_is_rejected(store: PostgresStateStore) -> None:
    store.write(make_state(serial=1))
    other = make_state(serial=9)

    with pytest.raises(StateError, match="they are different states"):
        store.write(other)

    assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [1]


def test_concurrent_first_writes_of_two_lineages_leave_one_state(dsn: str) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def first_write() -> None:
        with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
            store.read(STACK, ENVIRONMENT)
            barrier.wait()
            try:
                store.write(make_state(serial=1))
                outcomes.append("written")
            except StateError as exc:
                outcomes.append(str(exc))

    threads = [threading.Thread(target=first_write) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[-1] == "written"
    assert "different states" in sorted(outcomes)[0] or "does not advance" in sorted(outcomes)[0]
    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as store:
        assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [1]


def test_states_of_other_stacks_and_environments_are_apart(store: PostgresStateStore) -> None:
    store.write(make_state(serial=3))
    staging = StateDocument(stack=STACK, environment="staging", serial=1)
    store.write(staging)

    assert store.read(STACK, "staging") == staging
    assert store.read(STACK, ENVIRONMENT).serial == 3
    assert store.read("other", ENVIRONMENT).serial == 0


def test_without_stamp_the_time_and_writer_are_kept(store: PostgresStateStore) -> None:
    doc = make_state(serial=4)
    doc.updated_at = "2025-01-02T03:04:05.678Z"
    doc.writer = Writer(host="laptop-ada", pid=42, user="ada", command="bimpe-iac apply")

    store.write(doc, stamp=False)

    assert store.read(STACK, ENVIRONMENT) == doc
    (version,) = store.history(STACK, ENVIRONMENT)
    assert version.writer == doc.writer


def test_the_password_never_shows(cluster: Cluster, dsn: str) -> None:
    password = cluster.password
    store = PostgresStateStore(dsn, STACK, ENVIRONMENT)
    assert password not in repr(store) and password not in store.location
    assert store.location == (
        f"the state of support (prod) in postgresql://bimpe@127.0.0.1:{cluster.port}/postgres"
    )

    refused = dsn.replace(f":{cluster.port}/", ":1/")
    wrong = dsn.replace("@127.0.0.1", "x@127.0.0.1")
    unparsable = f"host=127.0.0.1 password={password} nonsense"
    for bad in (refused, wrong, unparsable):
        with pytest.raises(StateError) as caught:
            PostgresStateStore(bad, STACK, ENVIRONMENT).read(STACK, ENVIRONMENT)
        message = str(caught.value)
        assert message.startswith("cannot connect to the state database postgresql://")
        assert password not in message and password[:-4] not in message


def drop_connections(dsn: str) -> None:
    """End every bimpe-iac session, as a server restart or a failover would."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'bimpe-iac' AND pid <> pg_backend_pid()"
        )


def test_a_dropped_connection_is_reopened(dsn: str, store: PostgresStateStore) -> None:
    doc = make_state(serial=1)
    store.write(doc)

    drop_connections(dsn)
    doc.serial = 2
    store.write(doc)
    drop_connections(dsn)

    assert store.read(STACK, ENVIRONMENT) == doc
    assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [1, 2]


def test_a_write_repeated_after_its_commit_is_done_once(store: PostgresStateStore) -> None:
    doc = make_state(serial=1)
    doc.updated_at = "2025-01-02T03:04:05.678Z"
    store.write(doc, stamp=False)

    store.write(doc, stamp=False)

    assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [1]
    changed = doc.model_copy(update={"resources": {}})
    with pytest.raises(StateError, match="does not advance"):
        store.write(changed, stamp=False)
