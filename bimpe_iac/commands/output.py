"""`bimpe-iac output [NAME]`: the stack's outputs, from its manifests and its state alone.

It calls no API (and needs no API key): the ids come from the state the last apply wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bimpe_iac.commands.options import var_options
from bimpe_iac.commands.state import open_state
from bimpe_iac.engine.moves import follow_moved
from bimpe_iac.errors import ConfigError, StateError
from bimpe_iac.manifest import Output, Stack
from bimpe_iac.manifest.interpolate import as_text
from bimpe_iac.manifest.issues import did_you_mean
from bimpe_iac.printable import visible
from bimpe_iac.render.outputs import ids_in, output_lines, outputs_json, shown_value
from bimpe_iac.resources import REGISTRY


@click.command("output")
@click.argument("name", required=False)
@click.option(
    "--stack",
    "stack_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The stack directory.",
)
@click.option("--env", "env", default=None, help="The environment of stack.yaml.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@var_options
def output_command(name: str | None, stack_dir: Path, env: str | None, as_json: bool) -> None:
    """Print the stack's outputs, or the bare value of output NAME.

    Values come from the manifests and the state; no API is called. Sensitive outputs read
    "(sensitive)", also in JSON. An output whose resource the state does not hold yet is
    left out (null in JSON).

    \b
    Examples:
      bimpe-iac output --stack stacks/support --env prod
      AGENT_ID="$(bimpe-iac output support_agent_id --stack stacks/support --env prod)"
      bimpe-iac output --stack stacks/support --json
    """
    stack, store = open_state(stack_dir, env)
    with store:
        state = store.read(stack.name, stack.environment)
    if state.serial == 0:
        raise StateError(
            f"{stack.name} ({stack.environment}) has no state yet ({store.location}): apply"
            " it first"
        )
    state, _ = follow_moved(stack.moved, state, REGISTRY.sections)
    ids = ids_in(state)
    if name is None:
        if as_json:
            click.echo(outputs_json(stack.outputs, ids, stack.mask))
        else:
            for line in output_lines(stack.outputs, ids, stack.mask, unknown=None):
                click.echo(line)
        return
    output = _named(stack, name)
    value = output.value(ids)
    if value is None:
        missing = ", ".join(a for a in output.addresses if a not in ids)
        raise StateError(
            f"output '{name}' is not known yet: the state holds no {missing}; apply it first"
        )
    shown = shown_value(output, value, stack.mask)
    if output.sensitive:
        click.echo(f"output '{name}' is sensitive: bimpe-iac never prints its value", err=True)
    click.echo(json.dumps(shown) if as_json else visible(as_text(shown)))


def _named(stack: Stack, name: str) -> Output:
    for output in stack.outputs:
        if output.name == name:
            return output
    names = sorted(output.name for output in stack.outputs)
    declared = f"; outputs: {', '.join(names)}" if names else "; it declares no outputs"
    raise ConfigError(
        f"stack {stack.name} has no output '{name}'{did_you_mean(name, names)}{declared}"
    )
