"""`bimpe-iac clone` of a stack's environments: staging's team, applied from
examples/stacks/multi-env, cloned into prod's team gets prod's vars (names without the staging
suffix, prod's live status and its sensitive escalation e-mail) and keeps its state where the
stack keeps prod's, so the stack's own plan for prod is empty; a rename in staging is an
update in prod, not a delete and a create; `--map-number` links the destination's number."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from bimpeai import BimpeAI
from teams import run_cli

if TYPE_CHECKING:
    from conftest import PrivateEmulator


# The numbers examples/stacks/multi-env links, demo numbers of the emulator's default team.
STAGING_NUMBER, PROD_NUMBER = "+2348012345678", "+2348012345679"
# The agents multi-env declares in prod only, by their names there (sorted).
PROD_EXTRAS = ("Ada, VIP concierge", "Kora Accra", "Kora Lagos")


def teams(
    server: PrivateEmulator, closing: ExitStack, *numbers: str
) -> tuple[BimpeAI, BimpeAI, dict[str, str | None]]:
    """Two new teams of `server`, staging's and prod's, each with the number multi-env links
    in it, the first numbers to staging and the others to prod; their SDK clients and the
    CLI's environment reaching them."""
    staging, prod = server.admin.new_team("staging"), server.admin.new_team("prod")
    for team, number in ((staging, STAGING_NUMBER), (prod, PROD_NUMBER)):
        server.admin.release_number(number)
        server.admin.assign_number(team, number)
    for number in numbers[:1]:
        server.admin.assign_number(staging, number)
    for number in numbers[1:]:
        server.admin.assign_number(prod, number)
    environ: dict[str, str | None] = {
        "BIMPE_STAGING_API_KEY": staging.api_key,
        "BIMPE_PROD_API_KEY": prod.api_key,
        "BIMPE_BASE_URL": server.url,
        "BIMPE_API_KEY": None,
    }
    return (
        closing.enter_context(BimpeAI(api_key=staging.api_key, base_url=server.url)),
        closing.enter_context(BimpeAI(api_key=prod.api_key, base_url=server.url)),
        environ,
    )


def staged(environ: dict[str, str | None], stack: Path) -> tuple[str | Path, ...]:
    """Apply `stack` to staging; the command line cloning staging into prod."""
    applied = run_cli(environ, "apply", stack, "--env", "staging", "--auto-approve")
    assert applied.exit_code == 0, applied.text
    return ("clone", stack, "--from-env", "staging", "--to-env", "prod", "--auto-approve")


def ids(sdk: BimpeAI) -> dict[str, str]:
    agents = {a.id: a.id for a in sdk.agents.list()}
    workflows = {w.id: w.id for w in sdk.workflows.list(scope="owned")}
    kbs = {kb.id: kb.id for agent in agents for kb in sdk.agents.knowledge_bases.list(agent)}
    return {**agents, **workflows, **kbs}


def test_a_clone_renders_prod_vars_and_a_rename_is_an_update(
    private_emulator: Callable[..., PrivateEmulator], example: Callable[[str], Path]
) -> None:
    closing = ExitStack()
    with closing:
        _rename_is_an_update(*teams(private_emulator(), closing), example("multi-env"))


def _rename_is_an_update(
    staging: BimpeAI, prod: BimpeAI, environ: dict[str, str | None], stack: Path
) -> None:
    clone = staged(environ, stack)

    first = run_cli(environ, *clone)
    assert first.exit_code == 0, first.text
    agents = {a.name: a for a in prod.agents.list()}
    # Prod's own: its regions and its VIP agent, whatever staging has.
    assert sorted(agents) == [*PROD_EXTRAS[:1], "Kemi, sales", "Kofi, support", *PROD_EXTRAS[1:]]
    assert {agents[n].status for n in ("Kemi, sales", "Kofi, support")} == {"live"}
    assert {a.escalation_email for a in agents.values()} == {"oncall-7f3k9@kora.example"}
    assert [w.name for w in prod.workflows.list(scope="owned")] == ["Storefront assistant"]
    assert "oncall-7f3k9" not in first.text
    planned = run_cli(environ, "plan", stack, "--env", "prod")
    assert planned.exit_code == 0, planned.text
    assert "No changes." in planned.output, planned.output

    before = ids(prod)
    (sales,) = [a for a in staging.agents.list() if a.name.startswith("Kemi")]
    staging.agents.update(sales.id, name="Kemi, sales lead [staging]")
    second = run_cli(environ, *clone)
    assert second.exit_code == 0, second.text
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in second.output, second.output
    assert ids(prod) == before
    assert sorted(a.name for a in prod.agents.list()) == [
        PROD_EXTRAS[0],
        "Kemi, sales lead [staging]",
        "Kofi, support",
        *PROD_EXTRAS[1:],
    ]


STACK = """name: lines
environments:
  staging:
    target: {api_key_env: BIMPE_STAGING_API_KEY}
    vars: {suffix: " [staging]"}
  prod:
    target: {api_key_env: BIMPE_PROD_API_KEY}
    vars: {suffix: ""}
"""
RESOURCES = """workflows:
  main: {name: "Main${var.suffix}", system_prompt: Answer briefly.}
agents:
  bot: {workflow: main, name: "Bot${var.suffix}", description: Takes calls}
phone_numbers:
  "+2348030000001": {agent: bot, label: Main line}
"""


def test_map_number_links_the_destination_number(
    private_emulator: Callable[..., PrivateEmulator],
    make_stack: Callable[[str, dict[str, str]], Path],
) -> None:
    with ExitStack() as closing:
        _, prod, environ = teams(private_emulator(), closing, "+2348030000001", "+2348030000009")
        stack = make_stack("lines", {"stack.yaml": STACK, "lines.yaml": RESOURCES})
        clone = staged(environ, stack)

        unmapped = run_cli(environ, *clone)
        assert unmapped.exit_code == 1
        assert "does not have the phone number +2348030000001" in unmapped.stderr
        assert "--map-number SRC=DST" in unmapped.stderr
        assert list(prod.agents.list()) == []

        mapped = run_cli(environ, *clone, "--map-number", "+2348030000001=+2348030000009")
        assert mapped.exit_code == 0, mapped.text
        (bot,) = prod.agents.list()
        assert bot.name == "Bot"
        (number,) = [n for n in prod.phone_numbers.list() if n.e164 == "+2348030000009"]
        assert (number.e164, number.agent_id, number.label) == (
            "+2348030000009",
            bot.id,
            "Main line",
        )


def test_deleting_in_the_destination_needs_max_deletions(
    private_emulator: Callable[..., PrivateEmulator], example: Callable[[str], Path]
) -> None:
    with ExitStack() as closing:
        staging, prod, environ = teams(private_emulator(), closing)
        stack = example("multi-env")
        clone = staged(environ, stack)
        assert run_cli(environ, *clone).exit_code == 0
        (sales,) = [a for a in staging.agents.list() if a.name.startswith("Kemi")]
        staging.agents.delete(sales.id)

        refused = run_cli(environ, *clone)
        assert refused.exit_code == 1
        assert "more than --max-deletions 0: agents.sales" in refused.stderr, refused.text
        assert len(prod.agents.list().data) == 5

        allowed = run_cli(environ, *clone, "--max-deletions", "10")
        assert allowed.exit_code == 0, allowed.text
        names = sorted(a.name for a in prod.agents.list())
        assert names == [PROD_EXTRAS[0], "Kofi, support", *PROD_EXTRAS[1:]], allowed.text


def test_the_copy_an_earlier_clone_kept_is_named_and_not_used(
    private_emulator: Callable[..., PrivateEmulator], example: Callable[[str], Path]
) -> None:
    with ExitStack() as closing:
        _, prod, environ = teams(private_emulator(), closing)
        stack = example("multi-env")
        clone = staged(environ, stack)
        old = stack / ".bimpe" / "clones" / "prod"
        old.mkdir(parents=True)
        cloned = run_cli(environ, *clone)
        assert cloned.exit_code == 0, cloned.text
        assert f"Note: {old} is the copy an earlier clone kept" in cloned.stderr
        assert "clone no longer uses it: prod's state is the stack's own" in cloned.stderr
        assert len(prod.agents.list().data) == 5


def test_agent_option_clones_only_that_agent_and_what_it_needs(
    private_emulator: Callable[..., PrivateEmulator], example: Callable[[str], Path]
) -> None:
    with ExitStack() as closing:
        staging, prod, environ = teams(private_emulator(), closing)
        clone = staged(environ, example("multi-env"))
        (sales,) = [a for a in staging.agents.list() if a.name.startswith("Kemi")]
        cloned = run_cli(environ, *clone, "--agent", sales.id)
        assert cloned.exit_code == 0, cloned.text
        (copied,) = prod.agents.list()
        assert copied.name == "Kemi, sales"
        names = {kb.name for kb in prod.agents.knowledge_bases.list(copied.id)}
        assert names == {"Product catalogue", "Payment options"}
        assert [w.name for w in prod.workflows.list(scope="owned")] == ["Storefront assistant"]


MODULE = {
    "module.yaml": "inputs:\n  brand: {type: string}\n",
    "shop.yaml": """workflows:
  storefront: {name: "${var.brand} storefront", system_prompt: Sell kindly.}
agents:
  assistant: {workflow: storefront, name: "${var.brand} assistant", description: Sells.}
""",
}
USES_MODULE = """name: brands
environments:
  staging: {target: {api_key_env: BIMPE_STAGING_API_KEY}, vars: {suffix: " [staging]"}}
  prod: {target: {api_key_env: BIMPE_PROD_API_KEY}, vars: {suffix: ""}}
vars:
  suffix: ""
modules:
  kora: {source: ../shop, inputs: {brand: "Kora${var.suffix}"}}
"""


def test_a_stack_using_a_module_clones_with_the_destinations_inputs(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    for directory, files in (("shop", MODULE), ("stack", {"stack.yaml": USES_MODULE})):
        (tmp_path / directory).mkdir()
        for name, text in files.items():
            (tmp_path / directory / name).write_text(text)
    stack = tmp_path / "stack"
    closing = ExitStack()
    with closing:
        _, prod, environ = teams(private_emulator(), closing)
        cloned = run_cli(environ, *staged(environ, stack))
        assert cloned.exit_code == 0, cloned.text
        assert [a.name for a in prod.agents.list()] == ["Kora assistant"]
        assert [w.name for w in prod.workflows.list(scope="owned")] == ["Kora storefront"]
        planned = run_cli(environ, "plan", stack, "--env", "prod")
        assert "No changes." in planned.output, planned.output
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
