"""The constructs machine's picture of a stack: agents stamped out by `for_each` over a map
var, a plain agent that can move into an instance, knowledge bases of one environment or
`enabled:` only sometimes, and uses of one module.

Every object the manifests declare has an address, a unique platform name and an identity
(`ident`) that a `moved:` block carries over, so that the test can say which ids must stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

MODULE_RESOURCES = """\
workflows:
  flow: {name: "${var.brand} flow", system_prompt: "Help the shoppers of ${var.brand}."}
agents:
  helper:
    workflow: flow
    name: "${var.brand} helper"
    description: "${var.note}"
    knowledge_bases:
      notes: {type: text, name: "${var.brand} notes", content: "About ${var.brand}."}
"""
MODULE_INPUTS = "inputs:\n  brand: {type: string}\n  note: {type: string}\n"


@dataclass(frozen=True)
class Declared:
    address: str
    kind: str
    """workflow, agent or kb."""
    name: str
    fields: tuple[tuple[str, str], ...]
    """What the plan compares and the team shows: an agent's description and workflow's name,
    a knowledge base's agent and content, a workflow's prompt."""
    ident: str


@dataclass
class Region:
    ident: str
    country: str
    promo: bool


@dataclass
class Plain:
    ident: str
    name: str
    promo: bool
    hours_env: str
    """The environment that declares its `hours` knowledge base: test (the one the test runs)
    or other."""


@dataclass
class ConstructsModel:
    regions: dict[str, Region] = field(default_factory=dict)
    plain: Plain | None = None
    uses: dict[str, str] = field(default_factory=dict)
    """Use name -> its `note` input."""
    moves: list[tuple[str, str]] = field(default_factory=list)
    """Until the next full apply."""
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter

    # --- what the manifests declare ---------------------------------------------------

    def objects(self) -> dict[str, Declared]:
        out: list[Declared] = [_workflow("workflows.triage", "Triage", "Triage.", "triage")]
        for key, region in self.regions.items():
            address = f'agents.regional["{key}"]'
            out += _agent(
                address, f"Desk {key}", f"Serves {region.country}", "Triage", region.ident
            )
            out.append(
                _kb(address, "faq", f"FAQ {key}", f"FAQ {key}.", f"Desk {key}", region.ident)
            )
            if region.promo:
                out.append(
                    _kb(address, "promo", f"Promo {key}", "Deals.", f"Desk {key}", region.ident)
                )
        if self.plain is not None:
            plain = self.plain
            out += _agent("agents.lagos", plain.name, "A desk of its own", "Triage", plain.ident)
            for kb, declared in (
                ("faq", True),
                ("promo", plain.promo),
                ("hours", plain.hours_env == "test"),
            ):
                if declared:
                    out.append(
                        _kb(
                            "agents.lagos",
                            kb,
                            f"{plain.name} {kb}",
                            f"{kb} of {plain.name}.",
                            plain.name,
                            plain.ident,
                        )
                    )
        for use, note in self.uses.items():
            brand = use.capitalize()
            prefix = f"module.{use}"
            out.append(
                _workflow(
                    f"{prefix}.workflows.flow",
                    f"{brand} flow",
                    f"Help the shoppers of {brand}.",
                    prefix,
                )
            )
            out += _agent(
                f"{prefix}.agents.helper", f"{brand} helper", note, f"{brand} flow", prefix
            )
            out.append(
                _kb(
                    f"{prefix}.agents.helper",
                    "notes",
                    f"{brand} notes",
                    f"About {brand}.",
                    f"{brand} helper",
                    prefix,
                )
            )
        return {o.address: o for o in out}

    def stack_yaml(self, base_url: str) -> str:
        target = {"base_url": base_url, "api_key_env": "BIMPE_API_KEY"}
        regions = {k: {"country": r.country, "promo": r.promo} for k, r in self.regions.items()}
        document: dict[str, Any] = {
            "name": "constructs",
            "vars": {"regions": regions or {"value": {}}},
            "environments": {"test": {"target": target}, "other": {"target": target}},
        }
        if self.uses:
            document["modules"] = {
                use: {"source": "../module", "inputs": {"brand": use.capitalize(), "note": note}}
                for use, note in self.uses.items()
            }
        return yaml.safe_dump(document, sort_keys=False)

    def resources_yaml(self) -> str:
        agents: dict[str, Any] = {
            "regional": {
                "for_each": "${var.regions}",
                "workflow": "triage",
                "name": "Desk ${each.key}",
                "description": "Serves ${each.value.country}",
                "knowledge_bases": {
                    "faq": {
                        "type": "text",
                        "name": "FAQ ${each.key}",
                        "content": "FAQ ${each.key}.",
                    },
                    "promo": {
                        "type": "text",
                        "name": "Promo ${each.key}",
                        "content": "Deals.",
                        "enabled": "${each.value.promo}",
                    },
                },
            }
        }
        if self.plain is not None:
            name = self.plain.name
            agents["lagos"] = {
                "workflow": "triage",
                "name": name,
                "description": "A desk of its own",
                "knowledge_bases": {
                    kb: {
                        "type": "text",
                        "name": f"{name} {kb}",
                        "content": f"{kb} of {name}.",
                        **extra,
                    }
                    for kb, extra in (
                        ("faq", {}),
                        ("promo", {"enabled": self.plain.promo}),
                        ("hours", {"environments": [self.plain.hours_env]}),
                    )
                },
            }
        document: dict[str, Any] = {
            "workflows": {"triage": {"name": "Triage", "system_prompt": "Triage."}},
            "agents": agents,
        }
        if self.moves:
            document["moved"] = [{"from": a, "to": b} for a, b in self.moves]
        return yaml.safe_dump(document, sort_keys=True)


def _workflow(address: str, name: str, prompt: str, ident: str) -> Declared:
    return Declared(address, "workflow", name, (("system_prompt", prompt),), f"{ident}/workflow")


def _agent(address: str, name: str, description: str, workflow: str, ident: str) -> list[Declared]:
    fields = (("description", description), ("workflow", workflow))
    return [Declared(address, "agent", name, fields, ident)]


def _kb(agent: str, key: str, name: str, content: str, agent_name: str, ident: str) -> Declared:
    fields = (("agent", agent_name), ("content", content))
    return Declared(f"{agent}.knowledge_bases.{key}", "kb", name, fields, f"{ident}/{key}")


def expected_changes(
    before: dict[str, Declared], after: dict[str, Declared], moves: list[tuple[str, str]]
) -> dict[str, str]:
    """What a plan from `before` (converged) to `after` does, address by address: a `moved`
    block carries an address and what it holds to the new one."""
    carried = {_moved(address, moves): o for address, o in before.items()}
    changes = {a: "create" for a in after.keys() - carried.keys()}
    changes |= {a: "delete" for a in carried.keys() - after.keys()}
    for address in after.keys() & carried.keys():
        old, new = carried[address], after[address]
        if (old.name, old.fields) != (new.name, new.fields):
            changes[address] = "update"
    return changes


def _moved(address: str, moves: list[tuple[str, str]]) -> str:
    for old, new in moves:
        if address == old or address.startswith(old + "."):
            return new + address[len(old) :]
    return address


def write_module(directory: Any) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "module.yaml").write_text(MODULE_INPUTS)
    (directory / "desk.yaml").write_text(MODULE_RESOURCES)
