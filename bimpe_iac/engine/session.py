"""The state while an apply runs: every finished operation is recorded and written at once, so
a crash loses nothing that was done. Sensitive values are masked before they reach the state;
a digest per field still lets the next run see a change."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, cast

from bimpe_iac.engine.model import Move
from bimpe_iac.engine.state_edit import rename
from bimpe_iac.state.model import Intent, ResourceState, StateDocument, value_hash


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
        write: Callable[[StateDocument], None],
        mask: Callable[[str], str],
    ) -> None:
        self.document = document
        self._write = write
        self._mask = mask
        self._lock = asyncio.Lock()

    def id_of(self, address: str) -> str | None:
        entry = self.document.resources.get(address)
        return entry.id if entry else None

    def generation(self, address: str) -> int:
        entry = self.document.resources.get(address)
        if entry is not None:
            return entry.generation
        return self.document.generations.get(address, 0)

    async def begin_create(self, address: str, key: str, body: dict[str, Any]) -> None:
        async with self._lock:
            self.document.intents[address] = Intent(
                operation="create",
                idempotency_key=key,
                body_hash=value_hash(body),
                started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            self._save()

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
    ) -> None:
        async with self._lock:
            generation = self.generation(address) + (1 if created else 0)
            self.document.resources[address] = ResourceState(
                kind=kind,
                id=id,
                parent_id=parent_id,
                values=_masked(values, self._mask),
                hashes={field: value_hash(value) for field, value in values.items()},
                depends_on=list(depends_on),
                prevent_destroy=prevent_destroy,
                generation=generation,
            )
            self.document.generations.pop(address, None)
            self.document.intents.pop(address, None)
            self._save()

    async def forget(self, address: str) -> None:
        async with self._lock:
            entry = self.document.resources.pop(address, None)
            if entry is not None and entry.generation:
                self.document.generations[address] = entry.generation
            self.document.intents.pop(address, None)
            self._save()

    async def rename(self, moves: Iterable[Move]) -> None:
        """Make the plan's renames (those not made yet) and write them."""
        async with self._lock:
            if rename(self.document, moves):
                self._save()

    async def touch(self, address: str, depends_on: tuple[str, ...], prevent_destroy: bool) -> bool:
        """Refresh what the state remembers of an unchanged resource; True when it changed."""
        entry = self.document.resources.get(address)
        if entry is None:
            return False
        if entry.depends_on == list(depends_on) and entry.prevent_destroy == prevent_destroy:
            return False
        entry.depends_on = list(depends_on)
        entry.prevent_destroy = prevent_destroy
        return True

    async def flush(self) -> None:
        async with self._lock:
            self._save()

    def _save(self) -> None:
        self.document.serial += 1
        self._write(self.document)
