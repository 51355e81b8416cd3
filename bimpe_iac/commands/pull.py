"""`bimpe-iac pull STACK`: what changed in the Console since the last apply, written into
the stack's own files (`pull/run.py`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Literal, cast

import click

from bimpe_iac.commands.options import (
    lock_timeout_option,
    open_stack,
    requested_vars,
    stack_options,
)
from bimpe_iac.connection import open_client
from bimpe_iac.errors import ConfigError
from bimpe_iac.pull.run import PullOptions, PullResult, pull
from bimpe_iac.render.pull import conflict_lines, edit_line, section
from bimpe_iac.resources import REGISTRY


@click.command("pull")
@stack_options
@lock_timeout_option
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 2 when there is something to pull."
)
@click.option(
    "--take",
    type=click.Choice(["live", "code"]),
    default=None,
    help="Settle conflicts: write the Console's value (live) or keep the manifests' (code).",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="Only this address and those under it (repeatable); with --take, settle only there.",
)
@click.option(
    "--unmanaged",
    is_flag=True,
    help="Also write the team's agents and workflows no state manages, each as a new file.",
)
def pull_command(
    stack_dir: Path,
    env: str | None,
    parallelism: int,
    debug_http: bool,
    lock_timeout: float,
    check: bool,
    take: str | None,
    targets: tuple[str, ...],
    unmanaged: bool,
) -> None:
    """Write what changed in the Console since the last apply into the stack's files.

    A three-way merge per field of the last apply (the state), the manifests and the team:
    a field changed only in the Console is written in place, keeping comments, key order
    and quoting; one changed only in code is left for apply to push; one changed on both
    sides to different values is a conflict, written nowhere unless --take picks a side.
    Afterwards the next plan is empty and drift exits 0 for what was pulled.

    \b
    Exit codes: 0 pulled (or nothing to pull), 1 conflicts (nothing written),
    2 with --check when there is something to pull.

    \b
    Examples:
      bimpe-iac pull examples/stacks/support
      bimpe-iac pull stacks/shop --env prod --check
      bimpe-iac pull stacks/shop --env prod --take live --target workflows.triage
    """
    workspace = open_stack(stack_dir, env, parallelism, debug_http)
    stack = workspace.stack
    options = PullOptions(
        take=cast("Literal['live', 'code'] | None", take),
        targets=targets or None,
        unmanaged=unmanaged,
        check=check,
    )
    with workspace.store as store, store.lock("pull", timeout_s=lock_timeout):
        state = store.read(stack.name, stack.environment)
        if not state.resources:
            raise ConfigError(
                f"the state of {stack.name} ({stack.environment}) manages nothing yet: apply"
                " first, then pull brings back what changes in the Console"
            )
        _check_targets(targets, set(state.resources) | set(stack.resources))

        async def run() -> PullResult:
            async with open_client(workspace.target) as client:
                return await pull(
                    client,
                    REGISTRY,
                    stack,
                    state,
                    store,
                    options,
                    overrides=requested_vars(),
                    schema=None,
                    parallelism=parallelism,
                )

        result = asyncio.run(run())
    _report(result, stack.mask, check=check)
    if result.report.conflicts and not check:
        sys.exit(1)
    if check and result.something:
        sys.exit(2)


def _check_targets(targets: tuple[str, ...], known: set[str]) -> None:
    for target in targets:
        if not any(a == target or a.startswith(target + ".") for a in known):
            raise ConfigError(f"--target {target}: no address of the stack or its state")


def _report(result: PullResult, masked: Callable[[str], str], *, check: bool) -> None:
    report = result.report
    lines: list[str] = []
    by_address: dict[str, list[str]] = {}
    for address, edit in report.edits:
        by_address.setdefault(address, []).append(edit_line(edit, masked))
    changed = [line for address, items in by_address.items() for line in (f"  {address}", *items)]
    lines += section("Changed in the Console:", changed)
    lines += section("Made in the Console:", (f"  + {address}" for address in result.new.addresses))
    conflicts = [line for a, c in report.conflicts for line in conflict_lines(a, c, masked)]
    if conflicts:
        lines += section("Conflicts (changed in code and in the Console):", conflicts)
        lines.append(
            "Nothing was written. Settle them with --take live (write the Console's value) or"
            " --take code (keep the manifests'), with --target ADDRESS for one address."
        )
        lines.append("")
    notes = [
        *(f"  {a}: deleted in the Console; apply makes it again" for a in report.gone),
        *(
            f"  {a}: changed in the Console, but the manifests no longer declare it; apply"
            " deletes it"
            for a in report.removed_in_code
        ),
        *(f"  {f}: sensitive; never pulled" for f in report.not_pulled),
        *(f"  {note}" for note in (*result.pulled.notes, *result.new.notes)),
    ]
    lines += section("Not pulled:", notes)
    if not result.something:
        lines.append("Nothing to pull: the manifests have every change made in the Console.")
    elif check:
        lines.append("Something to pull: run `bimpe-iac pull` to write it into the stack.")
    elif not report.conflicts:
        written = sorted(result.files)
        lines.append(
            "Wrote "
            + (", ".join(written) if written else "no file")
            + f"; recorded {result.recorded} in the state. Review with `git diff`."
        )
    click.echo("\n".join(lines).rstrip())
