"""The local state store on real files.

Covers: a missing file reads as a fresh state; write then read round-trips, stamping the writer;
the file is pretty, key-sorted JSON ending in a newline, mode 0600, in a created directory;
a write must advance the serial, keep the lineage and match the stack and environment, also
against a writer in another store; the previous version is kept as `<file>.backup`; corrupt,
truncated, non-UTF-8, foreign, newer and hand-edited invalid files give a one-line StateError
naming the file; leftover temporary files are ignored, and cleaned once old; the default path;
a 100-resource write costs under 5 ms of processor time (the rest is the disk's two fsyncs).
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bimpe_iac.errors import StateError
from bimpe_iac.state.local import LocalStateStore, default_state_path
from bimpe_iac.state.model import StateDocument

MakeState = Callable[..., StateDocument]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".bimpe" / "state" / "support" / "prod.json"


@pytest.fixture
def store(path: Path) -> LocalStateStore:
    return LocalStateStore(path, command="bimpe-iac apply -e prod")


def test_a_missing_file_reads_as_a_fresh_state(store: LocalStateStore, path: Path) -> None:
    first, second = store.read("support", "prod"), store.read("support", "prod")

    assert (first.stack, first.environment, first.serial) == ("support", "prod", 0)
    assert first.resources == {} and first.intents == {} and first.writer is None
    assert uuid.UUID(first.lineage) and first.lineage != second.lineage
    assert not path.parent.exists()


def test_write_then_read_round_trips(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state(resources=5)

    store.write(doc)

    assert doc.writer is not None and doc.updated_at is not None
    assert (doc.writer.pid, doc.writer.command) == (os.getpid(), "bimpe-iac apply -e prod")
    assert doc.updated_at.endswith("Z")
    assert LocalStateStore(path).read("support", "prod") == doc


def test_the_file_is_stable_pretty_json(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    store.write(make_state())

    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "environment": "prod",\n') and text.endswith("}\n")

    def keys_sorted(value: Any) -> bool:
        if isinstance(value, dict):
            return list(value) == sorted(value) and all(map(keys_sorted, value.values()))
        return all(map(keys_sorted, value)) if isinstance(value, list) else True

    assert keys_sorted(json.loads(text))
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_write_must_advance_the_serial(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state(serial=3)
    store.write(doc)
    stored = path.read_bytes()

    for serial in (3, 2):
        doc.serial = serial
        with pytest.raises(StateError) as caught:
            store.write(doc)
        assert f"serial {serial} does not advance past the file's 3" in str(caught.value)
        assert str(path) in str(caught.value)
    assert path.read_bytes() == stored

    doc.serial = 4
    store.write(doc)
    assert store.read("support", "prod").serial == 4


def test_a_first_write_needs_serial_one(store: LocalStateStore, path: Path) -> None:
    with pytest.raises(StateError, match="first write needs serial 1"):
        store.write(store.read("support", "prod"))
    assert not path.exists()


def test_a_write_of_another_lineage_is_rejected(
    store: LocalStateStore, make_state: MakeState
) -> None:
    store.write(make_state())
    other = make_state(serial=9)

    with pytest.raises(StateError, match="lineage") as caught:
        store.write(other)
    assert other.lineage in str(caught.value)


def test_a_write_by_another_store_is_noticed(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state()
    store.write(doc)
    theirs = LocalStateStore(path).read("support", "prod")
    theirs.serial += 1
    LocalStateStore(path).write(theirs)

    doc.serial += 1
    with pytest.raises(StateError, match="does not advance"):
        store.write(doc)


def test_an_edit_in_place_is_noticed(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state()
    store.write(doc)
    path.write_text(path.read_text().replace('"serial": 1,', '"serial": 10,'))

    doc.serial = 2
    with pytest.raises(StateError, match="past the file's 10"):
        store.write(doc)


def test_another_stack_or_environment_is_refused(
    store: LocalStateStore, make_state: MakeState
) -> None:
    doc = make_state()
    store.write(doc)

    with pytest.raises(StateError, match="belongs to stack 'support' environment 'prod'"):
        store.read("support", "staging")
    doc.serial, doc.environment = 2, "staging"
    with pytest.raises(StateError, match="belongs to stack 'support' environment 'prod'"):
        store.write(doc)


def test_the_previous_version_is_kept_as_a_backup(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    backup = path.with_name("prod.json.backup")
    doc = make_state()
    store.write(doc)
    assert not backup.exists()
    first = path.read_bytes()

    doc.serial = 2
    store.write(doc)
    second = path.read_bytes()
    assert backup.read_bytes() == first

    doc.serial = 3
    store.write(doc)
    assert backup.read_bytes() == second
    assert json.loads(backup.read_bytes())["serial"] == 2


def _valid_text(make_state: MakeState) -> str:
    return json.dumps(make_state().model_dump(mode="json"), indent=2)


def _edited(make_state: MakeState, edit: Callable[[dict[str, Any]], object]) -> bytes:
    raw = make_state().model_dump(mode="json")
    edit(raw)
    return json.dumps(raw, indent=2).encode()


UNREADABLE: dict[str, tuple[Callable[[MakeState], bytes], str]] = {
    "empty": (lambda make: b"", "is empty"),
    "truncated": (
        lambda make: _valid_text(make)[:300].encode(),
        "is not valid JSON: unexpected end of data at line",
    ),
    "not UTF-8": (
        lambda make: b'{\n  "format": "bimpe-iac-state",\n  "stack": "caf\xe9"\n}\n',
        "is not UTF-8 text (byte 0xe9 at line 3 column 16)",
    ),
    "syntax error": (
        lambda make: _valid_text(make).replace('",\n', '"\n', 3).encode(),
        "is not valid JSON: unexpected character",
    ),
    "not an object": (lambda make: b"[]\n", "holds a JSON list, not a state document"),
    "another tool's state": (
        lambda make: b'{"version": 4, "terraform_version": "1.9.0", "resources": []}',
        'is not a bimpe-iac state file (no "format": "bimpe-iac-state")',
    ),
    "a newer version": (
        lambda make: _edited(make, lambda raw: raw.update(version=3)),
        "was written by a newer bimpe-iac (state version 3; this one reads version 2)",
    ),
    "a wrong type": (
        lambda make: _edited(make, lambda raw: raw["resources"]["agent.support_0"].update(id=7)),
        'is invalid: resources["agent.support_0"].id: Input should be a valid string',
    ),
    "an unknown field": (
        lambda make: _edited(make, lambda raw: raw["resources"]["workflow.main"].update(x=1)),
        'is invalid: resources["workflow.main"].x is not a known field',
    ),
    "a missing field": (
        lambda make: _edited(make, lambda raw: raw.pop("stack")),
        "is invalid: stack is missing",
    ),
    "several problems": (
        lambda make: _edited(make, lambda raw: raw.update(serial=-1, lineage=None)),
        "is invalid: lineage: Input should be a valid string (and 1 more problem)",
    ),
}


@pytest.mark.parametrize("case", UNREADABLE)
def test_an_unreadable_file_is_one_clear_error(
    case: str, store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    content, expected = UNREADABLE[case]
    path.parent.mkdir(parents=True)
    path.write_bytes(content(make_state))

    for attempt in (lambda: store.read("support", "prod"), lambda: store.write(make_state())):
        with pytest.raises(StateError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"state file {path} {expected}")
        assert "\n" not in message
        assert caught.value.__suppress_context__ and caught.value.__cause__ is None


def test_an_unreadable_file_points_to_the_backup(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state()
    store.write(doc)
    doc.serial = 2
    store.write(doc)
    path.write_bytes(path.read_bytes()[:100])

    with pytest.raises(StateError, match=r"\(the previous version is in .*prod\.json\.backup\)"):
        store.read("support", "prod")


def test_a_directory_in_place_of_the_file_is_a_state_error(
    store: LocalStateStore, path: Path
) -> None:
    path.mkdir(parents=True)

    with pytest.raises(StateError, match=f"cannot read state file {path}: Is a directory"):
        store.read("support", "prod")


def test_leftover_temporary_files_are_ignored_then_cleaned(
    store: LocalStateStore, path: Path, make_state: MakeState
) -> None:
    doc = make_state()
    store.write(doc)
    old = path.with_name(".prod.json.4242.0badc0de.tmp")
    fresh = path.with_name(".prod.json.4243.0badc0df.tmp")
    unrelated = path.with_name(".prod.json.notes.tmp")
    for leftover in (old, fresh, unrelated):
        leftover.write_bytes(b'{"half a wri')
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(unrelated, (an_hour_ago, an_hour_ago))

    assert store.read("support", "prod") == doc
    doc.serial = 2
    store.write(doc)

    assert not old.exists()
    assert fresh.exists(), "a recent temporary file may belong to a write in progress"
    assert unrelated.exists()


def test_the_default_path(tmp_path: Path) -> None:
    assert default_state_path("support", "prod") == Path(".bimpe/state/support/prod.json")
    assert default_state_path("support", "prod", tmp_path) == (
        tmp_path / ".bimpe" / "state" / "support" / "prod.json"
    )
    for stack, environment in (("..", "prod"), ("support", "a/b"), ("support", "")):
        with pytest.raises(StateError, match="cannot name a state file"):
            default_state_path(stack, environment)


def test_a_100_resource_write_takes_under_5_ms(
    store: LocalStateStore, make_state: MakeState
) -> None:
    # The processor time is this code's; the rest is waiting for two fsyncs, which the disk
    # decides (about 1 ms when idle, several when other processes flush too).
    doc = make_state(resources=100)
    store.write(doc)
    cpu, wall = [], []
    for _ in range(40):
        doc.serial += 1
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        store.write(doc)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)

    assert statistics.median(cpu) < 0.005, f"median {statistics.median(cpu) * 1e3:.2f} ms"
    assert statistics.median(wall) < 0.05, f"median {statistics.median(wall) * 1e3:.2f} ms"
