"""Options shared by the commands that talk to BimpeAI, and small output helpers."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bimpe_iac.engine.workspace import Workspace, open_workspace

F = TypeVar("F", bound=Callable[..., Any])


def stack_options(func: F) -> F:
    func = click.option(
        "--debug-http", is_flag=True, help="Log every HTTP request (Authorization redacted)."
    )(func)
    func = click.option(
        "--parallelism",
        default=16,
        show_default=True,
        type=click.IntRange(1, 256),
        help="How many API calls run at once.",
    )(func)
    func = click.option("--env", "env", default=None, help="The environment of stack.yaml.")(func)
    func = click.argument(
        "stack_dir", type=click.Path(file_okay=False, path_type=Path), default=Path(".")
    )(func)
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
    workspace = open_workspace(stack_dir, env, parallelism=parallelism, debug_http=debug_http)
    if workspace.target.embedded:
        click.echo(
            f"No BIMPE_API_KEY set: using the local BimpeAI emulator"
            f" ({workspace.target.emulator_db}).",
            err=True,
        )
    return workspace
