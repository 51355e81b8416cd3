"""Before any change, every action name a manifest enables must be one the agent will have.

An agent that exists has its own action list, read for the plan anyway. A new agent gets the
platform's built-in integrations and their actions when it is created, so its names are
checked against the actions of the team's agents that were read (the stack's own, or one
other agent of the team, `Collection.sampled`). A team with no agent at all tells nothing:
its names are checked when apply enables them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from bimpe_iac.manifest.issues import did_you_mean_any
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.kind import PlanContext
from bimpe_iac.model.plan import Desired
from bimpe_iac.model.sections import top_of
from bimpe_iac.resources.actions import unmanaged_actions
from bimpe_iac.resources.collections import ACTIONS


def check_action_names(context: PlanContext, desired: Mapping[str, Desired]) -> list[Issue]:
    """An issue at each action name that the agent will not have."""
    stack = context.stack
    team = sorted(
        {
            action["action_name"]
            for (collection, _), listing in context.fetched.children.items()
            if collection == ACTIONS.name
            for action in listing.values()
        }
    )
    provided: dict[str, set[str]] = {}
    for want in desired.values():
        if want.provides:
            provided.setdefault(top_of(want.address), set()).update(want.provides)
    issues = []
    for entry in stack.entries("agents"):
        spec, agent = entry.spec, entry.address
        address = f"{agent}.actions"
        if address not in desired or not spec.actions:
            continue
        agent_id = context.state_id(agent)
        own = context.fetched.under(ACTIONS.name, agent_id) if agent_id else None
        tools = provided.get(agent, set())
        if own is not None:
            known = sorted({action["action_name"] for action in own.values()} | tools)
            lacking = (
                "neither the agent nor its declared tools have an action"
                if tools
                else "the agent has no action"
            )
        elif team:
            known = sorted(set(team) | tools)
            lacking = (
                "neither the team's agents nor the agent's declared tools have an action"
                if tools
                else "no agent of the team has an action"
            )
        else:
            continue
        issues += _unmanaged(context, agent, spec)
        for index, name in enumerate(spec.actions):
            if name not in known:
                where = f"{address}[{index}]"
                # A hint near a sensitive value would tell what the value is close to.
                hint = did_you_mean_any(name, known) if stack.mask(name) == name else ""
                issues.append(stack.issue_at(where, stack.mask(f"{lacking} {name!r}{hint}")))
    return issues


def _unmanaged(context: PlanContext, agent: str, spec: Any) -> list[Issue]:
    """A warning listing the agent's actions of integrations the stack does not manage."""
    found = unmanaged_actions(context, agent)
    if not found:
        return []
    names = ", ".join(
        f"{a['action_name']} ({a.get('integration_type')} {a.get('integration_name')!r})"
        for a in found
    )
    if spec.unmanaged_actions == "keep":
        outcome = "left as they are (unmanaged_actions: keep)"
    else:
        outcome = (
            "disabled unless listed in actions: (set unmanaged_actions: keep on the agent to"
            " leave them alone)"
        )
    message = f"actions of integrations this stack does not manage: {names}; {outcome}"
    stack = context.stack
    issue = stack.issue_at(f"{agent}.actions", stack.mask(message))
    return [replace(issue, warning=True)]
