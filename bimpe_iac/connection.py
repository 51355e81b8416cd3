"""The one place that builds the official SDK client for a target: a remote BimpeAI API (base
URL plus key) or the embedded emulator. One shared HTTP client per run, sized to the run's
parallelism and paced to the API's rate limit (`pacing.py`); the API key stays inside a Secret
and never reaches a repr, a log or an error."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from bimpeai import AsyncBimpeAI

from bimpe_iac.answers import AnswerCheckingClient
from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.errors import ConfigError
from bimpe_iac.http_client import api_http_client, log_request, log_response, masked_url
from bimpe_iac.pacing import Pacer
from bimpe_iac.secrets import Secret, remember

DEFAULT_BASE_URL = "https://api.bimpe.ai"
DEFAULT_KEY_ENV = "BIMPE_API_KEY"
BASE_URL_ENV = "BIMPE_BASE_URL"
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
    notices: tuple[str, ...] = ()
    """What the user should know about how the target was chosen, one line each."""

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
    api_key_env: str = DEFAULT_KEY_ENV,
    named: bool = False,
    emulator: bool = False,
    emulator_db: Path | None = None,
    timeout_s: float = 30.0,
    max_retries: int = 4,
    parallelism: int = 16,
    debug_http: bool = False,
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """The target an environment resolves to (docs/credentials.md).

    `named`: the environment names a key variable or a base URL, so its key must be set.
    `emulator`: the environment or the command line asks for the embedded emulator. Otherwise,
    with no key set, the embedded emulator is used so that a first run needs no account. An
    explicit `base_url` wins over `BIMPE_BASE_URL`, which only fills in when there is none.
    """
    from_env = environ.get("BIMPE_EMULATOR_DB", "")
    db = Path(from_env) if from_env else (emulator_db or DEFAULT_EMULATOR_DB)

    def target(url: str, key: Secret | None, *notices: str) -> Target:
        return Target(
            url,
            key,
            db,
            timeout_s=timeout_s,
            max_retries=max_retries,
            parallelism=parallelism,
            debug_http=debug_http,
            notices=notices,
        )

    if emulator:
        return target(EMBEDDED_URL, None, f"Using the local BimpeAI emulator ({db}), as asked.")
    key = environ.get(api_key_env, "").strip()
    if not key:
        if named:
            raise ConfigError(
                f"{api_key_env} is not set or is empty, and the environment's target needs it:"
                " set it to the team's API key (or pass --emulator to use the local emulator)"
            )
        notices = [f"No {api_key_env} set: using the local BimpeAI emulator ({db})."]
        if environ.get(BASE_URL_ENV, "").strip():
            notices.append(f"{BASE_URL_ENV} is set, but is not used without {api_key_env}.")
        return target(EMBEDDED_URL, None, *notices)
    from_variable = environ.get(BASE_URL_ENV, "").strip()
    _refuse_credentials(base_url, "the environment's base_url")
    _refuse_credentials(from_variable, BASE_URL_ENV)
    if base_url:
        ignored = from_variable and from_variable.rstrip("/") != base_url.rstrip("/")
        notice = f"Using the environment's base_url {base_url}; {BASE_URL_ENV} is ignored."
        return target(base_url, Secret(key), *([notice] if ignored else []))
    return target(from_variable or DEFAULT_BASE_URL, Secret(key))


def _refuse_credentials(url: str | None, source: str) -> None:
    """A user or password in a base URL would be HTTP Basic credentials, which need the
    Authorization header that carries the API key: they cannot be sent as the URL means, and
    are refused rather than dropped (docs/http.md)."""
    if not url:
        return
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return  # not a URL at all: the SDK's first request says so
    if not (parsed.username or parsed.password):
        return
    remember([parsed.password, parsed.userinfo.decode("ascii").partition(":")[2]])
    raise ConfigError(
        f"{source} {masked_url(url)} holds a user name and password: BimpeAI takes only the"
        " API key, in the Authorization header that HTTP Basic credentials would need, so"
        " they cannot be sent; remove them from the URL"
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
        http = api_http_client(
            parallelism=target.parallelism,
            timeout_s=target.timeout_s,
            pacer=pacer,
            log_http=target.debug_http,
        )
        key, base_url = target.api_key.reveal(), target.base_url
    client = AnswerCheckingClient(
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
