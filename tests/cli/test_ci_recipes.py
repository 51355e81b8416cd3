"""The CI recipes and pre-commit hooks: valid YAML, every `bimpe-iac` invocation in them
names a real command and only options that command has, and the plan comment steps post
every part of a long plan (run here with node, bash, curl and jq)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from emulator_admin import Team

from bimpe_iac.cli import cli
from bimpe_iac.emulator.server import RunningEmulator

ROOT = Path(__file__).parents[2]
RECIPES = [ROOT / "examples/ci/github-actions.yml", ROOT / "examples/ci/gitlab-ci.yml"]


def _scripts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("run", "script", "entry", "before_script") and isinstance(value, str):
                yield value
            elif key in ("script", "before_script") and isinstance(value, list):
                yield from (item for item in value if isinstance(item, str))
            else:
                yield from _scripts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scripts(item)


def _invocations(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        # The marker comment "<!-- bimpe-iac plan -->" is text, not a command.
        for match in re.finditer(r"(?<!<!-- )bimpe-iac\s+([^|;&>)]*)", line):
            words = shlex.split(match.group(1).replace("$", "X"), comments=True)
            if words:
                yield words


def _check(words: list[str]) -> None:
    command: click.Command = cli
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        name = words.pop(0)
        found = command.get_command(click.Context(command), name)
        assert found is not None, f"no command {name!r} under {command.name!r}"
        command = found
    assert not isinstance(command, click.Group), f"{command.name} needs a subcommand"
    options = {opt for param in command.params for opt in param.opts}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{command.name} has no option {word}"


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_uses_real_commands_and_flags(recipe: Path) -> None:
    document = yaml.safe_load(recipe.read_text())
    invocations = [w for script in _scripts(document) for w in _invocations(script)]
    commands = {w[0] for w in invocations}
    assert {"plan", "apply", "drift"} <= commands
    for words in invocations:
        _check(list(words))


def test_pre_commit_hook_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    entries = {hook["id"]: hook["entry"] for hook in hooks}
    assert entries["bimpe-iac-validate"] == "bimpe-iac validate"
    _check(["validate", "--env"])


def test_checker_catches_a_made_up_flag() -> None:
    with pytest.raises(AssertionError):
        _check(["plan", "--no-such-flag"])


def _readme_commands() -> tuple[str, str]:
    """The README's main command and its test command, as a newcomer copies them."""
    lines = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()]
    main = next(line for line in lines if line.startswith("python3 -m venv") and "apply" in line)
    tests = next(line for line in lines if line.startswith("python3 -m venv") and "pytest" in line)
    return main, tests


def test_ci_runs_the_readme_main_command_then_its_test_command() -> None:
    """Finding 6: the two commands are proven in the order a newcomer types them."""
    main, tests = _readme_commands()
    assert "bimpe-iac apply examples/stacks/support --auto-approve" in main
    steps = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert main in steps and tests in steps
    assert steps.index(main) < steps.index(tests)


# --- the plan comment steps, run locally ---------------------------------------------------
# A long plan comes in Markdown parts; the recipes post one comment per part. These tests run
# the recipes' own steps: the plan step with bimpe-iac against the emulator, the GitHub script
# with node against a stand-in for github-script's `github` object, and the GitLab script with
# bash, curl and jq against a stand-in for GitLab's notes API on 127.0.0.1.

GITHUB, GITLAB = RECIPES
PROMPT = "\n".join(f"Step {n}: answer the customer politely and briefly." for n in range(10))
WORKFLOWS = 160  # their diffs fill more than two comments


def _steps(recipe: Path) -> dict[str, Any]:
    document = yaml.safe_load(recipe.read_text())
    if recipe == GITHUB:
        return {step.get("name", ""): step for step in document["jobs"]["plan"]["steps"]}
    return {"script": document["plan"]["script"]}


def _long_stack(root: Path) -> Path:
    stack = root / "stacks" / "support"
    (stack / "prompts").mkdir(parents=True)
    (stack / "stack.yaml").write_text("name: support\nenvironments:\n  prod: {}\n")
    (stack / "prompts" / "main.md").write_text(PROMPT)
    workflows = "".join(
        f"  flow-{n}: {{name: Flow {n}, system_prompt: {{file: prompts/main.md}}}}\n"
        for n in range(WORKFLOWS)
    )
    (stack / "resources.yaml").write_text(f"workflows:\n{workflows}")
    return stack


def _shell(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env, "PATH": path, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def planned(tmp_path: Path, emulator: RunningEmulator, team: Team) -> Path:
    """A checkout whose plan has several parts, planned by the GitHub recipe's plan step."""
    _long_stack(tmp_path)
    env = {
        "STACK": "stacks/support",
        "STACK_ENV": "prod",
        "BIMPE_API_KEY": team.api_key,
        "BIMPE_BASE_URL": emulator.url,
    }
    ran = _shell(_steps(GITHUB)["Plan"]["run"], tmp_path, env)
    assert ran.returncode == 0, ran.stderr
    return tmp_path


def _part_count(checkout: Path) -> int:
    return len(list((checkout / "plan-parts").glob("part-*.md")))


def test_plan_writes_each_markdown_part_to_its_own_file(planned: Path) -> None:
    parts = sorted((planned / "plan-parts").glob("part-*.md"))
    assert len(parts) >= 3
    for number, part in enumerate(sorted(parts, key=lambda p: int(p.stem[5:])), start=1):
        text = part.read_text()
        assert f"(part {number} of {len(parts)})" in text.splitlines()[0]
        assert len(text) < 65000


GITHUB_HARNESS = """
const calls = [];
const comments = JSON.parse(process.env.EXISTING);
const github = {
  paginate: async (method, args) => { calls.push(["list", args.issue_number]); return comments; },
  rest: { issues: {
    listComments: "listComments",
    createComment: async (a) => { calls.push(["create", a.issue_number, a.body]); },
    updateComment: async (a) => { calls.push(["update", a.comment_id, a.body]); },
    deleteComment: async (a) => { calls.push(["delete", a.comment_id]); },
  } },
};
const context = { repo: { owner: "kora", repo: "stacks" }, issue: { number: 7 } };
(async () => {
SCRIPT
})().then(() => console.log(JSON.stringify(calls)), (e) => { console.error(e); process.exit(1); });
"""


def _marker(part: int, stack: str = "stacks/support") -> str:
    return f"<!-- bimpe-iac plan {stack} prod part {part} -->"


def test_github_recipe_posts_every_part_and_removes_stale_ones(planned: Path) -> None:
    count = _part_count(planned)
    existing = [
        {"id": 11, "body": f"{_marker(1)}\nold part 1"},
        {"id": 12, "body": f"{_marker(2)}\nold part 2"},
        {"id": 13, "body": f"{_marker(count + 1)}\nold part from a longer plan"},
        {"id": 14, "body": f"{_marker(2, 'stacks/other')}\nanother stack's plan"},
        {"id": 15, "body": "Looks good to me"},
    ]
    script = _steps(GITHUB)["Post or update the plan comments"]["with"]["script"]
    harness = planned / "harness.js"
    harness.write_text(GITHUB_HARNESS.replace("SCRIPT", script))
    env = {"STACK": "stacks/support", "STACK_ENV": "prod", "EXISTING": json.dumps(existing)}
    ran = subprocess.run(
        ["node", str(harness)],
        cwd=planned,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    calls = json.loads(ran.stdout)
    assert calls[0] == ["list", 7]
    writes = calls[1:]
    parts = [(planned / "plan-parts" / f"part-{n}.md").read_text() for n in range(1, count + 1)]
    expected: list[list[Any]] = [
        ["update", 11, f"{_marker(1)}\n{parts[0]}"],
        ["update", 12, f"{_marker(2)}\n{parts[1]}"],
        *[["create", 7, f"{_marker(n + 1)}\n{parts[n]}"] for n in range(2, count)],
        ["delete", 13],
    ]
    assert writes == expected


class _Notes(BaseHTTPRequestHandler):
    """GitLab's merge request notes API, as far as the recipe uses it."""

    notes: dict[int, str]
    token: str
    next_id = 1000

    def _reply(self, status: int, data: Any = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _allowed(self) -> bool:
        if self.headers.get("PRIVATE-TOKEN") == self.token:
            return True
        self._reply(401, {"message": "401 Unauthorized"})
        return False

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return str(json.loads(self.rfile.read(length))["body"])

    def do_GET(self) -> None:
        if self._allowed():
            self._reply(200, [{"id": i, "body": b} for i, b in sorted(self.notes.items())])

    def do_POST(self) -> None:
        if self._allowed():
            type(self).next_id += 1
            self.notes[self.next_id] = self._body()
            self._reply(201, {"id": self.next_id})

    def do_PUT(self) -> None:
        if self._allowed():
            note = int(self.path.rsplit("/", 1)[1])
            self.notes[note] = self._body()
            self._reply(200, {"id": note})

    def do_DELETE(self) -> None:
        if self._allowed():
            del self.notes[int(self.path.rsplit("/", 1)[1])]
            self._reply(204)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_gitlab_recipe_posts_every_part_and_removes_stale_ones(planned: Path) -> None:
    count = _part_count(planned)
    notes = {
        11: f"{_marker(1)}\nold part 1",
        13: f"{_marker(count + 1)}\nold part from a longer plan",
        14: f"{_marker(count + 2, 'stacks/other')}\nanother stack's plan",
        15: "Looks good to me",
    }
    handler = type("Notes", (_Notes,), {"notes": notes, "token": "glpat-test"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = _steps(GITLAB)["script"]
    post = next(line for line in script if "curl" in line and "plan-parts" in line)
    env = {
        "STACK": "stacks/support",
        "STACK_ENV": "prod",
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v4",
        "CI_PROJECT_ID": "3",
        "CI_MERGE_REQUEST_IID": "9",
        "GITLAB_API_TOKEN": "glpat-test",
    }
    try:
        ran = _shell(post, planned, env)
        again = _shell(post, planned, env)  # the next push: the same notes, updated in place
    finally:
        server.shutdown()
        server.server_close()
    assert ran.returncode == 0, ran.stderr
    assert again.returncode == 0, again.stderr
    parts = [(planned / "plan-parts" / f"part-{n}.md").read_text() for n in range(1, count + 1)]
    ours = {i: b for i, b in notes.items() if b.startswith("<!-- bimpe-iac plan stacks/support")}
    assert sorted(ours.values()) == sorted(
        f"{_marker(n)}\n{parts[n - 1].rstrip()}" for n in range(1, count + 1)
    )
    assert ours[11].startswith(_marker(1))  # updated in place, not posted again
    assert 13 not in notes
    assert notes[14].endswith("another stack's plan") and notes[15] == "Looks good to me"
    assert len(notes) == count + 2


def test_gitlab_plan_lines_plan_into_parts(
    tmp_path: Path, emulator: RunningEmulator, team: Team
) -> None:
    _long_stack(tmp_path)
    script = _steps(GITLAB)["script"]
    lines = [line for line in script if line.startswith(("code=0; bimpe-iac plan", 'if [ "$code'))]
    assert len(lines) == 2
    env = {
        "STACK": "stacks/support",
        "STACK_ENV": "prod",
        "BIMPE_API_KEY": team.api_key,
        "BIMPE_BASE_URL": emulator.url,
    }
    ran = _shell("\n".join(lines), tmp_path, env)
    assert ran.returncode == 0, ran.stderr
    assert _part_count(tmp_path) >= 2
