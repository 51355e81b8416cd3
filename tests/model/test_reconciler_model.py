"""A model-based test of plan, apply and destroy: hypothesis edits a small stack (workflows,
agents with knowledge bases, actions, live status, a phone link, a sensitive var, `moved`
blocks, lifecycle), edits the team by hand through the SDK, loses the state, and runs the CLI
in random orders. After every step it checks what a user relies on:

- a full apply converges: `plan --detailed-exitcode` is 0 and the team equals the model, every
  name once, no orphans, objects made by hand left alone;
- `apply --target X` changes only X, what X needs, and an agent's own children;
  `destroy --target X` deletes exactly X and what depends on it, never what X needs;
- a protected resource (per the manifest, or per the last apply once its block is gone) is
  never deleted: the command is refused, exit 1, and the team is unchanged;
- after a lost state, an apply that would create same-name twins is refused; `--adopt` takes
  the objects over;
- no sensitive value, old or new, nor its SHA-256, is in any output, saved plan or state file;
- an agent has exactly the custom APIs (bearer token from a sensitive var) and tools, each once,
  and the Paystack connector status the model says; a tool's new `url_template` adds exactly
  one replace of that tool to the plan, and a rotated token exactly one update of that API.

A second machine (constructs_machine.py) walks `for_each` over a map var, `enabled:` and
`environments:`, `moved:` into an instance and uses of one module: every edit from a converged
stack plans exactly what the model predicts, and every apply keeps the ids of what kept its
identity.

CI runs a bounded, derandomized number of examples; `BIMPE_SOAK=1` runs many more, randomly
(`BIMPE_MODEL_EXAMPLES`, `BIMPE_CONSTRUCTS_EXAMPLES` and `BIMPE_MODEL_STEPS` set the budget).
Run with `-s` to see how many examples and steps ran and which rules fired.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from constructs_machine import ConstructsStats, configure
from emulator_admin import Admin, Team
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from manifest_model import PROTECTABLE, Resource, StackModel, stack_yaml
from team_snapshot import Key, Snapshot, differences, read_team

from bimpe_iac.emulator.app import create_emulator
from bimpe_iac.emulator.server import RunningEmulator, start_in_thread

SOAK = os.environ.get("BIMPE_SOAK") == "1"
# About a minute in CI; the variables let a run choose its own budget.
MAX_EXAMPLES = int(os.environ.get("BIMPE_MODEL_EXAMPLES", 500 if SOAK else 80))
STEPS = int(os.environ.get("BIMPE_MODEL_STEPS", 40 if SOAK else 25))
# The constructs machine's share: about a quarter of the main machine's time in CI.
CONSTRUCTS_EXAMPLES = int(os.environ.get("BIMPE_CONSTRUCTS_EXAMPLES", 200 if SOAK else 7))

INTEGRATIONS = frozenset({"custom_api", "tool", "connector"})
ACTION_NAMES = ("escalate_to_human", "send_email", "lookup_order")
PUBLIC_WORKFLOW = "Customer Support Triage"
_numbers = itertools.count(8_000_000)
# Shrinking a failure can take minutes: CI reports the failing run as found; soak runs, or
# BIMPE_MODEL_SHRINK=1, shrink it to the fewest steps.
SHRINK = SOAK or os.environ.get("BIMPE_MODEL_SHRINK") == "1"


class Stats:
    examples = 0
    steps = 0
    rules: Counter[str] = Counter()
    refused = 0
    exact = 0


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ReconcilerMachine(RuleBasedStateMachine):
    running: RunningEmulator
    admin: Admin

    def __init__(self) -> None:
        super().__init__()
        Stats.examples += 1
        self.team: Team = self.admin.new_team("model team")
        self.sdk = BimpeAI(api_key=self.team.api_key, base_url=self.running.url)
        self.root = Path(tempfile.mkdtemp(prefix="bimpe-model-"))
        self.stack = self.root / "stack"
        self.stack.mkdir()
        self.model = StackModel()
        self.secrets: list[str] = []
        self.unmanaged: dict[Key, list[dict[str, Any]]] = {}
        self.number = f"+1555{next(_numbers):07d}"
        self.admin.assign_number(self.team, self.number)
        self.edits = 0
        self.lost: Snapshot | None = None
        """The team when the state was lost, until an apply takes it over again."""
        self.clean = False
        """The last step was a full apply that converged: the next plan is empty."""
        self.rotate_secret_value()
        self.model.tokens["paystack_key"] = self.new_secret("sk_test_")
        self.write()

    def teardown(self) -> None:
        self.sdk.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- plumbing -----------------------------------------------------------------------

    def fired(self, name: str) -> None:
        Stats.steps += 1
        Stats.rules[name] += 1
        if name != "plan":
            self.clean = False

    def new_secret(self, prefix: str) -> str:
        value = f"{prefix}{os.urandom(8).hex()}"
        self.secrets.append(value)
        return value

    def changes(self) -> dict[str, str]:
        """The address and action of every change the next plan makes (no-ops left out)."""
        outcome = self.run("plan", self.stack, "--format", "json")
        assert outcome.exit_code == 0, outcome.text
        document = json.loads(outcome.output)
        return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}

    def changes_if_planned(self) -> dict[str, str] | None:
        """The next plan's changes, or None when it does not plan (it refuses to)."""
        outcome = self.run("plan", self.stack, "--format", "json")
        if outcome.exit_code != 0:
            return None
        document = json.loads(outcome.output)
        return {c["address"]: c["action"] for c in document["changes"] if c["action"] != "noop"}

    def assert_one_more_change(
        self, resource: Resource, before: dict[str, str] | None, action: str, what: str
    ) -> None:
        """The edit just written adds exactly `action` of the resource to what the plan before
        it planned, when it planned nothing for that resource."""
        address = self.model.address(resource)
        if before is None or address in before:
            return
        after = self.changes()
        assert after == before | {address: action}, f"{address}: {what} planned {after}"
        Stats.exact += 1

    def rotate_secret_value(self) -> None:
        value = f"oncall-{os.urandom(5).hex()}@kora.example"
        self.secrets.append(value)
        self.model.secret = value

    def write(self) -> None:
        (self.stack / "stack.yaml").write_text(
            stack_yaml(self.running.url, self.model.secret, self.model.tokens)
        )
        (self.stack / "resources.yaml").write_text(self.model.resources_yaml())

    def run(self, *args: str | Path) -> Outcome:
        outcome = invoke(
            *args,
            env={
                "BIMPE_API_KEY": self.team.api_key,
                "BIMPE_BASE_URL": self.running.url,
                "BIMPE_EMULATOR_DB": None,
            },
        )
        assert outcome.exit_code != 3, f"bimpe-iac {args}: internal error\n{outcome.text}"
        self.assert_no_secret(outcome.text, f"the output of bimpe-iac {' '.join(map(str, args))}")
        self.assert_no_secret_in_files()
        return outcome

    def assert_no_secret(self, text: str, where: str) -> None:
        for value in self.secrets:
            assert value not in text, f"a sensitive value shows in {where}"
            assert _sha256(value) not in text, f"an unkeyed digest of a sensitive value in {where}"

    def assert_no_secret_in_files(self) -> None:
        bimpe_dir = self.stack / ".bimpe"
        for path in bimpe_dir.rglob("*") if bimpe_dir.exists() else []:
            if path.is_file() and path.suffix != ".db":
                self.assert_no_secret(path.read_text(errors="replace"), str(path))

    def snapshot(self) -> Snapshot:
        return read_team(self.sdk)

    def assert_unchanged(self, before: Snapshot, after: Snapshot, what: str) -> None:
        changed = differences(before, after)
        assert not changed, f"{what} changed the team: {sorted(changed)}"

    def assert_unmanaged_untouched(self, after: Snapshot) -> None:
        # What a lost state left on an agent goes with the agent when that is destroyed.
        for key, records in list(self.unmanaged.items()):
            if key[0] in ("agent", "phone"):
                continue
            agent = key[1] if key[0] in ("actions", "live_status", "connector") else None
            agent = agent or (records[0].get("agent") if records else None)
            if agent is not None and ("agent", agent) not in after:
                del self.unmanaged[key]
        for key, records in self.unmanaged.items():
            assert after.get(key) == records, f"an object made by hand was changed: {key}"

    def team_keys(self, uids: set[int], before: Snapshot) -> set[Key]:
        """The team objects these resources are, with the default actions and live status
        of an agent that did not exist before."""
        keys: set[Key] = set()
        for uid in uids:
            resource = self.model.resources[uid]
            keys.add(self.model.team_key(resource))
            if resource.kind == "agent" and ("agent", resource.name) not in before:
                keys |= {("actions", resource.name), ("live_status", resource.name)}
            if resource.kind == "agent" and ("agent", resource.name) in before:
                # Destroying an agent takes its actions, live status and connectors with it.
                keys |= {
                    ("actions", resource.name),
                    ("live_status", resource.name),
                    ("connector", resource.name),
                }
        return keys

    def check_declared(self, resource: Resource, team: Snapshot) -> None:
        """The team holds the resource once, as the manifest says."""
        model = self.model
        key = model.team_key(resource)
        records = team.get(key, [])
        if resource.kind == "connector":
            expected = [{"status": "connected"}] if resource.fields["connected"] else []
            assert records == expected, f"{model.address(resource)}: {records}, not {expected}"
            return
        assert len(records) == 1, f"{model.address(resource)}: {len(records)} objects {key}"
        got = records[0]
        fields = resource.fields
        if resource.kind == "workflow":
            assert got["system_prompt"] == fields["system_prompt"], key
            assert got["description"] == fields["description"], key
        elif resource.kind == "agent":
            if not resource.ignore_description:
                assert got["description"] == fields["description"], key
            if "escalation_email" in fields:
                assert got["escalation_email"] == model.secret, f"{key}: not the current secret"
            assert got["workflow"] == model.resources[resource.needs or 0].name, key
        elif resource.kind == "kb":
            assert got["agent"] == model.resources[resource.parent or 0].name, key
            assert got["content"] == fields["content"], key
        elif resource.kind == "actions":
            assert got["enabled"] == sorted(fields["enabled"]), key
        elif resource.kind == "live_status":
            assert got["status"] == fields["status"], key
        elif resource.kind == "phone":
            assert got["agent"] == model.resources[resource.needs or 0].name, key
            assert got["label"] == fields.get("label"), key
        elif resource.kind == "custom_api":
            assert got["agent"] == model.resources[resource.parent or 0].name, key
            assert got["auth_config_keys"] == ["token"], key
        elif resource.kind == "tool":
            api = model.resources[resource.parent or 0]
            assert got == {"agent": model.resources[api.parent or 0].name, "api": api.name}, key

    def check_team_equals_model(self, team: Snapshot) -> None:
        declared = [r for r in self.model.resources.values() if r.declared]
        for resource in declared:
            self.check_declared(resource, team)
        names = {self.model.team_key(r) for r in declared}
        for key, records in team.items():
            if key[0] in PROTECTABLE | INTEGRATIONS:
                assert key in names or key in self.unmanaged, f"orphan left on the team: {key}"
                assert len(records) == 1, f"{len(records)} objects {key}"
        if not any(r.kind == "phone" for r in declared):
            assert team["phone", self.number][0]["agent"] is None, "the number is still linked"
        self.assert_unmanaged_untouched(team)

    def assert_converged(self) -> None:
        plan = self.run("plan", self.stack, "--detailed-exitcode")
        assert plan.exit_code == 0, f"a plan right after a full apply is not empty:\n{plan.text}"

    def pick(self, data: st.DataObject, items: list[Resource]) -> Resource:
        return data.draw(st.sampled_from(sorted(items, key=lambda r: r.uid)))

    def managed(self, *kinds: str) -> list[Resource]:
        return [r for uid in self.model.managed if (r := self.model.resources[uid]).kind in kinds]

    def targetable(self) -> list[Resource]:
        """Managed resources the manifests declare: their address is known for sure."""
        return [r for r in self.managed("workflow", "agent", "kb", "phone") if r.declared]

    def ghosts(self) -> set[int]:
        return {uid for uid in self.model.managed if not self.model.resources[uid].declared}

    # --- manifest edits -----------------------------------------------------------------

    @initialize(integrated=st.booleans())
    def start_with_a_workflow_and_an_agent(self, integrated: bool) -> None:
        """Half the runs start with the agent's custom API (one tool) and Paystack connected,
        so that later edits of them meet them applied."""
        workflow = self._new_workflow()
        agent = self._new_agent(workflow, with_secret=True, with_kb=True)
        if integrated:
            self._new_tool(self._new_api(agent))
            self.model.add(
                "connector",
                "paystack",
                agent.name,
                fields={"connected": True, "secret_key": "${var.paystack_key}"},
                parent=agent.uid,
            )
        self.write()

    def _new_workflow(self) -> Resource:
        n = self.model.counter + 1
        return self.model.add(
            "workflow",
            f"w{n}",
            f"Flow {n}",
            fields={
                "name": f"Flow {n}",
                "system_prompt": f"You help with topic {n}.",
                "description": f"Workflow {n}",
            },
        )

    def _new_agent(self, workflow: Resource, *, with_secret: bool, with_kb: bool) -> Resource:
        n = self.model.counter + 1
        fields: dict[str, Any] = {"name": f"Agent {n}", "description": f"Agent number {n}"}
        if with_secret:
            fields["escalation_email"] = "${var.secret}"
        agent = self.model.add("agent", f"a{n}", f"Agent {n}", fields=fields, needs=workflow.uid)
        if with_kb:
            self._new_kb(agent)
        return agent

    def _new_kb(self, agent: Resource) -> Resource:
        n = self.model.counter + 1
        return self.model.add(
            "kb",
            f"k{n}",
            f"Notes {n}",
            fields={"name": f"Notes {n}", "content": f"Fact number {n}."},
            parent=agent.uid,
        )

    @precondition(lambda self: len(self.model.declared("workflow")) < 3)
    @rule()
    def add_workflow(self) -> None:
        self.fired("add_workflow")
        self._new_workflow()
        self.write()

    @precondition(
        lambda self: self.model.declared("workflow") and len(self.model.declared("agent")) < 3
    )
    @rule(data=st.data(), with_secret=st.booleans(), with_kb=st.booleans())
    def add_agent(self, data: st.DataObject, with_secret: bool, with_kb: bool) -> None:
        self.fired("add_agent")
        self._new_agent(
            self.pick(data, self.model.declared("workflow")),
            with_secret=with_secret,
            with_kb=with_kb,
        )
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data())
    def add_kb(self, data: st.DataObject) -> None:
        self.fired("add_kb")
        self._new_kb(self.pick(data, self.model.declared("agent")))
        self.write()

    @precondition(
        lambda self: any(
            not any(a.needs == w.uid for a in self.model.declared("agent"))
            for w in self.model.declared("workflow")
        )
    )
    @rule(data=st.data())
    def remove_unused_workflow(self, data: st.DataObject) -> None:
        self.fired("remove_unused_workflow")
        used = {a.needs for a in self.model.declared("agent")}
        workflow = self.pick(
            data, [w for w in self.model.declared("workflow") if w.uid not in used]
        )
        self.model.undeclare(workflow.uid)
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data())
    def remove_agent(self, data: st.DataObject) -> None:
        self.fired("remove_agent")
        agent = self.pick(data, self.model.declared("agent"))
        for other in self.model.descendants(agent.uid):
            if other.declared:
                self.model.undeclare(other.uid)
        for other in list(self.model.resources.values()):
            if other.declared and agent.uid == other.needs:
                self.model.undeclare(other.uid)
        self.model.undeclare(agent.uid)
        self.write()

    @precondition(lambda self: self.model.declared("kb"))
    @rule(data=st.data())
    def remove_kb(self, data: st.DataObject) -> None:
        self.fired("remove_kb")
        self.model.undeclare(self.pick(data, self.model.declared("kb")).uid)
        self.write()

    @precondition(lambda self: self.model.declared("workflow"))
    @rule(data=st.data(), field=st.sampled_from(["description", "system_prompt"]))
    def edit_workflow(self, data: st.DataObject, field: str) -> None:
        self.fired("edit_workflow")
        self.edits += 1
        workflow = self.pick(data, self.model.declared("workflow"))
        workflow.fields[field] = f"{workflow.fields[field].split(' (')[0]} (edit {self.edits})"
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data())
    def edit_agent_description(self, data: st.DataObject) -> None:
        self.fired("edit_agent_description")
        self.edits += 1
        agent = self.pick(data, self.model.declared("agent"))
        agent.fields["description"] = f"Agent described, edit {self.edits}"
        self.write()

    @precondition(lambda self: self.model.declared("kb"))
    @rule(data=st.data())
    def edit_kb_content(self, data: st.DataObject) -> None:
        self.fired("edit_kb_content")
        self.edits += 1
        kb = self.pick(data, self.model.declared("kb"))
        kb.fields["content"] = f"Fact rewritten, edit {self.edits}."
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(
        data=st.data(),
        actions=st.none() | st.lists(st.sampled_from(ACTION_NAMES), unique=True, max_size=2),
        status=st.sampled_from([None, "development", "paused"]),
    )
    def set_actions_and_live_status(
        self, data: st.DataObject, actions: list[str] | None, status: str | None
    ) -> None:
        self.fired("set_actions_and_live_status")
        agent = self.pick(data, self.model.declared("agent"))
        for kind, value in (("actions", actions), ("live_status", status)):
            current = self.model.child(agent.uid, kind)
            fields = {"enabled": value} if kind == "actions" else {"status": value}
            if value is None:
                if current is not None:
                    self.model.undeclare(current.uid)
            elif current is None:
                self.model.add(kind, kind, agent.name, fields=fields, parent=agent.uid)
            else:
                current.fields = fields
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data())
    def rename_agent(self, data: st.DataObject) -> None:
        self.fired("rename_agent")
        agent = self.pick(data, self.model.declared("agent"))
        self.model.rename(agent, f"a{self.model.next()}")
        self.write()

    @precondition(lambda self: self.model.declared("kb"))
    @rule(data=st.data())
    def rename_kb(self, data: st.DataObject) -> None:
        self.fired("rename_kb")
        kb = self.pick(data, self.model.declared("kb"))
        self.model.rename(kb, f"k{self.model.next()}")
        self.write()

    @precondition(
        lambda self: any(
            r.declared and r.kind in PROTECTABLE for r in self.model.resources.values()
        )
    )
    @rule(data=st.data())
    def toggle_prevent_destroy(self, data: st.DataObject) -> None:
        self.fired("toggle_prevent_destroy")
        resource = self.pick(
            data, [r for r in self.model.resources.values() if r.declared and r.kind in PROTECTABLE]
        )
        resource.protect = not resource.protect
        self.write()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data())
    def toggle_ignore_description(self, data: st.DataObject) -> None:
        self.fired("toggle_ignore_description")
        agent = self.pick(data, self.model.declared("agent"))
        agent.ignore_description = not agent.ignore_description
        self.write()

    @rule()
    def rotate_secret(self) -> None:
        self.fired("rotate_secret")
        self.rotate_secret_value()
        self.write()

    # --- integrations (few rules, so that they take a small share of the steps) -------------

    def _new_api(self, agent: Resource) -> Resource:
        n = self.model.counter + 1
        var = f"token_{n}"
        self.model.tokens[var] = self.new_secret("tok_")
        return self.model.add(
            "custom_api",
            f"c{n}",
            f"API {n}",
            fields={
                "name": f"API {n}",
                "base_url": f"https://shop{n}.example/api",
                "auth_type": "bearer",
                "auth_config": {"token": f"${{var.{var}}}"},
            },
            parent=agent.uid,
        )

    def _new_tool(self, api: Resource) -> Resource:
        n = self.model.counter + 1
        return self.model.add(
            "tool",
            f"t{n}",
            f"tool_{n}",
            fields={
                "name": f"Tool {n}",
                "http_method": "GET",
                "url_template": "/items/{item_id}",
                "url_params": [
                    {
                        "name": "item_id",
                        "type": "string",
                        "description": "The item",
                        "required": True,
                    }
                ],
            },
            parent=api.uid,
        )

    @precondition(lambda self: self.model.declared("agent"))
    @rule(
        data=st.data(),
        op=st.sampled_from(["add_api", "remove_api", "add_tool", "remove_tool"]),
    )
    def add_or_remove_custom_api(self, data: st.DataObject, op: str) -> None:
        self.edit_custom_api(data, op)

    @precondition(lambda self: self.model.declared("custom_api"))
    @rule(data=st.data(), op=st.sampled_from(["rotate_token", "edit_tool"]))
    def edit_tool_or_rotate_token(self, data: st.DataObject, op: str) -> None:
        self.edit_custom_api(data, op)

    def edit_custom_api(self, data: st.DataObject, op: str) -> None:
        """Adds or removes a custom API or one of its tools, edits a tool's url_template or
        rotates an API's token; from a converged stack, the last two are exactly one replace of
        that tool, or one update of that API, added to what was planned before."""
        clean = self.clean
        apis = self.model.declared("custom_api")
        tools = self.model.declared("tool")
        if op == "add_api" or not apis:
            if len(apis) >= 2:
                return
            self.fired("add_custom_api")
            self._new_tool(self._new_api(self.pick(data, self.model.declared("agent"))))
        elif op == "remove_api":
            self.fired("remove_custom_api")
            api = self.pick(data, apis)
            for tool in self.model.children(api.uid):
                if tool.declared:
                    self.model.undeclare(tool.uid)
            self.model.undeclare(api.uid)
        elif op == "add_tool":
            self.fired("add_tool")
            self._new_tool(self.pick(data, apis))
        elif not tools:
            return
        elif op == "remove_tool":
            self.fired("remove_tool")
            self.model.undeclare(self.pick(data, tools).uid)
        elif op == "edit_tool":
            self.fired("edit_tool")
            self.edits += 1
            tool = self.pick(data, tools)
            before = self._planned_before(clean, tool)
            tool.fields["url_template"] = f"/v{self.edits}/items/{{item_id}}"
            self.write()
            self.assert_one_more_change(tool, before, "replace", "a new url_template")
            return
        else:
            self.fired("rotate_token")
            api = self.pick(data, apis)
            before = self._planned_before(clean, api)
            var = api.fields["auth_config"]["token"][len("${var.") : -1]
            self.model.tokens[var] = self.new_secret("tok_")
            self.write()
            self.assert_one_more_change(api, before, "update", "a rotated token")
            return
        self.write()

    def _planned_before(self, clean: bool, resource: Resource) -> dict[str, str] | None:
        if clean:
            return {}
        if resource.uid not in self.model.managed or self.lost is not None:
            return None
        return self.changes_if_planned()

    @precondition(lambda self: self.model.declared("agent"))
    @rule(data=st.data(), connected=st.sampled_from([None, True, False]))
    def set_paystack(self, data: st.DataObject, connected: bool | None) -> None:
        """Declares an agent's Paystack connector connected (with a sensitive key) or
        disconnected, or removes its block."""
        self.fired("set_paystack")
        agent = self.pick(data, self.model.declared("agent"))
        current = self.model.child(agent.uid, "connector")
        if connected is None:
            if current is not None:
                self.model.undeclare(current.uid)
        else:
            fields: dict[str, Any] = {"connected": connected}
            if connected:
                fields["secret_key"] = "${var.paystack_key}"
            if current is None:
                self.model.add("connector", "paystack", agent.name, fields=fields, parent=agent.uid)
            else:
                current.fields = fields
            # Left connected by a lost state, it is the stack's again.
            self.unmanaged.pop(("connector", agent.name), None)
        self.write()

    @precondition(
        lambda self: (
            self.lost is None and self.model.declared("agent") and not self.model.declared("phone")
        )
    )
    @rule(data=st.data())
    def link_phone(self, data: st.DataObject) -> None:
        self.fired("link_phone")
        agent = self.pick(data, self.model.declared("agent"))
        ghost = [r for r in self.model.resources.values() if r.kind == "phone"]
        if ghost:  # the same number, declared again: one identity
            ghost[0].declared, ghost[0].needs = True, agent.uid
        else:
            self.model.add(
                "phone", self.number, self.number, fields={"label": "Main line"}, needs=agent.uid
            )
        self.write()

    @precondition(lambda self: self.model.declared("phone"))
    @rule()
    def unlink_phone(self) -> None:
        self.fired("unlink_phone")
        self.model.undeclare(self.model.declared("phone")[0].uid)
        self.write()

    # --- edits by hand ------------------------------------------------------------------

    def _ids(self, kind: str) -> dict[str, str]:
        if kind == "workflow":
            listing = self.sdk.workflows.list(limit=100).data
        else:
            listing = self.sdk.agents.list(limit=100).data
        return {item.name: item.id for item in listing}

    @precondition(lambda self: self.model.managed)
    @rule(data=st.data(), kind=st.sampled_from(["workflow", "agent"]))
    def hand_edit_description(self, data: st.DataObject, kind: str) -> None:
        ids = self._ids(kind)
        candidates = [r for r in self.managed(kind) if r.name in ids]
        if not candidates:
            return
        self.fired("hand_edit_description")
        resource = self.pick(data, candidates)
        self.edits += 1
        text = f"Changed in the Console ({self.edits})"
        if kind == "workflow":
            self.sdk.workflows.update(ids[resource.name], description=text)
        else:
            self.sdk.agents.update(ids[resource.name], description=text)

    @precondition(lambda self: self.managed("kb"))
    @rule(data=st.data())
    def hand_delete_kb(self, data: st.DataObject) -> None:
        agents = self._ids("agent")
        found: list[tuple[str, str, str]] = []
        for agent_id in agents.values():
            found += [
                (kb.name, agent_id, kb.id) for kb in self.sdk.agents.knowledge_bases.list(agent_id)
            ]
        managed = {r.name for r in self.managed("kb")}
        found = [f for f in found if f[0] in managed]
        if not found:
            return
        self.fired("hand_delete_kb")
        _, agent_id, kb_id = data.draw(st.sampled_from(sorted(found)))
        self.sdk.agents.knowledge_bases.delete(agent_id, kb_id)

    @precondition(lambda self: len(self.unmanaged) < 6)
    @rule()
    def hand_create_agent(self) -> None:
        self.fired("hand_create_agent")
        public = next(
            w
            for w in self.sdk.workflows.list(limit=100, scope="accessible").data
            if w.name == PUBLIC_WORKFLOW
        )
        name = f"Made by hand {len(self.unmanaged)}"
        self.sdk.agents.create(name=name, description="Not in any stack", workflow_id=public.id)
        team = self.snapshot()
        for key in (("agent", name), ("actions", name), ("live_status", name)):
            self.unmanaged[key] = team[key]

    # --- commands -----------------------------------------------------------------------

    @rule(fmt=st.sampled_from(["text", "json", "markdown"]))
    def plan(self, fmt: str) -> None:
        self.fired("plan")
        before = self.snapshot()
        out = self.root / "saved.plan.json"
        outcome = self.run("plan", self.stack, "--out", out, "--format", fmt, "--detailed-exitcode")
        assert outcome.exit_code in (0, 1, 2), outcome.text
        if out.exists():
            self.assert_no_secret(out.read_text(), "a saved plan")
            out.unlink()
        self.assert_unchanged(before, self.snapshot(), "plan")

    @rule()
    def apply(self) -> None:
        """A full apply converges (empty plan, team equals the model), unless it would destroy
        a protected resource, or create an object the team holds already under that name
        after the state was lost: then it is refused and changes nothing."""
        self.fired("apply")
        self._apply(["apply", self.stack, "--auto-approve"])

    @precondition(lambda self: self.lost is not None)
    @rule()
    def apply_adopt(self) -> None:
        """After the state was lost, `apply --adopt` takes the same-name objects over."""
        self.fired("apply_adopt")
        self._apply(["apply", self.stack, "--adopt", "--auto-approve"])

    def _apply(self, args: list[str | Path]) -> None:
        before = self.snapshot()
        ghosts = self.ghosts()
        refuse = any(self.model.protected(self.model.resources[uid]) for uid in ghosts)
        twins = (
            self.lost is not None
            and "--adopt" not in args
            and any(
                self.model.team_key(r) in before
                for r in self.model.resources.values()
                if r.declared and r.kind in PROTECTABLE
            )
        )
        outcome = self.run(*args)
        after = self.snapshot()
        if refuse or twins:
            why = "destroying a protected resource" if refuse else "over a lost state (twins)"
            assert outcome.exit_code == 1, f"{' '.join(map(str, args))} {why}:\n{outcome.text}"
            self.assert_unchanged(before, after, "a refused apply")
            Stats.refused += 1
            return
        assert outcome.exit_code == 0, outcome.text
        self.model.applied({r.uid for r in self.model.resources.values() if r.declared})
        self.model.destroyed(ghosts)
        if self.lost is not None:
            # What the lost state managed and the manifests no longer declare is unmanaged now.
            declared = {self.model.team_key(r) for r in self.model.resources.values() if r.declared}
            agents = {name for kind, name in declared if kind == "agent"}
            for key in self.lost.keys() - declared:
                if key[0] in ("actions", "live_status") and key[1] in agents:
                    continue
                if key[0] != "phone" and key in before:
                    self.unmanaged.setdefault(key, before[key])
            self.lost = None
        self.check_team_equals_model(after)
        self.assert_converged()
        self.clean = True

    @rule()
    def lose_state(self) -> None:
        """The state file is deleted (a lost laptop, a wiped CI cache)."""
        team = self.snapshot()
        if self.model.declared("phone") or team["phone", self.number][0]["agent"] is not None:
            return  # relinking a number an unmanaged agent holds is a choice of its own
        self.fired("lose_state")
        if self.lost is None:
            self.lost = team
        shutil.rmtree(self.stack / ".bimpe", ignore_errors=True)
        for uid in self.ghosts():
            self.model.resources.pop(uid)
        self.model.managed.clear()
        self.model.applied_protect.clear()

    @precondition(
        lambda self: self.lost is None and any(r.declared for r in self.model.resources.values())
    )
    @rule(data=st.data())
    def apply_target(self, data: st.DataObject) -> None:
        """A targeted apply changes only the target, what it needs, and an agent's children."""
        self.fired("apply_target")
        target = self.pick(
            data,
            [
                r
                for r in self.model.resources.values()
                if r.declared and r.kind in PROTECTABLE | {"phone"}
            ],
        )
        closure = self.model.needs_closure(target.uid)
        ghost_children = (
            {c.uid for c in self.model.descendants(target.uid) if c.uid in self.ghosts()}
            if target.kind == "agent"
            else set()
        )
        before = self.snapshot()
        outcome = self.run(
            "apply", self.stack, "--target", self.model.address(target), "--auto-approve"
        )
        after = self.snapshot()
        if outcome.exit_code == 1 and any(
            self.model.protected(self.model.resources[u]) for u in ghost_children
        ):
            self.assert_unchanged(before, after, "a refused targeted apply")
            return
        assert outcome.exit_code == 0, outcome.text
        allowed = self.team_keys(closure | ghost_children, before)
        changed = differences(before, after)
        assert changed <= allowed, (
            f"apply --target {self.model.address(target)} changed what is outside the target"
            f" and its dependencies: {sorted(changed - allowed)}"
        )
        for uid in closure:
            self.check_declared(self.model.resources[uid], after)
        self.model.applied(closure)
        self.model.destroyed(
            {u for u in ghost_children if self.model.team_key(self.model.resources[u]) not in after}
        )
        self.assert_unmanaged_untouched(after)

    def _destroy(self, expected: set[int], args: list[str | Path]) -> None:
        before = self.snapshot()
        refuse = any(self.model.protected(self.model.resources[uid]) for uid in expected)
        outcome = self.run(*args)
        after = self.snapshot()
        what = " ".join(map(str, args[2:])) or "destroy"
        if refuse:
            assert outcome.exit_code == 1, f"{what} destroyed a protected resource:\n{outcome.text}"
            self.assert_unchanged(before, after, f"a refused {what}")
            Stats.refused += 1
            return
        assert outcome.exit_code == 0, outcome.text
        allowed = self.team_keys(expected, before)
        changed = differences(before, after)
        assert changed <= allowed, (
            f"destroy {what} changed what neither is the target nor depends on it:"
            f" {sorted(changed - allowed)}"
        )
        for uid in expected:
            resource = self.model.resources[uid]
            key = self.model.team_key(resource)
            if resource.kind == "phone":
                assert after[key][0]["agent"] is None, f"destroy {what} left {key} linked"
            elif resource.kind in PROTECTABLE:
                assert key not in after, f"destroy {what} left {key}"
        self.model.destroyed(expected)
        self.assert_unmanaged_untouched(after)

    @rule()
    def destroy(self) -> None:
        """A destroy deletes everything managed, unless something is protected: refused."""
        self.fired("destroy")
        self._destroy(set(self.model.managed), ["destroy", self.stack, "--auto-approve"])

    @precondition(lambda self: self.targetable())
    @rule(data=st.data())
    def destroy_target(self, data: st.DataObject) -> None:
        """destroy --target X deletes X and what depends on it, never what X needs."""
        self.fired("destroy_target")
        target = self.pick(data, self.targetable())
        expected = self.model.dependents_closure(target.uid)
        address = self.model.address(target)
        self._destroy(expected, ["destroy", self.stack, "--target", address, "--auto-approve"])

    @precondition(lambda self: self.targetable())
    @rule(data=st.data())
    def plan_destroy_target(self, data: st.DataObject) -> None:
        """plan --destroy --target X lists exactly X and what depends on it."""
        self.fired("plan_destroy_target")
        target = self.pick(data, self.targetable())
        expected = self.model.dependents_closure(target.uid)
        address = self.model.address(target)
        outcome = self.run("plan", self.stack, "--destroy", "--target", address, "--format", "json")
        if any(self.model.protected(self.model.resources[uid]) for uid in expected):
            assert outcome.exit_code == 1, outcome.text
            return
        assert outcome.exit_code == 0, outcome.text
        document = json.loads(outcome.output)
        planned = {c["address"] for c in document["changes"] if c["action"] == "delete"}
        team = self.snapshot()
        declared = {self.model.address(r) for r in self.model.resources.values() if r.declared}
        undeclared_or_expected = {a for a in planned if a not in declared} | {
            self.model.address(self.model.resources[uid]) for uid in expected
        }
        assert planned <= undeclared_or_expected, (
            f"plan --destroy --target {address} plans to destroy what does not depend on it:"
            f" {sorted(planned - undeclared_or_expected)}"
        )
        must = {
            self.model.address(r)
            for uid in expected
            if (r := self.model.resources[uid]).kind not in PROTECTABLE
            or self.model.team_key(r) in team
        } - {
            self.model.address(r)
            for uid in expected
            if (
                (r := self.model.resources[uid]).kind in ("actions", "live_status")
                and ("agent", r.name) not in team
            )
            or (r.kind == "connector" and not r.fields["connected"])
        }
        # A removed resource's address may be the one before a rename.
        must = {a for a in must if a in declared}
        assert must <= planned, (
            f"plan --destroy --target {address}: planned {sorted(planned)}, expected {sorted(must)}"
        )

    @invariant()
    def nothing_secret_on_disk(self) -> None:
        self.assert_no_secret_in_files()


@pytest.fixture(scope="module")
def served_emulator() -> Iterator[RunningEmulator]:
    root = Path(tempfile.mkdtemp(prefix="bimpe-model-emulator-"))
    running = start_in_thread(create_emulator(root / "emulator.db"))
    yield running
    running.stop()
    shutil.rmtree(root, ignore_errors=True)


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=not SOAK,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        **({"phases": [Phase.explicit, Phase.generate]} if not SHRINK else {}),
    )


@pytest.mark.timeout(3600 if SOAK else 300)
def test_reconciler_keeps_its_promises_on_random_paths(served_emulator: RunningEmulator) -> None:
    ReconcilerMachine.running = served_emulator
    ReconcilerMachine.admin = Admin(served_emulator)
    started = time.perf_counter()
    try:
        run_state_machine_as_test(
            ReconcilerMachine,
            settings=_settings(MAX_EXAMPLES),
        )
    finally:
        ReconcilerMachine.admin.http.close()
        fired = ", ".join(f"{name} {count}" for name, count in sorted(Stats.rules.items()))
        print(
            f"\nmodel-based test: {Stats.examples} examples, {Stats.steps} steps"
            f" in {time.perf_counter() - started:.1f}s ({Stats.refused} refused as expected,"
            f" {Stats.exact} edits planned exactly);"
            f" rules fired: {fired}"
        )


@pytest.mark.timeout(3600 if SOAK else 300)
def test_instances_conditions_and_modules_keep_their_promises(
    served_emulator: RunningEmulator,
) -> None:
    """for_each, enabled/environments, moved into an instance, module uses: see
    constructs_machine.py."""
    admin = Admin(served_emulator)
    started = time.perf_counter()
    try:
        run_state_machine_as_test(
            configure(served_emulator, admin),
            settings=_settings(CONSTRUCTS_EXAMPLES),
        )
    finally:
        admin.http.close()
        fired = ", ".join(f"{n} {c}" for n, c in sorted(ConstructsStats.rules.items()))
        print(
            f"\nconstructs model: {ConstructsStats.steps} steps"
            f" in {time.perf_counter() - started:.1f}s ({ConstructsStats.exact} plans exact);"
            f" rules fired: {fired}"
        )
