"""examples/stacks/multi-env applied as a team with a staging and a prod account would: two
teams, each with its own number; staging has one region and no VIP agent, prod has both
regions and the VIP agent; each second plan is empty and the outputs name the real ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from emulator_admin import Admin, Team

from bimpe_iac.emulator.server import RunningEmulator

NUMBERS = {"staging": "+2348012345678", "prod": "+2348012345679"}


def _run(running: RunningEmulator, teams: dict[str, Team], *args: str | Path) -> Outcome:
    environ: dict[str, str | None] = {
        "BIMPE_BASE_URL": running.url,
        "BIMPE_STAGING_API_KEY": teams["staging"].api_key,
        "BIMPE_PROD_API_KEY": teams["prod"].api_key,
        "BIMPE_API_KEY": None,
        "NO_COLOR": "1",
    }
    return invoke(*args, env=environ)


def test_staging_and_prod_are_two_teams_that_really_differ(
    start_emulator: Callable[..., RunningEmulator], example: Callable[[str], Path]
) -> None:
    running = start_emulator()
    admin = Admin(running)
    teams = {env: admin.new_team(f"kora {env}") for env in NUMBERS}
    for env, team in teams.items():
        # The demo numbers start in the emulator's default team: each team gets its own.
        admin.release_number(NUMBERS[env])
        admin.assign_number(team, NUMBERS[env])
    stack = example("multi-env")

    for env in ("staging", "prod"):
        applied = _run(running, teams, "apply", stack, "--env", env, "--auto-approve")
        assert applied.exit_code == 0, applied.output + applied.stderr
        assert "oncall-7f3k9" not in applied.output + applied.stderr
        again = _run(running, teams, "plan", stack, "--env", env, "--detailed-exitcode")
        assert again.exit_code == 0, again.output + again.stderr

    names = {}
    for env, team in teams.items():
        with BimpeAI(api_key=team.api_key, base_url=running.url) as sdk:
            agents = {a.name: a for a in sdk.agents.list().data}
            names[env] = sorted(agents)
            (number,) = sdk.phone_numbers.list().data
            assert number.e164 == NUMBERS[env]
            support = next(a for n, a in agents.items() if n.startswith("Kofi, support"))
            assert number.agent_id == support.id
            outputs = _run(running, teams, "output", "--stack", stack, "--env", env, "--json")
            assert outputs.exit_code == 0, outputs.output + outputs.stderr
            assert json.loads(outputs.output)["support_agent_id"]["value"] == support.id
    assert names["staging"] == [
        "Kemi, sales [staging]",
        "Kofi, support [staging]",
        "Kora Lagos [staging]",
    ]
    assert names["prod"] == [
        "Ada, VIP concierge",
        "Kemi, sales",
        "Kofi, support",
        "Kora Accra",
        "Kora Lagos",
    ]
