"""MCP servers as code: applying one configures it, tests it and discovers its tools (the
emulator's reachability rule and `tools=` URL parameter decide what it finds); a failed test
or a tool the server does not offer fails the apply with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from bimpeai import BimpeAI
from emulator_admin import Team
from tool_stacks import StackRun, files_holding, only_agent

from bimpe_iac.emulator.server import RunningEmulator

TOKEN = "mcp-token-V8q2LmZx"
SERVER = "agents.support.mcp_servers.docs"


def agents(
    url: str = "https://docs.example/mcp",
    *,
    tools: str = "[docs_hub_search]",
    token: bool = True,
    server: bool = True,
) -> str:
    text = """\
  support:
    workflow: main
    name: Ada
    description: Answers from the documentation
"""
    if server:
        text += f"""\
    mcp_servers:
      docs:
        name: Docs Hub
        server_url: {url}
"""
        if tools:
            text += f"        tools: {tools}\n"
        if token:
            text += """\
        auth_type: bearer
        auth_config: {token: "${env.MCP_TOKEN}"}
"""
    return text


@pytest.fixture
def run(tmp_path: Path, emulator: RunningEmulator, team: Team) -> StackRun:
    stack = StackRun(tmp_path / "stack", emulator.url, team.api_key, {"MCP_TOKEN": TOKEN})
    stack.write(agents())
    return stack


def _tools(sdk: BimpeAI, agent_id: str, server_id: str) -> dict[str, bool]:
    listed = sdk.agents.integrations.mcp_server.tools.list(agent_id, server_id)
    return {tool.action_name: tool.is_enabled for tool in listed}


def test_a_server_applies_is_tested_and_its_tools_discovered(
    run: StackRun, sdk: BimpeAI, tmp_path: Path
) -> None:
    run.apply()

    agent_id = only_agent(sdk)
    (server,) = sdk.agents.integrations.mcp_server.list(agent_id)
    assert server.config.name == "Docs Hub"
    assert server.config.server_url == "https://docs.example/mcp"
    assert server.config.transport == "streamable_http"
    assert server.config.auth_type == "bearer"
    assert server.model_extra is not None
    assert server.model_extra["auth_config_keys"] == ["token"]
    assert server.model_extra.get("last_discovered_at")
    assert _tools(sdk, agent_id, server.id) == {
        "docs_hub_search": True,
        "docs_hub_get_record": True,
        "docs_hub_create_record": True,
    }
    actions = {a.action_name for a in sdk.agents.actions.list(agent_id) if a.is_enabled}
    assert "docs_hub_search" in actions

    assert run.changes() == {}
    assert files_holding(tmp_path, TOKEN) == []
    assert not [text for text in run.outputs if TOKEN in text]


def test_the_agents_actions_may_enable_a_discovered_tool_in_the_same_apply(
    run: StackRun, sdk: BimpeAI
) -> None:
    run.write(
        agents().replace(
            "    mcp_servers:",
            "    actions: [docs_hub_search, escalate_to_human]\n    mcp_servers:",
        )
    )
    run.apply()
    agent_id = only_agent(sdk)
    enabled = {a.action_name for a in sdk.agents.actions.list(agent_id) if a.is_enabled}
    # The agent's actions are exactly those it lists: the server's other tools stay off.
    assert enabled == {"docs_hub_search", "escalate_to_human"}
    assert run.changes() == {}


def test_a_new_url_is_one_update_that_discovers_again(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    run.write(agents("https://docs.example/mcp?tools=search,list_pages", tools="[]"))
    assert run.changes() == {SERVER: "update"}
    run.apply()

    agent_id = only_agent(sdk)
    (server,) = sdk.agents.integrations.mcp_server.list(agent_id)
    assert _tools(sdk, agent_id, server.id) == {
        "docs_hub_search": True,
        "docs_hub_list_pages": True,
        "docs_hub_get_record": False,
        "docs_hub_create_record": False,
    }
    assert run.changes() == {}


def test_rotating_the_token_is_one_update(run: StackRun, sdk: BimpeAI, tmp_path: Path) -> None:
    run.apply()
    run.env["MCP_TOKEN"] = "mcp-token-rotated-Kd93"
    assert run.changes() == {SERVER: "update"}
    run.apply()
    assert run.changes() == {}
    for secret in (TOKEN, "mcp-token-rotated-Kd93"):
        assert files_holding(tmp_path, secret) == []
        assert not [text for text in run.outputs if secret in text]


def test_an_unreachable_server_fails_the_apply_naming_it(run: StackRun, sdk: BimpeAI) -> None:
    run.write(agents("https://mcp.down.invalid/mcp", tools=""))
    outcome = run("apply", run.directory, "--auto-approve")

    assert outcome.exit_code == 1, outcome.text
    assert "Traceback" not in outcome.text
    assert (
        f"{SERVER}: the MCP server at https://mcp.down.invalid/mcp failed its connection test:"
        " could not resolve host mcp.down.invalid"
    ) in outcome.text
    agent_id = only_agent(sdk)
    actions = {a.action_name for a in sdk.agents.actions.list(agent_id)}
    assert not [name for name in actions if name.startswith("docs_hub_")]


def test_a_plain_http_server_fails_its_test(run: StackRun) -> None:
    run.write(agents("http://docs.example/mcp", tools="", token=False))
    outcome = run("apply", run.directory, "--auto-approve")
    assert outcome.exit_code == 1, outcome.text
    assert "the MCP server at http://docs.example/mcp failed its connection test" in outcome.text
    assert "not https" in outcome.text


def test_an_expected_tool_the_server_lacks_fails_the_apply(run: StackRun) -> None:
    run.write(agents(tools="[docs_hub_search, docs_hub_translate]"))
    outcome = run("apply", run.directory, "--auto-approve")
    assert outcome.exit_code == 1, outcome.text
    assert "Traceback" not in outcome.text
    assert (
        "the MCP server at https://docs.example/mcp offers no tool docs_hub_translate (it"
        " offers: docs_hub_search, docs_hub_get_record, docs_hub_create_record)"
    ) in outcome.text


def test_removing_the_server_disconnects_it_and_its_actions(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    run.write(agents(server=False))
    assert run.changes() == {SERVER: "delete"}
    run.apply()

    agent_id = only_agent(sdk)
    assert sdk.agents.integrations.mcp_server.list(agent_id) == []
    actions = {a.action_name for a in sdk.agents.actions.list(agent_id)}
    assert not [name for name in actions if name.startswith("docs_hub_")]
    assert run.changes() == {}


def test_renaming_the_server_replaces_it(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    run.write(agents(tools="[docs_center_search]").replace("Docs Hub", "Docs Center"))
    assert run.changes() == {SERVER: "replace"}
    run.apply()

    agent_id = only_agent(sdk)
    (server,) = sdk.agents.integrations.mcp_server.list(agent_id)
    assert server.config.name == "Docs Center"
    assert "docs_center_search" in _tools(sdk, agent_id, server.id)
    assert run.changes() == {}


def test_export_writes_the_server_with_its_tools(run: StackRun, tmp_path: Path) -> None:
    run.apply()
    out = tmp_path / "exported"
    outcome = run("export", "--out", out)
    assert outcome.exit_code == 0, outcome.text
    text = (out / "agents.yaml").read_text()
    assert "name: Docs Hub" in text
    assert "server_url: https://docs.example/mcp" in text
    assert "tools: [docs_hub_search, docs_hub_get_record, docs_hub_create_record]" in text
    assert "token: ${var.ada_docs_hub_token}" in text
    assert "${env.ADA_DOCS_HUB_TOKEN}" in (out / "stack.yaml").read_text()
    assert files_holding(tmp_path, TOKEN) == []


def test_a_tool_the_server_stopped_offering_is_a_note(run: StackRun, sdk: BimpeAI) -> None:
    run.apply()
    agent_id = only_agent(sdk)
    (server,) = sdk.agents.integrations.mcp_server.list(agent_id)
    servers = sdk.agents.integrations.mcp_server
    servers.configure(
        agent_id,
        name="Docs Hub",
        server_url="https://docs.example/mcp?tools=list_pages",
        auth_type="bearer",
        auth_config={"token": TOKEN},
    )
    servers.discover(agent_id, server.id)

    outcome = run("plan", run.directory)
    assert outcome.exit_code == 0, outcome.text
    assert "the server offers no tool docs_hub_search (it offers: docs_hub_list_pages)" in (
        outcome.text
    )
