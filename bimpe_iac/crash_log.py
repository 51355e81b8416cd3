"""The crash log: when bimpe-iac meets a bug (exit 3), the traceback goes to a file that the
error line names, as pre-commit does, so the screen shows one line and a report can carry the
rest. Every secret value the process knows (`secrets.scrub`) is scrubbed from it first."""

from __future__ import annotations

import os
import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bimpe_iac import __version__
from bimpe_iac.secrets import scrub, without_var_values

CRASH_LOG_DIR_ENV = "BIMPE_CRASH_LOG_DIR"


def crash_log_dir() -> Path:
    """`BIMPE_CRASH_LOG_DIR`, else `$XDG_CACHE_HOME/bimpe-iac`, else `~/.cache/bimpe-iac`."""
    chosen = os.environ.get(CRASH_LOG_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen)
    cache = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(cache) if cache else Path.home() / ".cache") / "bimpe-iac"


def write_crash_log(error: BaseException) -> Path:
    """Write the report of `error` to a new file and return its path; OSError if it cannot."""
    directory = crash_log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = scrub(
        f"bimpe-iac {__version__} crashed at {stamp}\n"
        f"command: {' '.join(['bimpe-iac', *without_var_values(sys.argv[1:])])}\n"
        f"python: {platform.python_version()} on {platform.platform()}\n\n"
        + "".join(traceback.format_exception(error))
    )
    for attempt in range(1, 100):
        path = directory / f"crash-{stamp}{'' if attempt == 1 else f'-{attempt}'}.log"
        try:
            with path.open("x", encoding="utf-8") as file:
                file.write(text)
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"too many crash logs at {stamp} in {directory}")
