"""The model-based test's picture of a stack: what the manifests declare, what the state
manages, and what each resource was last applied with.

A resource keeps one identity (`uid`) through renames, so "managed" and "last applied
protection" follow it whatever key it has; its name is unique in the team and never changes,
which lets the test find it in a team snapshot without ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from team_snapshot import Key

PROTECTABLE = frozenset({"workflow", "agent", "kb"})


@dataclass
class Resource:
    uid: int
    kind: str
    """workflow, agent, kb, actions, live_status, phone, custom_api, tool or connector (an
    agent's Paystack connector)."""
    key: str
    """Its key in the manifest (a phone link's is its number)."""
    name: str
    """The platform name; for actions, live status and a connector, the agent's; for a phone,
    its number; for a tool, its action name."""
    fields: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None
    """The agent of a knowledge base, actions, live status, custom API or connector; the custom
    API of a tool."""
    needs: int | None = None
    """An agent's workflow, a phone link's agent."""
    protect: bool = False
    ignore_description: bool = False
    declared: bool = True


@dataclass
class StackModel:
    resources: dict[int, Resource] = field(default_factory=dict)
    managed: set[int] = field(default_factory=set)
    """What the state manages, by the model's reckoning."""
    applied_protect: dict[int, bool] = field(default_factory=dict)
    """prevent_destroy as last applied."""
    moves: list[tuple[str, str]] = field(default_factory=list)
    secret: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    """Sensitive vars besides `secret`: a custom API's token, the Paystack key."""
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, kind: str, key: str, name: str, **kwargs: Any) -> Resource:
        resource = Resource(self.next(), kind, key, name, **kwargs)
        self.resources[resource.uid] = resource
        return resource

    # --- queries ------------------------------------------------------------------------

    def declared(self, kind: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.declared and r.kind == kind]

    def children(self, uid: int) -> list[Resource]:
        return [r for r in self.resources.values() if r.parent == uid]

    def descendants(self, uid: int) -> list[Resource]:
        """Children, and their children (a custom API's tools)."""
        out: list[Resource] = []
        todo = self.children(uid)
        while todo:
            current = todo.pop()
            out.append(current)
            todo += self.children(current.uid)
        return out

    def child(self, uid: int, kind: str) -> Resource | None:
        found = [r for r in self.children(uid) if r.kind == kind and r.declared]
        return found[0] if found else None

    def address(self, resource: Resource) -> str:
        if resource.kind == "workflow":
            return f"workflows.{resource.key}"
        if resource.kind == "phone":
            return f'phone_numbers."{resource.key}"'
        if resource.kind == "agent":
            return f"agents.{resource.key}"
        assert resource.parent is not None
        agent = self.address(self.resources[resource.parent])
        if resource.kind == "kb":
            return f"{agent}.knowledge_bases.{resource.key}"
        if resource.kind == "custom_api":
            return f"{agent}.custom_apis.{resource.key}"
        if resource.kind == "tool":
            return f"{agent}.tools.{resource.key}"
        if resource.kind == "connector":
            return f"{agent}.connectors.paystack"
        return f"{agent}.{resource.kind}"

    def team_key(self, resource: Resource) -> Key:
        return (resource.kind, resource.name)

    def protected(self, resource: Resource) -> bool:
        """Per the manifest when it declares the resource, else per the last apply."""
        if resource.kind not in PROTECTABLE:
            return False
        if resource.declared:
            return resource.protect
        return self.applied_protect.get(resource.uid, False)

    def needs_closure(self, uid: int) -> set[int]:
        """The resource, what it needs to exist (transitively), and an agent's own children."""
        out: set[int] = set()
        todo = [uid]
        while todo:
            current = self.resources[todo.pop()]
            if current.uid in out:
                continue
            out.add(current.uid)
            todo += [u for u in (current.parent, current.needs) if u is not None]
        if self.resources[uid].kind == "agent":
            out |= {c.uid for c in self.descendants(uid) if c.declared}
        return out

    def dependents_closure(self, uid: int) -> set[int]:
        """The resource and every managed resource that depends on it, transitively."""
        out: set[int] = set()
        todo = [uid]
        while todo:
            current = todo.pop()
            if current in out:
                continue
            out.add(current)
            todo += [
                r.uid
                for r in self.resources.values()
                if r.uid in self.managed and current in (r.parent, r.needs)
            ]
        return out

    # --- bookkeeping after a command ----------------------------------------------------

    def applied(self, uids: set[int]) -> None:
        """The resources were applied as declared: managed with their lifecycle saved."""
        for uid in uids:
            resource = self.resources[uid]
            self.managed.add(uid)
            self.applied_protect[uid] = resource.protect

    def destroyed(self, uids: set[int]) -> None:
        for uid in uids:
            self.managed.discard(uid)
            self.applied_protect.pop(uid, None)
            if not self.resources[uid].declared:
                del self.resources[uid]

    def rename(self, resource: Resource, key: str) -> None:
        """A new key and a `moved` block; blocks that moved to the old address (or under it)
        now move to the new one, as a chain would end there."""
        old = self.address(resource)
        resource.key = key
        new = self.address(resource)
        self.moves = [(_reprefix(a, old, new), _reprefix(b, old, new)) for a, b in self.moves]
        self.moves.append((old, new))

    def undeclare(self, uid: int) -> None:
        """Removed from the manifests: a ghost while the state still manages it."""
        self.resources[uid].declared = False
        if uid not in self.managed:
            del self.resources[uid]

    # --- the manifests ------------------------------------------------------------------

    def resources_yaml(self) -> str:
        document: dict[str, Any] = {}
        workflows = {
            w.key: {**w.fields, **_lifecycle(w.protect, [])} for w in self.declared("workflow")
        }
        agents: dict[str, Any] = {}
        for agent in self.declared("agent"):
            body: dict[str, Any] = {
                "workflow": self.resources[agent.needs or 0].key,
                **agent.fields,
            }
            actions = self.child(agent.uid, "actions")
            if actions is not None:
                body["actions"] = actions.fields["enabled"]
            live_status = self.child(agent.uid, "live_status")
            if live_status is not None:
                body["live_status"] = live_status.fields["status"]
            kbs = {
                kb.key: {"type": "text", **kb.fields, **_lifecycle(kb.protect, [])}
                for kb in self.children(agent.uid)
                if kb.kind == "kb" and kb.declared
            }
            if kbs:
                body["knowledge_bases"] = kbs
            apis = {
                api.key: {
                    **api.fields,
                    **(
                        {"tools": tools}
                        if (
                            tools := {
                                t.key: t.fields
                                for t in self.children(api.uid)
                                if t.kind == "tool" and t.declared
                            }
                        )
                        else {}
                    ),
                }
                for api in self.children(agent.uid)
                if api.kind == "custom_api" and api.declared
            }
            if apis:
                body["custom_apis"] = apis
            connector = self.child(agent.uid, "connector")
            if connector is not None:
                body["connectors"] = {"paystack": connector.fields}
            body |= _lifecycle(agent.protect, ["description"] if agent.ignore_description else [])
            agents[agent.key] = body
        phones = {
            p.key: {"agent": self.resources[p.needs or 0].key, **p.fields}
            for p in self.declared("phone")
        }
        if workflows:
            document["workflows"] = workflows
        if agents:
            document["agents"] = agents
        if phones:
            document["phone_numbers"] = phones
        # A block must move to a declared address: those of removed resources go.
        declared = {self.address(r) for r in self.resources.values() if r.declared}
        moves = [{"from": a, "to": b} for a, b in self.moves if b in declared]
        if moves:
            document["moved"] = moves
        return yaml.safe_dump(document, sort_keys=True, allow_unicode=True)


def _reprefix(address: str, old: str, new: str) -> str:
    if address == old:
        return new
    return new + address[len(old) :] if address.startswith(old + ".") else address


def _lifecycle(protect: bool, ignore: list[str]) -> dict[str, Any]:
    lifecycle: dict[str, Any] = {}
    if protect:
        lifecycle["prevent_destroy"] = True
    if ignore:
        lifecycle["ignore_changes"] = ignore
    return {"lifecycle": lifecycle} if lifecycle else {}


def stack_yaml(base_url: str, secret: str, tokens: dict[str, str] | None = None) -> str:
    variables = {"secret": {"value": secret, "sensitive": True}} | {
        name: {"value": value, "sensitive": True} for name, value in (tokens or {}).items()
    }
    return yaml.safe_dump(
        {
            "name": "model",
            "environments": {
                "test": {
                    "target": {"base_url": base_url, "api_key_env": "BIMPE_API_KEY"},
                    "vars": variables,
                }
            },
        },
        sort_keys=False,
    )
