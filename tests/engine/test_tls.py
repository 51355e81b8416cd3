"""https, proven (finding 4): `bimpe-iac emulator serve --tls-cert --tls-key` serves it, and
the client trusts what httpx trusts, no more.

A throwaway CA and server certificates come from `trustme`. Without the CA in the trust store
the certificate is refused (exit 1, one line); a certificate for another host name is refused
even with the CA trusted; `SSL_CERT_FILE` naming the CA makes a whole apply and plan work
over https, and the team (read through the SDK) holds what the stack says.
"""

from __future__ import annotations

import re
import shutil
import signal
import ssl
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trustme
from bimpeai import BimpeAI
from cli_runner import invoke

NO_TRUST: dict[str, str | None] = {"SSL_CERT_FILE": None, "SSL_CERT_DIR": None}


@dataclass(frozen=True)
class Served:
    url: str
    key: str


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _serve_https(
    ca: trustme.CA, directory: Path, *names: str
) -> Iterator[tuple[subprocess.Popen[str], Served]]:
    issued = ca.issue_cert(*names)
    cert, key = directory / "server.pem", directory / "server.key"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    issued.private_key_pem.write_to_path(str(key))
    command = [sys.executable, "-m", "bimpe_iac", "emulator", "serve", "--port", "0"]
    command += ["--db", str(directory / "emu.db"), "--tls-cert", str(cert), "--tls-key", str(key)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    url = api_key = ""
    for _ in range(10):
        line = process.stdout.readline()
        if found := re.search(r"BIMPE_BASE_URL=(\S+)", line):
            url = found.group(1)
        if found := re.search(r"BIMPE_API_KEY=(\S+)", line):
            api_key = found.group(1)
        if url and api_key:
            break
    try:
        assert url.startswith("https://127.0.0.1:"), url
        yield process, Served(url, api_key)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)


@pytest.fixture(scope="module")
def served(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The emulator over https with a certificate for 127.0.0.1 from the throwaway CA."""
    for _, running in _serve_https(ca, tmp_path_factory.mktemp("https"), "127.0.0.1"):
        yield running


@pytest.fixture(scope="module")
def misnamed(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The same, with a certificate for another host name."""
    for _, running in _serve_https(ca, tmp_path_factory.mktemp("misnamed"), "api.example.test"):
        yield running


def _environ(served: Served, **extra: str | None) -> dict[str, str | None]:
    return {"BIMPE_API_KEY": served.key, "BIMPE_BASE_URL": served.url, **NO_TRUST, **extra}


def _one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: could not reach BimpeAI"), stderr
    return lines[0]


def test_an_untrusted_certificate_is_refused(served: Served, full_stack: Path) -> None:
    outcome = invoke("plan", full_stack, env=_environ(served))
    assert outcome.exit_code == 1, outcome.text
    assert "certificate verify failed" in _one_error_line(outcome.stderr)


def test_a_certificate_for_another_host_name_is_refused(
    misnamed: Served, ca_file: Path, full_stack: Path
) -> None:
    outcome = invoke("plan", full_stack, env=_environ(misnamed, SSL_CERT_FILE=str(ca_file)))
    assert outcome.exit_code == 1, outcome.text
    assert "127.0.0.1" in _one_error_line(outcome.stderr)
    assert "certificate verify failed" in outcome.stderr


def test_plan_and_apply_run_over_https_trusting_the_ca_in_ssl_cert_file(
    served: Served, ca_file: Path, full_stack: Path
) -> None:
    env = _environ(served, SSL_CERT_FILE=str(ca_file))
    applied = invoke("apply", full_stack, "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.text
    plan = invoke("plan", full_stack, "--detailed-exitcode", env=env)
    assert plan.exit_code == 0, plan.text
    trusted = ssl.create_default_context(cafile=str(ca_file))
    with (
        httpx.Client(verify=trusted) as http,
        BimpeAI(api_key=served.key, base_url=served.url, http_client=http) as sdk,
    ):
        agents = sdk.agents.list().data
        assert Counter(a.name for a in agents) == {"Full bot": 1, "Catalog bot": 1}
        bot = next(a for a in agents if a.name == "Full bot")
        assert Counter(kb.name for kb in sdk.agents.knowledge_bases.list(bot.id)) == {
            "FAQ": 1,
            "Site": 1,
        }
        owned = sdk.workflows.list(scope="owned").data
        assert [w.name for w in owned] == ["Main workflow"]


def test_a_key_that_is_not_its_certificates_is_refused_at_start(
    ca: trustme.CA, tmp_path: Path
) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "other.key"
    ca.issue_cert("127.0.0.1").cert_chain_pems[0].write_to_path(str(cert))
    ca.issue_cert("127.0.0.1").private_key_pem.write_to_path(str(key))
    outcome = invoke("emulator", "serve", "--port", "0", "--tls-cert", cert, "--tls-key", key)
    assert outcome.exit_code == 1, outcome.text
    assert "are not a PEM certificate and its private key" in outcome.stderr
    alone = invoke("emulator", "serve", "--port", "0", "--tls-cert", cert)
    assert alone.exit_code == 1 and "go together" in alone.stderr


def test_ssl_cert_dir_trusting_the_ca_works_too(
    served: Served,
    ca_file: Path,
    make_stack: Callable[[str, dict[str, str]], Path],
    tmp_path: Path,
) -> None:
    """`SSL_CERT_DIR` is a directory of certificates named by their subject hash, as
    `openssl rehash` lays it out."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to name the CA by its subject hash")
    hashed = subprocess.run(
        ["openssl", "x509", "-hash", "-noout", "-in", str(ca_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    trusted = tmp_path / "certs"
    trusted.mkdir()
    shutil.copy(ca_file, trusted / f"{hashed}.0")
    stack = make_stack(
        "dir",
        {
            "stack.yaml": "name: dir\n",
            "resources.yaml": "workflows:\n  w: {name: Trusted by dir, system_prompt: Hi.}\n",
        },
    )
    plan = invoke("plan", stack, env=_environ(served, SSL_CERT_DIR=str(trusted)))
    assert plan.exit_code == 0, plan.text
    assert "Trusted by dir" in plan.text
