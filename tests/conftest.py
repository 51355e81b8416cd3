"""Shared fixtures: a real emulator served over loopback HTTP, and a fresh team per test."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bimpeai import AgentCreateResponse, AsyncBimpeAI, BimpeAI, Workflow
from emulator_admin import Admin, Team
from forked import Child

from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.gateway import API_PREFIX
from bimpe_iac.emulator.server import RunningEmulator, start_in_thread


@pytest.fixture(autouse=True)
def crash_logs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Crash logs of the runs a test makes land in a temporary directory, not ~/.cache."""
    directory = tmp_path_factory.mktemp("crash-logs")
    monkeypatch.setenv("BIMPE_CRASH_LOG_DIR", str(directory))
    return directory


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


# --- factories and helpers for the emulator suite -------------------------------------------

_numbers = itertools.count(random.randrange(1_000_000, 5_000_000))


@pytest.fixture(scope="session")
def new_e164() -> Callable[[], str]:
    """Phone numbers are unique across an emulator: each call gives one not handed out yet."""
    return lambda: f"+1555{next(_numbers):07d}"


@pytest.fixture
def other_team(admin: Admin) -> Team:
    return admin.new_team("other team")


@pytest.fixture
def other_sdk(emulator: RunningEmulator, other_team: Team) -> Iterator[BimpeAI]:
    with BimpeAI(api_key=other_team.api_key, base_url=emulator.url) as client:
        yield client


@pytest.fixture
def http(emulator: RunningEmulator, team: Team) -> Iterator[httpx.Client]:
    """Plain HTTP to the Console API as `team`, for what the SDK does not expose (headers)."""
    with httpx.Client(
        base_url=f"{emulator.url}{API_PREFIX}",
        headers={"Authorization": f"Bearer {team.api_key}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def make_workflow(sdk: BimpeAI) -> Callable[..., Workflow]:
    """Create a workflow (in the test team unless `client` is given); body fields override."""

    def make(client: BimpeAI | None = None, **body: Any) -> Workflow:
        fields: dict[str, Any] = {
            "name": "Support flow",
            "system_prompt": "You are a helpful support agent.",
            **body,
        }
        return (client or sdk).workflows.create(**fields)

    return make


@pytest.fixture
def make_agent(
    sdk: BimpeAI, make_workflow: Callable[..., Workflow]
) -> Callable[..., AgentCreateResponse]:
    """Create an agent (in the test team unless `client` is given), on a new workflow of that
    team unless `workflow_id` is given; body fields override."""

    def make(client: BimpeAI | None = None, **body: Any) -> AgentCreateResponse:
        client = client or sdk
        if "workflow_id" not in body:
            body["workflow_id"] = make_workflow(client).id
        fields: dict[str, Any] = {
            "name": "Test agent",
            "description": "An agent under test",
            **body,
        }
        return client.agents.create(**fields)

    return make


@pytest.fixture
def workflow(make_workflow: Callable[..., Workflow]) -> Workflow:
    return make_workflow()


@pytest.fixture
def agent(
    make_agent: Callable[..., AgentCreateResponse], workflow: Workflow
) -> AgentCreateResponse:
    return make_agent(workflow_id=workflow.id)


@dataclass
class PrivateEmulator:
    """A private server with its admin helper and SDK clients for its default team."""

    running: RunningEmulator
    admin: Admin
    _clients: list[BimpeAI] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def api_key(self) -> str:
        return self.running.emulator.api_key

    def client(self, **options: Any) -> BimpeAI:
        client = BimpeAI(api_key=self.api_key, base_url=self.url, **options)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.admin.http.close()


@pytest.fixture
def private_emulator(
    start_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> Iterator[Callable[..., PrivateEmulator]]:
    """Start a private emulator with the given fault settings (see `start_emulator`); each
    gets its own database unless `db` is given."""
    started: list[PrivateEmulator] = []

    def start(db: Path | None = None, **faults: Any) -> PrivateEmulator:
        running = start_emulator(db or tmp_path / f"private-{len(started)}.db", **faults)
        private = PrivateEmulator(running, Admin(running))
        started.append(private)
        return private

    yield start
    for private in started:
        private.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    """Start child processes; any still running at the end of the test is killed."""
    children: list[Child] = []

    def start(target: Callable[..., None], *args: Any) -> Child:
        child = Child(target, *args)
        children.append(child)
        return child

    yield start
    for child in children:
        child.kill()
