"""The one place that builds the official SDK client for a target: a remote BimpeAI API (base
URL plus key) or the embedded emulator. One shared HTTP client per run, sized to the run's
parallelism and paced to the API's rate limit (`pacing.py`); the API key stays inside a Secret
and never reaches a repr, a log or an error."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from bimpeai import AsyncBimpeAI

from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.http_client import ApiHttpClient, log_request, log_response
from bimpe_iac.pacing import Pacer
from bimpe_iac.secrets import Secret

DEFAULT_BASE_URL = "https://api.bimpe.ai"
DEFAULT_EMULATOR_DB = Path(".bimpe") / "emulator.db"
EMBEDDED_URL = "http://emulator.invalid"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a run talks to. `api_key` None means the embedded emulator at `emulator_db`."""

    base_url: str
    api_key: Secret | None
    emulator_db: Path = DEFAULT_EMULATOR_DB
    timeout_s: float = 30.0
    max_retries: int = 4
    parallelism: int = 16
    debug_http: bool = False
    emulator_faults: FaultSettings | None = None

    @property
    def embedded(self) -> bool:
        return self.api_key is None

    def describe(self) -> str:
        if self.embedded:
            return f"the local BimpeAI emulator ({self.emulator_db})"
        return self.base_url


def resolve_target(
    *,
    base_url: str | None = None,
    api_key_env: str = "BIMPE_API_KEY",
    emulator_db: Path | None = None,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    parallelism: int = 16,
    debug_http: bool = False,
) -> Target:
    """The target from the environment first (BIMPE_API_KEY, BIMPE_BASE_URL), then settings.

    With no key in the environment the run uses the embedded emulator, so it needs no account.
    """
    key = os.environ.get(api_key_env, "").strip()
    from_env = os.environ.get("BIMPE_EMULATOR_DB", "")
    db = Path(from_env) if from_env else (emulator_db or DEFAULT_EMULATOR_DB)
    return Target(
        base_url=os.environ.get("BIMPE_BASE_URL") or base_url or DEFAULT_BASE_URL,
        api_key=Secret(key) if key else None,
        emulator_db=db,
        timeout_s=timeout_s,
        max_retries=max_retries,
        parallelism=parallelism,
        debug_http=debug_http,
    )


@asynccontextmanager
async def open_client(target: Target) -> AsyncIterator[AsyncBimpeAI]:
    """An async SDK client for the target, closed (with its emulator, if any) on exit."""
    limits = httpx.Limits(
        max_connections=target.parallelism, max_keepalive_connections=target.parallelism
    )
    pacer = Pacer()
    hooks: dict[str, list[object]] = {"request": [pacer.before], "response": [pacer.after]}
    if target.debug_http:
        hooks["request"].append(log_request)
        hooks["response"].append(log_response)
    emulator = None
    if target.api_key is None:
        from bimpe_iac.emulator.app import create_emulator
        from bimpe_iac.emulator.transport import EmulatorTransport

        emulator = create_emulator(target.emulator_db, target.emulator_faults, in_process=True)
        http = httpx.AsyncClient(
            transport=EmulatorTransport(emulator.asgi),
            limits=limits,
            timeout=target.timeout_s,
            event_hooks=hooks,  # type: ignore[arg-type]
        )
        key, base_url = emulator.api_key, EMBEDDED_URL
    else:
        http = ApiHttpClient(
            parallelism=target.parallelism,
            timeout_s=target.timeout_s,
            pacer=pacer,
            event_hooks=hooks,
            log_http=target.debug_http,
        )
        key, base_url = target.api_key.reveal(), target.base_url
    client = AsyncBimpeAI(
        api_key=key,
        base_url=base_url,
        timeout=target.timeout_s,
        max_retries=target.max_retries,
        http_client=http,
    )
    try:
        yield client
    finally:
        await http.aclose()
        if emulator is not None:
            emulator.close()
