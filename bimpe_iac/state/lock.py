"""The exclusive lock on a state file, held as a lease that a heartbeat keeps renewing.

A lock is stale when its lease expired, when it was taken on this host (in this pid namespace)
by a process that no longer exists, or when its file has been unreadable for a whole lease. A
stale lock is taken over: moved aside and replaced with O_EXCL, inside `lockfile.examine`, so
only one contender can take it, and the takeover is reported through `on_takeover`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from bimpe_iac.errors import LockError, StateError
from bimpe_iac.state.backend import LockWait, locked_message
from bimpe_iac.state.files import make_private_dirs, remove_leftovers, temp_path
from bimpe_iac.state.identity import hostname, pid_namespace, timestamp, username, utc_now
from bimpe_iac.state.lockfile import (
    LockInfo,
    Seen,
    create_lock,
    examine,
    lock_path,
    read_lock_file,
    rewrite_lock,
)

__all__ = ["LockInfo", "force_unlock", "hold_lock", "read_lock"]

POLL_S = 0.1

log = logging.getLogger(__name__)


@contextmanager
def hold_lock(
    path: Path,
    command: str,
    *,
    timeout_s: float = 0,
    lease_s: float = 30,
    on_takeover: Callable[[str], None] = log.warning,
    on_wait: LockWait | None = None,
) -> Iterator[LockInfo]:
    """Hold the lock on the state file `path`, waiting up to `timeout_s` for another holder;
    while it waits, `on_wait` hears who holds the lock and for how long it has waited.

    The yielded `LockInfo` is renewed in place every `lease_s / 3` seconds. On exit the lock is
    released if this run still owns it; if it was taken over meanwhile (the heartbeat stalled
    for a whole lease) and the body succeeded, a LockError says so.
    """
    if lease_s <= 0:
        raise ValueError("lease_s must be positive")
    lock = lock_path(Path(path))
    info = _acquire(lock, command, timeout_s, lease_s, on_takeover, on_wait)
    heartbeat = _Heartbeat(lock, info, lease_s)
    try:
        yield info
    except BaseException:
        heartbeat.stop()
        try:
            _release(lock, info)
        except LockError as exc:  # the run's own error matters more; the lock will go stale
            log.warning("%s", exc)
        raise
    heartbeat.stop()
    lost = _release(lock, info)
    if lost is not None:
        raise LockError(
            f"the state lock {info.id} was lost during this run ({lost}); "
            "another run may have changed the state meanwhile"
        )


def read_lock(path: Path) -> LockInfo | None:
    """Who holds the lock on the state file `path`, if anyone."""
    lock = lock_path(Path(path))
    seen = read_lock_file(lock)
    if seen is None:
        return None
    if seen.info is None:
        raise StateError(f"lock file {lock} {seen.problem}")
    return seen.info


def force_unlock(path: Path, lock_id: str) -> LockInfo:
    """Remove the lock on the state file `path` if its id is `lock_id`; return what it was."""
    lock = lock_path(Path(path))
    with _errors_as_lock_errors(lock), examine(lock) as seen:
        if seen is None:
            raise LockError(f"state file {path} is not locked")
        if seen.info is None:
            raise LockError(
                f"lock file {lock} {seen.problem}; if no run is active, delete the file"
            )
        if seen.info.id != lock_id:
            raise LockError(
                f"lock id {lock_id} does not match: state file {path} is locked by "
                f"{seen.info.holder()} (lock id {seen.info.id}); nothing was unlocked"
            )
        os.unlink(lock)
        return seen.info


def _acquire(
    lock: Path,
    command: str,
    timeout_s: float,
    lease_s: float,
    on_takeover: Callable[[str], None],
    on_wait: LockWait | None,
) -> LockInfo:
    started = time.monotonic()
    deadline = started + timeout_s
    with _errors_as_lock_errors(lock):
        make_private_dirs(lock.parent)
        remove_leftovers(lock)
        while True:
            info = _new_lock(command, lease_s)
            if create_lock(lock, info):
                return info
            with examine(lock) as seen:
                if seen is None:
                    continue  # released meanwhile
                reason = _stale_reason(seen, lease_s)
                if reason is not None:
                    if _take_over(lock, info):
                        on_takeover(_takeover_note(lock, seen, reason))
                        return info
                    continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(_locked_message(lock, seen, timeout_s))
            if on_wait is not None:
                holder = seen.info.holder() if seen.info else f"lock file {lock} {seen.problem}"
                on_wait(holder, time.monotonic() - started)
            time.sleep(min(POLL_S, remaining))


def _take_over(lock: Path, info: LockInfo) -> bool:
    """Replace the stale lock file with `info`; call only inside `examine` on that file. False
    when another contender created a lock in the moment the path was free."""
    aside = temp_path(lock)
    os.rename(lock, aside)
    try:
        return create_lock(lock, info)
    finally:
        os.unlink(aside)


def _release(lock: Path, info: LockInfo) -> str | None:
    """Remove the lock if it is still `info`'s; otherwise say what became of it."""
    try:
        with examine(lock) as seen:
            lost = _lost(seen, info)
            if lost is None:
                os.unlink(lock)
            return lost
    except OSError as exc:
        raise LockError(f"cannot release the state lock {lock}: {exc.strerror}") from None


def _lost(seen: Seen | None, info: LockInfo) -> str | None:
    """What became of the lock `info` if `seen` is no longer it."""
    if seen is None:
        return "its file was removed"
    if seen.info is None:
        return f"its file {seen.problem}"
    if seen.info.id != info.id:
        return f"it is now held by {seen.info.holder()}"
    return None


def _new_lock(command: str, lease_s: float) -> LockInfo:
    now = utc_now()
    return LockInfo(
        id=str(uuid.uuid4()),
        host=hostname(),
        pid=os.getpid(),
        user=username(),
        command=command,
        acquired_at=now,
        heartbeat_at=now,
        expires_at=now + timedelta(seconds=lease_s),
        pid_namespace=pid_namespace(),
    )


def _stale_reason(seen: Seen, lease_s: float) -> str | None:
    info = seen.info
    if info is None:
        if time.time() - seen.modified > lease_s:
            return f"its file {seen.problem} and has not changed for over {lease_s:g}s"
        return None
    if info.expires_at <= utc_now():
        return f"its lease expired at {timestamp(info.expires_at)}"
    same_host = info.host == hostname() and info.pid_namespace == pid_namespace()
    if same_host and not _process_exists(info.pid):
        return f"its process {info.pid} no longer exists"
    return None


def _process_exists(pid: int) -> bool:
    if pid <= 0:  # os.kill would address a process group
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A process that has exited but not been reaped by its parent yet (Linux only)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _takeover_note(lock: Path, seen: Seen, reason: str) -> str:
    previous = f"held by {seen.info.holder()} (lock id {seen.info.id})" if seen.info else str(lock)
    return f"took over a stale state lock {previous}: {reason}"


def _locked_message(lock: Path, seen: Seen, timeout_s: float) -> str:
    if seen.info is None:
        waited = f"still locked after waiting {timeout_s:g}s; " if timeout_s > 0 else ""
        return (
            f"state is locked: lock file {lock} {seen.problem}; {waited}if no run is active, "
            "delete the file"
        )
    return locked_message(seen.info, timeout_s)


@contextmanager
def _errors_as_lock_errors(lock: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise LockError(f"cannot use the state lock {lock}: {exc.strerror}") from None


class _Heartbeat:
    """Renews a held lock's lease every third of it, in a daemon thread."""

    def __init__(self, lock: Path, info: LockInfo, lease_s: float) -> None:
        self.lost: str | None = None
        self._lock, self._info, self._lease_s = lock, info, lease_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat {lock.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._lease_s / 3):
            try:
                self._renew()
            except OSError as exc:
                log.warning("could not renew the state lock %s: %s", self._lock, exc.strerror)
            if self.lost:
                log.error("the state lock %s was lost: %s", self._lock, self.lost)
                return

    def _renew(self) -> None:
        with examine(self._lock) as seen:
            self.lost = _lost(seen, self._info)
            if self.lost is not None:
                return
            now = utc_now()
            renewed = self._info.model_copy(
                update={"heartbeat_at": now, "expires_at": now + timedelta(seconds=self._lease_s)}
            )
            rewrite_lock(self._lock, renewed)
        self._info.heartbeat_at, self._info.expires_at = renewed.heartbeat_at, renewed.expires_at
