"""Checks across resources: every reference names something declared, and `moved`
blocks describe renames that can be followed without going round in circles."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bimpe_iac.manifest.fields import KEY_PATTERN
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.manifest.models import AgentSpec, MovedBlock
from bimpe_iac.manifest.resources import Declared
from bimpe_iac.manifest.yaml_loader import Document
from bimpe_iac.model.issues import Issue

_KEY = re.compile(KEY_PATTERN)
_KNOWLEDGE_BASE_ADDRESS = re.compile(r"^agents\.([^.]+)\.knowledge_bases\.([^.]+)$")


@dataclass(frozen=True)
class PlacedMove:
    """A `moved` block and where it is written."""

    block: MovedBlock
    document: Document
    index: int

    def issue(self, field: str, message: str) -> Issue:
        return self.document.issue(("moved", self.index, field), message)


def check_references(
    resources: Mapping[tuple[str, str], Declared], moves: Sequence[PlacedMove]
) -> list[Issue]:
    issues: list[Issue] = []
    workflows = sorted(key for section, key in resources if section == "workflows")
    agents = sorted(key for section, key in resources if section == "agents")
    for declared in resources.values():
        # Checked on the data as written, so a reference is checked even when something
        # else in the resource is invalid.
        if declared.section == "agents":
            workflow = _reference(declared, "workflow")
            if workflow is not None and workflow not in workflows:
                hint = did_you_mean(workflow, workflows) or (
                    "; for a workflow this stack does not manage, write {id: ...} or {public: ...}"
                )
                issues.append(_issue(declared, "workflow", f"unknown workflow '{workflow}'{hint}"))
        if declared.section == "phone_numbers":
            agent = _reference(declared, "agent")
            if agent is not None and agent not in agents:
                hint = did_you_mean(agent, agents)
                issues.append(_issue(declared, "agent", f"unknown agent '{agent}'{hint}"))
    issues += _check_moves(_addresses(resources), moves)
    return issues


def _reference(declared: Declared, field: str) -> str | None:
    """The key a resource refers to in `field`, if it is written as a well-formed key."""
    value = declared.data.get(field) if isinstance(declared.data, dict) else None
    return value if isinstance(value, str) and _KEY.match(value) else None


def _issue(declared: Declared, field: str, message: str) -> Issue:
    return declared.document.issue((*declared.path, field), message)


def _addresses(resources: Mapping[tuple[str, str], Declared]) -> set[str]:
    addresses = set()
    for (section, key), declared in resources.items():
        addresses.add(f"{section}.{key}")
        if isinstance(declared.spec, AgentSpec):
            addresses.update(
                f"agents.{key}.knowledge_bases.{kb}" for kb in declared.spec.knowledge_bases
            )
    return addresses


def _kind(address: str) -> str:
    return "knowledge_bases" if _KNOWLEDGE_BASE_ADDRESS.match(address) else address.split(".")[0]


def _check_moves(addresses: set[str], moves: Sequence[PlacedMove]) -> list[Issue]:
    issues: list[Issue] = []
    sources: dict[str, PlacedMove] = {}
    for move in moves:
        source, target = move.block.from_, move.block.to
        if source in sources:
            issues.append(move.issue("from", f"{source} is already moved by an earlier block"))
            continue
        sources[source] = move
        if _kind(source) != _kind(target):
            issues.append(
                move.issue(
                    "to", f"cannot move {source} to {target}: a move keeps the kind of resource"
                )
            )
        elif source in addresses:
            issues.append(
                move.issue(
                    "from", f"{source} is still declared; a move's 'from' is the old address"
                )
            )
    for move in moves:
        target = move.block.to
        if target not in addresses and target not in sources:
            issues.append(move.issue("to", f"{target} is not declared in this stack"))
    issues += _cycles(sources)
    return issues


def _cycles(sources: Mapping[str, PlacedMove]) -> list[Issue]:
    issues: list[Issue] = []
    reported: set[str] = set()
    for start in sources:
        chain = [start]
        while (current := sources[chain[-1]].block.to) in sources and current not in chain:
            chain.append(current)
        target = sources[chain[-1]].block.to
        if target in chain and not reported & set(chain):
            cycle = [*chain[chain.index(target) :], target]
            reported.update(cycle)
            issues.append(sources[cycle[-2]].issue("to", "reference cycle: " + " -> ".join(cycle)))
    return issues
