"""What every state backend offers: the current state and its earlier versions, checked writes,
and a lease lock per stack and environment that a crashed holder cannot keep forever.

Backends: `local.LocalStateStore` (a JSON file and its `.backup`) and
`postgres.PostgresStateStore` (every version in a table, for teams and CI runners).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from bimpe_iac.state.lockfile import LockInfo
from bimpe_iac.state.model import StateDocument, Writer
from bimpe_iac.state.snapshot import Snapshot, Stamp

DEFAULT_LEASE_S = 30.0
"""How long a lock outlives its holder's last heartbeat."""

LockWait = Callable[[str, float], None]
"""Told, at each look while waiting for the lock, who holds it (`LockInfo.holder`, or why its
record cannot be read) and how many seconds the wait has lasted."""


@dataclass(frozen=True)
class VersionSummary:
    """One stored version of a state, as `state history` lists it."""

    serial: int
    lineage: str
    written_at: str | None
    writer: Writer | None
    resources: int


class StateStore(Protocol):
    """The state of one stack and environment in one backend. A store may hold a connection:
    use it as a context manager, or call `close`."""

    @property
    def location(self) -> str:
        """Where the state lives, for messages; never contains a password."""
        ...

    def read(self, stack: str, environment: str) -> StateDocument:
        """The current state, or a new one (fresh lineage, serial 0) when there is none yet."""
        ...

    def write(self, doc: StateDocument, *, stamp: bool = True) -> None:
        """Store `doc` as the new current version. Its serial must be higher than the stored
        one's, and its lineage the same. With `stamp`, its `updated_at` and `writer` are set to
        now and this process; without, they are kept (as a migration does)."""
        ...

    def write_snapshot(
        self, snapshot: Snapshot, *, compact: bool = False, backup: bool = True
    ) -> Stamp:
        """Store `snapshot` as `write` stores a document (checked the same way, and stamped).
        With `compact`, a backend may store a quicker, non-canonical form (the local file:
        one line of JSON); the stamp says whether it did. Without `backup`, a backend that
        keeps only the version before the current one (the local file) leaves that one as it
        is: the state session writes its first version with it and the rest without, so what
        is kept is the state from before the run. Backends that keep every version ignore it."""
        ...

    def history(self, stack: str, environment: str) -> list[VersionSummary]:
        """The stored versions, oldest first."""
        ...

    def read_version(self, stack: str, environment: str, serial: int) -> StateDocument:
        """The stored version with this serial; StateError when there is none."""
        ...

    def lock(
        self,
        command: str,
        *,
        timeout_s: float = 0,
        lease_s: float = DEFAULT_LEASE_S,
        on_wait: LockWait | None = None,
    ) -> AbstractContextManager[LockInfo]:
        """Hold the state's lock, waiting up to `timeout_s` for another holder (LockError naming
        it after that; `on_wait` hears of the wait as it goes). A heartbeat renews the lease; a
        holder that stops renewing loses the lock once `lease_s` has passed."""
        ...

    def lock_status(self) -> LockInfo | None:
        """Who holds the lock, if anyone (an expired lease is still shown)."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Break the lock if its id is `lock_id`; return what it was."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> StateStore: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def locked_message(info: LockInfo, timeout_s: float) -> str:
    """The error of a run that found the state locked by `info`."""
    waited = f"still locked after waiting {timeout_s:g}s; " if timeout_s > 0 else ""
    wait = "wait longer" if timeout_s > 0 else "wait"
    return (
        f"{waited}state is locked by {info.holder()} (lock id {info.id}); {wait} with "
        f"--lock-timeout, or if that run is dead: bimpe-iac state force-unlock {info.id}"
    )
