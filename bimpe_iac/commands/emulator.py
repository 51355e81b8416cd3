"""`bimpe-iac emulator ...`: run the local BimpeAI emulator, or write its OpenAPI document.

The emulator's server stack is imported only when one of these commands runs, so that the
other commands start quickly."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bimpe_iac.errors import ConfigError

if TYPE_CHECKING:
    from bimpe_iac.emulator.server import TlsFiles


@click.group()
def emulator() -> None:
    """The local BimpeAI emulator."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--db",
    "db_path",
    default=".bimpe/emulator.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database; kept across restarts.",
)
@click.option("--latency-ms", default=0.0, type=click.FloatRange(0, 60_000))
@click.option("--fault-rate", default=0.0, type=click.FloatRange(0, 1))
@click.option("--rate-limit", default=None, type=click.IntRange(1), help="Requests/s per key.")
@click.option("--seed", default=None, type=int, help="Seed for reproducible faults.")
@click.option("--admin-token", default=None, envvar="BIMPE_EMULATOR_ADMIN_TOKEN")
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PEM certificate (chain) to serve https; needs --tls-key.",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PEM private key of --tls-cert.",
)
def serve_command(
    host: str,
    port: int,
    db_path: Path,
    latency_ms: float,
    fault_rate: float,
    rate_limit: int | None,
    seed: int | None,
    admin_token: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve the Console API over HTTP (https with --tls-cert and --tls-key) until Ctrl-C.

    \b
    Example:
      bimpe-iac emulator serve --port 8787 --latency-ms 25
      curl -H "Authorization: Bearer $KEY" \\
        'http://127.0.0.1:8787/api/v1/console/workflows?scope=public'
    """
    from bimpe_iac.emulator.app import create_emulator
    from bimpe_iac.emulator.faults import FaultSettings
    from bimpe_iac.emulator.server import bind, serve

    tls = _tls_files(tls_cert, tls_key)
    settings = FaultSettings(
        latency_ms=latency_ms, fault_rate=fault_rate, rate_limit=rate_limit, seed=seed
    )
    try:  # before the database is opened, so that a busy port leaves nothing behind
        sock = bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop what listens there, or choose"
                " another port with --port (--port 0 picks a free one)"
            ) from None
        raise ConfigError(f"cannot listen on {host} port {port}: {exc.strerror}") from None
    running = create_emulator(db_path, settings, admin=admin_token)
    url = f"{'https' if tls else 'http'}://{host}:{sock.getsockname()[1]}"
    click.echo(f"BimpeAI emulator serving {url}  (database {db_path})")
    click.echo(f"  BIMPE_BASE_URL={url}")
    click.echo(f"  BIMPE_API_KEY={running.api_key}")
    click.echo(f"  admin token (for {url}/_emulator): {running.admin_token}")
    click.echo("Press Ctrl-C to stop.")
    try:
        serve(running, sock, tls=tls)
    finally:
        running.close()


def _tls_files(cert: Path | None, key: Path | None) -> TlsFiles | None:
    """Both files, checked to load as a certificate and its key before anything starts."""
    import ssl

    from bimpe_iac.emulator.server import TlsFiles

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ConfigError("--tls-cert and --tls-key go together: give both to serve https")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ConfigError(
            f"{cert} and {key} are not a PEM certificate and its private key ({exc.reason})"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the TLS certificate or key: {exc.strerror}: {exc.filename}"
        ) from None
    return TlsFiles(cert, key)


@emulator.command("openapi")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def openapi_command(out: Path | None) -> None:
    """Print (or write) the emulator's OpenAPI document."""
    text = openapi_text()
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def openapi_text() -> str:
    from bimpe_iac.emulator.app import build_api

    return json.dumps(build_api().openapi(), indent=2, sort_keys=True) + "\n"
