"""The PostgreSQL store's writes of a running apply (`write_snapshot`).

Covers: every snapshot is kept as a version, compact or not, and reads back as the document it
came from, stamped with its time and writer; the stamp says the stored form is canonical (jsonb
has no layout); the serial and lineage checks apply as they do to `write`.
"""

from __future__ import annotations

import os

import pytest
from pg_support import ENVIRONMENT, STACK, make_state

from bimpe_iac.errors import StateError
from bimpe_iac.state.postgres import PostgresStateStore
from bimpe_iac.state.snapshot import Snapshot


def test_each_snapshot_is_a_version(store: PostgresStateStore) -> None:
    doc = make_state(serial=1)
    store.write(doc)
    stamps = []
    for serial in (2, 3, 4):
        doc.serial = serial
        doc.resources[f"agents.new_{serial}"] = doc.resources["agents.bot_0"]
        stamps.append(store.write_snapshot(Snapshot.of(doc), compact=True, backup=False))

    assert [v.serial for v in store.history(STACK, ENVIRONMENT)] == [1, 2, 3, 4]
    assert all(s.canonical and s.writer is not None for s in stamps)
    assert stamps[-1].writer is not None and stamps[-1].writer.pid == os.getpid()
    read = store.read(STACK, ENVIRONMENT)
    assert read.resources == doc.resources
    assert (read.updated_at, read.writer) == (stamps[-1].updated_at, stamps[-1].writer)
    assert set(store.read_version(STACK, ENVIRONMENT, 2).resources) == {
        "agents.bot_0",
        "agents.bot_1",
        "agents.bot_2",
        "agents.new_2",
    }


def test_a_snapshot_is_checked_like_a_document(store: PostgresStateStore) -> None:
    doc = make_state(serial=3)
    store.write(doc)

    with pytest.raises(StateError, match="does not advance past the stored 3"):
        store.write_snapshot(Snapshot.of(doc), compact=True)
    with pytest.raises(StateError, match="lineage"):
        store.write_snapshot(Snapshot.of(make_state(serial=4)), compact=True)
