"""Lay a team out as manifest data: workflows and agents by logical key, prompts and text
knowledge in files, references by key. Fields the team leaves null or empty are left out, so
the manifests say only what the team has; lists compared as sets are sorted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from bimpe_iac.errors import ConfigError
from bimpe_iac.export.keys import assign_keys, named
from bimpe_iac.export.read import Obj, Team
from bimpe_iac.resources.agent import AgentAttribute
from bimpe_iac.resources.workflow import SET_FIELDS

WORKFLOW_FIELDS = (
    "name",
    "description",
    "category",
    "system_prompt",
    "tags",
    "integrations",
    "channels",
    "actions",
    "rules",
    "flows",
    "faq",
    "guide",
    "setup_steps",
    "setup_time",
    "video_url",
)
RULE_FIELDS = ("id", "name", "trigger", "condition", "response", "action", "enabled")
FLOW_FIELDS = (
    "name",
    "description",
    "category",
    "priority",
    "is_active",
    "trigger_keywords",
    "conversation_steps",
)
AGENT_FIELDS: tuple[str, ...] = get_args(AgentAttribute)


@dataclass(frozen=True)
class Layout:
    """Manifest data by section and key, and the text files they reference by path."""

    workflows: dict[str, Obj]
    agents: dict[str, Obj]
    phone_numbers: dict[str, Obj]
    files: dict[str, str]
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        knowledge_bases = sum(len(a.get("knowledge_bases", {})) for a in self.agents.values())
        counts = [
            (len(self.workflows), "workflow"),
            (len(self.agents), "agent"),
            (knowledge_bases, "knowledge base"),
            (len(self.phone_numbers), "phone link"),
        ]
        return ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)


def _pick(obj: Mapping[str, Any], fields: Iterable[str]) -> Obj:
    """`fields` of `obj` in that order, leaving out those that are null."""
    return {name: obj[name] for name in fields if obj.get(name) is not None}


def as_file(text: str) -> str:
    # The platform stores text without a final newline; loading strips it back.
    return text if text.endswith("\n") else text + "\n"


def _rule(rule: Obj) -> Obj:
    out = _pick(rule, RULE_FIELDS)
    if out.get("enabled") is True:  # the manifest's default
        del out["enabled"]
    return out


def _flow(flow: Obj) -> Obj:
    out = _pick(flow, FLOW_FIELDS)
    if "trigger_keywords" in out:
        out["trigger_keywords"] = [_pick(k, ("keyword", "weight")) for k in out["trigger_keywords"]]
    if "conversation_steps" in out:
        out["conversation_steps"] = [
            _pick(s, ("type", "content", "action", "followup")) for s in out["conversation_steps"]
        ]
    return out


def _workflow(key: str, workflow: Obj, files: dict[str, str]) -> Obj:
    out: Obj = {}
    for name, value in _pick(workflow, WORKFLOW_FIELDS).items():
        if value == [] or value == {}:
            continue
        if name == "system_prompt":
            path = f"prompts/{key}.md"
            files[path] = as_file(value)
            value = {"file": path}
        elif name in SET_FIELDS:
            value = sorted(set(value))
        elif name == "rules":
            value = [_rule(rule) for rule in value]
        elif name == "flows":
            value = [_flow(flow) for flow in value]
        elif name == "faq":
            value = [_pick(item, ("question", "answer")) for item in value]
        elif name == "guide":
            value = _pick(value, ("steps", "youtube_url"))
        out[name] = value
    return out


def _knowledge_base(path: str, kb: Obj, files: dict[str, str]) -> Obj:
    out = _pick(kb, ("type", "name", "description"))
    if kb.get("type") == "text":
        files[path] = as_file(kb.get("content") or "")
        out["content"] = {"file": path}
    else:
        out["url"] = kb.get("url")
    return out


class _Workflows:
    """How an agent names its workflow: by key, by catalog name, or by id as a last resort."""

    def __init__(self, keys: Mapping[str, str], public: list[Obj]) -> None:
        self.keys = keys
        names = [w["name"] for w in public]
        self.public = {w["id"]: w["name"] for w in public if names.count(w["name"]) == 1}

    def reference(self, workflow_id: str) -> str | Obj:
        if workflow_id in self.keys:
            return self.keys[workflow_id]
        if workflow_id in self.public:
            return {"public": self.public[workflow_id]}
        return {"id": workflow_id}


def _agent(key: str, agent: Obj, team: Team, workflows: _Workflows, files: dict[str, str]) -> Obj:
    workflow_id = agent.get("workflow_id")
    if workflow_id is None:
        raise ConfigError(f"agents.{key}: the agent has no workflow, so no manifest can say it")
    out: Obj = {"workflow": workflows.reference(str(workflow_id))}
    out.update(_pick(agent, AGENT_FIELDS))
    out.setdefault("description", "")
    if agent.get("status") is not None:
        out["live_status"] = agent["status"]
    if agent.get("status_reason") is not None:
        out["live_status_reason"] = agent["status_reason"]
    actions = team.actions.get(agent["id"], [])
    enabled = sorted({a["action_name"] for a in actions if a.get("is_enabled")})
    if enabled:
        out["actions"] = enabled
    knowledge_bases = team.knowledge_bases.get(agent["id"], [])
    kb_keys = assign_keys((named(kb) for kb in knowledge_bases), "knowledge")
    by_key = sorted((kb_keys[kb["id"]], kb) for kb in knowledge_bases)
    if by_key:
        out["knowledge_bases"] = {
            kb_key: _knowledge_base(f"kb/{key}/{kb_key}.md", kb, files) for kb_key, kb in by_key
        }
    return out


def lay_out(team: Team) -> Layout:
    files: dict[str, str] = {}
    workflow_keys = assign_keys((named(w) for w in team.workflows), "workflow")
    workflows = {workflow_keys[w["id"]]: w for w in team.workflows}
    agent_keys = assign_keys((named(a) for a in team.agents), "agent")
    references = _Workflows(workflow_keys, team.public_workflows)
    warnings = []
    agents: dict[str, Obj] = {}
    for agent in sorted(team.agents, key=lambda a: agent_keys[a["id"]]):
        key = agent_keys[agent["id"]]
        agents[key] = _agent(key, agent, team, references, files)
        if isinstance(agents[key]["workflow"], dict) and "id" in agents[key]["workflow"]:
            warnings.append(
                f"agents.{key}: its workflow {agent.get('workflow_id')} is neither the team's"
                " nor in the public catalog; it is referenced by id"
            )
    phone_numbers = {
        number["e164"]: _pick(
            {"agent": agent_keys[number["agent_id"]], "label": number.get("label")},
            ("agent", "label"),
        )
        for number in sorted(team.phone_numbers, key=lambda n: str(n["e164"]))
        if number.get("agent_id") in agent_keys
    }
    return Layout(
        workflows={key: _workflow(key, workflows[key], files) for key in sorted(workflows)},
        agents=agents,
        phone_numbers=phone_numbers,
        files=dict(sorted(files.items())),
        warnings=tuple(warnings),
    )
