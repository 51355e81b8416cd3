"""`bimpe-iac smoke`: prove after a deploy that every agent answers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from bimpe_iac.commands.options import open_stack, stack_options
from bimpe_iac.connection import open_client
from bimpe_iac.errors import BimpeIacError
from bimpe_iac.smoke import CheckResult, run_smoke


def _table(results: list[CheckResult]) -> str:
    width = max([len("agent"), *(len(r.address) for r in results)])
    lines = [f"{'agent':<{width}}  check  result  time    detail"]
    for r in results:
        verdict = "pass" if r.ok else "FAIL"
        lines.append(
            f"{r.address:<{width}}  {r.check:<5}  {verdict:<6}  {r.seconds:5.1f}s  {r.detail}"
        )
    return "\n".join(lines)


@click.command("smoke")
@stack_options
@click.option(
    "--timeout",
    "timeout_s",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to wait for each AI reply.",
)
@click.option(
    "--tools/--no-tools",
    default=None,
    help="Call one tool of each managed custom API from a test chat, reading ones first"
    " (default: only on the local emulator, as a real API is called for real).",
)
def smoke_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    timeout_s: float,
    tools: bool | None,
) -> None:
    """Check that every agent the stack manages answers a test chat, that agents with a
    phone link complete a test call and, with --tools (the default on the local emulator),
    that one tool of each managed custom API is called from a test chat. Exit 1 on any
    failure.

    \b
    Examples:
      bimpe-iac smoke examples/stacks/support
      bimpe-iac smoke stacks/prod --env prod --timeout 60
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    with workspace.store as store:
        state = store.read(stack.name, stack.environment)
    if not any(entry.kind == "agent" for entry in state.resources.values()):
        raise BimpeIacError(
            f"{stack.name} ({stack.environment}) manages no agent yet: apply it first"
        )

    # A tool called from a test chat calls its API for real: only asked for, off the emulator.
    call_tools = workspace.target.embedded if tools is None else tools

    async def run() -> list[CheckResult]:
        async with open_client(workspace.target) as client:
            return await run_smoke(client, state.resources, timeout_s=timeout_s, tools=call_tools)

    results = asyncio.run(run())
    click.echo(stack.mask(_table(results)))
    failed = sum(1 for r in results if not r.ok)
    if failed:
        click.echo(f"\nSmoke check failed: {failed} of {len(results)} checks.", err=True)
        sys.exit(1)
    click.echo(f"\nSmoke check passed: {len(results)} checks.")
