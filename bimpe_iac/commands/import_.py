"""`bimpe-iac import ADDRESS ID`: start managing an object that already exists in BimpeAI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from bimpe_iac.commands.options import lock_timeout_option, open_stack, stack_options
from bimpe_iac.connection import open_client
from bimpe_iac.engine.importing import import_resource
from bimpe_iac.resources import REGISTRY


@click.command("import")
@click.argument("address")
@click.argument("id")
@stack_options
@lock_timeout_option
def import_command(
    address: str,
    id: str,
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    lock_timeout: float,
) -> None:
    """Record the BimpeAI object ID under ADDRESS of the manifests, without changing it.

    The next plan shows how the object differs from the manifest. A knowledge base needs its
    agent in the state first; an agent's actions and live_status take the agent's id.

    \b
    Examples:
      bimpe-iac import agents.support agt_0123 stacks/support --env prod
      bimpe-iac import agents.support.knowledge_bases.faq kb_0456 stacks/support --env prod
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    with workspace.store as store, store.lock("import", timeout_s=lock_timeout):
        state = store.read(stack.name, stack.environment)

        async def run() -> list[str]:
            async with open_client(workspace.target) as client:
                return await import_resource(
                    client,
                    REGISTRY,
                    stack,
                    state,
                    address,
                    id,
                    store=store,
                    parallelism=parallelism,
                )

        left = asyncio.run(run())
    click.echo(f"{address}: Import complete [id={id}]")
    if left:
        click.echo(f"Not imported with it: {', '.join(left)} (import each, or plan --adopt).")
    click.echo("bimpe-iac manages it from now on; plan shows how it differs from the manifests.")
