"""Ctrl-C while an apply runs its operations: the first one starts no more operations and lets
those under way finish, so that each is stored in the state; a second one stops at once, as
Ctrl-C does elsewhere (the run is cancelled, and the state session still writes what it holds).
Either way the command then exits 130."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import click


@contextmanager
def finish_on_interrupt(stop: asyncio.Event) -> Iterator[None]:
    """Within, the first SIGINT sets `stop`; the next goes to the handler that was there before
    (asyncio's own, which cancels the run). Outside the main thread, nothing changes."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)

    def interrupted() -> None:
        if not stop.is_set():
            click.echo(
                "\nInterrupted: finishing the operations under way (Ctrl-C again to stop now)",
                err=True,
            )
            stop.set()
        elif callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or no signals
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
