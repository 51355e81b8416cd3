"""Options shared by the commands that talk to BimpeAI, and small output helpers."""

from __future__ import annotations

import logging
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bimpe_iac.commands.workspace import Workspace, open_workspace
from bimpe_iac.connection import Target
from bimpe_iac.manifest import VarOverrides
from bimpe_iac.manifest.fields import NAME_PATTERN
from bimpe_iac.resources import REGISTRY
from bimpe_iac.ui import UI

F = TypeVar("F", bound=Callable[..., Any])

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


if TYPE_CHECKING:
    _FloatParam = click.ParamType[float, Any]
else:  # older click releases have no type parameters on ParamType
    _FloatParam = click.ParamType


class Duration(_FloatParam):
    """A duration in seconds, written `30s`, `2m`, `1m30s`, `500ms`, `1h` or plain seconds."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            text = str(value).strip().lower()
            try:
                seconds = float(text)
            except ValueError:
                parts = list(_DURATION_PART.finditer(text))
                if not parts or "".join(part[0] for part in parts) != text:
                    self.fail(f"{value!r} is not a duration such as 30s, 2m or 90", param, ctx)
                seconds = sum(float(part[1]) * _UNIT_S[part[2]] for part in parts)
        if not math.isfinite(seconds) or seconds < 0:
            self.fail(f"{value!r} is not a duration such as 30s, 2m or 90", param, ctx)
        return seconds


lock_timeout_option = click.option(
    "--lock-timeout",
    type=Duration(),
    default=0.0,
    metavar="DURATION",
    help="How long to wait for the state lock (30s, 2m or seconds); by default, not at all.",
)

parallelism_option = click.option(
    "--parallelism",
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="How many API calls run at once.",
)


_EMULATOR = "bimpe_iac.emulator"


def _remember_emulator(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # Kept in the context, not passed to each command: open_stack reads it.
    ctx.meta[_EMULATOR] = value


emulator_option = click.option(
    "--emulator",
    is_flag=True,
    expose_value=False,
    callback=_remember_emulator,
    help="Use the local BimpeAI emulator, whatever target the environment names; no key is sent.",
)


def emulator_requested() -> bool:
    """Whether the running command was given --emulator."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx and ctx.meta.get(_EMULATOR))


_VARS = "bimpe_iac.vars"
_VAR_FILES = "bimpe_iac.var_files"
_VAR_NAME = re.compile(NAME_PATTERN)


def _remember_vars(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> None:
    assignments = []
    for given in value:
        name, equals, text = given.partition("=")
        if not equals:  # the text is not repeated: it may be a value meant for a var
            raise click.BadParameter(
                "expected NAME=VALUE: a var's name, '=' and its value", ctx, param
            )
        if not _VAR_NAME.match(name):
            message = f"'{name}' is not a var name: use letters, digits and '_' (NAME=VALUE)"
            raise click.BadParameter(message, ctx, param)
        assignments.append((name, text))
    ctx.meta[_VARS] = tuple(assignments)


def _remember_var_files(
    ctx: click.Context, param: click.Parameter, value: tuple[Path, ...]
) -> None:
    ctx.meta[_VAR_FILES] = value


def var_options(func: F) -> F:
    """`--var NAME=VALUE` and `--var-file FILE`, kept in the context for `requested_vars`."""
    func = click.option(
        "--var-file",
        "var_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        callback=_remember_var_files,
        metavar="FILE",
        help="Values for the stack's vars from a YAML file of name: value; may be repeated.",
    )(func)
    return click.option(
        "--var",
        "var_assignments",
        multiple=True,
        expose_value=False,
        callback=_remember_vars,
        metavar="NAME=VALUE",
        help="A value for a var of the stack, over stack.yaml and --var-file; may be repeated.",
    )(func)


def requested_vars() -> VarOverrides:
    """The vars the running command was given: --var-file values, then --var ones."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return VarOverrides()
    return VarOverrides(ctx.meta.get(_VARS, ()), ctx.meta.get(_VAR_FILES, ()))


def stack_options(func: F) -> F:
    func = var_options(func)
    func = emulator_option(func)
    func = click.option(
        "--debug-http", is_flag=True, help="Log every HTTP request (Authorization redacted)."
    )(func)
    func = parallelism_option(func)
    func = click.option("--env", "env", default=None, help="The environment of stack.yaml.")(func)
    func = click.argument("stack_dir", type=click.Path(path_type=Path), default=Path("."))(func)
    return func


def color_enabled() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def open_stack(stack_dir: Path, env: str | None, parallelism: int, debug_http: bool) -> Workspace:
    if debug_http:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log = logging.getLogger("bimpe_iac.http")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    workspace = open_workspace(
        stack_dir,
        env,
        parallelism=parallelism,
        debug_http=debug_http,
        emulator=emulator_requested(),
        sections=REGISTRY.sections,
        overrides=requested_vars(),
    )
    say_notices(workspace.target)
    return workspace


def say_notices(target: Target) -> None:
    """How the target was chosen (the emulator, or a base URL that overrides another)."""
    if not UI.quiet:
        for notice in target.notices:
            click.echo(notice, err=True)


allow_duplicates_option = click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Create resources even where an object of the same name exists unmanaged.",
)

take_over_numbers_option = click.option(
    "--take-over-numbers",
    is_flag=True,
    help="Relink phone numbers held by agents this stack does not manage.",
)
