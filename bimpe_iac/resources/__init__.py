"""The resource kinds bimpe-iac manages: one module each, registered here by name.

Adding a kind means adding its module and one line below; the commands hand this registry to
the engine, which imports no kind.
"""

from __future__ import annotations

from bimpe_iac.model.registry import Registry
from bimpe_iac.model.sections import Sections
from bimpe_iac.resources import (
    actions,
    agent,
    connector,
    custom_api,
    custom_api_tool,
    knowledge_base,
    live_status,
    mcp_server,
    phone_link,
    pipedream_app,
    workflow,
)
from bimpe_iac.resources.action_names import check_action_names

REGISTRY = Registry(
    kinds={
        workflow.KIND.name: workflow.KIND,
        agent.KIND.name: agent.KIND,
        knowledge_base.KIND.name: knowledge_base.KIND,
        actions.KIND.name: actions.KIND,
        live_status.KIND.name: live_status.KIND,
        phone_link.KIND.name: phone_link.KIND,
        connector.KIND.name: connector.KIND,
        pipedream_app.KIND.name: pipedream_app.KIND,
        custom_api.KIND.name: custom_api.KIND,
        custom_api_tool.KIND.name: custom_api_tool.KIND,
        mcp_server.KIND.name: mcp_server.KIND,
    },
    plan_checks=(
        check_action_names,
        phone_link.check_number_holders,
        connector.check_unconnected_actions,
        custom_api_tool.check_tool_action_names,
    ),
    sections=Sections(
        (
            workflow.SECTION,
            agent.SECTION,
            knowledge_base.SECTION,
            phone_link.SECTION,
            connector.SECTION,
            pipedream_app.SECTION,
            custom_api.SECTION,
            custom_api_tool.SECTION,
            mcp_server.SECTION,
        )
    ),
)
