"""Who is running: the host, user, process and command recorded in state files and locks."""

from __future__ import annotations

import getpass
import os
import shlex
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from bimpe_iac.secrets import without_var_values
from bimpe_iac.state.model import Writer


def hostname() -> str:
    return socket.gethostname()


def username() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry, as in some containers
        return str(os.getuid())


def pid_namespace() -> str | None:
    """Which pid namespace this process lives in (Linux), e.g. `pid:[4026531836]`: processes
    that share a host name, as containers may, can see each other's pids only when it matches."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def command_line() -> str:
    """This process's command line as a user would type it, e.g. `bimpe-iac apply -e prod`."""
    if not sys.argv or not sys.argv[0]:
        return Path(sys.executable).name
    return shlex.join([Path(sys.argv[0]).name, *without_var_values(sys.argv[1:])])


def current_writer(command: str | None = None) -> Writer:
    return Writer(
        host=hostname(), pid=os.getpid(), user=username(), command=command or command_line()
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """`2025-06-01T12:00:00.123Z`: UTC, to the millisecond."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
