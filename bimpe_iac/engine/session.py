"""The state while an apply runs: every finished operation is recorded and written before it
counts as done, so a crash loses nothing that was done. Sensitive values are masked before they
reach the state; a keyed digest of each field that held one still lets the next run see a
change (`engine/secrecy.py`).

Writes are grouped (group commit). An operation changes the document in memory, then waits for
a write that holds its change. One write runs at a time, in a worker thread so that other
operations go on meanwhile: it stores a snapshot of the document as it was when the write
began (its serial one higher than the last), and releases every operation whose change that
snapshot holds once the backend says it is stored. The changes made while it ran go into the
next write, together. With many operations in flight, one write serves many of them. A write
starts no sooner than twice its predecessor's duration after it, so writing a big state takes at
most a third of the run and its cost stays in proportion to the state, not to its square.

A snapshot is cheap to take: the JSON form of each resource and intent is kept ready and redone
only when it changes, and the writes during the run may be compact (`StateStore.write_snapshot`).
`close` writes what is left, in the canonical form; an apply closes its session even when
interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

import orjson

from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.engine.state_edit import rename
from bimpe_iac.model.plan import Move
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.model import Intent, ResourceState, StateDocument, value_hash
from bimpe_iac.state.snapshot import Snapshot, Stamp

WRITE_PAUSE_FACTOR = 2.0
"""After a write that took t seconds, the next starts no sooner than this times t later."""


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked(v, mask) for k, v in cast("dict[str, Any]", value).items()}
    if isinstance(value, list):
        return [_masked(v, mask) for v in value]
    return value


class StateSession:
    def __init__(
        self,
        document: StateDocument,
        store: StateStore,
        mask: Callable[[str], str],
        secrecy: Secrecy | None = None,
    ) -> None:
        """`secrecy` gives the keyed digests; without it no field holding a sensitive value
        gets a digest (its drift cannot be checked)."""
        self.document = document
        self._store = store
        self._mask = mask
        self.secrecy = secrecy or Secrecy()
        self._json = {a: r.model_dump(mode="json") for a, r in document.resources.items()}
        self._encoded = {a: orjson.dumps(j) for a, j in self._json.items()}
        self._intent_json: dict[str, tuple[Intent, dict[str, Any]]] = {}
        self._changes = 0
        """Changes made to the document so far (a count)."""
        self._stored = 0
        """How many of those the last finished write holds."""
        self._writing: asyncio.Task[None] | None = None
        self._store_lock = threading.Lock()
        self._writes = 0
        self._canonical = True
        self._closing = False
        self._next_write_at = 0.0

    @property
    def writes(self) -> int:
        """How many versions of the state this session has stored so far."""
        return self._writes

    async def __aenter__(self) -> StateSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def id_of(self, address: str) -> str | None:
        entry = self.document.resources.get(address)
        return entry.id if entry else None

    def generation(self, address: str) -> int:
        entry = self.document.resources.get(address)
        if entry is not None:
            return entry.generation
        return self.document.generations.get(address, 0)

    async def begin_create(
        self,
        address: str,
        key: str,
        body: dict[str, Any],
        *,
        kind: str | None = None,
        parent_id: str | None = None,
    ) -> None:
        """Record, before it is sent, the create that the next run must find if its answer is
        lost: its key, and its body unless that holds a sensitive value."""
        self.document.intents[address] = Intent(
            operation="create",
            idempotency_key=key,
            body_hash=self._body_hash(body),
            started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            kind=kind,
            parent_id=parent_id,
            body=body if _masked(body, self._mask) == body else None,
        )
        self._changes += 1
        await self.commit()

    def skip_generation(self, address: str) -> None:
        """The object an earlier create made at `address` is gone: the next create there gets
        a new idempotency key, not the one whose stored answer names that object."""
        if address not in self.document.resources:
            self.document.generations[address] = self.generation(address) + 1
            self._changes += 1

    def sent_before(self, address: str, body: dict[str, Any]) -> bool:
        """Whether the pending create at `address` was sent with this very body."""
        intent = self.document.intents.get(address)
        return intent is not None and intent.body_hash == self._body_hash(body)

    def _body_hash(self, body: dict[str, Any]) -> str:
        digests = self.secrecy.digests
        return digests.value(body) if digests is not None else value_hash(_masked(body, self._mask))

    def abandon(self, address: str) -> None:
        """Drop the intent of a create that was never sent; stored with the next write."""
        if self.document.intents.pop(address, None) is not None:
            self._changes += 1

    async def record(
        self,
        address: str,
        *,
        kind: str,
        id: str,
        parent_id: str | None,
        values: dict[str, Any],
        depends_on: tuple[str, ...],
        prevent_destroy: bool,
        created: bool,
        ignore_changes: Collection[str] = (),
    ) -> None:
        generation = self.generation(address) + (1 if created else 0)
        recorded = self.secrecy.record(values)
        entry = ResourceState(
            kind=kind,
            id=id,
            parent_id=parent_id,
            values=_masked(recorded.values, self._mask),
            hashes=recorded.hashes,
            sensitive=recorded.sensitive,
            key_check=recorded.key_check,
            depends_on=list(depends_on),
            prevent_destroy=prevent_destroy,
            ignore_changes=sorted(ignore_changes),
            generation=generation,
        )
        self.document.resources[address] = entry
        self._keep_json(address, entry)
        self.document.generations.pop(address, None)
        self.document.intents.pop(address, None)
        self._changes += 1
        await self.commit()

    async def refresh(self, address: str, values: dict[str, Any]) -> None:
        """Record `values` (fields holding no sensitive value) as what the last apply left at
        `address`, the entry's other fields, digests and lifecycle kept."""
        entry = self.document.resources[address]
        entry = entry.model_copy(update={"values": {**entry.values, **_masked(values, self._mask)}})
        self.document.resources[address] = entry
        self._keep_json(address, entry)
        self._changes += 1
        await self.commit()

    async def forget(self, address: str) -> None:
        entry = self.document.resources.pop(address, None)
        self._json.pop(address, None)
        self._encoded.pop(address, None)
        if entry is not None and entry.generation:
            self.document.generations[address] = entry.generation
        self.document.intents.pop(address, None)
        self._changes += 1
        await self.commit()

    async def rename(self, moves: Iterable[Move]) -> None:
        """Make the plan's renames (those not made yet) and write them."""
        if rename(self.document, moves):
            # A rename rewrites the dependencies of every entry that names a moved address.
            self._json = {a: r.model_dump(mode="json") for a, r in self.document.resources.items()}
            self._encoded = {a: orjson.dumps(j) for a, j in self._json.items()}
            self._changes += 1
            await self.commit()

    def needs_digests(self, address: str) -> bool:
        """Whether the entry has sensitive leaves whose keyed digests this run cannot check."""
        entry = self.document.resources.get(address)
        return entry is not None and self.secrecy.needs_digests(entry)

    def touch(
        self,
        address: str,
        depends_on: tuple[str, ...],
        prevent_destroy: bool,
        ignore_changes: Collection[str] = (),
    ) -> bool:
        """Refresh what the state remembers of a resource besides its values (its dependencies
        and lifecycle), to be written with the next write (or at `close`); True when it
        changed."""
        entry = self.document.resources.get(address)
        if entry is None:
            return False
        ignored = sorted(ignore_changes)
        if (entry.depends_on, entry.prevent_destroy, entry.ignore_changes) == (
            list(depends_on),
            prevent_destroy,
            ignored,
        ):
            return False
        entry.depends_on = list(depends_on)
        entry.prevent_destroy = prevent_destroy
        entry.ignore_changes = ignored
        self._keep_json(address, entry)
        self._changes += 1
        return True

    def _keep_json(self, address: str, entry: ResourceState) -> None:
        self._json[address] = entry.model_dump(mode="json")
        self._encoded[address] = orjson.dumps(self._json[address])

    async def commit(self) -> None:
        """Return once every change made so far is stored: with the write under way when its
        snapshot holds them all, else with the next one."""
        wanted = self._changes
        while self._stored < wanted:
            if self._writing is None:
                self._writing = asyncio.create_task(self._write())
            # A waiter that is cancelled leaves the write to finish for the others.
            await asyncio.shield(self._writing)

    async def close(self) -> None:
        """Store what is not stored yet, and leave the stored form canonical."""
        self._closing = True
        while self._writing is not None:
            with contextlib.suppress(Exception):  # its waiters were told; the next write retries
                await asyncio.shield(self._writing)
        if not self._canonical:
            self._changes += 1  # the same document again, this time in canonical form
        await self.commit()

    async def _write(self) -> None:
        try:
            if not self._closing:
                # Writing takes at most a third of the time: a big state is slower to write, so
                # its writes wait longer and each carries more changes (group commit again).
                rest = self._next_write_at - time.monotonic()
                if rest > 0:
                    await asyncio.sleep(rest)
            holds = self._changes
            canonical = self._closing
            started = time.monotonic()
            snapshot = self._snapshot(canonical)
            stamp = await asyncio.to_thread(self._store_snapshot, snapshot, canonical)
            took = time.monotonic() - started
            self._next_write_at = started + took * (1 + WRITE_PAUSE_FACTOR)
            self._stored = holds
            self._canonical = stamp.canonical
            self.document.updated_at, self.document.writer = stamp.updated_at, stamp.writer
        finally:
            self._writing = None

    def _store_snapshot(self, snapshot: Snapshot, canonical: bool) -> Stamp:
        # In a worker thread. The lock keeps writes in order even when a cancelled write task
        # let the next one start while its thread was still writing.
        with self._store_lock:
            stamp = self._store.write_snapshot(
                snapshot, compact=not canonical, backup=self._writes == 0
            )
            self._writes += 1
            return stamp

    def _snapshot(self, canonical: bool) -> Snapshot:
        """The document as it is now, with the next serial. Nothing in it changes later: a
        JSON form is replaced when its resource or intent changes, never changed. Only a
        canonical write needs the resources as data; the others join their encoded forms."""
        self.document.serial += 1
        data = self.document.model_dump(mode="json", exclude={"resources", "intents"})
        # Intents are only ever replaced: one whose object is the same has the same JSON form.
        intents = {}
        for address, intent in self.document.intents.items():
            known = self._intent_json.get(address)
            if known is None or known[0] is not intent:
                known = (intent, intent.model_dump(mode="json"))
            intents[address] = known
        self._intent_json = intents
        data["intents"] = {address: known[1] for address, known in intents.items()}
        if canonical:
            data["resources"] = dict(self._json)
            return Snapshot(data)
        return Snapshot(data, dict(self._encoded))
