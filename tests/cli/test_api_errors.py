"""API failures outside an apply step (reading the live state) end with one clear line and
exit 1: a wrong key names the 401 and its request id; an unreachable API says why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from example_copy import copy_example

from bimpe_iac.emulator.server import RunningEmulator


def _plan(stack: Path, key: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {"BIMPE_API_KEY": key, "BIMPE_BASE_URL": url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "bimpe_iac", "plan", str(stack)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_wrong_key_is_a_clear_error(emulator: RunningEmulator, tmp_path: Path) -> None:
    stack = tmp_path / "support"
    copy_example("support", stack)
    result = _plan(stack, "sk_wrong_key", emulator.url)
    assert result.returncode == 1
    assert "401 api_key_invalid" in result.stderr and "request id" in result.stderr
    assert "sk_wrong_key" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_api_is_a_clear_error(tmp_path: Path) -> None:
    stack = tmp_path / "support"
    copy_example("support", stack)
    result = _plan(stack, "sk_any", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "could not reach BimpeAI" in result.stderr
    assert "Internal error" not in result.stderr
