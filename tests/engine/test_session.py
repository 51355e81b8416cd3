"""The state session's grouped writes (`engine/session.py`).

Covers: an operation returns only once a stored version holds its change; many operations in
flight share few writes, the serial rising by one per write; writes run one at a time, compact
while the run goes on, canonical at close, and only the first keeps a backup; a failed write
fails the operations waiting for it and the next write stores their changes; a waiter that is
cancelled does not cancel the write; with the local file, the backup is the state from before
the run, the file is compact JSON during the run and pretty at its end, and readable throughout.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bimpe_iac.engine.session import StateSession
from bimpe_iac.errors import StateError
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.model import StateDocument
from bimpe_iac.state.snapshot import Snapshot, Stamp


class SlowStore:
    """Keeps what it is given; each write takes `delay_s`, and may be told to fail."""

    def __init__(self, delay_s: float = 0.01) -> None:
        self.delay_s = delay_s
        self.versions: list[tuple[Snapshot, bool, bool]] = []
        self.fail_next = False
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def write_snapshot(
        self, snapshot: Snapshot, *, compact: bool = False, backup: bool = True
    ) -> Stamp:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(self.delay_s)
            if self.fail_next:
                self.fail_next = False
                raise StateError("disk full")
            self.versions.append((snapshot, compact, backup))
            return Stamp("2025-01-01T00:00:00.000Z", None, canonical=not compact)
        finally:
            with self._lock:
                self.active -= 1

    def stored(self, address: str) -> bool:
        return bool(self.versions) and address in self.versions[-1][0].full_data()["resources"]


def session_on(store: Any) -> StateSession:
    return StateSession(StateDocument(stack="s", environment="e"), store, lambda text: text)


async def record(session: StateSession, address: str) -> None:
    await session.record(
        address,
        kind="agent",
        id=f"id-{address}",
        parent_id=None,
        values={"name": address},
        depends_on=(),
        prevent_destroy=False,
        created=True,
    )


def test_operations_in_flight_share_writes_and_each_returns_once_stored() -> None:
    store = SlowStore()
    session = session_on(store)
    unstored: list[str] = []

    async def operation(n: int) -> None:
        await asyncio.sleep(n * 0.001)
        await session.begin_create(f"agents.a{n}", f"key-{n}", {"name": n})
        await record(session, f"agents.a{n}")
        if not store.stored(f"agents.a{n}"):
            unstored.append(f"agents.a{n}")

    async def run() -> None:
        async with session:
            await asyncio.gather(*(operation(n) for n in range(64)))

    asyncio.run(run())

    assert unstored == []
    writes = len(store.versions)
    assert writes <= 32, f"{writes} writes for 128 changes"
    assert [v[0].serial for v in store.versions] == list(range(1, writes + 1))
    assert store.most_active == 1
    assert [v[1] for v in store.versions] == [True] * (writes - 1) + [False]  # compact, canonical
    assert [v[2] for v in store.versions] == [True] + [False] * (writes - 1)  # backup once
    last = store.versions[-1][0].full_data()
    assert len(last["resources"]) == 64 and last["intents"] == {}
    assert session.document.serial == writes


def test_a_failed_write_fails_its_waiters_and_the_next_write_stores_them() -> None:
    store = SlowStore()
    session = session_on(store)

    async def run() -> list[BaseException | None]:
        await record(session, "agents.first")
        store.fail_next = True
        results = await asyncio.gather(
            *(record(session, f"agents.b{n}") for n in range(3)), return_exceptions=True
        )
        await session.close()
        return list(results)

    results = asyncio.run(run())

    assert all(isinstance(r, StateError) for r in results), results
    assert set(store.versions[-1][0].full_data()["resources"]) == {
        "agents.first",
        "agents.b0",
        "agents.b1",
        "agents.b2",
    }


def test_a_cancelled_waiter_leaves_the_write_to_finish() -> None:
    store = SlowStore(delay_s=0.05)
    session = session_on(store)

    async def run() -> None:
        waiter = asyncio.ensure_future(record(session, "agents.cancelled"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        other = asyncio.ensure_future(record(session, "agents.other"))
        await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await other
        await session.close()

    asyncio.run(run())
    assert "agents.cancelled" in store.versions[0][0].full_data()["resources"]
    assert "agents.other" in store.versions[-1][0].full_data()["resources"]


def test_the_local_backup_is_the_state_from_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = LocalStateStore(path)
    before = StateDocument(stack="s", environment="e", serial=7)
    store.write(before)
    seen: list[str] = []

    async def run() -> None:
        async with StateSession(store.read("s", "e"), store, lambda text: text) as session:
            for n in range(3):
                await record(session, f"agents.a{n}")
                seen.append(path.read_text())

    asyncio.run(run())

    assert all("\n" not in text.rstrip("\n") for text in seen), "compact while running"
    assert [json.loads(text)["serial"] for text in seen] == [8, 9, 10]
    final = path.read_text()
    assert final.startswith('{\n  "environment": "e",\n'), "canonical at the end"
    document = store.read("s", "e")
    assert document.serial == 11 and set(document.resources) == {
        "agents.a0",
        "agents.a1",
        "agents.a2",
    }
    backup = json.loads(path.with_name("state.json.backup").read_text())
    assert backup["serial"] == 7 and backup["resources"] == {}
    assert [v.serial for v in store.history("s", "e")] == [7, 11]
