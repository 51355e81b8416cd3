"""Shared fixtures: a real emulator served over loopback HTTP, and a fresh team per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from bimpeai import AsyncBimpeAI, BimpeAI

from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.server import RunningEmulator, start_in_thread


@dataclass(frozen=True)
class Team:
    id: str
    api_key: str


class Admin:
    """The emulator's admin API, as a test uses it."""

    def __init__(self, running: RunningEmulator) -> None:
        self.url = running.url
        self.http = httpx.Client(
            base_url=running.url,
            headers={"Authorization": f"Bearer {running.emulator.admin_token}"},
            timeout=30,
        )

    def call(self, method: str, path: str, json: Any = None) -> Any:
        response = self.http.request(method, f"/_emulator{path}", json=json)
        response.raise_for_status()
        return response.json()["data"]

    def new_team(self, name: str = "test team") -> Team:
        data = self.call("POST", "/teams", {"name": name})
        return Team(data["id"], data["api_key"])

    def assign_number(self, team: Team, e164: str, label: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/teams/{team.id}/phone-numbers", {"e164": e164, "label": label}
        )
        return result

    def set_faults(self, **settings: Any) -> None:
        self.call("PUT", "/faults", FaultSettings(**settings).model_dump())

    def counters(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/counters")
        return result


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator for the session; tests isolate themselves by team. Never set faults on it."""
    db = tmp_path_factory.mktemp("emulator") / "emulator.db"
    running = start_in_thread(create_emulator(db))
    yield running
    running.stop()


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[Callable[..., RunningEmulator]]:
    """Start a private emulator (for faults, latency or restarts); all are stopped afterwards."""
    started: list[RunningEmulator] = []

    def start(db: Path | None = None, **faults: Any) -> RunningEmulator:
        running = start_in_thread(
            create_emulator(db or tmp_path / "private.db", FaultSettings(**faults))
        )
        started.append(running)
        return running

    yield start
    for running in started:
        if running._thread.is_alive():
            running.stop()


@pytest.fixture(scope="session")
def admin(emulator: RunningEmulator) -> Admin:
    return Admin(emulator)


@pytest.fixture
def team(admin: Admin) -> Team:
    return admin.new_team()


@pytest.fixture
def sdk(emulator: RunningEmulator, team: Team) -> Iterator[BimpeAI]:
    with BimpeAI(api_key=team.api_key, base_url=emulator.url) as client:
        yield client


@pytest.fixture
def async_sdk(emulator: RunningEmulator, team: Team) -> AsyncBimpeAI:
    return AsyncBimpeAI(api_key=team.api_key, base_url=emulator.url)
