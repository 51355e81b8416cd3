"""Phone links whose number differs per environment, against two teams (staging and prod) of
one emulator over HTTP, read back through the SDK: one stack with `number: ${var.voice_number}`
links each environment's own number and leaves the team's other numbers alone, and each second
plan is empty; a changed number is relinked (the old one unlinked); a link first written under
its E.164 key that becomes `voice-line` with the same number is a move in the state, with or
without a `moved:` block, and the number stays linked throughout; the messages about numbers
the team lacks or that an unmanaged agent holds name the logical address and the number."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bimpeai import BimpeAI
from emulator_admin import Admin, Team
from teams import run_cli

if TYPE_CHECKING:
    from conftest import PrivateEmulator

ENVIRONMENTS = ("staging", "prod")

LOGICAL_LINK = """
phone_numbers:
  voice-line:
    number: ${var.voice_number}
    agent: support
    label: Main line
"""


@dataclass
class World:
    """Two teams of one emulator, each owning a number to link and a spare one."""

    url: str
    admin: Admin
    teams: dict[str, Team]
    numbers: dict[str, str]
    spares: dict[str, str]
    sdks: dict[str, BimpeAI]

    @property
    def environ(self) -> dict[str, str | None]:
        return {
            "STAGING_KEY": self.teams["staging"].api_key,
            "PROD_KEY": self.teams["prod"].api_key,
            "BIMPE_API_KEY": None,
            "BIMPE_BASE_URL": None,
        }

    def run(self, *args: str | Path) -> str:
        outcome = run_cli(self.environ, *args)
        assert outcome.exit_code == 0, outcome.text
        assert "Traceback" not in outcome.text
        return outcome.output

    def fails(self, *args: str | Path) -> str:
        outcome = run_cli(self.environ, *args)
        assert outcome.exit_code == 1, outcome.text
        assert "Traceback" not in outcome.text
        return outcome.stderr

    def link_of(self, env: str, e164: str) -> tuple[str | None, str | None]:
        """The name of the agent the number is linked to, and its label."""
        sdk = self.sdks[env]
        (number,) = [n for n in sdk.phone_numbers.list(limit=100).data if n.e164 == e164]
        names = {a.id: a.name for a in sdk.agents.list(limit=100).data}
        return names.get(number.agent_id or ""), number.label

    def number_writes(self) -> int:
        """Writes to phone numbers since the last call."""
        requests = self.admin.counters()["requests"]
        self.admin.reset_counters()
        return sum(n for route, n in requests.items() if route.startswith("PATCH /phone-numbers"))

    def is_empty_plan(self, stack: Path, env: str) -> bool:
        args = ("plan", stack, "--env", env, "--detailed-exitcode")
        return run_cli(self.environ, *args).exit_code == 0


@pytest.fixture
def world(
    private_emulator: Callable[..., PrivateEmulator], new_e164: Callable[[], str]
) -> Iterator[World]:
    private = private_emulator()
    teams = {env: private.admin.new_team(env) for env in ENVIRONMENTS}
    numbers, spares = {}, {}
    for env, team in teams.items():
        numbers[env], spares[env] = new_e164(), new_e164()
        private.admin.assign_number(team, numbers[env])
        private.admin.assign_number(team, spares[env], label="Spare")
    sdks = {env: BimpeAI(api_key=t.api_key, base_url=private.url) for env, t in teams.items()}
    yield World(private.url, private.admin, teams, numbers, spares, sdks)
    for sdk in sdks.values():
        sdk.close()


def write_stack(
    directory: Path, world: World, links: str, numbers: dict[str, str] | None = None
) -> Path:
    numbers = numbers or world.numbers
    directory.mkdir(exist_ok=True)
    environments = "".join(
        f"  {env}:\n"
        f'    target: {{base_url: "{world.url}", api_key_env: {env.upper()}_KEY}}\n'
        f'    vars: {{voice_number: "{numbers[env]}"}}\n'
        for env in ENVIRONMENTS
    )
    (directory / "stack.yaml").write_text(f"name: voice\nenvironments:\n{environments}")
    (directory / "resources.yaml").write_text(
        """
workflows:
  main: {name: Voice workflow, system_prompt: Answer calls.}
agents:
  support: {workflow: main, name: Support, description: Answers the phone}
"""
        + links
    )
    return directory


def e164_link(number: str) -> str:
    return f'phone_numbers:\n  "{number}": {{agent: support, label: Main line}}\n'


def test_each_environment_links_its_own_number(world: World, tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "voice", world, LOGICAL_LINK)

    for env in ENVIRONMENTS:
        planned = world.run("plan", stack, "--env", env)
        assert "phone_numbers.voice-line" in planned
        world.run("apply", stack, "--env", env, "--auto-approve")

    for env in ENVIRONMENTS:
        assert world.link_of(env, world.numbers[env]) == ("Support", "Main line")
        assert world.link_of(env, world.spares[env]) == (None, "Spare")
        assert world.is_empty_plan(stack, env)
        listed = world.run("state", "list", stack, "--env", env)
        assert "phone_numbers.voice-line" in listed


def test_a_changed_number_unlinks_the_old_one_and_links_the_new(
    world: World, tmp_path: Path
) -> None:
    stack = write_stack(tmp_path / "voice", world, LOGICAL_LINK)
    world.run("apply", stack, "--env", "staging", "--auto-approve")
    write_stack(stack, world, LOGICAL_LINK, {**world.numbers, "staging": world.spares["staging"]})

    planned = world.run("plan", stack, "--env", "staging")
    assert "phone_numbers.voice-line must be replaced" in planned
    world.number_writes()
    world.run("apply", stack, "--env", "staging", "--auto-approve")
    assert world.number_writes() == 2  # one unlinked, then the other linked

    assert world.link_of("staging", world.numbers["staging"]) == (None, None)
    assert world.link_of("staging", world.spares["staging"]) == ("Support", "Main line")
    assert world.is_empty_plan(stack, "staging")
    assert world.link_of("prod", world.numbers["prod"]) == (None, None)


@pytest.mark.parametrize("with_block", [False, True], ids=["implied", "moved-block"])
def test_an_e164_key_becomes_a_logical_key_without_unlinking(
    world: World, tmp_path: Path, with_block: bool
) -> None:
    number = world.numbers["staging"]
    stack = write_stack(tmp_path / "voice", world, e164_link(number))
    world.run("apply", stack, "--env", "staging", "--auto-approve")
    old = f'phone_numbers."{number}"'
    assert old in world.run("state", "list", stack, "--env", "staging")
    block = f"moved:\n  - {{from: '{old}', to: phone_numbers.voice-line}}\n"
    write_stack(stack, world, LOGICAL_LINK + (block if with_block else ""))

    planned = world.run("plan", stack, "--env", "staging")

    assert f"# {old} has moved to phone_numbers.voice-line" in planned
    assert "Plan: 1 to move, 0 to add, 0 to change, 0 to destroy." in planned
    assert world.link_of("staging", number) == ("Support", "Main line")

    world.number_writes()
    applied = world.run("apply", stack, "--env", "staging", "--auto-approve")

    assert "1 moved" in applied
    assert world.number_writes() == 0, "the number was written to, so perhaps unlinked"
    assert world.link_of("staging", number) == ("Support", "Main line")
    listed = world.run("state", "list", stack, "--env", "staging")
    assert "phone_numbers.voice-line" in listed
    assert old not in listed
    assert world.is_empty_plan(stack, "staging")
    assert world.link_of("staging", number) == ("Support", "Main line")


def test_a_number_the_team_lacks_is_named_with_the_logical_address(
    world: World, tmp_path: Path
) -> None:
    stack = write_stack(
        tmp_path / "voice", world, LOGICAL_LINK, {**world.numbers, "prod": world.numbers["staging"]}
    )

    refused = world.fails("plan", stack, "--env", "prod")

    assert (
        f"phone_numbers.voice-line: {world.numbers['staging']} is not one of this team's phone"
        " numbers" in refused
    )


def test_a_number_an_unmanaged_agent_holds_is_named_with_the_logical_address(
    world: World, tmp_path: Path
) -> None:
    sdk = world.sdks["staging"]
    workflow = sdk.workflows.create(name="Console flow", system_prompt="Hi.")
    holder = sdk.agents.create(workflow_id=workflow.id, name="Console bot", description="d")
    number = world.numbers["staging"]
    (linked,) = [n for n in sdk.phone_numbers.list(limit=100).data if n.e164 == number]
    sdk.phone_numbers.update(linked.id, agent_id=holder.id, label="Console line")
    stack = write_stack(tmp_path / "voice", world, LOGICAL_LINK)

    refused = world.fails("apply", stack, "--env", "staging", "--auto-approve")

    assert (
        f"phone_numbers.voice-line: {number} is linked to the agent 'Console bot' ({holder.id}),"
        " which the state of this stack does not manage" in refused
    )
    assert world.link_of("staging", number) == ("Console bot", "Console line")


def test_a_logical_link_is_imported_by_the_id_of_its_number(world: World, tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "voice", world, LOGICAL_LINK)
    world.run("apply", stack, "--env", "staging", "--auto-approve")
    world.run("state", "rm", "phone_numbers.voice-line", stack, "--env", "staging")
    sdk = world.sdks["staging"]
    number = world.numbers["staging"]
    (linked,) = [n for n in sdk.phone_numbers.list(limit=100).data if n.e164 == number]

    world.run("import", "phone_numbers.voice-line", linked.id, stack, "--env", "staging")

    assert "phone_numbers.voice-line" in world.run("state", "list", stack, "--env", "staging")
    assert world.is_empty_plan(stack, "staging")
    assert world.link_of("staging", number) == ("Support", "Main line")
