"""Command-line entry point: a click group of thin commands behind one error boundary."""

from __future__ import annotations

import importlib
import sys

import click

from bimpe_iac import __version__, ui
from bimpe_iac.errors import ApiFailure, BimpeIacError
from bimpe_iac.printable import one_line, visible

# Each command's module, imported only when the command runs (or help lists it): a command
# then loads what it uses, not what every other command uses.
COMMANDS = {
    "validate": "bimpe_iac.commands.validate:validate",
    "fmt": "bimpe_iac.commands.fmt:fmt_command",
    "plan": "bimpe_iac.commands.plan:plan_command",
    "apply": "bimpe_iac.commands.apply:apply_command",
    "destroy": "bimpe_iac.commands.apply:destroy_command",
    "drift": "bimpe_iac.commands.drift:drift_command",
    "smoke": "bimpe_iac.commands.smoke:smoke_command",
    "import": "bimpe_iac.commands.import_:import_command",
    "output": "bimpe_iac.commands.output:output_command",
    "state": "bimpe_iac.commands.state_backends:state_group",
    "export": "bimpe_iac.commands.export:export_command",
    "pull": "bimpe_iac.commands.pull:pull_command",
    "clone": "bimpe_iac.commands.clone:clone_command",
    "emulator": "bimpe_iac.commands.emulator:emulator",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = COMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        self.add_command(command, cmd_name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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

    An environment of stack.yaml that names no target uses BIMPE_API_KEY, or a local
    BimpeAI emulator when it is not set; one that names api_key_env or base_url needs its
    key. --emulator, or target: {emulator: true}, always uses the emulator.
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


def main() -> None:
    """Run the CLI; map known errors to exit 1, Ctrl-C to 130, SIGTERM to 143, anything
    unexpected to 3."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        if _terminated():
            click.echo("Terminated.", err=True)
            sys.exit(143)
        click.echo(
            "Aborted." if isinstance(exc, click.exceptions.Abort) else "Interrupted.", err=True
        )
        sys.exit(130)
    except BimpeIacError as exc:
        # Messages quote what files hold: no control character in them reaches the terminal;
        # one about an API answer quotes the API, whose line breaks are spelled out too.
        said = one_line(str(exc)) if isinstance(exc, ApiFailure) else visible(str(exc))
        click.echo(f"Error: {said}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the boundary
        if _from_the_api(exc):  # an API answer or a network failure outside an apply step
            from bimpe_iac.engine.executor import describe_error

            click.echo(f"Error: {visible(describe_error(exc))}", err=True)
            sys.exit(1)
        click.echo(_internal_error(exc), err=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


def _terminated() -> bool:
    """Whether SIGTERM stopped the command; only the commands that handle it loaded the module."""
    interrupt = sys.modules.get("bimpe_iac.commands.interrupt")
    return interrupt is not None and bool(interrupt.terminated())


def _from_the_api(exc: Exception) -> bool:
    """Whether the SDK raised it; a command that never loaded the SDK raised none of its."""
    sdk = sys.modules.get("bimpeai")
    return sdk is not None and isinstance(exc, sdk.BimpeAIError)


def _internal_error(exc: Exception) -> str:
    """A bug, in one line without a traceback or any secret; the traceback goes to a crash log
    that the line names."""
    from bimpe_iac.crash_log import write_crash_log
    from bimpe_iac.secrets import scrub

    first_line = (str(exc).strip().splitlines() or [""])[0]
    said = visible(scrub(f"{type(exc).__name__}: {first_line}".rstrip(": ")))
    try:
        log = write_crash_log(exc)
    except OSError as failure:
        where = f"no crash log could be written ({failure.strerror or failure})"
    else:
        where = f"the traceback is in {log}"
    return f"Internal error: {said}. This is a bug in bimpe-iac; {where}; please report it."
