"""Reading manifest and referenced files: bounded in size, strictly UTF-8."""

from __future__ import annotations

from pathlib import Path

from bimpe_iac.manifest.issues import Position

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_FILE_SIZE_TEXT = "5 MB"


class TextFileError(Exception):
    """A file that cannot be read as text.

    `reason` completes a sentence about the file ("does not exist"); `position` is set
    for a byte that is not UTF-8.
    """

    def __init__(self, reason: str, position: Position | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.position = position


def read_text(path: Path) -> str:
    """Read `path` as UTF-8 text no larger than MAX_FILE_BYTES."""
    try:
        if path.is_dir():
            raise TextFileError("is a directory, not a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TextFileError(f"is larger than the {MAX_FILE_SIZE_TEXT} limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise TextFileError("does not exist") from None
    except OSError as exc:
        raise TextFileError(f"cannot be read ({exc.strerror})") from None
    return decode_utf8(data)


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
