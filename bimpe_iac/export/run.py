"""Export as one job: read a target's team and lay it out as a stack; or, against the stack
that manages the team, lay it out at that stack's addresses beside the plan that says what
differs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from bimpe_iac.connection import Target, open_client
from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.engine.planner import build_plan
from bimpe_iac.engine.run import read_context, secrecy_for
from bimpe_iac.export.layout import Layout, lay_out
from bimpe_iac.export.read import Selection, read_team
from bimpe_iac.manifest import Stack
from bimpe_iac.model.plan import Plan
from bimpe_iac.model.registry import Registry
from bimpe_iac.model.sections import Sections
from bimpe_iac.state.model import StateDocument


async def export_team(
    target: Target,
    registry: Registry,
    *,
    selection: Selection | None = None,
    parallelism: int = 16,
) -> Layout:
    async with open_client(target) as client:
        team = await read_team(
            client, registry.kinds.values(), selection=selection, parallelism=parallelism
        )
    selected = frozenset(selection.ids) if selection is not None else None
    return lay_out(team, registry.sections, selected=selected)


def known_addresses(state: StateDocument, sections: Sections) -> dict[tuple[str, str], str]:
    """The address of each entry the state manages, by its section and id."""
    out: dict[tuple[str, str], str] = {}
    for address, entry in state.resources.items():
        section = sections.section_of(address)
        if section is not None:
            out[(section.name, entry.id)] = address
    return out


@dataclass(frozen=True)
class Managed:
    """The team laid out at the addresses of the stack that manages it, and that stack's plan
    against it."""

    layout: Layout
    plan: Plan


async def export_managed(
    target: Target,
    registry: Registry,
    stack: Stack,
    state: StateDocument,
    *,
    selection: Selection | None = None,
    parallelism: int = 16,
) -> Managed:
    state, _ = follow_moved(stack.moved, state, stack.sections)
    known: Mapping[tuple[str, str], str] = known_addresses(state, registry.sections)
    kinds = registry.kinds.values()
    async with open_client(target) as client:
        team, context = await asyncio.gather(
            read_team(client, kinds, selection=selection, parallelism=parallelism),
            read_context(client, registry, stack, state, parallelism=parallelism),
        )
        plan = build_plan(registry.kinds, context, state, secrecy_for(client, stack, state))
    selected = frozenset(selection.ids) if selection is not None else None
    return Managed(lay_out(team, registry.sections, selected=selected, known=known), plan)
