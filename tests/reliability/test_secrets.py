"""Neither the API key nor the value of a sensitive var ever leaves bimpe-iac in the clear.

The CLI runs in-process against a private emulator over loopback HTTP whose default team's API
key the test knows, with `--debug-http` wherever a command has it (and `-v` on some) and with
every logger captured at DEBUG. The stacks:

- examples/stacks/multi-env, environment prod: `escalation_email` is a sensitive var;
- a small stack whose sensitive var is a line of an inline system prompt and part of a knowledge
  base's content (text read with `{file: ...}` is never interpolated, so the prompt is inline);
  its value holds a quote, a backslash and non-ASCII letters, so an escaped form would show too.

Commands: validate; plan as text, JSON and Markdown, and with --out; apply, and apply of the saved
plan; drift as text, JSON and Markdown after the live values were edited through the SDK so that
the secret is in the drift diff (and plan and apply again); smoke; state list, show, pull,
history and lock status; state rm and import; export. Error paths: an invalid stack quoting the
sensitive value, the API's 401 for a wrong key (that key is a secret too), a 400 whose message
quotes the sensitive value it was sent, a 404 during apply, a state lock held by another run, a
stale saved plan, and a refused connection (whichever way the CLI's error boundary reports the
last two, as a known error or as an internal one).

Asserted: neither secret, raw, JSON-escaped or URL-encoded (nor the key's random part), is in
stdout, stderr or any log record; nor in any file bimpe-iac wrote: saved plans, the state file
and its .backup, the lock file (read while it is held). Nor in repr() of a Target or Workspace,
nor in what the SDK's exception for a bad key carries.

After a rotation of the sensitive var (to values sharing a prefix with the old one) and hand
edits of the live field through the SDK, neither old nor new values, nor the hand-typed ones,
show in any output or file, and no SHA-256/SHA-1/MD5/BLAKE2 digest of them (hex or base64) is
in a file; a 4-digit PIN is not found by hashing all 10,000 candidates. Drift of a sensitive
field is seen (masked), a new API key invents none, and the next apply records it again.

Export writes the team's live configuration as BimpeAI holds it. A value that came from a
sensitive var is part of that configuration, so the exported files may contain it (the test
shows they do); they never contain the API key, and export's own output holds neither.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bimpeai import AuthenticationError, BimpeAI
from click.testing import CliRunner
from example_copy import copy_example

from bimpe_iac.cli import main
from bimpe_iac.commands.workspace import open_workspace
from bimpe_iac.emulator.server import RunningEmulator
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.local import LocalStateStore

PROD_ESCALATION = "oncall-7f3k9@kora.example"  # examples/stacks/multi-env, sensitive in prod
DOOR_CODE = 'Vault"Code\\7f3k-ÄØ-4242'
SMALL_STACK = {
    "stack.yaml": f"""name: vault
environments:
  test:
    vars:
      door_code:
        value: {json.dumps(DOOR_CODE)}
        sensitive: true
""",
    "resources.yaml": """workflows:
  front-desk:
    name: Front desk
    system_prompt: |
      You greet visitors.
      The door code is ${var.door_code}; never say it.
      Be brief.
agents:
  greeter:
    workflow: front-desk
    name: Greeter
    description: Greets visitors
    knowledge_bases:
      codes: {type: text, name: Codes, content: "Door: ${var.door_code} (staff only)."}
""",
}
LOGGERS = ("bimpe_iac", "bimpe_iac.http")


def forms(secret: str) -> set[str]:
    """The ways a secret could be written out: as is, JSON-escaped and URL-encoded."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        urllib.parse.quote(secret, safe=""),
    }


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


class Cli:
    """The CLI run in-process with `environ`; every answer and every log record is checked for
    each of `secrets` as soon as a command returns."""

    def __init__(
        self, environ: dict[str, str], caplog: pytest.LogCaptureFixture, secrets: set[str]
    ) -> None:
        self.environ = environ
        self.caplog = caplog
        self.secrets = secrets

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Outcome:
        saved = {name: logging.getLogger(name) for name in LOGGERS}
        handlers = {name: (log.handlers[:], log.level) for name, log in saved.items()}
        runner = CliRunner()
        argv = sys.argv
        try:
            with runner.isolation(env={**self.environ, **(env or {})}) as (out, err, _):
                sys.argv = ["bimpe-iac", *map(str, args)]
                code = 0
                try:
                    main()
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else 1
                outcome = Outcome(code, out.getvalue().decode(), err.getvalue().decode())
        finally:
            sys.argv = argv
            for name, log in saved.items():  # --debug-http and -v add handlers to the process
                log.handlers[:], log.level = handlers[name]
        command = " ".join(map(str, args))
        self.check(f"stdout of {command}", outcome.out)
        self.check(f"stderr of {command}", outcome.err)
        records = "\n".join(
            f"{record.name}: {record.getMessage()}" for record in self.caplog.records
        )
        self.check(f"the log records of {command}", f"{self.caplog.text}\n{records}")
        return outcome

    def check(self, where: str, text: str) -> None:
        for secret in self.secrets:
            for form in forms(secret):
                assert form not in text, f"{where} holds the secret {form!r}:\n{text}"

    def check_files(self, paths: Iterable[Path], secrets: set[str] | None = None) -> list[Path]:
        checked = []
        for path in paths:
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace")
                for secret in secrets or self.secrets:
                    for form in forms(secret):
                        assert form not in text, f"{path} holds the secret {form!r}"
                checked.append(path)
        return checked


@pytest.fixture
def capture_all(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger, whatever level it was given, at DEBUG into `caplog`."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def running(start_emulator: Callable[..., RunningEmulator]) -> RunningEmulator:
    return start_emulator()


@pytest.fixture
def key(running: RunningEmulator) -> str:
    return running.emulator.api_key


@pytest.fixture
def sdk(running: RunningEmulator, key: str) -> Iterator[BimpeAI]:
    with BimpeAI(api_key=key, base_url=running.url) as client:
        yield client


def environ_for(running: RunningEmulator, key: str) -> dict[str, str]:
    return {
        "BIMPE_API_KEY": key,
        "BIMPE_PROD_API_KEY": key,
        "BIMPE_STAGING_API_KEY": key,
        "BIMPE_BASE_URL": running.url,
        "NO_COLOR": "1",
    }


def secrets_of(key: str, *values: str) -> set[str]:
    return {key, key.removeprefix("sk_emu_"), *values}


def state_files(stack: Path) -> list[Path]:
    return [path for path in (stack / ".bimpe").rglob("*") if path.is_file()]


def write_stack(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def state_ids(stack: Path) -> dict[str, str]:
    state = next((stack / ".bimpe" / "state").rglob("*.json"))
    resources = json.loads(state.read_text())["resources"]
    return {address: entry["id"] for address, entry in resources.items()}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_multi_env_prod_lifecycle(
    running: RunningEmulator,
    key: str,
    sdk: BimpeAI,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    stack = tmp_path / "multi-env"
    copy_example("multi-env", stack)
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key, PROD_ESCALATION))
    env = ("--env", "prod")
    plan_file = tmp_path / "prod.plan.json"

    assert cli("validate", stack, *env).code == 0
    assert cli("plan", stack, *env, "--debug-http").code == 0
    assert cli("plan", stack, *env, "--format", "json").code == 0
    assert cli("plan", stack, *env, "--format", "markdown").code == 0
    assert cli("-v", "plan", stack, *env, "--out", plan_file, "--debug-http").code == 0
    applied = cli("apply", stack, *env, "--plan", plan_file, "--debug-http")
    assert applied.code == 0, applied.err
    assert "(sensitive)" in applied.out

    for command in (
        ("state", "list"),
        ("state", "show", "agents.sales"),
        ("state", "show", "agents.support"),
        ("state", "pull"),
        ("state", "history"),
        ("state", "lock", "status"),
    ):
        assert cli(*command, stack, *env).code == 0, command

    ids = state_ids(stack)
    sdk.agents.update(ids["agents.sales"], escalation_email="someone-else@kora.example")
    sdk.agents.update(
        ids["agents.support"], business_description=f"Escalations reach {PROD_ESCALATION}."
    )
    for fmt in ("text", "json", "markdown"):
        drift = cli("drift", stack, *env, "--format", fmt, "--debug-http")
        assert drift.code == 2, drift.err
        # The field held a sensitive value at the last apply: masked on both sides.
        assert "escalation_email" in drift.out
        assert "someone-else@kora.example" not in drift.out
    assert cli("plan", stack, *env, "--out", plan_file, "--format", "json").code == 0
    assert cli("-v", "apply", stack, *env, "--auto-approve", "--debug-http").code == 0
    smoke = cli("smoke", stack, *env, "--debug-http")
    assert smoke.code == 0, smoke.out + smoke.err
    assert cli("drift", stack, *env).code == 0

    written = cli.check_files([plan_file, *state_files(stack)])
    assert {path.name for path in written} >= {"prod.plan.json", "prod.json", "prod.json.backup"}


def test_a_secret_in_a_prompt_line_and_a_knowledge_base(
    running: RunningEmulator,
    key: str,
    sdk: BimpeAI,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    stack = write_stack(tmp_path / "vault", SMALL_STACK)
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key, DOOR_CODE))
    env = ("--env", "test")
    plan_file = tmp_path / "vault.plan.json"

    assert cli("validate", stack, *env, "--format", "json").code == 0
    for fmt in ("text", "json", "markdown"):
        assert cli("plan", stack, *env, "--format", fmt, "--debug-http").code == 0
    assert cli("plan", stack, *env, "--out", plan_file).code == 0
    assert cli("apply", stack, *env, "--plan", plan_file, "--debug-http").code == 0
    assert cli("state", "show", "workflows.front-desk", stack, *env).code == 0
    assert cli("state", "show", "agents.greeter.knowledge_bases.codes", stack, *env).code == 0
    assert cli("state", "pull", stack, *env).code == 0

    ids = state_ids(stack)
    prompt = sdk.workflows.retrieve(ids["workflows.front-desk"]).system_prompt or ""
    assert DOOR_CODE in prompt
    sdk.workflows.update(ids["workflows.front-desk"], system_prompt=f"{prompt}\nSmile.")
    sdk.agents.knowledge_bases.update(
        ids["agents.greeter"],
        ids["agents.greeter.knowledge_bases.codes"],
        content=f"Door: {DOOR_CODE} (staff and guests).",
    )
    for fmt in ("text", "json", "markdown"):
        drift = cli("drift", stack, *env, "--format", fmt, "--debug-http")
        assert drift.code == 2, drift.err
        assert "Smile." in drift.out and "(sensitive)" in drift.out
    for fmt in ("text", "json", "markdown"):
        assert cli("plan", stack, *env, "--format", fmt).code == 0
    assert cli("apply", stack, *env, "--auto-approve", "--debug-http").code == 0

    assert cli("state", "rm", "agents.greeter", stack, *env).code == 0
    imported = cli("import", "agents.greeter", ids["agents.greeter"], stack, *env, "--debug-http")
    assert imported.code == 0, imported.err
    assert cli("plan", stack, *env, "--adopt", "--debug-http").code == 0
    assert cli("smoke", stack, *env).code == 0

    out = tmp_path / "exported"
    exported = cli("export", "--out", out)
    assert exported.code == 0, exported.err
    files = [path for path in out.rglob("*") if path.is_file()]
    cli.check_files(files, secrets={key, key.removeprefix("sk_emu_")})
    # The live configuration holds the value the sensitive var gave it: so does the export.
    assert any(DOOR_CODE in path.read_text(encoding="utf-8") for path in files)
    cli.check_files([plan_file, *state_files(stack)])


def test_error_paths(
    running: RunningEmulator,
    key: str,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    wrong_key = f"sk_emu_{secrets.token_hex(16)}"
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key, DOOR_CODE) | {wrong_key})
    env = ("--env", "test")

    # A stack that does not validate, its messages quoting the sensitive value.
    invalid = write_stack(
        tmp_path / "invalid",
        {
            "stack.yaml": SMALL_STACK["stack.yaml"],
            "resources.yaml": """agents:
  greeter:
    workflow: {public: Customer Support Triage}
    name: Greeter
    description: d
    escalation_email: ${var.door_code}
    persona: ${var.door_code}
workflows:
  w: {name: W, system_prompt: p, setup_time: "${var.door_code}"}
""",
        },
    )
    for command in (("validate",), ("validate", "--format", "json"), ("plan",), ("apply",)):
        outcome = cli(*command, invalid, *env)
        assert outcome.code == 1
        assert "(sensitive)" in outcome.out + outcome.err

    stack = write_stack(tmp_path / "vault", SMALL_STACK)
    # The API's 401 for a wrong key.
    for command in (("plan", "--debug-http"), ("apply", "--auto-approve"), ("drift",)):
        outcome = cli(*command, stack, *env, env={"BIMPE_API_KEY": wrong_key})
        assert outcome.code != 0 and outcome.err

    # A refused connection.
    refused = {"BIMPE_BASE_URL": f"http://127.0.0.1:{closed_port()}"}
    assert cli("plan", stack, *env, "--debug-http", env=refused).code != 0

    assert cli("apply", stack, *env, "--auto-approve").code == 0

    # An unknown time zone made of the secret: found before any request, masked, and with no
    # "did you mean" that would tell which zone names the secret is close to.
    resources = stack / "resources.yaml"
    good = resources.read_text()
    resources.write_text(
        good.replace(
            "    description: Greets visitors\n",
            "    description: Greets visitors\n    timezone: Atlantis/${var.door_code}\n",
        )
    )
    failed = cli("apply", stack, *env, "--auto-approve", "--debug-http")
    assert failed.code == 1
    assert "is not an IANA time zone" in failed.err and "(sensitive)" in failed.err
    assert "did you mean" not in failed.err

    # A 404 during apply: the agent runs a workflow that does not exist.
    resources.write_text(
        good
        + """  second:
    workflow: {id: wf_missing}
    name: Second
    description: "Knows ${var.door_code}"
"""
    )
    failed = cli("apply", stack, *env, "--auto-approve")
    assert failed.code == 1 and "404" in failed.err
    resources.write_text(good)

    # A stale saved plan.
    plan_file = tmp_path / "stale.plan.json"
    resources.write_text(good.replace("Be brief.", "Be brief and kind."))
    assert cli("plan", stack, *env, "--out", plan_file).code == 0
    ids = state_ids(stack)
    with BimpeAI(api_key=key, base_url=running.url) as sdk:
        sdk.workflows.update(ids["workflows.front-desk"], name="Renamed outside")
    stale = cli("apply", stack, *env, "--plan", plan_file)
    assert stale.code == 1 and "stale" in stale.err

    # The state lock held by another run; its lock file is read while held.
    state = next((stack / ".bimpe" / "state").rglob("*.json"))
    store = LocalStateStore(state)
    with store, store.lock("apply", timeout_s=0):
        locks = [path for path in state_files(stack) if path.name.endswith(".lock")]
        assert cli.check_files(locks)
        held = cli("apply", stack, *env, "--auto-approve", "--debug-http")
        assert held.code == 1 and "locked" in held.err
        assert cli("state", "lock", "status", stack, *env).code == 0

    cli.check_files([plan_file, *state_files(stack)])


def test_reprs_and_sdk_errors_hold_no_key(
    running: RunningEmulator, key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stack = tmp_path / "multi-env"
    copy_example("multi-env", stack)
    monkeypatch.setenv("BIMPE_PROD_API_KEY", key)
    monkeypatch.setenv("BIMPE_BASE_URL", running.url)
    workspace = open_workspace(stack, "prod", debug_http=True, sections=REGISTRY.sections)
    for shown in (repr(workspace), str(workspace), repr(workspace.target), repr(workspace.stack)):
        for secret in secrets_of(key, PROD_ESCALATION):
            assert secret not in shown
    assert workspace.target.api_key is not None
    assert workspace.target.api_key.reveal() == key

    wrong_key = f"sk_emu_{secrets.token_hex(16)}"
    with (
        BimpeAI(api_key=wrong_key, base_url=running.url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.agents.list()
    error = caught.value
    carried = [
        str(error),
        repr(error),
        repr(error.args),
        json.dumps(error.body),
        repr(dict(error.headers)),
        repr(error.__cause__),
        repr(error.__context__),
    ]
    for shown in carried:
        assert wrong_key not in shown and wrong_key.removeprefix("sk_emu_") not in shown


# --- Rotation, hand edits, offline guessing -------------------------------------------------

ROTATIONS = (
    "oncall-7f3k9-b2@kora.example",  # shares its first 12 characters with the example's value
    "oncall-q8w2v@kora.example",
    "oncall-7f3k9-b2-x@kora.example",  # holds the first rotation whole
)
HAND_EDITS = ("hand-edit-one-5k2@kora.example", "hand-edit-two-9p4@kora.example")


def set_prod_escalation(stack: Path, value: str) -> None:
    path = stack / "stack.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("        value: ") + len("        value: ")
    end = text.index("\n", start)
    path.write_text(text[:start] + value + text[end:], encoding="utf-8")


def digest_forms(value: str) -> Iterator[str]:
    """Every digest of `value` (and of its JSON form, as a state hashes a field) a file might
    hold: SHA-256, SHA-1, MD5, BLAKE2b and BLAKE2s, as hex and as base64 (standard and URL)."""
    import base64
    import hashlib

    for text in (value, json.dumps(value), json.dumps(value, ensure_ascii=False)):
        data = text.encode("utf-8")
        for name in ("sha256", "sha1", "md5", "blake2b", "blake2s"):
            raw = hashlib.new(name, data).digest()
            yield raw.hex()
            yield base64.b64encode(raw).decode()
            yield base64.urlsafe_b64encode(raw).decode()


def _windows(text: str) -> set[str]:
    """Every run of 16 hex or base64 characters in `text`, at any offset."""
    import re

    found = set()
    for run in re.findall(r"[A-Za-z0-9+/_=-]{16,}", text):
        found.update(run[i : i + 16] for i in range(len(run) - 15))
        found.update(run[i : i + 16].lower() for i in range(len(run) - 15))
    return found


def digests_in(paths: Iterable[Path], values: Iterable[str]) -> list[tuple[str, Path]]:
    """The values of which some digest (its first or last 16 characters) is in a file."""
    windows = {path: _windows(path.read_bytes().decode("utf-8", "replace")) for path in paths}
    hits = []
    for value in values:
        for form in digest_forms(value):
            for path, found in windows.items():
                if form[:16] in found or form.rstrip("=")[-16:] in found:
                    hits.append((value, path))
    return hits


def every_file(stack: Path, *more: Path) -> list[Path]:
    return [*state_files(stack), *(path for path in more if path.is_file())]


def team_escalations(sdk: BimpeAI, stack: Path) -> set[str | None]:
    ids = state_ids(stack)
    return {
        sdk.agents.retrieve(ids[a]).escalation_email for a in ("agents.sales", "agents.support")
    }


def test_rotated_and_hand_edited_secrets_never_show(
    running: RunningEmulator,
    key: str,
    sdk: BimpeAI,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    stack = tmp_path / "multi-env"
    copy_example("multi-env", stack)
    values = {PROD_ESCALATION, *ROTATIONS, *HAND_EDITS}
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key, *values))
    env = ("--env", "prod")
    plans = [tmp_path / f"plan-{i}.json" for i in range(4)]

    def plan_everywhere(out: Path) -> None:
        for fmt in ("text", "json", "markdown"):
            planned = cli("plan", stack, *env, "--format", fmt)
            assert planned.code == 0, planned.err
            assert "escalation_email" in planned.out
            assert "sensitive" in planned.out
        assert cli("plan", stack, *env, "--out", out).code == 0

    def drift_everywhere(expected: int) -> None:
        for fmt in ("text", "json", "markdown"):
            drift = cli("drift", stack, *env, "--format", fmt)
            assert drift.code == expected, drift.out + drift.err
            if expected:
                assert "escalation_email" in drift.out and "sensitive" in drift.out

    assert cli("apply", stack, *env, "--auto-approve").code == 0
    # A rotation to a value that shares a prefix with the old one, applied from a saved plan.
    set_prod_escalation(stack, ROTATIONS[0])
    plan_everywhere(plans[0])
    assert cli("apply", stack, *env, "--plan", plans[0]).code == 0
    assert team_escalations(sdk, stack) == {ROTATIONS[0]}
    drift_everywhere(0)

    # Changed by hand: drift and plan see it, masked on both sides.
    ids = state_ids(stack)
    sdk.agents.update(ids["agents.sales"], escalation_email=HAND_EDITS[0])
    drift_everywhere(2)
    plan_everywhere(plans[1])
    # Rotated while the live value was changed by hand.
    set_prod_escalation(stack, ROTATIONS[1])
    plan_everywhere(plans[2])
    assert cli("apply", stack, *env, "--auto-approve").code == 0
    assert team_escalations(sdk, stack) == {ROTATIONS[1]}
    drift_everywhere(0)

    sdk.agents.update(ids["agents.support"], escalation_email=HAND_EDITS[1])
    set_prod_escalation(stack, ROTATIONS[2])
    drift_everywhere(2)
    plan_everywhere(plans[3])
    for command in (("state", "show", "agents.sales"), ("state", "show", "agents.support")):
        assert cli(*command, stack, *env).code == 0
    assert cli("state", "pull", stack, *env).code == 0
    assert cli("apply", stack, *env, "--plan", plans[3]).code == 0
    assert team_escalations(sdk, stack) == {ROTATIONS[2]}
    drift_everywhere(0)
    assert "No changes" in cli("plan", stack, *env).out

    files = every_file(stack, *plans)
    assert {path.name for path in files} >= {"prod.json", "prod.json.backup", "plan-3.json"}
    cli.check_files(files)
    assert digests_in(files, values) == []


PIN_STACK = {
    "stack.yaml": """name: pins
environments:
  test:
    vars:
      pin: {value: "4821", sensitive: true}
""",
    "resources.yaml": """workflows:
  desk:
    name: Desk
    system_prompt: Help visitors.
    setup_time: "${var.pin}"
    rules:
      - {id: r1, name: Pin, trigger: pin, response: "Your PIN is ${var.pin}.", enabled: true}
agents:
  door:
    workflow: desk
    name: Door
    description: Opens the door
    business_description: "${var.pin}"
""",
}


def test_a_short_pin_cannot_be_found_by_hashing_every_candidate(
    running: RunningEmulator,
    key: str,
    sdk: BimpeAI,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    stack = write_stack(tmp_path / "pins", PIN_STACK)
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key))
    env = ("--env", "test")
    plan_file = tmp_path / "pins.plan.json"
    assert cli("apply", stack, *env, "--auto-approve").code == 0
    ids = state_ids(stack)
    sdk.agents.update(ids["agents.door"], business_description="7306")  # by hand
    (stack / "stack.yaml").write_text(PIN_STACK["stack.yaml"].replace("4821", "1957"))
    assert cli("plan", stack, *env, "--out", plan_file).code == 0
    assert cli("drift", stack, *env, "--format", "json").code == 2
    # One rule's response held the PIN: that leaf alone is hidden, the text around the new
    # PIN shows; the field changed by hand after holding the PIN is hidden on both sides.
    shown = cli("plan", stack, *env).out
    assert '~ response: "(sensitive)" -> "Your PIN is (sensitive)."' in shown
    assert "~ business_description: (changed; the difference is sensitive)" in shown
    assert "~ setup_time: (changed; the difference is sensitive)" in shown
    for pin in ("4821", "1957", "7306"):
        assert pin not in shown

    files = every_file(stack, plan_file)
    candidates = [f"{n:04d}" for n in range(10_000)]
    leaves = [f"Your PIN is {pin}." for pin in candidates]
    hits = digests_in(files, [*candidates, *leaves])
    assert hits == [], f"digests of {sorted({value for value, _ in hits})[:5]} are in the files"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for pin in ("4821", "1957", "7306"):
            assert f"PIN is {pin}" not in text and f'"{pin}"' not in text, path
            assert f": {pin}" not in text, path  # the number field the PIN went into


def test_drift_of_a_sensitive_field_is_seen_masked_and_not_invented_by_a_new_key(
    running: RunningEmulator,
    key: str,
    sdk: BimpeAI,
    capture_all: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    from bimpe_iac.emulator.seeding import DEFAULT_TEAM_ID

    stack = tmp_path / "multi-env"
    copy_example("multi-env", stack)
    new_key = f"sk_emu_{secrets.token_hex(16)}"
    running.emulator.store.add_key(new_key, DEFAULT_TEAM_ID)
    cli = Cli(environ_for(running, key), capture_all, secrets_of(key, PROD_ESCALATION, *HAND_EDITS))
    cli.secrets |= secrets_of(new_key)
    env = ("--env", "prod")
    rotated = {k: new_key for k in ("BIMPE_API_KEY", "BIMPE_PROD_API_KEY")}

    assert cli("apply", stack, *env, "--auto-approve").code == 0
    assert cli("drift", stack, *env).code == 0
    ids = state_ids(stack)
    sdk.agents.update(ids["agents.sales"], escalation_email=HAND_EDITS[0])
    drift = cli("drift", stack, *env, "--format", "json")
    assert drift.code == 2
    fields = {
        item["address"]: [f["field"] for f in item["fields"]]
        for item in json.loads(drift.out)["resources"]
    }
    assert fields == {"agents.sales": ["escalation_email"]}
    assert cli("apply", stack, *env, "--auto-approve").code == 0
    assert team_escalations(sdk, stack) == {PROD_ESCALATION}

    # A plan saved under one key is refused under another, before anything is applied.
    plan_file = tmp_path / "old-key.plan.json"
    sdk.agents.update(ids["agents.sales"], description="Edited by hand")
    assert cli("plan", stack, *env, "--out", plan_file).code == 0
    refused = cli("apply", stack, *env, "--plan", plan_file, env=rotated)
    assert refused.code == 1 and "made with another API key" in refused.err, refused.err
    assert sdk.agents.retrieve(ids["agents.sales"]).description == "Edited by hand"
    assert cli("apply", stack, *env, "--plan", plan_file).code == 0

    # Another API key of the same team: the keyed digests cannot be checked, which is no drift.
    drift = cli("drift", stack, *env, env=rotated)
    assert drift.code == 0, drift.out
    assert "API key" in drift.out + drift.err
    assert "No changes" in cli("plan", stack, *env, env=rotated).out
    # The next apply records them again, under the new key; drift is seen again.
    assert cli("apply", stack, *env, "--auto-approve", env=rotated).code == 0
    assert cli("drift", stack, *env, env=rotated).code == 0
    sdk.agents.update(ids["agents.support"], escalation_email=HAND_EDITS[1])
    drift = cli("drift", stack, *env, env=rotated)
    assert drift.code == 2 and "agents.support" in drift.out and "sensitive" in drift.out
    cli.check_files(state_files(stack))
