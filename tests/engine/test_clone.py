"""`bimpe-iac clone` end to end between two private emulators: a populated team cloned into an
empty one is equal to it in everything except ids and timestamps, and cloning again changes
nothing; a phone number the destination team lacks is a clear error before anything changes;
two environments that reach the same team are refused. The destination's state is the
stack's own for that environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bimpeai import BimpeAI
from teams import LINKED_NUMBER, build_team, configuration, run_cli

if TYPE_CHECKING:
    from conftest import PrivateEmulator


def stack_for(directory: Path, staging: PrivateEmulator, prod_url: str) -> Path:
    directory.mkdir()
    (directory / "stack.yaml").write_text(
        f"""name: kora
environments:
  staging:
    target: {{base_url: "{staging.url}", api_key_env: STAGING_KEY}}
  prod:
    target: {{base_url: "{prod_url}", api_key_env: PROD_KEY}}
"""
    )
    return directory


def keys(staging: str, prod: str) -> dict[str, str | None]:
    return {
        "STAGING_KEY": staging,
        "PROD_KEY": prod,
        "BIMPE_API_KEY": None,
        "BIMPE_BASE_URL": None,
    }


def test_a_populated_team_cloned_into_an_empty_one_is_equal(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    staging, prod = private_emulator(), private_emulator()
    build_team(staging.client())
    stack = stack_for(tmp_path / "kora", staging, prod.url)
    environ = keys(staging.api_key, prod.api_key)

    clone = ("clone", stack, "--from-env", "staging", "--to-env", "prod", "--auto-approve")
    cloned = run_cli(environ, *clone)
    assert cloned.exit_code == 0, cloned.output + cloned.stderr
    assert "Cloned 2 workflows, 2 agents, 2 knowledge bases, 1 phone link" in cloned.output
    assert configuration(prod.client()) == configuration(staging.client())

    again = run_cli(environ, *clone)
    assert again.exit_code == 0, again.output + again.stderr
    assert "No changes." in again.output
    # The destination's state is where the stack keeps prod's; no copy is left behind.
    assert (stack / ".bimpe" / "state" / "kora" / "prod.json").is_file()
    assert not (stack / ".bimpe" / "clones").exists()


def test_a_phone_number_the_destination_lacks_is_a_clear_error(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    staging, other = private_emulator(), private_emulator()
    build_team(staging.client())
    empty = other.admin.new_team("no numbers")
    stack = stack_for(tmp_path / "kora", staging, other.url)

    clone = ("clone", stack, "--from-env", "staging", "--to-env", "prod", "--auto-approve")
    result = run_cli(keys(staging.api_key, empty.api_key), *clone)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: the team of prod does not have the phone number {LINKED_NUMBER} linked to"
        " agents in staging; get it for that team first, map it to one it has with"
        " --map-number SRC=DST, or clone only other agents with --agent"
    )
    with BimpeAI(api_key=empty.api_key, base_url=other.url) as sdk:
        assert list(sdk.workflows.list(scope="owned")) == []
        assert list(sdk.agents.list()) == []


def test_two_environments_reaching_the_same_team_are_refused(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    staging = private_emulator()
    stack = stack_for(tmp_path / "kora", staging, staging.url)

    clone = ("clone", stack, "--from-env", "staging", "--to-env", "prod")
    result = run_cli(keys(staging.api_key, staging.api_key), *clone)
    assert result.exit_code == 1
    assert "staging and prod reach the same team" in result.stderr


def test_a_clone_needing_a_credential_the_destination_lacks_changes_nothing(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    """BimpeAI never returns credentials: a connected Paystack connector can only be cloned
    with its key from the destination's environment. Without it, the clone stops before any
    change and names the variable; with it, the destination's connector is connected."""
    staging, prod = private_emulator(), private_emulator()
    source = staging.client()
    workflow = source.workflows.create(name="Shop flow", system_prompt="Sell.")
    agent = source.agents.create(workflow_id=workflow.id, name="Shop bot", description="d")
    source.agents.integrations.bimpeai.configure(
        agent.id, type="paystack", secret_key="sk_live_source_only_0001"
    )
    stack = stack_for(tmp_path / "kora", staging, prod.url)
    environ = keys(staging.api_key, prod.api_key)
    clone = ("clone", stack, "--from-env", "staging", "--to-env", "prod", "--auto-approve")

    refused = run_cli(environ, *clone)
    assert refused.exit_code == 1, refused.output + refused.stderr
    assert "nothing was changed" in refused.stderr
    assert "SHOP_BOT_PAYSTACK_SECRET_KEY" in refused.stderr
    assert prod.client().agents.list().data == []

    cloned = run_cli({**environ, "SHOP_BOT_PAYSTACK_SECRET_KEY": "sk_live_prod_0002"}, *clone)
    assert cloned.exit_code == 0, cloned.output + cloned.stderr
    (copied,) = prod.client().agents.list().data
    first_party = {c.type: c for c in prod.client().agents.integrations.bimpeai.list(copied.id)}
    assert first_party["paystack"].is_connected
    assert "sk_live" not in cloned.output + cloned.stderr
