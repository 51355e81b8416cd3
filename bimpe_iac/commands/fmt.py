"""`bimpe-iac fmt`: rewrite a stack's manifests in canonical form, or check that they are."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bimpe_iac.fmt import NotAStack, format_stack
from bimpe_iac.model.issues import display_path
from bimpe_iac.printable import visible
from bimpe_iac.resources import REGISTRY


@click.command()
@click.argument("stack", type=click.Path(path_type=Path), default=".")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file would change.")
def fmt_command(stack: Path, check: bool) -> None:
    """Rewrite the manifests of the stack in directory STACK (default: the current one) in
    canonical form: keys in the order of the manifest reference, two-space indentation, quotes
    only where needed, every comment kept beside its key.

    Lists each file it rewrote; with --check, each file it would rewrite, and exits 1 when
    there is any. A file that cannot be read as YAML is reported as file:line:column and
    left as it is (exit 1).

    \b
    Examples:
      bimpe-iac fmt stacks/support
      bimpe-iac fmt --check stacks/support
    """
    sys.exit(run(stack, check))


def run(stack: Path, check: bool) -> int:
    try:
        result = format_stack(stack, REGISTRY.sections, check=check)
    except NotAStack as error:
        click.echo(f"Error: {visible(error.issue.render())}", err=True)
        return 1
    for path in result.changed:
        click.echo(display_path(path))
    for issue in sorted(result.issues, key=lambda issue: issue.sort_key()):
        click.echo(f"Error: {visible(issue.render())}", err=True)
    return 1 if result.issues or (check and result.changed) else 0
