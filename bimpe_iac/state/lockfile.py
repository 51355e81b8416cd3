"""The lock file `<state>.lock` and the operations on it; the policy is in `lock.py`.

A lock file comes into being only through O_CREAT|O_EXCL, so exactly one creator wins. Every
change to an existing lock file (renew, release, take over, force-unlock) happens inside
`examine`, which holds flock(2) on the file and checks that the path still names the very file
it locked: a check of the holder's id followed by an action on the file is then atomic, and two
contenders can never both act on the same lock. The kernel drops the flock of a killed process.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from bimpe_iac.state.codec import UnreadableState, decode_json
from bimpe_iac.state.files import PRIVATE_FILE_MODE, write_all, write_atomic
from bimpe_iac.state.identity import timestamp

LOCK_SUFFIX = ".lock"


class LockInfo(BaseModel):
    """Who holds a state lock, and until when the lease runs without a heartbeat."""

    # A newer bimpe-iac may add fields; its lock must still be understood and honoured.
    model_config = ConfigDict(extra="ignore")

    id: str
    host: str
    pid: int
    user: str
    command: str
    acquired_at: AwareDatetime
    heartbeat_at: AwareDatetime
    expires_at: AwareDatetime
    pid_namespace: str | None = None
    """Where `pid` can be looked up (see `identity.pid_namespace`)."""

    def holder(self) -> str:
        return (
            f"{self.user}@{self.host} pid {self.pid} running '{self.command}' "
            f"since {timestamp(self.acquired_at)}"
        )

    def encode(self) -> bytes:
        return self.model_dump_json(indent=2).encode() + b"\n"


@dataclass(frozen=True)
class Seen:
    """An existing lock file as read under its flock: its holder, or why it cannot be read."""

    info: LockInfo | None
    problem: str | None
    modified: float
    """The file's mtime (seconds since the epoch)."""


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + LOCK_SUFFIX)


def create_lock(path: Path, info: LockInfo) -> bool:
    """Create the lock file holding `info`; False when a lock file already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    # Not fsynced: a lock need not outlive a power loss, which ends every holder anyway.
    try:
        try:
            write_all(fd, info.encode())
        finally:
            os.close(fd)
    except BaseException:
        os.unlink(path)
        raise
    return True


def rewrite_lock(path: Path, info: LockInfo) -> None:
    """Replace the lock file's content; call only inside `examine` on that file."""
    write_atomic(path, info.encode(), durable=False)


@contextmanager
def examine(path: Path) -> Iterator[Seen | None]:
    """Hold the lock file still and show it (None when there is none)."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            yield None
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            opened = os.fstat(fd)
            try:
                current = os.stat(path)
            except FileNotFoundError:
                continue
            if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
                continue  # replaced or removed while this process waited for the flock
            yield _parse(_read_all(fd), opened.st_mtime)
            return
        finally:
            os.close(fd)


def read_lock_file(path: Path) -> Seen | None:
    """The lock file as it is now, without holding it still."""
    try:
        data = path.read_bytes()
        modified = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return _parse(data, modified)


def _parse(data: bytes, modified: float) -> Seen:
    try:
        return Seen(LockInfo.model_validate(decode_json(data)), None, modified)
    except UnreadableState as exc:
        return Seen(None, str(exc), modified)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "the lock"
        return Seen(None, f"is not a lock ({where}: {error['msg']})", modified)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks)
