"""The plan and apply jobs, composed from reading, planning and executing.

Each job can report its phases as they end (`PhaseDone`: reading, planning, applying, writing
state, with what each counted and how long it took) and the progress of reading; the command
decides what to show."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from bimpeai import AsyncBimpeAI

from bimpe_iac.engine.adopt import find_adoptions
from bimpe_iac.engine.checks import check_plan
from bimpe_iac.engine.drift import DriftReport, find_drift, unchecked_fields, unchecked_warning
from bimpe_iac.engine.executor import ApplyResult, Executor, Progress
from bimpe_iac.engine.intents import find_intended
from bimpe_iac.engine.moves import follow_moved, stack_moves
from bimpe_iac.engine.planner import PlanOptions, build_plan, desired_resources
from bimpe_iac.engine.read import ReadCounts, ReadProgress, read_children, read_live
from bimpe_iac.engine.secrecy import Secrecy
from bimpe_iac.engine.session import StateSession
from bimpe_iac.manifest import Stack
from bimpe_iac.model.kind import PlanContext, ResourceKind
from bimpe_iac.model.plan import Desired, Plan
from bimpe_iac.model.registry import Registry
from bimpe_iac.model.sections import top_of
from bimpe_iac.state.backend import StateStore
from bimpe_iac.state.digests import digests_for
from bimpe_iac.state.model import ResourceState, StateDocument

PhaseDone = Callable[[str, float, Mapping[str, int]], None]
"""A phase ended: its name, how long it took (seconds), and what it counted (noun -> number)."""


def _no_phase(name: str, seconds: float, counts: Mapping[str, int]) -> None:
    pass


def read_counts(counts: ReadCounts) -> dict[str, int]:
    """What reading counted, as a phase reports it."""
    parents = {f"{kind}s": done for kind, (done, _) in sorted(counts.parents.items())}
    return {"collections": counts.collections, "objects": counts.objects, **parents}


def secrecy_for(client: AsyncBimpeAI, stack: Stack, state: StateDocument) -> Secrecy:
    """This run's sensitive values and the keyed digests of `state` under `client`'s key."""
    return Secrecy(stack.sensitive_values, digests_for(client, state.lineage))


async def read_context(
    client: AsyncBimpeAI,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    *,
    parallelism: int,
    destroy: bool = False,
    progress: ReadProgress | None = None,
) -> PlanContext:
    needed = needed_listings(registry, stack, state)
    fetched = await read_live(
        client, registry.kinds.values(), state.resources, parallelism, progress, needed
    )
    return PlanContext(stack, state.resources, fetched, destroy)


def needed_listings(
    registry: Registry, stack: Stack, state: StateDocument
) -> dict[str, frozenset[str]]:
    """For each per-parent listing with `needed_by`, the ids of the parents (in the state)
    that hold a resource of that section in the manifests or in the state."""
    out: dict[str, frozenset[str]] = {}
    sections = registry.sections
    for kind in registry.kinds.values():
        for collection in kind.collections:
            if collection.needed_by is None or collection.name in out:
                continue
            holders = {top_of(e.address) for e in stack.entries(collection.needed_by)}
            for address in state.resources:
                found = sections.section_of(address)
                if found is not None and found.name == collection.needed_by:
                    holders.add(top_of(address))
            out[collection.name] = frozenset(
                state.resources[h].id for h in holders if h in state.resources
            )
    return out


async def drift_report(
    client: AsyncBimpeAI,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    *,
    parallelism: int,
    unmanaged: bool = False,
) -> DriftReport:
    """What changed in BimpeAI since the last apply `state` recorded (`engine.drift`)."""
    context = await read_context(client, registry, stack, state, parallelism=parallelism)
    secrecy = secrecy_for(client, stack, state)
    return find_drift(registry.kinds, context, state, secrecy, unmanaged=unmanaged)


async def make_plan(
    client: AsyncBimpeAI,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    options: PlanOptions,
    *,
    parallelism: int,
    progress: ReadProgress | None = None,
    phases: PhaseDone = _no_phase,
) -> tuple[Plan, dict[str, Desired]]:
    state, moved = follow_moved(stack_moves(stack, state), state, stack.sections)
    read = [ReadCounts()]

    def heard(counts: ReadCounts) -> None:
        read[0] = counts
        if progress is not None:
            progress(counts)

    started = time.perf_counter()
    context = await read_context(
        client,
        registry,
        stack,
        state,
        parallelism=parallelism,
        destroy=options.destroy,
        progress=heard,
    )
    kinds = registry.kinds
    # What a create whose answer was lost made is this run's to update (or delete), not to
    # make again (`engine/intents.py`).
    intended = find_intended(kinds, context, state.intents)
    if intended:
        state = state.model_copy(update={"resources": {**state.resources, **intended}})
        context = replace(context, state=state.resources)
    adopted: dict[str, ResourceState] = {}
    if options.adopt and not options.destroy:
        adopted = await adopt(client, registry, context, parallelism=parallelism)
        # The plan reads adopted objects as if managed; only apply records them.
        state = state.model_copy(update={"resources": {**state.resources, **adopted}})
        context = replace(context, state=state.resources)
    context = replace(context, take_over_numbers=options.take_over_numbers)
    planning = time.perf_counter()
    phases("reading", planning - started, read_counts(read[0]))
    desired = desired_resources(kinds, context)
    secrecy = secrecy_for(client, stack, state)
    plan = build_plan(
        kinds,
        context,
        state,
        secrecy,
        options,
        imports=adopted,
        desired=desired,
        intended=intended,
    )
    warned = await check_plan(
        client,
        registry,
        plan,
        context,
        desired,
        options,
        pending=state.intents.keys(),
        parallelism=parallelism,
    )
    plan = secrecy.seal(plan, state.resources, frozenset(adopted) | frozenset(intended))
    unchecked = _unchecked(plan, kinds, context, state, secrecy)
    warnings = (*plan.warnings, *warned)
    if unchecked:
        warnings = (*warnings, unchecked_warning(unchecked))
    phases(
        "planning",
        time.perf_counter() - planning,
        {"resources": len(plan.changes), "changes": len(plan.actionable)},
    )
    return replace(plan, moved=moved, warnings=warnings), desired


def _unchecked(
    plan: Plan,
    kinds: Mapping[str, ResourceKind],
    context: PlanContext,
    state: StateDocument,
    secrecy: Secrecy,
) -> list[str]:
    """The sensitive fields of the plan's changes whose drift cannot be checked."""
    found = []
    for change in plan.changes:
        entry = state.resources.get(change.address)
        if entry is None or not entry.sensitive:
            continue
        live = kinds[entry.kind].read(change.address, entry, context)
        if live is not None:
            found += [f"{change.address}.{f}" for f in unchecked_fields(entry, live, secrecy)]
    return found


async def adopt(
    client: AsyncBimpeAI, registry: Registry, context: PlanContext, *, parallelism: int
) -> dict[str, ResourceState]:
    """The live objects to import (`engine.adopt`), once the children of adopted parents are
    read too."""
    kinds = registry.kinds
    desired = desired_resources(kinds, context)
    parents = find_adoptions(kinds, desired, context)
    await read_children(client, kinds.values(), parents.values(), context.fetched, parallelism)
    return find_adoptions(kinds, desired, context)


async def apply_plan(
    client: AsyncBimpeAI,
    registry: Registry,
    plan: Plan,
    desired: Mapping[str, Desired],
    state: StateDocument,
    store: StateStore,
    stack: Stack,
    *,
    parallelism: int,
    progress: Progress,
    stop: asyncio.Event | None = None,
    phases: PhaseDone = _no_phase,
) -> ApplyResult:
    """Run the plan's changes, storing the state as they finish; its last write (canonical,
    `StateSession.close`) happens even when the run is cancelled."""
    secrecy = secrecy_for(client, stack, state)
    session = StateSession(state, store, stack.mask, secrecy)
    async with session:
        executor = Executor(
            client,
            registry.kinds,
            session,
            plan,
            desired,
            parallelism=parallelism,
            progress=progress,
            stop=stop,
            mask=stack.mask,
        )
        started = time.perf_counter()
        result = await executor.run()
        closing = time.perf_counter()
        applied = {"done": len(result.done), "failed": len(result.failed)}
        phases("applying", closing - started, {**applied, "not started": len(result.skipped)})
    phases(
        "writing state",
        time.perf_counter() - closing,
        {"writes": session.writes, "resources": len(session.document.resources)},
    )
    return result


def needs_digests(plan: Plan, state: StateDocument, stack: Stack, client: AsyncBimpeAI) -> bool:
    """Whether an apply of `plan` has something to record though it changes nothing: the keyed
    digests of sensitive fields made with another API key, recorded anew."""
    secrecy = secrecy_for(client, stack, state)
    return any(
        change.action == "noop"
        and change.address in state.resources
        and secrecy.needs_digests(state.resources[change.address])
        for change in plan.changes
    )


def settles_intents(plan: Plan, state: StateDocument) -> bool:
    """Whether an apply of `plan` has a pending create to settle though it changes nothing: the
    create whose answer was lost made the object as wanted, which apply then records."""
    return any(c.action == "noop" and c.address in state.intents for c in plan.changes)
