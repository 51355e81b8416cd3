"""A model-based walk of the manifest constructs that stamp out or leave out resources:
`for_each` over a map var, `enabled:` and `environments:` on knowledge bases, a plain agent
moved into an instance, and one module used several times. After every edit from a converged
stack the plan is exactly the one the model predicts (one instance added: its creates only;
one input changed: that use's update only); after every apply the team equals the model, each
name once, and every object that kept its identity kept its id.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bimpeai import BimpeAI
from cli_runner import Outcome, invoke
from constructs_model import (
    ConstructsModel,
    Declared,
    Plain,
    Region,
    expected_changes,
    write_module,
)
from emulator_admin import Admin, Team
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from team_snapshot import Key, Snapshot, differences, read_team

from bimpe_iac.emulator.server import RunningEmulator

REGION_KEYS = ("ng", "gh", "ke", "za")
USES = ("kora", "zuri", "tana")


class ConstructsStats:
    steps = 0
    exact = 0
    rules: Counter[str] = Counter()


class ConstructsMachine(RuleBasedStateMachine):
    running: RunningEmulator
    admin: Admin

    def __init__(self) -> None:
        super().__init__()
        self.team: Team = self.admin.new_team("constructs team")
        self.sdk = BimpeAI(api_key=self.team.api_key, base_url=self.running.url)
        self.root = Path(tempfile.mkdtemp(prefix="bimpe-constructs-"))
        self.stack = self.root / "stack"
        self.stack.mkdir()
        write_module(self.root / "module")
        self.model = ConstructsModel()
        self.applied: dict[str, Declared] | None = None
        """What the last full apply converged to, while no other command ran since."""
        self.ids: dict[str, str] = {}
        """Identity -> id, as the last apply left them."""
        self.unloaded = False
        """The manifests were edited and no command has loaded them since."""
        self.carried: dict[str, set[Key]] = {}
        """A `moved:` destination -> what the plain agent was, until a full apply."""

    def teardown(self) -> None:
        self.sdk.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # --- plumbing -----------------------------------------------------------------------

    def run(self, *args: str | Path) -> Outcome:
        outcome = invoke(
            args[0],
            *args[1:],
            "--env",
            "test",
            env={"BIMPE_API_KEY": self.team.api_key, "BIMPE_BASE_URL": self.running.url},
        )
        assert outcome.exit_code != 3, f"bimpe-iac {args}: internal error\n{outcome.text}"
        return outcome

    def write(self) -> None:
        (self.stack / "stack.yaml").write_text(self.model.stack_yaml(self.running.url))
        (self.stack / "resources.yaml").write_text(self.model.resources_yaml())

    def edited(self, name: str) -> None:
        """The manifests changed: from a converged stack the plan is exactly what the model
        says the edit changes."""
        ConstructsStats.steps += 1
        ConstructsStats.rules[name] += 1
        before = self.applied
        self.write()
        if before is None:
            self.unloaded = True
            return
        expected = expected_changes(before, self.model.objects(), self.model.moves)
        outcome = self.run("plan", self.stack, "--format", "json")
        assert outcome.exit_code == 0, outcome.text
        planned = {
            c["address"]: c["action"]
            for c in json.loads(outcome.output)["changes"]
            if c["action"] != "noop"
        }
        assert planned == expected, f"{name}: planned {planned}, the model expects {expected}"
        ConstructsStats.exact += 1

    def ran(self, name: str) -> None:
        self.unloaded = False
        ConstructsStats.steps += 1
        ConstructsStats.rules[name] += 1
        self.applied = None

    def team_ids(self) -> dict[Key, list[str]]:
        ids: dict[Key, list[str]] = {}
        for workflow in self.sdk.workflows.list(limit=100).data:
            ids.setdefault(("workflow", workflow.name), []).append(workflow.id)
        for agent in self.sdk.agents.list(limit=100).data:
            ids.setdefault(("agent", agent.name), []).append(agent.id)
            for kb in self.sdk.agents.knowledge_bases.list(agent.id):
                ids.setdefault(("kb", kb.name), []).append(kb.id)
        return ids

    def check_objects(self, objects: list[Declared], team: Snapshot) -> None:
        for o in objects:
            records = team.get((o.kind, o.name), [])
            assert len(records) == 1, f"{o.address}: {len(records)} objects {o.kind} {o.name!r}"
            got = {k: records[0][k] for k, _ in o.fields}
            assert got == dict(o.fields), f"{o.address}: {got}, not {dict(o.fields)}"

    def check_ids_kept(self, objects: list[Declared]) -> None:
        """Objects whose identity the last apply knew have the same id; the ids are saved."""
        team = self.team_ids()
        now = {o.ident: team[o.kind, o.name][0] for o in objects}
        kept = {i: (self.ids[i], now[i]) for i in now.keys() & self.ids.keys()}
        changed = sorted(i for i, (old, new) in kept.items() if old != new)
        assert not changed, f"these were replaced, not kept: {changed}"
        self.ids = now

    # --- edits --------------------------------------------------------------------------

    @initialize(
        keys=st.lists(st.sampled_from(REGION_KEYS), unique=True, min_size=1, max_size=2),
        env=st.sampled_from(["test", "other"]),
    )
    def start(self, keys: list[str], env: str) -> None:
        """Instances, the plain agent (so that moving it meets it applied) and one use."""
        self.model.plain = Plain(f"p{self.model.next()}", "Plain desk 0", True, env)
        for key in keys:
            self.model.regions[key] = Region(f"r{self.model.next()}", f"Land {key}", False)
        self.model.uses["kora"] = "first note"
        self.write()

    @precondition(lambda self: len(self.model.regions) < len(REGION_KEYS))
    @rule(data=st.data(), promo=st.booleans())
    def add_region(self, data: st.DataObject, promo: bool) -> None:
        key = data.draw(st.sampled_from([k for k in REGION_KEYS if k not in self.model.regions]))
        self.model.regions[key] = Region(f"r{self.model.next()}", f"Land {key}", promo)
        self.edited("add_region")

    @precondition(lambda self: self.model.regions)
    @rule(data=st.data())
    def remove_region(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model.regions)))
        del self.model.regions[key]
        self.model.moves = [(a, b) for a, b in self.model.moves if b != f'agents.regional["{key}"]']
        self.edited("remove_region")

    @precondition(lambda self: self.model.regions)
    @rule(data=st.data())
    def edit_region(self, data: st.DataObject) -> None:
        region = self.model.regions[data.draw(st.sampled_from(sorted(self.model.regions)))]
        region.country = f"Land {self.model.next()}"
        self.edited("edit_region")

    @precondition(lambda self: self.model.regions)
    @rule(data=st.data())
    def toggle_region_promo(self, data: st.DataObject) -> None:
        region = self.model.regions[data.draw(st.sampled_from(sorted(self.model.regions)))]
        region.promo = not region.promo
        self.edited("toggle_region_promo")

    @precondition(lambda self: self.model.plain is None and not self.model.moves)
    @rule(promo=st.booleans(), env=st.sampled_from(["test", "other"]))
    def add_plain_agent(self, promo: bool, env: str) -> None:
        n = self.model.next()
        self.model.plain = Plain(f"p{n}", f"Plain desk {n}", promo, env)
        self.edited("add_plain_agent")

    @precondition(lambda self: self.model.plain is not None)
    @rule(what=st.sampled_from(["promo", "hours_env"]))
    def toggle_plain_kb(self, what: str) -> None:
        """`enabled:` of one knowledge base, or the environments of another."""
        plain = self.model.plain
        assert plain is not None
        if what == "promo":
            plain.promo = not plain.promo
        else:
            plain.hours_env = "other" if plain.hours_env == "test" else "test"
        self.edited(f"toggle_plain_{what}")

    @precondition(
        lambda self: self.model.plain is not None and len(self.model.regions) < len(REGION_KEYS)
    )
    @rule(data=st.data(), promo=st.booleans())
    def move_plain_into_instance(self, data: st.DataObject, promo: bool) -> None:
        """The plain agent becomes a new instance, with a `moved:` block: same agent. Not onto
        a removed instance the state still holds: that move is refused."""
        plain = self.model.plain
        assert plain is not None
        held = {a.name for a in self.sdk.agents.list(limit=100).data}
        free = [k for k in REGION_KEYS if k not in self.model.regions and f"Desk {k}" not in held]
        if not free:
            return
        key = data.draw(st.sampled_from(free))
        carried = [o for a, o in self.model.objects().items() if _under(a, "agents.lagos")]
        self.carried[f'agents.regional["{key}"]'] = _keys(carried) | _held_by_agents(carried, {})
        self.model.regions[key] = Region(plain.ident, f"Land {key}", promo)
        self.model.plain = None
        self.model.moves.append(("agents.lagos", f'agents.regional["{key}"]'))
        self.edited("move_plain_into_instance")

    @precondition(lambda self: len(self.model.uses) < len(USES))
    @rule(data=st.data())
    def add_use(self, data: st.DataObject) -> None:
        use = data.draw(st.sampled_from([u for u in USES if u not in self.model.uses]))
        self.model.uses[use] = f"note {self.model.next()}"
        self.edited("add_use")

    @precondition(lambda self: self.model.uses)
    @rule(data=st.data())
    def remove_use(self, data: st.DataObject) -> None:
        del self.model.uses[data.draw(st.sampled_from(sorted(self.model.uses)))]
        self.edited("remove_use")

    @precondition(lambda self: self.model.uses)
    @rule(data=st.data())
    def edit_use_input(self, data: st.DataObject) -> None:
        use = data.draw(st.sampled_from(sorted(self.model.uses)))
        self.model.uses[use] = f"note {self.model.next()}"
        self.edited("edit_use_input")

    # --- commands -----------------------------------------------------------------------

    @rule()
    def apply(self) -> None:
        """A full apply converges: empty plan, the team equals the model, ids kept."""
        self.ran("apply")
        outcome = self.run("apply", self.stack, "--auto-approve")
        assert outcome.exit_code == 0, outcome.text
        objects = self.model.objects()
        team = read_team(self.sdk)
        self.check_objects(list(objects.values()), team)
        names = {(o.kind, o.name) for o in objects.values()}
        extra = sorted(k for k in team if k[0] in ("workflow", "agent", "kb") and k not in names)
        assert not extra, f"left on the team: {extra}"
        self.check_ids_kept(list(objects.values()))
        plan = self.run("plan", self.stack, "--detailed-exitcode")
        assert plan.exit_code == 0, f"a plan right after a full apply is not empty:\n{plan.text}"
        self.model.moves = []
        self.carried = {}
        self.write()
        self.applied = objects

    @precondition(lambda self: self.model.regions or self.model.uses)
    @rule(data=st.data())
    def apply_target(self, data: st.DataObject) -> None:
        """`--target` an instance, every instance, or a use changes only what it names and
        the workflow that needs."""
        targets = [f'agents.regional["{k}"]' for k in self.model.regions]
        targets += ["agents.regional"] * bool(self.model.regions)
        targets += [f"module.{u}" for u in self.model.uses]
        target = data.draw(st.sampled_from(sorted(targets)))
        self.ran("apply_target")
        objects = self.model.objects()
        named = [o for a, o in objects.items() if _under(a, target)]
        needed = [objects["workflows.triage"]] if target.startswith("agents.") else []
        before = read_team(self.sdk)
        outcome = self.run("apply", self.stack, "--target", target, "--auto-approve")
        assert outcome.exit_code == 0, outcome.text
        after = read_team(self.sdk)
        self.check_objects(named + needed, after)
        allowed = _keys(named + needed) | _held_by_agents(named, before)
        allowed |= {k for dest, keys in self.carried.items() if _under(dest, target) for k in keys}
        if target == "agents.regional":
            # Every instance, those removed from the map included.
            allowed |= {k for k in before if _instance_name(k[1])}
        changed = differences(before, after)
        assert changed <= allowed, f"apply --target {target} changed {sorted(changed - allowed)}"

    @precondition(lambda self: self.model.uses)
    @rule(data=st.data())
    def destroy_use(self, data: st.DataObject) -> None:
        """`destroy --target module.NAME` deletes that use's objects, nothing else."""
        use = data.draw(st.sampled_from(sorted(self.model.uses)))
        self.ran("destroy_use")
        named = [o for a, o in self.model.objects().items() if _under(a, f"module.{use}")]
        before = read_team(self.sdk)
        outcome = self.run("destroy", self.stack, "--target", f"module.{use}", "--auto-approve")
        if not _keys(named) & before.keys():
            assert outcome.exit_code == 1, outcome.text
            assert "the state manages nothing there" in outcome.stderr, outcome.text
            return
        assert outcome.exit_code == 0, outcome.text
        after = read_team(self.sdk)
        for o in named:
            self.ids.pop(o.ident, None)
        left = sorted(k for k in _keys(named) if k in after)
        assert not left, f"destroy --target module.{use} left {left}"
        changed = differences(before, after)
        allowed = _keys(named) | _held_by_agents(named, before)
        assert changed <= allowed, (
            f"destroy --target module.{use} changed {sorted(changed - allowed)}"
        )

    @invariant()
    def manifests_validate(self) -> None:
        """Every edit leaves manifests that load: the model writes only valid stacks."""
        if self.unloaded:
            self.unloaded = False
            outcome = self.run("validate", self.stack)
            assert outcome.exit_code == 0, outcome.text


def _under(address: str, target: str) -> bool:
    return address == target or address.startswith((target + ".", target + "["))


def _instance_name(name: str) -> bool:
    return any(name in (f"Desk {k}", f"FAQ {k}", f"Promo {k}") for k in REGION_KEYS)


def _keys(objects: list[Declared]) -> set[Key]:
    return {(o.kind, o.name) for o in objects}


def _held_by_agents(objects: list[Declared], before: Snapshot) -> set[Key]:
    """An agent's actions and live status, and the knowledge bases it held before."""
    agents = {o.name for o in objects if o.kind == "agent"}
    held: set[Key] = {(kind, a) for a in agents for kind in ("actions", "live_status")}
    held |= {k for k, records in before.items() if k[0] == "kb" and records[0]["agent"] in agents}
    return held


def configure(running: RunningEmulator, admin: Admin) -> Any:
    ConstructsMachine.running = running
    ConstructsMachine.admin = admin
    return ConstructsMachine
