"""Reading manifest and referenced files: bounded in size, strictly UTF-8, regular files only,
and, when asked, only inside the stack directory."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from bimpe_iac.model.issues import Position

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_SIZE_TEXT = "5 MB"
_LOOP = "cannot be read (a loop of symbolic links)"


class TextFileError(Exception):
    """A file that cannot be read as text.

    `reason` completes a sentence about the file ("does not exist"); `position` is set
    for a byte that is not UTF-8.
    """

    def __init__(self, reason: str, position: Position | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


def read_text(path: Path, *, within: Path | None = None, root: str = "stack") -> str:
    """Read `path` as UTF-8 text no larger than MAX_FILE_BYTES.

    With `within`, a path that leads outside that directory (the `root`'s: a stack's or a
    module's), by `..` or through a symbolic link, is refused before anything is opened.
    Only a regular file is read: a FIFO or a device is refused rather than waited on.
    """
    if "\0" in str(path):
        raise TextFileError("cannot be read (the path contains a NUL character)")
    try:
        if within is not None and not path.resolve().is_relative_to(within.resolve()):
            raise TextFileError(f"is outside the {root} directory")
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise TextFileError("does not exist") from None
    except RuntimeError:  # Path.resolve on a symbolic link that leads back to itself
        raise TextFileError(_LOOP) from None
    except OSError as exc:
        reason = _LOOP if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise TextFileError(reason) from None
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise TextFileError("is a directory, not a file")
        if not stat.S_ISREG(status.st_mode):
            raise TextFileError("is not a regular file")
        if status.st_size > MAX_FILE_BYTES:
            raise TextFileError(f"is larger than the {MAX_FILE_SIZE_TEXT} limit")
        # One byte past the limit rather than trust the size: the file may be growing.
        data = _read_at_most(fd, MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TextFileError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise TextFileError(f"is larger than the {MAX_FILE_SIZE_TEXT} limit")
    return decode_utf8(data)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(fd, min(limit - size, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def decode_utf8(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8")) + 1
        raise TextFileError(
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x})", Position(line, column)
        ) from None
    # A byte-order mark is valid UTF-8 but not part of the text.
    return text.removeprefix("\ufeff")
