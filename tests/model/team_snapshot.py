"""What a team holds, read through the official SDK, keyed so two reads compare directly.

Objects are keyed by kind and name (the model gives every object a name no other object of the
team has), so a snapshot says nothing about ids: a destroyed and recreated object is equal to
the old one when its fields are. Each key maps to a list of records, so a twin shows as two.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bimpeai import BimpeAI

Key = tuple[str, str]
"""(kind, name): kind is workflow, agent, kb, actions, live_status, phone, custom_api, tool or
connector; the name of an agent's actions, live status and Paystack connector (listed only while
it is not `not_connected`) is the agent's name, a phone number's is its E.164, a tool's is its
action name."""

Snapshot = dict[Key, list[dict[str, Any]]]


def _all(list_page: Any) -> list[Any]:
    items: list[Any] = []
    page = 1
    while True:
        result = list_page(page)
        items.extend(result.data)
        if result.meta is None or page >= int(result.meta.page_count):
            return items
        page += 1


def read_team(sdk: BimpeAI) -> Snapshot:
    snapshot: defaultdict[Key, list[dict[str, Any]]] = defaultdict(list)
    workflows = _all(lambda p: sdk.workflows.list(page=p, limit=100, scope="accessible"))
    workflow_names = {w.id: w.name for w in workflows}
    for workflow in workflows:
        if workflow.is_owner:
            snapshot["workflow", workflow.name].append(
                {
                    "system_prompt": workflow.system_prompt,
                    "description": workflow.description,
                }
            )
    agents = _all(lambda p: sdk.agents.list(page=p, limit=100))
    agent_names = {a.id: a.name for a in agents}
    for agent in agents:
        snapshot["agent", agent.name].append(
            {
                "description": agent.description,
                "escalation_email": agent.escalation_email,
                "workflow": workflow_names.get(agent.workflow_id, agent.workflow_id),
            }
        )
        snapshot["live_status", agent.name].append({"status": agent.status})
        actions = sdk.agents.actions.list(agent.id)
        snapshot["actions", agent.name].append(
            {"enabled": sorted(a.action_name for a in actions if a.is_enabled)}
        )
        for kb in sdk.agents.knowledge_bases.list(agent.id):
            snapshot["kb", kb.name].append(
                {"agent": agent.name, "content": kb.content, "description": kb.description}
            )
        for api in sdk.agents.integrations.custom_api.list(agent.id):
            extra = api.model_extra or {}
            snapshot["custom_api", api.config.name].append(
                {
                    "agent": agent.name,
                    "auth_config_keys": sorted(extra.get("auth_config_keys") or []),
                }
            )
            for tool in sdk.agents.integrations.custom_api.tools.list(agent.id, api.id):
                snapshot["tool", tool.action_name].append(
                    {"agent": agent.name, "api": api.config.name}
                )
        for connector in sdk.agents.integrations.bimpeai.list(agent.id):
            if connector.type == "paystack" and connector.status != "not_connected":
                snapshot["connector", agent.name].append({"status": connector.status})
    for number in _all(lambda p: sdk.phone_numbers.list(page=p, limit=100)):
        snapshot["phone", number.e164].append(
            {"agent": agent_names.get(number.agent_id, number.agent_id), "label": number.label}
        )
    return dict(snapshot)


def differences(before: Snapshot, after: Snapshot) -> set[Key]:
    """The keys whose records were added, removed or changed."""
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
