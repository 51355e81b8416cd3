"""The local state backend: one JSON file per stack and environment, replaced atomically on
every write, with an earlier version kept as `<file>.backup`. Those two are its whole history:
`history` lists them and `read_version` reads either.

The backup is the version a write replaced, except for the writes of a running apply after its
first (`write_snapshot(..., backup=False)`): those leave it, so during and after an apply the
backup holds the state as it was before that apply.

Writers are serialized by the state lock (`LocalStateStore.lock`); the lineage and serial checks
on write catch a run that writes a state it did not read from this file.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bimpe_iac.errors import StateError
from bimpe_iac.state.backend import DEFAULT_LEASE_S, LockWait, VersionSummary
from bimpe_iac.state.codec import UnreadableState, decode_state, encode_json
from bimpe_iac.state.files import (
    fsync_directory,
    make_private_dirs,
    remove_leftovers,
    write_atomic,
)
from bimpe_iac.state.identity import current_writer, timestamp, utc_now
from bimpe_iac.state.lock import LockInfo, force_unlock, hold_lock, read_lock
from bimpe_iac.state.model import StateDocument
from bimpe_iac.state.moved import MIGRATED_SUFFIX, MovedMarker, parse_moved
from bimpe_iac.state.snapshot import Snapshot, Stamp

BACKUP_SUFFIX = ".backup"
MAX_STATE_BYTES = 256 * 1024 * 1024
"""Far above any real state (50,000 agents with long prompts take about 54 MB); a larger file
is not one."""
MAX_STATE_SIZE_TEXT = "256 MB"

_FileVersion = tuple[int, int, int, int]


def _file_version(status: os.stat_result) -> _FileVersion:
    # Every write replaces the inode, and an edit in place changes the mtime.
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


@dataclass(frozen=True)
class _Header:
    """What a write is checked against: the identity and serial of the stored state."""

    stack: str
    environment: str
    lineage: str
    serial: int

    @classmethod
    def of(cls, doc: StateDocument | Snapshot) -> _Header:
        return cls(doc.stack, doc.environment, doc.lineage, doc.serial)


def default_state_path(stack: str, environment: str, root: Path | None = None) -> Path:
    """`<root>/.bimpe/state/<stack>/<environment>.json`; `root` is the working directory."""
    for name in (stack, environment):
        if name in {"", ".", ".."} or any(c in name for c in "/\\\0"):
            raise StateError(f"{name!r} cannot name a state file")
    return (root or Path()) / ".bimpe" / "state" / stack / f"{environment}.json"


class LocalStateStore:
    def __init__(self, path: Path, *, command: str | None = None) -> None:
        """`command` is recorded as the writer's command; by default, this process's."""
        self.path = Path(path)
        self.command = command
        # The header of the file version this store last read or wrote, so that a write after
        # a write (every operation of an apply) need not read the file back.
        self._known: tuple[_FileVersion, _Header] | None = None

    @property
    def backup_path(self) -> Path:
        return self.path.with_name(self.path.name + BACKUP_SUFFIX)

    @property
    def migrated_path(self) -> Path:
        """Where `mark_moved` keeps the state it replaced with a marker."""
        return self.path.with_name(self.path.name + MIGRATED_SUFFIX)

    def mark_moved(self, marker: MovedMarker) -> None:
        """Replace the state file with `marker`, keeping the state as `migrated_path`; every
        later read refuses, saying where the state went (`state/moved.py`)."""
        try:
            write_atomic(self.path, marker.encode(), backup=self.migrated_path)
        except OSError as exc:
            raise StateError(f"cannot mark state file {self.path}: {exc.strerror}") from None
        self._known = None

    def moved(self) -> MovedMarker | None:
        """The marker of a state that moved away, if the file holds one."""
        read = read_state_file(self.path, "state file")
        return None if read is None else parse_moved(read[0])

    def restore_moved(self) -> None:
        """Undo `mark_moved`: the kept state takes the marker's place (or, if none was kept,
        the marker is removed)."""
        try:
            if self.migrated_path.exists():
                os.replace(self.migrated_path, self.path)
            else:
                os.unlink(self.path)
            fsync_directory(self.path.parent)
        except OSError as exc:
            raise StateError(f"cannot restore state file {self.path}: {exc.strerror}") from None
        self._known = None

    def read(self, stack: str, environment: str) -> StateDocument:
        """The stored state, or a new one (fresh lineage, serial 0) when there is none yet."""
        doc = self._load()
        if doc is None:
            return StateDocument(stack=stack, environment=environment)
        if (doc.stack, doc.environment) != (stack, environment):
            raise StateError(
                f"state file {self.path} belongs to stack {doc.stack!r} environment "
                f"{doc.environment!r}, not stack {stack!r} environment {environment!r}"
            )
        return doc

    @property
    def location(self) -> str:
        return f"state file {self.path}"

    def write(self, doc: StateDocument, *, stamp: bool = True) -> None:
        """Store `doc`, stamping its `updated_at` and `writer` unless not `stamp`. Its serial
        must be higher than the stored one's, and its lineage the same."""
        written = self._store(Snapshot.of(doc), stamp=stamp, compact=False, backup=True)
        doc.updated_at, doc.writer = written.updated_at, written.writer

    def write_snapshot(
        self, snapshot: Snapshot, *, compact: bool = False, backup: bool = True
    ) -> Stamp:
        """Store `snapshot` as `write` does; `compact` writes one line of JSON, and without
        `backup` the backup file is left as it is."""
        return self._store(snapshot, stamp=True, compact=compact, backup=backup)

    def _store(self, snapshot: Snapshot, *, stamp: bool, compact: bool, backup: bool) -> Stamp:
        self._check_successor(self._stored_header(), snapshot)
        if stamp:
            written = Stamp(timestamp(utc_now()), current_writer(self.command), not compact)
            snapshot = snapshot.stamped(written)
        else:
            written = Stamp.of(snapshot, canonical=not compact)
        data = snapshot.compact_json() if compact else encode_json(snapshot.full_data())
        try:
            make_private_dirs(self.path.parent)
            if backup:  # once per run is enough: a leftover is untidy, not harmful
                remove_leftovers(self.path)
                remove_leftovers(self.backup_path)
            status = write_atomic(self.path, data, backup=self.backup_path if backup else None)
        except OSError as exc:
            raise StateError(f"cannot write state file {self.path}: {exc.strerror}") from None
        self._known = (_file_version(status), _Header.of(snapshot))
        return written

    def history(self, stack: str, environment: str) -> list[VersionSummary]:
        """The backup's version, then the current one: all this backend keeps."""
        versions = [self.read(stack, environment)] if self.path.exists() else []
        backup = self._load_backup()
        if backup is not None and (backup.stack, backup.environment) == (stack, environment):
            versions.insert(0, backup)
        return [_summary(doc) for doc in versions]

    def read_version(self, stack: str, environment: str, serial: int) -> StateDocument:
        kept = [self.read(stack, environment)] if self.path.exists() else []
        backup = self._load_backup()
        if backup is not None and (backup.stack, backup.environment) == (stack, environment):
            kept.append(backup)
        for doc in kept:
            if doc.serial == serial:
                return doc
        serials = " and ".join(str(doc.serial) for doc in kept) or "none"
        raise StateError(
            f"{self.location} has no version with serial {serial}: the local backend keeps "
            f"only the current version and the one before it (serials: {serials})"
        )

    def lock(
        self,
        command: str,
        *,
        timeout_s: float = 0,
        lease_s: float = DEFAULT_LEASE_S,
        on_wait: LockWait | None = None,
    ) -> AbstractContextManager[LockInfo]:
        """Hold the lock on this state file; see `bimpe_iac.state.lock.hold_lock`."""
        return hold_lock(self.path, command, timeout_s=timeout_s, lease_s=lease_s, on_wait=on_wait)

    def lock_status(self) -> LockInfo | None:
        return read_lock(self.path)

    def force_unlock(self, lock_id: str) -> LockInfo:
        return force_unlock(self.path, lock_id)

    def close(self) -> None:
        """Nothing to release: every operation opens and closes its files."""

    def __enter__(self) -> LocalStateStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _load_backup(self) -> StateDocument | None:
        read = read_state_file(self.backup_path, "state backup")
        if read is None:
            return None
        data, _ = read
        try:
            return decode_state(data)
        except UnreadableState as exc:
            raise StateError(f"state backup {self.backup_path} {exc}") from None

    def _stored_header(self) -> _Header | None:
        try:
            status = os.lstat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {exc.strerror}") from None
        version = _file_version(status)
        if self._known is not None and self._known[0] == version:
            return self._known[1]
        doc = self._load()
        return None if doc is None else _Header.of(doc)

    def _load(self) -> StateDocument | None:
        read = read_state_file(self.path, "state file")
        if read is None:
            return None
        data, version = read
        marker = parse_moved(data)
        if marker is not None:
            raise StateError(marker.refusal(self.path))
        try:
            doc = decode_state(data)
        except UnreadableState as exc:
            hint = f" (the previous version is in {self.backup_path})"
            raise StateError(
                f"state file {self.path} {exc}{hint if self.backup_path.exists() else ''}"
            ) from None
        self._known = (version, _Header.of(doc))
        return doc

    def _check_successor(self, stored: _Header | None, doc: Snapshot) -> None:
        refuse = f"refusing to write state file {self.path}"
        if stored is None:
            if doc.serial < 1:
                raise StateError(f"{refuse}: a first write needs serial 1 or more, not 0")
            return
        if (doc.stack, doc.environment) != (stored.stack, stored.environment):
            raise StateError(
                f"{refuse}: it belongs to stack {stored.stack!r} environment "
                f"{stored.environment!r}, not stack {doc.stack!r} environment {doc.environment!r}"
            )
        if doc.lineage != stored.lineage:
            raise StateError(
                f"{refuse}: it holds lineage {stored.lineage} and this state is lineage "
                f"{doc.lineage}; they are different states"
            )
        if doc.serial <= stored.serial:
            raise StateError(
                f"{refuse}: this state's serial {doc.serial} does not advance past the file's "
                f"{stored.serial}; another run may have written it since this one read it"
            )


def read_state_file(path: Path, what: str) -> tuple[bytes, _FileVersion] | None:
    """The bytes of the regular file at `path` (None when there is none) and its version. A
    symbolic link is refused: it would lead reads elsewhere while writes replace the link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateError(
                f"{what} {path} is a symbolic link; bimpe-iac reads and writes only a regular "
                "file there: move the file itself to that path"
            ) from None
        raise StateError(f"cannot read {what} {path}: {exc.strerror}") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        why = os.strerror(errno.EISDIR) if stat.S_ISDIR(status.st_mode) else "not a regular file"
        raise StateError(f"cannot read {what} {path}: {why}")
    with os.fdopen(fd, "rb") as file:
        if status.st_size > MAX_STATE_BYTES:
            raise StateError(
                f"{what} {path} is larger than the {MAX_STATE_SIZE_TEXT} limit of a state file"
            )
        try:
            data = file.read(MAX_STATE_BYTES + 1)
        except OSError as exc:
            raise StateError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > MAX_STATE_BYTES:  # grew while being read
        raise StateError(
            f"{what} {path} is larger than the {MAX_STATE_SIZE_TEXT} limit of a state file"
        )
    return data, _file_version(status)


def _summary(doc: StateDocument) -> VersionSummary:
    return VersionSummary(
        serial=doc.serial,
        lineage=doc.lineage,
        written_at=doc.updated_at,
        writer=doc.writer,
        resources=len(doc.resources),
    )
