"""Crash-safe file replacement: a reader sees the old bytes or the new, never a mix of both.

The new bytes go to a temporary file in the same directory (`.<name>.<pid>.<random>.tmp`),
which is flushed to disk and then renamed over the target; the directory is flushed last so
the rename itself survives a power loss. A crash leaves at most a temporary file behind, which
readers never look at and `remove_leftovers` deletes once it is old enough to be abandoned.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from contextlib import suppress
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700

LEFTOVER_AGE_S = 60.0
"""A temporary file older than this belongs to a writer that died: no live write takes so long."""


def temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def write_atomic(
    path: Path,
    data: bytes,
    *,
    backup: Path | None = None,
    durable: bool = True,
) -> os.stat_result:
    """Replace `path` with `data` (mode 0600) and return the new file's status. With `backup`, the
    version being replaced (if any) is kept there. Without `durable`, nothing is flushed: still
    atomic for readers, but a power loss may lose the write."""
    staged = temp_path(path)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            write_all(fd, data)
            if durable:
                os.fsync(fd)
            written = os.fstat(fd)
        finally:
            os.close(fd)
        if backup is not None:
            _keep_backup(path, backup)
        os.replace(staged, path)
    except BaseException:
        _remove_quietly(staged)
        raise
    if durable:
        fsync_directory(path.parent)
    return written


def make_private_dirs(directory: Path) -> None:
    """Create `directory` and its missing parents, each mode 0700 (the umask may only narrow
    it); directories that exist are left as they are."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for path in reversed(missing):
        with suppress(FileExistsError):  # made meanwhile by another run
            path.mkdir(mode=PRIVATE_DIR_MODE)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # a filesystem that cannot sync directories
            raise
    finally:
        os.close(fd)


def remove_leftovers(path: Path, *, older_than_s: float = LEFTOVER_AGE_S) -> None:
    """Delete temporary files of `path` abandoned by writers that crashed."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.\d+\.[0-9a-f]+\.tmp")
    cutoff = time.time() - older_than_s
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return
    for entry in entries:
        if pattern.fullmatch(entry.name):
            with suppress(OSError):  # best effort: a leftover is harmless, only untidy
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)


def _keep_backup(path: Path, backup: Path) -> None:
    # A hard link keeps the old version under the backup name without copying it and without
    # `path` ever ceasing to exist; the rename over `path` then leaves the old inode to the backup.
    staged = temp_path(backup)
    try:
        os.link(path, staged)
    except FileNotFoundError:
        return
    except OSError:  # a filesystem without hard links: copy instead
        try:
            previous = path.read_bytes()
        except FileNotFoundError:
            return
        write_atomic(backup, previous)
        return
    try:
        # The old version may have been readable by others (an older bimpe-iac, a hand edit);
        # its inode leaves `path` in a moment, so narrowing it now changes only the backup.
        os.chmod(staged, PRIVATE_FILE_MODE)
        os.replace(staged, backup)
    except BaseException:
        _remove_quietly(staged)
        raise


def _remove_quietly(path: Path) -> None:
    with suppress(OSError):
        os.unlink(path)
