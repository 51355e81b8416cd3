"""Export as one job: read a target's team and lay it out as a stack."""

from __future__ import annotations

from collections.abc import Sequence

from bimpe_iac.connection import Target, open_client
from bimpe_iac.export.layout import Layout, lay_out
from bimpe_iac.export.read import read_team


async def export_team(
    target: Target, *, agent_ids: Sequence[str] = (), parallelism: int = 16
) -> Layout:
    async with open_client(target) as client:
        team = await read_team(client, agent_ids=agent_ids, parallelism=parallelism)
    return lay_out(team)
