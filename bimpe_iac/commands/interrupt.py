"""Ctrl-C and SIGTERM (what CI sends to cancel a job) while a command runs.

During an apply's operations, the first of either starts no more operations and lets those
under way finish, so that each is stored in the state; a second one (of either) stops at once,
as Ctrl-C does elsewhere (the run is cancelled, and the state session still writes what it
holds). Before that (waiting for the lock, reading, planning, at the prompt) SIGTERM stops the
command as Ctrl-C does. Either way the lock is released on the way out; the command exits 130
after Ctrl-C and 143 (128 + SIGTERM) once SIGTERM was received.

SIGTERM goes to the innermost of a stack of actions, each taking one signal: the apply's
"finish what is under way", then the run's "cancel now"; with none left, it raises Terminated
where the command is (a wait for the lock, a prompt, a file read).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

import click

T = TypeVar("T")

TERMINATED_EXIT = 143

Action = Callable[[], bool]
"""Takes a SIGTERM (True), or declines it to the next action (False)."""

_actions: list[Action] = []
_received = {"sigterm": False}


class Terminated(KeyboardInterrupt):
    """SIGTERM stopped the command. A KeyboardInterrupt, so that everything that cleans up
    after Ctrl-C (the lock, the state session, the API client) cleans up after it too."""


def terminated() -> bool:
    """Whether SIGTERM was received while `stop_on_sigterm` was in force."""
    return _received["sigterm"]


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    _received["sigterm"] = True
    while _actions:
        if _actions.pop()():
            return
    raise Terminated


@contextmanager
def _pushed(action: Action) -> Iterator[None]:
    _actions.append(action)
    try:
        yield
    finally:
        if action in _actions:
            _actions.remove(action)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Within, SIGTERM stops the command as Ctrl-C does (see the module's docstring)."""
    if not _main_thread():
        yield
        return
    _received["sigterm"] = False
    _actions.clear()
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _actions.clear()


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, where SIGTERM cancels `main` as a first Ctrl-C does (its cleanup
    runs: the client closes, the state session writes) and then raises Terminated."""

    async def cancellable() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None

        def cancel() -> bool:
            if task.done():
                return False
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)  # wake a select() with a long timeout
            return True

        with _pushed(cancel):
            try:
                return await main
            except asyncio.CancelledError:
                if terminated():
                    raise Terminated from None
                raise

    try:
        return asyncio.run(cancellable())
    except KeyboardInterrupt:
        if terminated():  # Ctrl-C after SIGTERM: still a terminated run
            raise Terminated from None
        raise


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within (a blocking read of the terminal inside the event loop, which the loop's own
    signal handling would not interrupt), Ctrl-C raises KeyboardInterrupt and SIGTERM raises
    Terminated at once."""

    def stop() -> bool:
        raise Terminated

    if terminated():  # a SIGTERM that came while the run could not stop (plain code)
        raise Terminated
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with _pushed(stop):
            yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def finish_on_interrupt(stop: asyncio.Event) -> Iterator[None]:
    """Within, the first SIGINT or SIGTERM sets `stop`; the next goes to the handler that was
    there before (for SIGINT asyncio's own, which cancels the run; for SIGTERM `run`'s).
    Outside the main thread, nothing changes."""
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGINT)

    def begin(name: str, again: str) -> None:
        if not stop.is_set():
            click.echo(
                f"\n{name}: finishing the operations under way ({again} to stop now)",
                err=True,
            )
            stop.set()

    def interrupted() -> None:
        if not stop.is_set():
            begin("Interrupted", "Ctrl-C again")
        elif callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def finish() -> bool:
        if stop.is_set():
            return False  # a second signal: stop now
        loop.call_soon_threadsafe(begin, "Terminated", "SIGTERM again or Ctrl-C")
        return True

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (RuntimeError, ValueError, NotImplementedError):  # not the main thread, or no signals
        yield
        return
    try:
        with _pushed(finish):
            yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
