"""`bimpe-iac export --stack STACK --env ENV`: the team of a stack's environment, written as
that stack writes it (`export/against.py`), so `diff -r STACK OUT` shows the team's drift."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from bimpe_iac.commands.options import open_stack, requested_vars
from bimpe_iac.errors import ConfigError
from bimpe_iac.export.against import as_stack
from bimpe_iac.export.run import export_managed
from bimpe_iac.export.templates import environment_templates
from bimpe_iac.export.write import is_empty, schema_base, write_stack
from bimpe_iac.resources import REGISTRY


def export_stack(
    stack_dir: Path, env: str | None, out: Path | None, *, force: bool, parallelism: int
) -> None:
    workspace = open_stack(stack_dir, env, parallelism, debug_http=False)
    stack = workspace.stack
    directory = stack.directory
    out = (out or directory.parent / f"{directory.name}-{stack.environment}").absolute()
    if out.resolve().is_relative_to(directory.resolve()):
        raise ConfigError(f"{out} is inside the stack {directory}; write the export elsewhere")
    if not force and not is_empty(out):
        raise ConfigError(f"{out} is not empty; choose an empty directory or pass --force")
    with workspace.store as store:
        state = store.read(stack.name, stack.environment)
    job = export_managed(workspace.target, REGISTRY, stack, state, parallelism=parallelism)
    managed = asyncio.run(job)
    templates = environment_templates(
        directory, stack.environment, os.environ, overrides=requested_vars()
    )
    written = as_stack(stack, managed.plan, managed.layout, templates, schema=schema_base(out))
    for warning in (*managed.layout.warnings, *written.warnings):
        click.echo(f"Warning: {stack.mask(warning)}", err=True)
    write_stack(out, written.files, replace=force)
    click.echo(f"Exported {managed.layout.summary()} of {stack.environment} to {out}.")
    differing = [*sorted(written.rewritten), *sorted(set(written.kept))]
    if differing:
        click.echo("The team differs from the stack in: " + ", ".join(differing))
    else:
        click.echo("The team is as the stack describes it.")
    click.echo(f"Compare with: diff -r {stack_dir} {out}")
