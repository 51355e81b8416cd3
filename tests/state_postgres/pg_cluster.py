"""A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, a server
listening only on 127.0.0.1 on a free port (its socket in that directory too), password
authentication over TCP, stopped with `pg_ctl stop -m immediate` and deleted afterwards.

PostgreSQL refuses to run as root, so as root the cluster belongs to the system user
`bimpe_pg`, created when missing; any other user runs it as itself.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg

SYSTEM_USER = "bimpe_pg"
ROLE = "bimpe"


def find_bindir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's layout first, then PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
    )
    for directory in reversed(candidates):
        if (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    password: str
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dsn(self, dbname: str = "postgres") -> str:
        secret = urllib.parse.quote(self.password, safe="")
        return f"postgresql://{ROLE}:{secret}@127.0.0.1:{self.port}/{dbname}"

    def create_schema(self, name: str) -> str:
        """A DSN whose tables go to the new schema `name`: quicker than a database per test."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self.dsn()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / tool), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")


def start_cluster(bindir: Path) -> Cluster:
    run_as = _system_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="bimpe-pg-"))
    if run_as is not None:
        shutil.chown(root, run_as, run_as)
    cluster = Cluster(bindir, root, _free_port(), secrets.token_urlsafe(12) + "@:/", run_as)
    password_file = root / "password"
    password_file.write_text(cluster.password + "\n")
    if run_as is not None:
        shutil.chown(password_file, run_as, run_as)
    try:
        cluster._run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            ROLE,
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={cluster.port}",
                f"-c unix_socket_directories={root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        cluster._run(
            "pg_ctl", "-D", str(cluster.data), "-l", str(root / "server.log"), "-o", options,
            "-w", "start",
        )  # fmt: skip
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _system_user() -> str:
    missing = subprocess.run(["id", "-u", SYSTEM_USER], capture_output=True).returncode != 0
    if missing:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
             SYSTEM_USER],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return SYSTEM_USER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
