"""The connection layer: targets from the environment, the embedded emulator, secrets kept out
of reprs and debug logs, and SDK retries over an unreliable in-process emulator."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bimpe_iac.connection import DEFAULT_BASE_URL, Target, open_client, resolve_target
from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.server import start_in_thread
from bimpe_iac.errors import ConfigError
from bimpe_iac.secrets import Secret


def test_no_key_means_the_embedded_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BIMPE_API_KEY", raising=False)
    monkeypatch.delenv("BIMPE_BASE_URL", raising=False)
    target = resolve_target(emulator_db=tmp_path / "emu.db")
    assert target.embedded
    assert "local BimpeAI emulator" in target.describe()


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIMPE_API_KEY", "sk_live_do_not_print")
    monkeypatch.setenv("BIMPE_BASE_URL", "https://bimpe.example.test")
    target = resolve_target()
    assert not target.embedded
    assert target.base_url == "https://bimpe.example.test"
    assert "sk_live_do_not_print" not in repr(target)
    assert "sk_live_do_not_print" not in str(target.api_key)


def test_a_named_target_without_its_key_is_a_config_error() -> None:
    for environ in ({}, {"PROD_KEY": ""}, {"PROD_KEY": " \t"}, {"BIMPE_API_KEY": "sk_other"}):
        with pytest.raises(ConfigError, match=r"^PROD_KEY is not set or is empty"):
            resolve_target(api_key_env="PROD_KEY", named=True, environ=environ)


def test_base_url_precedence() -> None:
    environ = {"BIMPE_API_KEY": "sk_x", "BIMPE_BASE_URL": "https://variable.example.test"}
    explicit = resolve_target(base_url="https://env.example.test", named=True, environ=environ)
    assert explicit.base_url == "https://env.example.test"
    assert explicit.notices == (
        "Using the environment's base_url https://env.example.test; BIMPE_BASE_URL is ignored.",
    )
    filled = resolve_target(named=True, environ=environ)
    assert filled.base_url == "https://variable.example.test" and filled.notices == ()
    same = {**environ, "BIMPE_BASE_URL": "https://env.example.test/"}
    agreeing = resolve_target(base_url="https://env.example.test", named=True, environ=same)
    assert agreeing.notices == ()
    assert resolve_target(environ={"BIMPE_API_KEY": "sk_x"}).base_url == DEFAULT_BASE_URL


def test_the_emulator_when_asked_or_when_nothing_is_named(tmp_path: Path) -> None:
    db = tmp_path / "emu.db"
    asked = resolve_target(
        api_key_env="PROD_KEY",
        named=True,
        emulator=True,
        emulator_db=db,
        environ={"PROD_KEY": "sk_x"},
    )
    assert asked.embedded and asked.api_key is None
    unnamed = resolve_target(emulator_db=db, environ={"BIMPE_BASE_URL": "https://x.test"})
    assert unnamed.embedded
    assert unnamed.notices == (
        f"No BIMPE_API_KEY set: using the local BimpeAI emulator ({db}).",
        "BIMPE_BASE_URL is set, but is not used without BIMPE_API_KEY.",
    )


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("sk_x"))


def test_embedded_emulator_keeps_data_between_runs(tmp_path: Path) -> None:
    target = Target(base_url="unused", api_key=None, emulator_db=tmp_path / "emu.db")

    async def create() -> str:
        async with open_client(target) as client:
            workflow = await client.workflows.create(name="Kept", system_prompt="You help.")
            return workflow.id

    async def read(workflow_id: str) -> str:
        async with open_client(target) as client:
            return (await client.workflows.retrieve(workflow_id)).name

    workflow_id = asyncio.run(create())
    assert asyncio.run(read(workflow_id)) == "Kept"


def test_debug_http_log_redacts_the_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    emulator = create_emulator(tmp_path / "emu.db")
    running = start_in_thread(emulator)
    target = Target(
        base_url=running.url, api_key=Secret(emulator.api_key), debug_http=True, max_retries=0
    )

    async def call() -> None:
        async with open_client(target) as client:
            await client.agents.list()

    try:
        with caplog.at_level(logging.DEBUG, logger="bimpe_iac.http"):
            asyncio.run(call())
    finally:
        running.stop()
    logged = caplog.text
    assert "GET " in logged and "/api/v1/console/agents" in logged
    assert "Bearer ***" in logged
    assert emulator.api_key not in logged


def test_sdk_retries_through_dropped_connections_without_duplicates(tmp_path: Path) -> None:
    """Half the requests fail after the server committed them; idempotency keys make the SDK's
    retries replay the first answer instead of creating twice."""
    db = tmp_path / "emu.db"
    faults = FaultSettings(
        fault_rate=0.5, fault_kinds={"drop_after_commit": 1.0}, seed=7, retry_after_s=0
    )
    target = Target(
        base_url="unused", api_key=None, emulator_db=db, max_retries=8, emulator_faults=faults
    )

    async def run() -> tuple[list[str], int]:
        async with open_client(target) as client:
            ids = [
                (await client.workflows.create(name=f"wf {i}", system_prompt="x")).id
                for i in range(3)
            ]
            owned = await client.workflows.list(scope="owned", limit=100)
            return ids, len(owned.data)

    ids, stored = asyncio.run(run())
    assert len(set(ids)) == 3
    assert stored == 3
