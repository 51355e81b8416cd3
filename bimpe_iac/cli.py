"""Command-line entry point: a click group of thin commands behind one error boundary."""

from __future__ import annotations

import sys

import click
from bimpeai import BimpeAIError

from bimpe_iac import __version__, ui
from bimpe_iac.commands import state_backends  # noqa: F401 (adds its commands to `state`)
from bimpe_iac.commands.apply import apply_command, destroy_command
from bimpe_iac.commands.clone import clone_command
from bimpe_iac.commands.drift import drift_command
from bimpe_iac.commands.emulator import emulator
from bimpe_iac.commands.export import export_command
from bimpe_iac.commands.import_ import import_command
from bimpe_iac.commands.plan import plan_command
from bimpe_iac.commands.smoke import smoke_command
from bimpe_iac.commands.state import state_group
from bimpe_iac.commands.validate import validate
from bimpe_iac.engine.executor import describe_error
from bimpe_iac.errors import BimpeIacError
from bimpe_iac.render.values import visible


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bimpe-iac")
@click.option("-q", "--quiet", is_flag=True, help="Say only results and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Also log what bimpe-iac is doing.")
@click.option(
    "--no-input",
    is_flag=True,
    envvar="BIMPE_NO_INPUT",
    help="Never ask: a command that would ask fails instead.",
)
def cli(quiet: bool, verbose: bool, no_input: bool) -> None:
    """Declarative infrastructure as code for BimpeAI agents.

    \b
    Examples:
      bimpe-iac validate stacks/support --env prod
      bimpe-iac plan stacks/support --env prod --out plan.json
      bimpe-iac apply stacks/support --env prod --plan plan.json
      bimpe-iac drift stacks/support --env prod

    With no API key in the environment, commands use a local BimpeAI emulator.
    Environment: BIMPE_API_KEY, BIMPE_BASE_URL, BIMPE_STATE_DSN, NO_COLOR.
    """
    ui.configure(quiet=quiet, verbose=verbose, no_input=no_input)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_command(shell: str) -> None:
    """Print the shell completion script.

    \b
    Example:
      eval "$(bimpe-iac completion bash)"
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None
    click.echo(completer(cli, {}, "bimpe-iac", "_BIMPE_IAC_COMPLETE").source())


cli.add_command(validate)
cli.add_command(plan_command)
cli.add_command(apply_command)
cli.add_command(destroy_command)
cli.add_command(drift_command)
cli.add_command(smoke_command)
cli.add_command(import_command)
cli.add_command(state_group)
cli.add_command(export_command)
cli.add_command(clone_command)
cli.add_command(emulator)


def main() -> None:
    """Run the CLI; map known errors to exit 1, Ctrl-C to 130, anything unexpected to 3."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BimpeIacError as exc:
        # Messages quote what files hold: no control character in them reaches the terminal.
        click.echo(f"Error: {visible(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except BimpeAIError as exc:  # an API answer or a network failure outside an apply step
        click.echo(f"Error: {visible(describe_error(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # the boundary: a bug, reported without a traceback on screen
        click.echo(f"Internal error: {type(exc).__name__}: {visible(str(exc))}", err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
