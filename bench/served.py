"""The emulator a benchmark talks to: `bimpe-iac emulator serve` in its own process, so that
its CPU is not the client's."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_TOKEN = "adm_bench"


@dataclass(frozen=True)
class Emulator:
    process: subprocess.Popen[str]
    url: str
    key: str

    def admin(self, method: str, path: str, json: object = None) -> object:
        response = httpx.request(
            method,
            f"{self.url}/_emulator{path}",
            json=json,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["data"]


def serve(db: Path, latency_ms: float = 0.0, rate_limit: int | None = None) -> Emulator:
    limit = ["--rate-limit", str(rate_limit)] if rate_limit else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bimpe_iac",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            str(db),
            "--latency-ms",
            str(latency_ms),
            "--admin-token",
            ADMIN_TOKEN,
            *limit,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = key = ""
    deadline = time.monotonic() + 30
    while not (url and key):
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the emulator did not start")
        if found := re.search(r"BIMPE_BASE_URL=(\S+)", line):
            url = found.group(1)
        if found := re.search(r"BIMPE_API_KEY=(\S+)", line):
            key = found.group(1)
    return Emulator(process, url, key)
