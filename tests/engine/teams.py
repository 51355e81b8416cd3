"""Helpers for the export and clone tests: a team built only through the SDK, a team's
configuration with ids and timestamps replaced by names, stack directories as bytes, and the
CLI run with a chosen environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bimpeai import BimpeAI
from cli_runner import Outcome, invoke

LINKED_NUMBER = "+15550100001"
VOLATILE = {"id", "created_at", "updated_at", "test_channel_code", "integration_id", "is_owner"}
# Lists bimpe-iac manages as sets: their order is not part of the configuration.
WORKFLOW_SETS = ("tags", "integrations", "channels", "actions")


def run_cli(environ: dict[str, str | None], *args: str | Path) -> Outcome:
    """The CLI in-process with these environment variables set (None unsets one)."""
    return invoke(*args, env=environ)


def build_team(sdk: BimpeAI) -> dict[str, str]:
    """Populate a team through the SDK alone; returns the ids of its agents by name."""
    main_flow = sdk.workflows.create(
        name="Customer support",
        system_prompt="You are Ada.\nAnswer briefly.\n\nNever write ${var.secret} literally.",
        description="Answers questions.\nHands the rest to a person.",
        category="support",
        tags=["tier-1", "support"],
        integrations=["orders"],
        channels=["whatsapp", "webchat"],
        actions=["escalate_to_human"],
        rules=[
            {
                "id": "refunds",
                "name": "Refunds",
                "trigger": "asks for a refund",
                "response": "Let me get a colleague.",
                "enabled": True,
                "action": "escalate_to_human",
            },
            {
                "id": "angry",
                "name": "Angry",
                "trigger": "is angry",
                "response": "Sorry about that.",
                "enabled": False,
                "condition": "repeated complaint",
            },
        ],
        flows=[
            {
                "name": "Order status",
                "priority": 2,
                "trigger_keywords": [{"keyword": "order", "weight": "high"}, {"keyword": "box"}],
                "conversation_steps": [
                    {"type": "message", "content": "Your order number?"},
                    {"type": "action", "action": "lookup_order", "followup": "Give the status"},
                ],
            },
            {"name": "Hours", "is_active": False},
        ],
        faq=[{"question": "When are you open?", "answer": "8am to 8pm."}],
        guide={"steps": ["Read the prompt"], "youtube_url": "https://youtube.example/x"},
        setup_steps=[{"title": "Connect WhatsApp", "minutes": 5}],
        setup_time=15,
        video_url="https://video.example/intro",
    )
    sdk.workflows.create(name="Sales", system_prompt="You sell things.")
    public = {w.name: w.id for w in sdk.workflows.list(scope="public", limit=100)}

    support = sdk.agents.create(
        workflow_id=main_flow.id,
        name="Support bot",
        description="Tier 1 support",
        language="en",
        persona="friendly",
        timezone="Africa/Lagos",
        logo="https://cdn.example/logo.png",
        business_name="Example Ltd",
        business_address="1 Main Street",
        business_email="hello@example.com",
        business_description="We sell things.\nAll over Lagos.",
        escalation_email="team@example.com",
    )
    sdk.agents.knowledge_bases.create(
        support.id,
        {
            "type": "text",
            "name": "FAQ",
            "description": "Common questions",
            "content": "Q: Opening hours?\nA: 8 to 8.",
        },
    )
    sdk.agents.knowledge_bases.create(
        support.id, {"type": "url", "name": "Help centre", "url": "https://example.com/help"}
    )
    actions = {a.action_name: a.id for a in sdk.agents.actions.list(support.id)}
    sdk.agents.actions.enable(
        support.id, action_ids=[actions["send_email"], actions["escalate_to_human"]]
    )
    sdk.agents.update_live_status(support.id, status="live")
    number = next(n for n in sdk.phone_numbers.list(limit=100) if n.e164 == LINKED_NUMBER)
    sdk.phone_numbers.update(number.id, agent_id=support.id, label="Main line")

    catalog = sdk.agents.create(
        workflow_id=public["Customer Support Triage"],
        name="Catalog bot",
        description="Runs a public workflow",
    )
    sdk.agents.update_live_status(catalog.id, status="paused", status_reason="Not yet")
    return {"Support bot": support.id, "Catalog bot": catalog.id}


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in VOLATILE}


def _workflow(workflow: dict[str, Any]) -> dict[str, Any]:
    out = _strip(workflow)
    for name in WORKFLOW_SETS:
        out[name] = sorted(out[name] or [])
    return out


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=repr)


def configuration(sdk: BimpeAI) -> dict[str, Any]:
    """Everything a stack can describe of a team, with ids mapped to names."""
    workflows = [w.model_dump() for w in sdk.workflows.list(scope="owned", limit=100)]
    public = {w.id: w.name for w in sdk.workflows.list(scope="public", limit=100)}
    workflow_names = {w["id"]: w["name"] for w in workflows}
    agents = [a.model_dump() for a in sdk.agents.list(limit=100)]
    agent_names = {a["id"]: a["name"] for a in agents}
    described_agents = []
    for agent in agents:
        workflow_id = agent.pop("workflow_id")
        workflow = workflow_names.get(workflow_id) or f"public: {public[workflow_id]}"
        kbs = [_strip(kb.model_dump()) for kb in sdk.agents.knowledge_bases.list(agent["id"])]
        actions = [_strip(a.model_dump()) for a in sdk.agents.actions.list(agent["id"])]
        described_agents.append(
            {
                **_strip(agent),
                "workflow": workflow,
                "knowledge_bases": _sorted(kbs),
                "actions": _sorted(actions),
            }
        )
    numbers = []
    for number in sdk.phone_numbers.list(limit=100):
        data = _strip(number.model_dump())
        data["agent"] = agent_names.get(data.pop("agent_id") or "")
        numbers.append(data)
    return {
        "workflows": _sorted([_workflow(w) for w in workflows]),
        "agents": _sorted(described_agents),
        "phone_numbers": _sorted(numbers),
    }


def tree(directory: Path) -> dict[str, bytes]:
    """Every file of a stack directory by relative path, leaving out .bimpe (state)."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".bimpe" not in path.relative_to(directory).parts
    }
