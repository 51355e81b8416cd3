"""`bimpe-iac emulator serve`: prints a base URL and a working key; curl-style requests see the
envelope with the public catalog; Ctrl-C stops it; data survives a restart."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from cli_runner import invoke


def _serve(db: Path) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bimpe_iac", "emulator", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = key = ""
    for _ in range(10):
        line = process.stdout.readline()
        if found := re.search(r"BIMPE_BASE_URL=(\S+)", line):
            url = found.group(1)
        if found := re.search(r"BIMPE_API_KEY=(\S+)", line):
            key = found.group(1)
        if url and key:
            break
    assert url and key, "serve did not print its URL and key"
    return process, url, key


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=15)
    return stderr


def test_serve_answers_with_the_public_catalog(tmp_path: Path) -> None:
    process, url, key = _serve(tmp_path / "emu.db")
    try:
        response = httpx.get(
            f"{url}/api/v1/console/workflows",
            params={"scope": "public"},
            headers={"Authorization": f"Bearer {key}"},
        )
    finally:
        stderr = _stop(process)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["message"], str)
    assert body["meta"]["total_count"] >= 3
    assert {w["visibility"] for w in body["data"]} == {"public"}
    assert "Traceback" not in stderr


def test_serve_keeps_the_key_and_data_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "emu.db"
    process, url, key = _serve(db)
    try:
        created = httpx.post(
            f"{url}/api/v1/console/workflows",
            json={"name": "Kept", "system_prompt": "You help."},
            headers={"Authorization": f"Bearer {key}"},
        ).json()["data"]
    finally:
        _stop(process)
    process, url, second_key = _serve(db)
    try:
        again = httpx.get(
            f"{url}/api/v1/console/workflows/{created['id']}",
            headers={"Authorization": f"Bearer {key}"},
        )
    finally:
        _stop(process)
    assert second_key == key
    assert again.json()["data"]["name"] == "Kept"


def test_serve_on_a_busy_port_names_the_port(tmp_path: Path) -> None:
    """Finding 7: a user error (exit 1, one line), not "Internal error" exit 3."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        db = tmp_path / "emu.db"
        served = invoke("emulator", "serve", "--port", str(port), "--db", db)
    assert served.exit_code == 1, served.text
    assert served.stderr == (
        f"Error: port {port} on 127.0.0.1 is already in use: stop what listens there, or choose"
        " another port with --port (--port 0 picks a free one)\n"
    )
    assert not db.exists()
