"""The local store's writes of a running apply (`write_snapshot`).

Covers: a compact write is one line of JSON that reads back as the same document; without
`backup`, the backup file stays the version it was; the serial, lineage and stack checks apply
as they do to `write`; each write is stamped with its time and writer, and says whether it
stored the canonical form.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from bimpe_iac.errors import StateError
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.model import StateDocument
from bimpe_iac.state.snapshot import Snapshot

MakeState = Callable[..., StateDocument]


def test_a_compact_write_reads_back_the_same(tmp_path: Path, make_state: MakeState) -> None:
    path = tmp_path / "prod.json"
    store, doc = LocalStateStore(path), make_state(resources=5)

    stamp = store.write_snapshot(Snapshot.of(doc), compact=True)

    text = path.read_text()
    assert text.count("\n") == 1 and text.endswith("}\n")
    assert not stamp.canonical and stamp.writer is not None and stamp.writer.pid == os.getpid()
    read = LocalStateStore(path).read("support", "prod")
    assert read.resources == doc.resources and read.intents == doc.intents
    assert (read.updated_at, read.writer) == (stamp.updated_at, stamp.writer)


def test_a_compact_write_from_ready_encoded_resources_reads_back_the_same(
    tmp_path: Path, make_state: MakeState
) -> None:
    """As a running apply writes: each resource's JSON kept encoded, the document joined."""
    path = tmp_path / "prod.json"
    store, doc = LocalStateStore(path), make_state(resources=5)
    data = doc.model_dump(mode="json")
    encoded = {address: orjson.dumps(entry) for address, entry in data["resources"].items()}

    store.write_snapshot(Snapshot(data, encoded), compact=True)

    assert orjson.loads(path.read_bytes())["resources"] == data["resources"]
    read = LocalStateStore(path).read("support", "prod")
    assert read.resources == doc.resources and read.intents == doc.intents


def test_without_backup_the_backup_stays(tmp_path: Path, make_state: MakeState) -> None:
    path, backup = tmp_path / "prod.json", tmp_path / "prod.json.backup"
    store, doc = LocalStateStore(path), make_state()
    store.write(doc)
    doc.serial = 2
    store.write_snapshot(Snapshot.of(doc), compact=True)
    first = backup.read_bytes()

    for serial in (3, 4):
        doc.serial = serial
        store.write_snapshot(Snapshot.of(doc), compact=True, backup=False)

    assert backup.read_bytes() == first
    assert store.read("support", "prod").serial == 4
    doc.serial = 5
    assert store.write_snapshot(Snapshot.of(doc)).canonical
    assert path.read_text().startswith('{\n  "environment": "prod",\n')
    assert LocalStateStore(path).read_version("support", "prod", 4).serial == 4


def test_a_snapshot_is_checked_like_a_document(tmp_path: Path, make_state: MakeState) -> None:
    store, doc = LocalStateStore(tmp_path / "prod.json"), make_state(serial=3)
    store.write(doc)

    with pytest.raises(StateError, match="does not advance past the file's 3"):
        store.write_snapshot(Snapshot.of(doc), compact=True, backup=False)
    other = make_state(serial=4)
    with pytest.raises(StateError, match="lineage"):
        store.write_snapshot(Snapshot.of(other), compact=True, backup=False)
