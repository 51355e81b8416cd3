"""A writer killed at any moment leaves the old state or the new one, never a broken file.

Covers: a writer killed with SIGKILL before each of its file operations in turn (found by an
audit hook), and after the last, leaves a state file and a backup that parse, holding the old
serial or the new one; writers killed with SIGKILL at random moments of a write loop, 20 times
over, always leave a readable state whose serial never goes back, and the next writer carries on
past the temporary files they leave behind.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bimpe_iac.state.codec import decode_state
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.model import StateDocument

Spawn = Callable[..., Any]
FILE_OPERATIONS = {"open", "os.chmod", "os.link", "os.rename", "os.remove", "os.mkdir"}


def write_killed_at(conn: Connection, path: Path, operation: int) -> None:
    """Write the next serial, dying by SIGKILL just before the `operation`-th file operation."""
    store = LocalStateStore(path)
    doc = store.read("support", "prod")
    doc.serial += 1
    seen = 0

    def die_at_operation(event: str, args: tuple[Any, ...]) -> None:
        nonlocal seen
        if event in FILE_OPERATIONS:
            seen += 1
            if seen == operation:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(die_at_operation)
    store.write(doc)
    conn.send("written")


def write_forever(conn: Connection, path: Path) -> None:
    store = LocalStateStore(path)
    doc = store.read("support", "prod")
    conn.send(doc.serial)
    while True:
        doc.serial += 1
        doc.resources["workflow.main"].values["revision"] = doc.serial
        store.write(doc)


def readable(path: Path) -> StateDocument:
    return decode_state(path.read_bytes())


def test_a_writer_killed_before_any_file_operation_leaves_old_or_new(
    spawn: Spawn, tmp_path: Path, make_state: Callable[..., StateDocument]
) -> None:
    path = tmp_path / "prod.json"
    store, doc = LocalStateStore(path), make_state(resources=20)
    store.write(doc)
    doc.serial = 2
    store.write(doc)
    operation = 1
    while True:
        before = readable(path).serial
        child = spawn(write_killed_at, path, operation)
        exit_code = child.join()

        after = readable(path)
        assert after.serial in (before, before + 1)
        assert readable(path.with_name("prod.json.backup")).serial in (before - 1, before)
        if exit_code == 0:
            assert child.receive() == "written" and after.serial == before + 1
            break
        assert exit_code == -signal.SIGKILL
        operation += 1

    assert operation > 5, "the write should pass through several file operations"


def test_writers_killed_at_random_moments_never_break_the_state(
    spawn: Spawn, tmp_path: Path, make_state: Callable[..., StateDocument]
) -> None:
    path = tmp_path / "prod.json"
    store, doc = LocalStateStore(path), make_state(resources=100, serial=0)
    for serial in (1, 2):
        doc.serial = serial
        store.write(doc)
    chance = random.Random(os.getpid())
    last = 2

    for _ in range(20):
        writer = spawn(write_forever, path)
        assert writer.receive() == last, "each writer starts from where the killed one stopped"
        time.sleep(chance.uniform(0, 0.03))
        writer.kill()

        state = readable(path)
        assert state.serial >= last
        assert state.resources["workflow.main"].values.get("revision", 2) == state.serial
        assert readable(path.with_name("prod.json.backup")).serial <= state.serial
        last = state.serial

    assert last > 2, "the writers should have written between the kills"
