"""`bimpe-iac export` end to end against private emulators: a team built only through the SDK
exports to a stack that validates and, applied to an empty team, gives an equal team; export,
apply, export again is byte-identical; --agent limits the output to those agents and what
they need; keys from duplicate names are de-duplicated deterministically; a directory that is
not empty is refused unless --force, which replaces the old manifests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from teams import build_team, configuration, run_cli, tree

if TYPE_CHECKING:
    from conftest import PrivateEmulator


def cli_for(emulator: PrivateEmulator) -> Callable[..., Any]:
    environ: dict[str, str | None] = {"BIMPE_API_KEY": emulator.api_key}
    environ["BIMPE_BASE_URL"] = emulator.url
    return lambda *args: run_cli(environ, *args)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_sdk_built_team_applied_to_an_empty_team_is_equal(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source, empty = private_emulator(), private_emulator()
    build_team(source.client())
    out = tmp_path / "export"

    exported = cli_for(source)("export", "--out", out, "--name", "copy")
    assert exported.exit_code == 0, exported.output + exported.stderr
    last = exported.output.strip().splitlines()
    # The team has no integrations: their sections count zero, after the others.
    assert re.fullmatch(
        r"Exported 2 workflows, 2 agents, 2 knowledge bases, 1 phone link(, 0 [A-Za-z ]+)*"
        + re.escape(f" to {out}."),
        last[-2],
    ), last[-2]
    assert last[-1] == f"Check it with: bimpe-iac validate {out} --env default"
    validated = cli_for(source)("validate", out)
    assert validated.exit_code == 0, validated.output

    applied = cli_for(empty)("apply", out, "--auto-approve")
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert configuration(empty.client()) == configuration(source.client())
    again = cli_for(empty)("plan", out)
    assert "No changes." in again.output, again.output


def test_export_apply_export_is_byte_identical(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source, empty = private_emulator(), private_emulator()
    build_team(source.client())
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli_for(source)("export", "--out", first, "--name", "copy").exit_code == 0
    assert cli_for(empty)("apply", first, "--auto-approve").exit_code == 0
    assert cli_for(empty)("export", "--out", second, "--name", "copy").exit_code == 0
    assert tree(first) == tree(second)

    files = tree(first)
    assert sorted(files) == [
        "agents.yaml",
        "kb/support-bot/faq.md",
        "phone_numbers.yaml",
        "prompts/customer-support.md",
        "prompts/sales.md",
        "stack.yaml",
        "workflows.yaml",
    ]
    # Text as stored, with a final newline; a file is never interpolated.
    assert files["prompts/customer-support.md"] == (
        b"You are Ada.\nAnswer briefly.\n\nNever write ${var.secret} literally.\n"
    )
    workflows = files["workflows.yaml"].decode()
    assert workflows.startswith("# yaml-language-server: $schema=")
    assert "description: |-\n      Answers questions.\n      Hands the rest to a person.\n" in (
        workflows
    )
    agents = load(first / "agents.yaml")["agents"]
    assert agents["support-bot"]["workflow"] == "customer-support"
    assert agents["support-bot"]["actions"] == ["escalate_to_human", "send_email"]
    assert agents["support-bot"]["live_status"] == "live"
    assert agents["catalog-bot"]["workflow"] == {"public": "Customer Support Triage"}
    assert agents["catalog-bot"]["live_status_reason"] == "Not yet"
    assert load(first / "phone_numbers.yaml") == {
        "phone_numbers": {"+15550100001": {"agent": "support-bot", "label": "Main line"}}
    }
    text = "\n".join(p.read_text() for p in first.glob("*.yaml"))
    assert "wf_" not in text and "agt_" not in text and "pn_" not in text


def test_dollar_brace_in_a_manifest_is_written_literally(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source, empty = private_emulator(), private_emulator()
    sdk = source.client()
    sdk.workflows.create(name="Promo", system_prompt="Hi.", description="Quote ${code} as is.")
    out = tmp_path / "out"
    assert cli_for(source)("export", "--out", out).exit_code == 0
    assert "description: Quote $${code} as is." in (out / "workflows.yaml").read_text()
    assert cli_for(empty)("apply", out, "--auto-approve").exit_code == 0
    copied = next(iter(empty.client().workflows.list(scope="owned")))
    assert copied.description == "Quote ${code} as is."


def test_agent_option_exports_only_those_agents_and_what_they_need(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source = private_emulator()
    agents = build_team(source.client())
    cli = cli_for(source)

    support = tmp_path / "support"
    assert cli("export", "--out", support, "--agent", agents["Support bot"]).exit_code == 0
    assert list(load(support / "workflows.yaml")["workflows"]) == ["customer-support"]
    assert list(load(support / "agents.yaml")["agents"]) == ["support-bot"]
    assert list(load(support / "phone_numbers.yaml")["phone_numbers"]) == ["+15550100001"]
    assert not (support / "prompts" / "sales.md").exists()

    catalog = tmp_path / "catalog"
    assert cli("export", "--out", catalog, "--agent", agents["Catalog bot"]).exit_code == 0
    assert sorted(p.name for p in catalog.iterdir()) == ["agents.yaml", "stack.yaml"]
    assert cli("validate", catalog).exit_code == 0

    unknown = cli("export", "--out", tmp_path / "none", "--agent", "agt_nope")
    assert unknown.exit_code == 1
    assert "Error: the team has no agent agt_nope" in unknown.stderr


def test_duplicate_names_get_deterministic_keys(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source, empty = private_emulator(), private_emulator()
    sdk = source.client()
    for prompt in ("Second.", "First."):
        sdk.workflows.create(name="Support", system_prompt=prompt)
    bang = sdk.workflows.create(name="support!", system_prompt="Third.")
    agent = sdk.agents.create(workflow_id=bang.id, name="Été Bot", description="")
    for content in ("Beta", "Alpha"):
        sdk.agents.knowledge_bases.create(
            agent.id, {"type": "text", "name": "Notes", "content": content}
        )

    one, two, copied = tmp_path / "one", tmp_path / "two", tmp_path / "copied"
    assert cli_for(source)("export", "--out", one, "--name", "x").exit_code == 0
    assert cli_for(source)("export", "--out", two, "--name", "x").exit_code == 0
    assert tree(one) == tree(two)
    workflows = load(one / "workflows.yaml")["workflows"]
    assert list(workflows) == ["support", "support-2", "support-3"]
    assert workflows["support-3"]["name"] == "support!"
    # Equal names are ordered by content: the same keys whatever order a copy was made in.
    assert (one / "prompts" / "support.md").read_text() == "First.\n"
    agents = load(one / "agents.yaml")["agents"]
    assert list(agents) == ["ete-bot"]
    assert agents["ete-bot"]["workflow"] == "support-3"
    assert list(agents["ete-bot"]["knowledge_bases"]) == ["notes", "notes-2"]
    assert (one / "kb" / "ete-bot" / "notes.md").read_text() == "Alpha\n"

    assert cli_for(empty)("apply", one, "--auto-approve").exit_code == 0
    assert cli_for(empty)("export", "--out", copied, "--name", "x").exit_code == 0
    assert tree(copied) == tree(one)


def test_a_directory_that_is_not_empty_needs_force(
    private_emulator: Callable[..., PrivateEmulator], tmp_path: Path
) -> None:
    source = private_emulator()
    source.client().workflows.create(name="Sales", system_prompt="You sell things.")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    (out / "old.yaml").write_text("workflows: {}\n")

    refused = cli_for(source)("export", "--out", out)
    assert refused.exit_code == 1
    assert f"Error: {out} is not empty" in refused.stderr
    assert not (out / "stack.yaml").exists()

    forced = cli_for(source)("export", "--out", out, "--force")
    assert forced.exit_code == 0, forced.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.txt",
        "prompts",
        "stack.yaml",
        "workflows.yaml",
    ]
    assert load(out / "stack.yaml") == {
        "name": "out",
        "environments": {"default": {}},  # no target: BIMPE_API_KEY, else the emulator
    }
