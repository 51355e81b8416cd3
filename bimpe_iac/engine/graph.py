"""Which change waits for which: dependencies (and `waits_for`) first for creates and updates,
dependents first for deletes, and the explicit `precedes` of a kind (pausing an agent before
reconfiguring)."""

from __future__ import annotations

from collections.abc import Mapping

from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import Change, Desired
from bimpe_iac.state.model import ResourceState


def order_edges(
    changes: Mapping[str, Change],
    desired: Mapping[str, Desired],
    state: Mapping[str, ResourceState],
) -> dict[str, set[str]]:
    active = {a for a, c in changes.items() if c.action != "noop"}
    waits: dict[str, set[str]] = {a: set() for a in changes}
    dependents: dict[str, set[str]] = {}
    for address in changes:
        deps = set(desired[address].depends_on) if address in desired else set()
        if address in state:
            deps |= set(state[address].depends_on)
        for dep in deps:
            dependents.setdefault(dep, set()).add(address)
    for address in active:
        change = changes[address]
        if change.action in ("create", "update", "replace", "import") and address in desired:
            want = desired[address]
            first = {*want.depends_on, *want.waits_for} - set(want.precedes)
            waits[address] |= {d for d in first if d in active}
            for later in want.precedes:
                if later in active and later != address:
                    waits[later].add(address)
        if change.action in ("delete", "replace"):
            # Whatever used this resource lets go of it (or goes) first.
            for user in dependents.get(address, ()):
                if user in active and changes[user].action != "create":
                    waits[address].add(user)
    _check_acyclic(waits)
    return waits


def _check_acyclic(waits: Mapping[str, set[str]]) -> None:
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            cycle = [*path[path.index(node) :], node]
            raise PlanError("these changes wait for each other: " + " -> ".join(cycle))
        visiting.add(node)
        for dep in sorted(waits.get(node, ())):
            visit(dep, [*path, node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(waits):
        visit(node, [])
