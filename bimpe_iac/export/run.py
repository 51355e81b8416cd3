"""Export as one job: read a target's team and lay it out as a stack."""

from __future__ import annotations

from bimpe_iac.connection import Target, open_client
from bimpe_iac.export.layout import Layout, lay_out
from bimpe_iac.export.read import Selection, read_team
from bimpe_iac.model.registry import Registry


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
