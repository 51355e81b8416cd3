"""Hostile input, case by case, through the real CLI: each case ends in exit 1 with a located
message (the file, and line and column where the problem is inside it), never a traceback, and
no file outside the stack is opened.

- YAML alias bombs: nested aliases in stack.yaml, merge keys that multiply;
- deep nesting: flow and block collections, aliases stacked on aliases (100 levels at most),
  and saved plans and state files nested deeper than any real one;
- 50 MB files: a resource file, stack.yaml, a `{file:}` reference, a saved plan, a state file,
  and one run in a child process;
- bytes that are not UTF-8 (stack.yaml, UTF-16, state, saved plan), raw control bytes, and
  `\\ud800` escapes, which are no characters;
- path traversal in `{file:}`: `..` out of the stack, through a subdirectory, absolute paths,
  a NUL byte; the file outside is never opened (an audit hook watches every open);
- symbolic links out of the stack: a linked file, a linked directory, a chain, a linked
  manifest or stack.yaml, a loop, a FIFO or device; links that stay inside still work;
- control characters and bidirectional overrides: refused in keys and names, spelled out
  (`\\x1b`, `\\u202e`) wherever plan, validate and error output shows a value, never raw;
- a saved plan edited by hand: refused at the path of the edit, nothing applied; edits to what
  only explains the plan (reasons, dates, layout) apply exactly.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from small_stack import small_stack

from bimpe_iac.emulator.server import RunningEmulator

if TYPE_CHECKING:
    from conftest import Team

# What must never reach a terminal raw: C0 controls but tab and line feed, DEL, C1 controls and
# bidirectional formatting characters. (Surrogates cannot even be written: output must be UTF-8.)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SECRET = "OUTSIDE-THE-STACK-7f3a9c"
FIFTY_MB = 50 * 1024 * 1024


def bimpe(*args: str | Path, env: dict[str, str | None] | None = None) -> Outcome:
    """The CLI in-process, with no API key or state DSN unless `env` gives one."""
    no_account: dict[str, str | None] = {
        "BIMPE_API_KEY": None,
        "BIMPE_BASE_URL": None,
        "BIMPE_STATE_DSN": None,
    }
    return invoke(*args, env={**no_account, **(env or {})})


def assert_clean(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.text
    assert "Internal error" not in outcome.text
    raw = RAW.search(outcome.text)
    assert raw is None, f"raw {raw.group()!r} in output: {outcome.text!r}"


def assert_refused(outcome: Outcome, *fragments: str) -> None:
    assert outcome.exit_code == 1, outcome.text
    assert_clean(outcome)
    for fragment in fragments:
        assert fragment in outcome.text, outcome.text


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    root.mkdir(parents=True, exist_ok=True)
    return root


# Every open (builtins.open, os.open, io.open) while a recorder is active; an audit hook
# cannot be removed, so it is added once and records only inside `files_opened`.
_recorders: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _recorders and isinstance(args[0], str | bytes | os.PathLike):
        for recorder in _recorders:
            recorder.append(os.path.abspath(os.fsdecode(args[0])))


sys.addaudithook(_audit)


@contextmanager
def files_opened() -> Iterator[list[str]]:
    opened: list[str] = []
    _recorders.append(opened)
    try:
        yield opened
    finally:
        _recorders.remove(opened)


def assert_not_opened(opened: list[str], *outside: Path) -> None:
    for path in opened:
        real = Path(path).resolve()
        for forbidden in outside:
            assert not real.is_relative_to(forbidden.resolve()), f"{path} was opened"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the stack, holding files no stack may read."""
    return write(
        tmp_path / "outside",
        {
            "secret.md": f"{SECRET}\n",
            "secret.yaml": f"workflows:\n  {SECRET}: {{}}\n",
            "stack.yaml": f"name: {SECRET}\n",
        },
    )


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stack directory, made the current directory so messages name files as
    `resources.yaml:4:27`."""
    directory = write(tmp_path / "stack", {"stack.yaml": "name: hostile\n"})
    monkeypatch.chdir(directory)
    return directory


@pytest.fixture(scope="module")
def fifty_mb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 50 MB file, linked into each test that needs one."""
    path = tmp_path_factory.mktemp("big") / "big.txt"
    with path.open("wb") as file:
        line = b"# " + b"x" * 1021 + b"\n"
        for _ in range(FIFTY_MB // len(line) + 1):
            file.write(line)
    return path


def workflow_with_prompt(reference: str) -> str:
    """A workflow whose system prompt is read from `reference`: its value is at 4:27."""
    return (
        "workflows:\n"
        "  main:\n"
        "    name: Main\n"
        f"    system_prompt: {{file: {json.dumps(reference)}}}\n"
    )


# --- YAML alias bombs and deep nesting -------------------------------------------------------


def test_an_alias_bomb_in_stack_yaml_is_stopped_where_it_expands(stack: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for this, previous in zip("bcdefghi", "abcdefgh", strict=True):
        levels.append(f"{this}: &{this} [" + ", ".join([f"*{previous}"] * 10) + "]")
    write(stack, {"stack.yaml": "name: hostile\n" + "\n".join(levels) + "\n"})

    for command in ("validate", "plan"):
        assert_refused(
            bimpe(command, "."), "stack.yaml:6:36:", "invalid YAML: aliases expand to more than"
        )


def test_merge_keys_that_multiply_are_stopped_at_the_merge(stack: Path) -> None:
    # Each level merges the one before three times: 3**29 copies of a thousand keys, most of
    # them overridden, which still cost the work of visiting them.
    lines = ["k0: &k0 {" + ", ".join(f"f{i}: {i}" for i in range(1000)) + "}"]
    for level in range(1, 30):
        merges = ", ".join([f"*k{level - 1}"] * 3)
        lines.append(f"k{level}: &k{level} {{<<: [{merges}], own{level}: 1}}")
    write(stack, {"resources.yaml": "\n".join(lines) + "\n"})

    outcome = bimpe("validate", ".")

    assert_refused(outcome, "resources.yaml:5:10: invalid YAML: aliases expand to more than")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("workflows: " + "[" * 100_000 + "]" * 100_000 + "\n", "resources.yaml:1:111:"),
        ("workflows: " + "{a: " * 100_000 + "1" + "}" * 100_000 + "\n", "resources.yaml:1:"),
        ("".join("  " * depth + "a:\n" for depth in range(150)) + "  " * 150 + "b\n", ":100:"),
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings"],
)
def test_deep_nesting_is_refused_where_it_gets_too_deep(stack: Path, text: str, where: str) -> None:
    write(stack, {"resources.yaml": text})

    assert_refused(bimpe("validate", "."), where, "values nest more than 100 levels deep")


def test_aliases_cannot_stack_nesting_past_the_limit(stack: Path) -> None:
    lines = ["x0: &x0 " + "[" * 60 + "]" * 60]
    for level in range(1, 5):
        lines.append(f"x{level}: &x{level} " + "[" * 50 + f"*x{level - 1}" + "]" * 50)
    write(stack, {"resources.yaml": "\n".join(lines) + "\n"})

    assert_refused(bimpe("validate", "."), "resources.yaml:2:", "nest more than 100 levels")


def test_nesting_within_the_limit_is_valid(stack: Path) -> None:
    steps = "[" * 90 + "done" + "]" * 90
    prompt = "workflows:\n  main:\n    name: Main\n    system_prompt: Hi\n"
    write(stack, {"resources.yaml": f"{prompt}    setup_steps: {steps}\n"})

    outcome = bimpe("validate", ".")

    assert outcome.exit_code == 0, outcome.text
    assert_clean(outcome)


# --- 50 MB files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reference", "message"),
    [
        ("resources.yaml", None, "resources.yaml: file is larger than the 5 MB limit"),
        ("stack.yaml", None, "stack.yaml: file is larger than the 5 MB limit"),
        (
            "prompts/main.md",
            "prompts/main.md",
            "resources.yaml:4:27: workflows.main.system_prompt: file 'prompts/main.md' is larger"
            " than the 5 MB limit",
        ),
    ],
)
def test_a_50_mb_file_is_refused_unread(
    stack: Path, fifty_mb: Path, name: str, reference: str | None, message: str
) -> None:
    if reference is not None:
        write(stack, {"resources.yaml": workflow_with_prompt(reference)})
    (stack / name).parent.mkdir(parents=True, exist_ok=True)
    (stack / name).unlink(missing_ok=True)
    os.link(fifty_mb, stack / name)

    outcome = bimpe("validate", ".")

    assert_refused(outcome, message)
    assert len(outcome.text) < 2000


def test_a_50_mb_stack_in_a_child_process(stack: Path, fifty_mb: Path) -> None:
    os.link(fifty_mb, stack / "resources.yaml")

    done = subprocess.run(
        [sys.executable, "-m", "bimpe_iac", "validate", "."],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "resources.yaml: file is larger than the 5 MB limit" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


# --- bytes that are not UTF-8, and characters that are not characters ------------------------


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"stack.yaml": b"name: caf\xe9\n"},
            "stack.yaml:1:10: file is not valid UTF-8 (byte 0xe9)",
        ),
        (
            {"resources.yaml": "workflows: {}\n".encode("utf-16")},
            "resources.yaml:1:1: file is not valid UTF-8 (byte 0xff)",
        ),
        ({"resources.yaml": b"workflows:\n  \x07bell: {}\n"}, "resources.yaml:2:3: invalid YAML"),
        (
            {"resources.yaml": b'workflows:\n  main: {name: "a\\ud800", system_prompt: p}\n'},
            "resources.yaml:2:16: workflows.main.name: invalid YAML: a \\ud800 to \\udfff escape",
        ),
        (
            {"resources.yaml": b'workflows:\n  "m\\udfff": {name: a, system_prompt: p}\n'},
            "resources.yaml:2:3: workflows: invalid YAML: a \\ud800 to \\udfff escape",
        ),
    ],
    ids=["stack-latin-1", "utf-16", "raw-control-byte", "surrogate-value", "surrogate-key"],
)
def test_text_that_is_not_utf8_or_not_characters(
    stack: Path, files: dict[str, str | bytes], message: str
) -> None:
    write(stack, files)

    for command in ("validate", "plan"):
        assert_refused(bimpe(command, "."), message)


# --- path traversal in {file:} -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("../outside/secret.md", "file '../outside/secret.md' is outside the stack directory"),
        ("kb/../../outside/secret.md", "is outside the stack directory"),
        ("./kb/./../../outside/./secret.md", "is outside the stack directory"),
        ("../" * 30 + "etc/passwd", "is outside the stack directory"),
        ("/etc/passwd", "file path '/etc/passwd' must be relative to this manifest"),
        ("{outside}/secret.md", "must be relative to this manifest"),
        ("kb/\x00/../../outside/secret.md", "cannot be read (the path contains a NUL character)"),
        ("", "expected a file path, got ''"),
    ],
    ids=[
        "dot-dot",
        "via-subdir",
        "dotted",
        "etc-passwd",
        "absolute",
        "absolute-outside",
        "nul",
        "empty",
    ],
)
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_file_references_cannot_leave_the_stack(
    stack: Path, outside: Path, command: str, reference: str, message: str
) -> None:
    (stack / "kb").mkdir()
    reference = reference.replace("{outside}", str(outside))
    write(stack, {"resources.yaml": workflow_with_prompt(reference)})

    with files_opened() as opened:
        outcome = bimpe(command, ".")

    assert_refused(outcome, "resources.yaml:4:27: workflows.main.system_prompt: ", message)
    assert SECRET not in outcome.text and "root:" not in outcome.text
    assert_not_opened(opened, outside, Path("/etc/passwd"))


# --- symbolic links ----------------------------------------------------------------------------


def _linked_file(stack: Path, outside: Path) -> None:
    (stack / "prompts").mkdir()
    (stack / "prompts" / "main.md").symlink_to(outside / "secret.md")


def _linked_directory(stack: Path, outside: Path) -> None:
    (stack / "prompts").symlink_to(outside, target_is_directory=True)
    os.link(outside / "secret.md", outside / "main.md")


def _chain(stack: Path, outside: Path) -> None:
    (stack / "prompts").mkdir()
    (stack / "prompts" / "hop.md").symlink_to(outside / "secret.md")
    (stack / "prompts" / "main.md").symlink_to("hop.md")


def _loop(stack: Path, outside: Path) -> None:
    (stack / "prompts").mkdir()
    (stack / "prompts" / "main.md").symlink_to("main.md")


def _fifo(stack: Path, outside: Path) -> None:
    (stack / "prompts").mkdir()
    os.mkfifo(stack / "prompts" / "main.md")


def _device(stack: Path, outside: Path) -> None:
    (stack / "prompts").mkdir()
    (stack / "prompts" / "main.md").symlink_to("/dev/zero")


REFERENCED = "resources.yaml:4:27: workflows.main.system_prompt: file 'prompts/main.md' "


@pytest.mark.parametrize(
    ("arrange", "message"),
    [
        (_linked_file, REFERENCED + "is outside the stack directory"),
        (_linked_directory, REFERENCED + "is outside the stack directory"),
        (_chain, REFERENCED + "is outside the stack directory"),
        (_loop, REFERENCED + "cannot be read (a loop of symbolic links)"),
        (_fifo, REFERENCED + "is not a regular file"),
        (_device, REFERENCED + "is outside the stack directory"),
    ],
    ids=["file", "directory", "chain", "loop", "fifo", "device"],
)
def test_referenced_files_behind_links_are_refused(
    stack: Path, outside: Path, arrange: Callable[[Path, Path], None], message: str
) -> None:
    arrange(stack, outside)
    write(stack, {"resources.yaml": workflow_with_prompt("prompts/main.md")})

    with files_opened() as opened:
        outcome = bimpe("validate", ".")

    assert_refused(outcome, message)
    assert SECRET not in outcome.text
    assert_not_opened(opened, outside, Path("/dev/zero"))


@pytest.mark.parametrize(
    ("name", "target", "message"),
    [
        ("evil.yaml", "secret.yaml", "evil.yaml: file is outside the stack directory"),
        ("stack.yaml", "stack.yaml", "stack.yaml: file is outside the stack directory"),
    ],
)
def test_manifests_linked_from_outside_are_not_read(
    stack: Path, outside: Path, name: str, target: str, message: str
) -> None:
    (stack / name).unlink(missing_ok=True)
    (stack / name).symlink_to(outside / target)

    with files_opened() as opened:
        outcome = bimpe("validate", ".")

    assert_refused(outcome, message)
    assert SECRET not in outcome.text
    assert_not_opened(opened, outside)


@pytest.mark.parametrize("path", ["/dev/zero", "../outside/state.json", "link/state.json"])
def test_the_state_file_stays_inside_the_stack(stack: Path, outside: Path, path: str) -> None:
    (stack / "link").symlink_to(outside, target_is_directory=True)
    write(stack, {"stack.yaml": f"name: hostile\nstate: {{path: {path}}}\n"})

    for args in (["validate", "."], ["plan", "."], ["apply", ".", "--auto-approve"]):
        assert_refused(
            bimpe(*args),
            f"stack.yaml:2:15: state.path: '{path}' must be relative and stay inside the stack",
        )
    assert not (outside / "state.json").exists()


def test_links_that_stay_inside_the_stack_still_work(tmp_path: Path) -> None:
    real = write(
        tmp_path / "real",
        {
            "stack.yaml": "name: linked\n",
            "shared/agents.yaml": workflow_with_prompt("prompts/main.md"),
            "shared/prompts/main.md": "Be kind.\n",
        },
    )
    (real / "resources.yaml").symlink_to("shared/agents.yaml")
    (real / "prompts").symlink_to("shared/prompts", target_is_directory=True)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)

    outcome = bimpe("validate", tmp_path / "alias")

    assert outcome.exit_code == 0, outcome.text
    assert "1 workflow" in outcome.text


# --- control characters and bidirectional overrides --------------------------------------------


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            'workflows:\n  "main\\u202e": {name: Main, system_prompt: Hi}\n',
            "resources.yaml:2:3: workflows: 'main\\u202e' is not a valid key",
        ),
        (
            'agents:\n  "bot\\x1b[2J": {workflow: w, name: B, description: d}\n',
            "resources.yaml:2:3: agents: 'bot\\x1b[2J' is not a valid key",
        ),
        (
            'workflows:\n  main: {name: "Ma\\x1b[31min", system_prompt: Hi}\n',
            "resources.yaml:2:16: workflows.main.name: must not hold control characters or"
            " bidirectional overrides (U+001B at character 3)",
        ),
        (
            'workflows:\n  main: {name: "evil\\u202egnp.exe", system_prompt: Hi}\n',
            "workflows.main.name: must not hold control characters or bidirectional overrides"
            " (U+202E at character 5)",
        ),
        (
            'workflows:\n  main: {name: "two\\nlines", system_prompt: Hi}\n',
            "(U+000A at character 4)",
        ),
        (
            'workflows:\n  main: {name: "csi\\x9b2J", system_prompt: Hi}\n',
            "(U+009B at character 4)",
        ),
        (
            'workflows:\n  main: {name: Main, system_prompt: Hi, tags: ["a\\u2066b"]}\n',
            "workflows.main.tags[0]: must not hold control characters",
        ),
        (
            'workflows:\n  main: {name: Main, system_prompt: Hi, "\\x1b]0;pwned\\x07": 1}\n',
            "workflows.main: unknown field '\\x1b]0;pwned\\x07'",
        ),
    ],
    ids=["rlo-key", "esc-key", "esc-name", "rlo-name", "newline-name", "c1-name", "lri-tag", "osc"],
)
def test_control_characters_in_keys_and_names_are_refused_and_shown_escaped(
    stack: Path, resources: str, message: str
) -> None:
    write(stack, {"resources.yaml": resources})

    for command in ("validate", "plan"):
        assert_refused(bimpe(command, "."), message)


def test_a_var_cannot_smuggle_a_control_character_into_a_name(stack: Path) -> None:
    write(
        stack,
        {
            "stack.yaml": 'name: hostile\nvars:\n  title: "Bot\\e[8m"\n',
            "resources.yaml": "workflows:\n  main: {name: '${var.title}', system_prompt: Hi}\n",
        },
    )

    assert_refused(
        bimpe("validate", "."), "resources.yaml:2:16: workflows.main.name: must not hold control"
    )


@pytest.fixture
def live(emulator: RunningEmulator, team: Team) -> dict[str, str | None]:
    """The environment of a run against the session's emulator, as a team of its own."""
    return {"BIMPE_API_KEY": team.api_key, "BIMPE_BASE_URL": emulator.url}


def test_free_text_keeps_its_characters_but_output_spells_them_out(
    stack: Path, live: dict[str, str | None]
) -> None:
    text = "Hello\u200f \u202eevil\u202c \x1b[2J\x07 \x9b31m done"
    write(
        stack,
        {
            "resources.yaml": (
                "workflows:\n  main:\n"
                '    name: "\u05e9\u05dc\u05d5\u05dd\u200f bot"\n'
                f"    system_prompt: {json.dumps(text)}\n"
                f"    description: {json.dumps(text)}\n"
            )
        },
    )

    for fmt in ("text", "json", "markdown"):
        outcome = bimpe("plan", ".", "--format", fmt, env=live)
        assert outcome.exit_code == 0, outcome.text
        assert_clean(outcome)
    text_plan = bimpe("plan", ".", env=live).output
    # Inline values are JSON strings, where C0 controls read \\u001b; the rest read \\x9b.
    assert "\\u202eevil\\u202c \\u001b[2J\\u0007 \\x9b31m done" in text_plan
    assert "\u05e9\u05dc\u05d5\u05dd\\u200f bot" in text_plan
    document = json.loads(bimpe("plan", ".", "--format", "json", env=live).output)
    assert document["changes"][0]["after"]["description"] == text


def _state_of(stack: Path) -> tuple[Path, dict[str, Any]]:
    state_file = stack / ".bimpe" / "state" / "hostile" / "default.json"
    return state_file, json.loads(state_file.read_text(encoding="utf-8"))


def test_a_state_file_cannot_drive_the_terminal(stack: Path, live: dict[str, str | None]) -> None:
    write(stack, {"resources.yaml": "workflows:\n  main: {name: Main, system_prompt: Hi}\n"})
    assert bimpe("apply", ".", "--auto-approve", env=live).exit_code == 0
    state_file, state = _state_of(stack)
    entry = state["resources"]["workflows.main"]
    gone = {**entry, "id": "wf_0000000000000000", "values": {"name": "Ma\x1b[2Jin\u202e"}}
    state["resources"]["workflows.\x1b]0;x\x07\u202e"] = gone
    state_file.write_text(json.dumps(state), encoding="utf-8")

    planned = bimpe("plan", ".", env=live)
    applied = bimpe("apply", ".", "--auto-approve", env=live)

    for outcome in (planned, applied):
        assert outcome.exit_code == 0, outcome.text
        assert_clean(outcome)
    assert "# workflows.\\x1b]0;x\\x07\\u202e will be destroyed" in planned.output
    assert '- name: "Ma\\u001b[2Jin\\u202e"' in planned.output
    assert "workflows.\\x1b]0;x\\x07\\u202e: Destroying..." in applied.output


@pytest.mark.parametrize("id", ["../agents/agt_0123", "wf_\x1b[31m", "wf_1?force=1", "..", ""])
def test_an_id_from_the_state_never_reaches_a_request(
    stack: Path, live: dict[str, str | None], emulator: RunningEmulator, team: Team, id: str
) -> None:
    write(stack, {"resources.yaml": "workflows:\n  main: {name: Main, system_prompt: Hi}\n"})
    assert bimpe("apply", ".", "--auto-approve", env=live).exit_code == 0
    write(stack, {"resources.yaml": "workflows: {}\n"})
    state_file, state = _state_of(stack)
    state["resources"]["workflows.main"]["id"] = id
    state_file.write_text(json.dumps(state), encoding="utf-8")

    for command in ("plan", "apply"):
        assert_refused(
            bimpe(command, ".", "--auto-approve") if command == "apply" else bimpe(command, "."),
            f"Error: workflows.main: the state records id {id!r} here, which no BimpeAI object",
        )
    with BimpeAI(api_key=team.api_key, base_url=emulator.url) as sdk:
        assert "Main" in {workflow.name for workflow in sdk.workflows.list().data}


# --- state files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe{}", "is not UTF-8 text (byte 0xff at line 1 column 1)"),
        (b"[" * 100_000, "is not valid JSON: depth limit exceeded"),
        (
            b'{"format": "bimpe-iac-state", "version": 1, "stack": "hostile", "resources": 7',
            "is not valid JSON",
        ),
        (None, "is not valid JSON"),
    ],
    ids=["not-utf8", "deep", "truncated", "50-mb"],
)
def test_an_unreadable_state_file_is_named(
    stack: Path, fifty_mb: Path, live: dict[str, str | None], content: bytes | None, message: str
) -> None:
    state_file = stack / ".bimpe" / "state" / "hostile" / "default.json"
    state_file.parent.mkdir(parents=True)
    if content is None:
        os.link(fifty_mb, state_file)
    else:
        state_file.write_bytes(content)

    assert_refused(bimpe("plan", ".", env=live), f"Error: state file {state_file} ", message)


# --- saved plans edited by hand ----------------------------------------------------------------

PLAN_STACK: dict[str, str | bytes] = {**small_stack("hostile", "tok-5f0c7d1e9a2b4c6d8e0f")}


@dataclass
class Saved:
    stack: Path
    path: Path
    document: dict[str, Any]
    env: dict[str, str | None]
    sdk: BimpeAI

    def index(self, address: str) -> int:
        changes = self.document["changes"]
        return next(i for i, change in enumerate(changes) if change["address"] == address)

    def edited(self, edit: Callable[[dict[str, Any]], object], *, sort_keys: bool = False) -> Path:
        document = copy.deepcopy(self.document)
        edit(document)
        path = self.path.with_name("edited.json")
        text = json.dumps(document, indent=None if sort_keys else 2, sort_keys=sort_keys)
        path.write_text(text, encoding="utf-8")
        return path

    def nothing_applied(self) -> None:
        assert not (self.stack / ".bimpe" / "state" / "hostile" / "default.json").exists()
        assert self.sdk.agents.list().data == []
        assert "Main workflow" not in {w.name for w in self.sdk.workflows.list().data}


@pytest.fixture
def saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator, team: Team
) -> Iterator[Saved]:
    """A plan that creates the stack's resources, saved and not yet applied."""
    directory = write(tmp_path / "stack", PLAN_STACK)
    monkeypatch.chdir(directory)
    env: dict[str, str | None] = {"BIMPE_API_KEY": team.api_key, "BIMPE_BASE_URL": emulator.url}
    path = tmp_path / "plan.json"
    planned = bimpe("plan", ".", "--out", path, env=env)
    assert planned.exit_code == 0, planned.text
    document = json.loads(path.read_text(encoding="utf-8"))
    with BimpeAI(api_key=team.api_key, base_url=emulator.url) as sdk:
        yield Saved(directory, path, document, env, sdk)


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting the value at `path`; `@address` stands for the index of its change."""

    def edit(document: dict[str, Any]) -> None:
        addresses = [change["address"] for change in document["changes"]]
        parts = [
            addresses.index(part[1:]) if isinstance(part, str) and part.startswith("@") else part
            for part in path
        ]
        target: Any = document
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value

    return edit


def _drop_kb(document: dict[str, Any]) -> None:
    document["changes"] = [
        c for c in document["changes"] if c["address"] != "agents.bot.knowledge_bases.faq"
    ]
    document["summary"]["add"] -= 1


def _add_change(document: dict[str, Any]) -> None:
    extra = copy.deepcopy(document["changes"][-1])
    extra["address"] = "workflows.extra"
    document["changes"].append(extra)
    document["summary"]["add"] += 1


def _add_move(document: dict[str, Any]) -> None:
    document["moved"] = [{"from": "agents.bot", "to": "agents.x"}]
    document["summary"]["move"] = 1


WF, BOT = "@workflows.main", "@agents.bot"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set(["changes", WF, "after", "name"], "Renamed"), "changes[{wf}].after.name: differs"),
        (_set(["changes", WF, "after", "tags"], ["support"]), "changes[{wf}].after.tags: "),
        (_set(["changes", WF, "after", "name"], 5), "changes[{wf}].after.name: "),
        (_set(["changes", WF, "kind"], "agent"), "changes[{wf}].kind: "),
        (_set(["changes", WF, "kind"], "nonsense"), "changes[{wf}].kind: "),
        (_set(["changes", WF, "depends_on"], ["agents.bot"]), "changes[{wf}].depends_on: "),
        (_set(["changes", BOT, "depends_on"], []), "changes[{bot}].depends_on: "),
        (_set(["changes", BOT, "parent"], "workflows.main"), "changes[{bot}].parent: "),
        (_set(["changes", WF, "fingerprint"], "f" * 16), "the saved plan is stale: "),
        (_add_move, "moved: differs"),
        (_set(["destroy"], True), "the saved plan cannot be applied: changes["),
        (_set(["serial"], 3), "made for another state (lineage differs)"),
        (_set(["format_version"], 2), "invalid plan file: format_version 2 is not supported"),
        (
            _set(["changes", WF, "after", "description"], {"$sensitive": "0" * 64}),
            "holds a sensitive value the manifests no longer give",
        ),
        (_drop_kb, "changes: a plan made now also changes agents.bot.knowledge_bases.faq"),
        (_add_change, "a plan made now has no change at workflows.extra"),
    ],
    ids=[
        "value",
        "list",
        "type",
        "kind",
        "unknown-kind",
        "dependency-cycle",
        "dependency-dropped",
        "parent",
        "fingerprint",
        "moved",
        "destroy",
        "serial",
        "format",
        "sensitive",
        "change-dropped",
        "change-added",
    ],
)
def test_a_hand_edited_plan_is_refused_at_the_edit(
    saved: Saved, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    path = saved.edited(edit)
    located = message.format(wf=saved.index("workflows.main"), bot=saved.index("agents.bot"))

    outcome = bimpe("apply", ".", "--plan", path, env=saved.env)

    assert_refused(outcome, f"Error: {path}: ", located)
    saved.nothing_applied()


def _explanations(document: dict[str, Any]) -> None:
    document["created_at"] = "a while ago"
    document["warnings"] = ["edited by hand"]
    for change in document["changes"]:
        change["reason"] = "because"
        change["updated_at"] = "never"


@pytest.mark.parametrize("sort_keys", [False, True], ids=["explanations", "layout-too"])
def test_edits_to_what_only_explains_the_plan_apply_exactly(saved: Saved, sort_keys: bool) -> None:
    path = saved.edited(_explanations, sort_keys=sort_keys)

    outcome = bimpe("apply", ".", "--plan", path, env=saved.env)

    assert outcome.exit_code == 0, outcome.text
    assert_clean(outcome)
    again = bimpe("plan", ".", "--detailed-exitcode", env=saved.env)
    assert again.exit_code == 0, again.text
    assert "No changes." in again.output


def test_a_saved_destroy_plan_applies_with_its_sensitive_values(saved: Saved) -> None:
    assert bimpe("apply", ".", "--plan", saved.path, env=saved.env).exit_code == 0
    destroy = saved.path.with_name("destroy.json")
    assert bimpe("plan", ".", "--destroy", "--out", destroy, env=saved.env).exit_code == 0
    assert "$sensitive" in destroy.read_text(encoding="utf-8")

    outcome = bimpe("apply", ".", "--plan", destroy, env=saved.env)

    assert outcome.exit_code == 0, outcome.text
    assert saved.sdk.agents.list().data == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"format_version": 1, "changes": [', "invalid plan file: not JSON (Expecting value:"),
        (b"\xff\xfe{}", "invalid plan file: not JSON ("),
        (b"[" * 100_000, "invalid plan file: values nest more than 128 levels deep"),
        (None, "invalid plan file: not JSON ("),
    ],
    ids=["truncated", "not-utf8", "deep", "50-mb"],
)
def test_an_unreadable_plan_file_is_named(
    saved: Saved, fifty_mb: Path, content: bytes | None, message: str
) -> None:
    path = saved.path.with_name("broken.json")
    if content is None:
        os.link(fifty_mb, path)
    else:
        path.write_bytes(content)

    assert_refused(bimpe("apply", ".", "--plan", path, env=saved.env), f"Error: {path}: ", message)
    saved.nothing_applied()
