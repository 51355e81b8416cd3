"""`bimpe-iac validate`: load a stack for one environment and report every problem."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bimpe_iac.commands.options import requested_vars, var_options
from bimpe_iac.manifest import InvalidStackError, load_stack, report
from bimpe_iac.printable import visible
from bimpe_iac.resources import REGISTRY


@click.command()
@click.argument("stack", type=click.Path(path_type=Path))
@click.option("--env", metavar="NAME", help="The environment whose vars and target to use.")
@var_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print the result.",
)
def validate(stack: Path, env: str | None, output_format: str) -> None:
    """Check the stack in directory STACK; exit 0 when valid, 1 when not.

    \b
    Examples:
      bimpe-iac validate examples/stacks/multi-env --env prod
      bimpe-iac validate stacks/support --format json
      bimpe-iac validate stacks/support --env prod --var-file prod.vars.yaml --var brand=Kora
    """
    sys.exit(run(stack, env, output_format))


def run(stack: Path, env: str | None, output_format: str) -> int:
    as_json = output_format == "json"
    try:
        loaded = load_stack(stack, env, sections=REGISTRY.sections, overrides=requested_vars())
    except InvalidStackError as error:
        # Messages quote values as written: control characters in them are spelled out.
        click.echo(report.invalid_json(error) if as_json else visible(report.invalid_text(error)))
        return 1
    click.echo(report.valid_json(loaded) if as_json else report.valid_text(loaded))
    return 0
