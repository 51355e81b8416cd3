"""Property-based fuzzing, through the real CLI, of every file bimpe-iac reads from disk.

- manifests: YAML-like text built from YAML's own punctuation and any Unicode (control
  characters and bidirectional overrides included), random bytes, and random documents of
  mappings, lists and scalars, written as stack.yaml or a resource file. `validate` exits 0 or
  1, never 3; each problem it reports is on one line that names a file of the stack (with line
  and column when the problem is inside the file); no traceback, nothing raw on the terminal;
- state files: a valid state truncated, with a byte changed, a value replaced by one of another
  type, a key deleted or added. `plan` exits 1 with a message naming the state file, or 0 when
  the change is harmless; never a traceback;
- saved plans: a valid saved plan mutated the same ways. `apply --plan` refuses it (exit 1,
  naming the plan file, with nothing applied and no state written) or, when the mutation is
  harmless, applies exactly what it says: the next plan has nothing left to do there.

Each property runs a bounded number of examples against the session's emulator, a new team
for each saved plan applied.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from small_stack import small_stack

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from emulator_admin import Admin

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
LOCATED = re.compile(r"^(stack\.yaml|resources\.yaml)(:\d+:\d+)?: ")

FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def bimpe(*args: str | Path, env: dict[str, str | None] | None = None) -> Outcome:
    """The CLI in-process, with no API key or state DSN unless `env` gives one."""
    no_account: dict[str, str | None] = {
        "BIMPE_API_KEY": None,
        "BIMPE_BASE_URL": None,
        "BIMPE_STATE_DSN": None,
    }
    return invoke(*args, env={**no_account, **(env or {})})


def assert_handled(outcome: Outcome) -> None:
    """Exit 0 or 1, no traceback, no internal error, no raw control character."""
    assert outcome.exit_code in (0, 1), outcome.text
    assert "Traceback" not in outcome.text
    assert "Internal error" not in outcome.text, outcome.text
    raw = RAW.search(outcome.text)
    assert raw is None, f"raw {raw.group()!r} in output: {outcome.text!r}"


STACK = small_stack("fuzz", "tok-3c5e7a9b1d2f4a6c8e0b")


def write_stack(directory: Path) -> Path:
    for name, text in STACK.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory


# --- manifests -----------------------------------------------------------------------------

WORDS = [
    "name",
    "workflows",
    "agents",
    "phone_numbers",
    "moved",
    "vars",
    "environments",
    "state",
    "target",
    "system_prompt",
    "workflow",
    "description",
    "knowledge_bases",
    "type",
    "content",
    "file",
    "lifecycle",
    "rules",
    "main",
    "bot",
    "+2348012345678",
]
ODD = [
    "\x1b[2J",
    "\u202eevil",
    "\u200f",
    "\x00",
    "\x9b",
    "${var.x}",
    "${env.HOME}",
    "$${",
    "${",
    "{file: ../../etc/passwd}",
    "../x",
    "/etc/passwd",
]
FRAGMENTS = [
    *(f"{word}:" for word in WORDS),
    *ODD,
    "\n",
    "\n  ",
    "\n    ",
    " ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&a ",
    "*a",
    "<<: ",
    "!!str ",
    "!tag ",
    "|\n  ",
    ">\n  ",
    '"\\u202e"',
    '"\\x1b"',
    '"\\ud800"',
    "'",
    '"',
    "#",
    "---\n",
    "%YAML 1.2\n",
    "? ",
    "\t",
]
YAML_TEXT = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join),
    st.text(st.characters(codec="utf-8"), max_size=120),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from(WORDS + ODD),
    st.text(st.characters(codec="utf-8"), max_size=12),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(WORDS + ODD), st.text(st.characters(codec="utf-8"))),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=30,
)


@pytest.fixture
def fuzz_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "stack"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def check_validate(directory: Path) -> None:
    outcome = bimpe("validate", ".")
    event(f"exit {outcome.exit_code}")
    assert_handled(outcome)
    if outcome.exit_code == 0:
        return
    *issues, summary = outcome.output.rstrip("\n").split("\n")
    assert re.fullmatch(r"\d+ errors? in stack \.", summary), outcome.output
    for issue in issues:
        assert LOCATED.match(issue), f"not located: {issue!r}"


@settings(FUZZ, max_examples=150)
@given(name=st.sampled_from(["stack.yaml", "resources.yaml"]), text=YAML_TEXT)
def test_validate_handles_any_text(fuzz_dir: Path, name: str, text: str) -> None:
    (fuzz_dir / "stack.yaml").write_text("name: fuzz\n", encoding="utf-8")
    (fuzz_dir / "resources.yaml").unlink(missing_ok=True)
    (fuzz_dir / name).write_text(text, encoding="utf-8")

    check_validate(fuzz_dir)


@settings(FUZZ, max_examples=60)
@given(data=st.binary(max_size=200))
def test_validate_handles_any_bytes(fuzz_dir: Path, data: bytes) -> None:
    (fuzz_dir / "stack.yaml").write_text("name: fuzz\n", encoding="utf-8")
    (fuzz_dir / "resources.yaml").write_bytes(data)

    check_validate(fuzz_dir)


@settings(FUZZ, max_examples=150)
@given(
    stack=st.dictionaries(st.sampled_from(WORDS), DOCUMENTS, max_size=4),
    resources=DOCUMENTS,
)
def test_validate_handles_any_document(
    fuzz_dir: Path, stack: dict[str, Any], resources: Any
) -> None:
    (fuzz_dir / "stack.yaml").write_text(
        yaml.safe_dump({"name": "fuzz", **stack}, allow_unicode=True), encoding="utf-8"
    )
    (fuzz_dir / "resources.yaml").write_text(
        yaml.safe_dump(resources, allow_unicode=True), encoding="utf-8"
    )

    check_validate(fuzz_dir)


# --- mutations of JSON files ---------------------------------------------------------------

WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from([*ODD, "agent", "workflow", "agents.bot", "workflows.main", "create"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(
        st.sampled_from(["$ref", "$sensitive", "$literal", "id", "x"]), SCALARS, max_size=2
    ),
    st.just(json.loads("[" * 300 + "]" * 300)),
)


def json_paths(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_paths(item, (*path, index))


def mutate(data: st.DataObject, good: bytes, *, notes: tuple[str, ...] = ()) -> bytes:
    """`good` (a JSON document) truncated, with a byte changed, or with a value replaced,
    deleted or added; with `notes`, keys that only explain, maybe one such value rewritten."""
    ways = ["truncate", "byte", "replace", "delete", "add", *(["note"] if notes else [])]
    how = data.draw(st.sampled_from(ways), "how")
    if how == "truncate":
        return good[: data.draw(st.integers(0, len(good) - 1), "length")]
    if how == "byte":
        index = data.draw(st.integers(0, len(good) - 1), "index")
        return good[:index] + bytes([data.draw(st.integers(0, 255), "byte")]) + good[index + 1 :]
    document = json.loads(good)
    paths = sorted(json_paths(document), key=str)
    if how == "note":
        paths = [path for path in paths if path[-1] in notes]
    path = data.draw(st.sampled_from(paths), "path")
    holder: Any = document
    for part in path[:-1]:
        holder = holder[part]
    if how == "note":
        holder[path[-1]] = data.draw(st.text(st.characters(codec="utf-8"), max_size=20), "note")
    elif how == "replace":
        holder[path[-1]] = data.draw(WRONG, "value")
    elif how == "delete":
        del holder[path[-1]]
    elif isinstance(holder, dict):
        key = data.draw(st.sampled_from(["extra", "$ref", "", "\x1b", *WORDS]), "key")
        holder[key] = data.draw(WRONG, "value")
    else:
        holder.insert(path[-1], data.draw(WRONG, "value"))
    return json.dumps(document, indent=2).encode()


@dataclass(frozen=True)
class Applied:
    """The stack applied in a team of its own, and the state that left."""

    directory: Path
    env: dict[str, str | None]
    state_file: Path
    state: bytes


@pytest.fixture(scope="module")
def applied(
    tmp_path_factory: pytest.TempPathFactory, emulator: RunningEmulator, admin: Admin
) -> Applied:
    directory = write_stack(tmp_path_factory.mktemp("applied"))
    team = admin.new_team("fuzz state")
    env: dict[str, str | None] = {"BIMPE_API_KEY": team.api_key, "BIMPE_BASE_URL": emulator.url}
    done = bimpe("apply", directory, "--auto-approve", env=env)
    assert done.exit_code == 0, done.text
    state_file = directory / ".bimpe" / "state" / "fuzz" / "default.json"
    return Applied(directory, env, state_file, state_file.read_bytes())


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_plan_handles_any_state_file(applied: Applied, data: st.DataObject) -> None:
    applied.state_file.write_bytes(mutate(data, applied.state))
    try:
        outcome = bimpe("plan", applied.directory, env=applied.env)
    finally:
        applied.state_file.write_bytes(applied.state)

    event(f"exit {outcome.exit_code}")
    assert_handled(outcome)
    if outcome.exit_code == 1:
        named = str(applied.state_file) in outcome.stderr or "the state" in outcome.stderr
        assert named, outcome.text


@dataclass
class SavedPlan:
    directory: Path
    document: bytes
    emulator: RunningEmulator
    admin: Admin


@pytest.fixture(scope="module")
def saved_plan(
    tmp_path_factory: pytest.TempPathFactory, emulator: RunningEmulator, admin: Admin
) -> SavedPlan:
    """A plan creating the stack, saved from an empty team: it applies to any empty team."""
    directory = write_stack(tmp_path_factory.mktemp("planned"))
    team = admin.new_team("fuzz plan")
    env: dict[str, str | None] = {"BIMPE_API_KEY": team.api_key, "BIMPE_BASE_URL": emulator.url}
    path = directory.parent / "saved.json"
    planned = bimpe("plan", directory, "--out", path, env=env)
    assert planned.exit_code == 0, planned.text
    return SavedPlan(directory, path.read_bytes(), emulator, admin)


@settings(FUZZ, max_examples=100)
@given(data=st.data())
def test_apply_handles_any_saved_plan(saved_plan: SavedPlan, data: st.DataObject) -> None:
    directory = saved_plan.directory
    shutil.rmtree(directory / ".bimpe", ignore_errors=True)
    team = saved_plan.admin.new_team("fuzz apply")
    env: dict[str, str | None] = {
        "BIMPE_API_KEY": team.api_key,
        "BIMPE_BASE_URL": saved_plan.emulator.url,
    }
    mutated = mutate(data, saved_plan.document, notes=("reason", "created_at", "updated_at"))
    path = directory.parent / "mutated.json"
    path.write_bytes(mutated)

    outcome = bimpe("apply", directory, "--plan", path, env=env)

    event(f"exit {outcome.exit_code}")
    assert_handled(outcome)
    if outcome.exit_code == 1:
        assert str(path) in outcome.stderr, outcome.text
        assert not (directory / ".bimpe" / "state" / "fuzz" / "default.json").exists()
        with BimpeAI(api_key=team.api_key, base_url=saved_plan.emulator.url) as sdk:
            assert sdk.agents.list().data == []
            assert "Main workflow" not in {w.name for w in sdk.workflows.list().data}
        return
    acted = {
        change["address"] for change in json.loads(mutated)["changes"] if change["action"] != "noop"
    }
    again = bimpe("plan", directory, "--format", "json", env=env)
    assert again.exit_code == 0, again.text
    left = {c["address"] for c in json.loads(again.output)["changes"] if c["action"] != "noop"}
    assert not acted & left, f"applied, yet still to do: {sorted(acted & left)}"
