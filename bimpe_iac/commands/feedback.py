"""What a command says before its operations start, so that a slow API or a held lock does not
look like a hang: reading progress and the wait for the lock live on a terminal (stderr), a
line every few seconds of waiting elsewhere, and with -v one line per phase."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self

import click
from rich.console import Console
from rich.live import Live
from rich.text import Text

from bimpe_iac.engine.read import ReadCounts
from bimpe_iac.printable import visible
from bimpe_iac.render.progress import format_lock_wait, format_phase, format_read_progress
from bimpe_iac.ui import UI

NOTICE_EVERY_S = 5.0
"""Off a terminal, how often a wait for the lock says it is still waiting."""


def phase_lines(name: str, seconds: float, counts: Mapping[str, int]) -> None:
    """With -v, one line on stderr for each phase that ends (`engine.run.PhaseDone`)."""
    if UI.verbose:
        click.echo(format_phase(name, seconds, counts), err=True)


class _LiveLine:
    """One line that rewrites itself on a terminal and disappears when done; off a terminal
    (or with -q), nothing."""

    def __init__(self, console: Console | None = None) -> None:
        # stderr itself must be a terminal: FORCE_COLOR in a CI log must not bring live lines.
        terminal = console.is_terminal if console is not None else sys.stderr.isatty()
        self.console = console or Console(stderr=True)
        self.shown = terminal and not UI.quiet
        self._live: Live | None = None

    def show(self, text: str) -> None:
        if not self.shown:
            return
        if self._live is None:
            self._live = Live(
                Text(text), console=self.console, transient=True, refresh_per_second=4
            )
            self._live.start()
        else:
            self._live.update(Text(text))

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class ReadingProgress(_LiveLine):
    """`engine.read.ReadProgress` for a terminal: counts of collections, objects and agents
    read so far, on a live line that goes once reading ends.

    with ReadingProgress() as progress:
        await make_plan(..., progress=progress)
    """

    def __call__(self, counts: ReadCounts) -> None:
        self.show(
            format_read_progress(
                counts.collections, counts.collections_total, counts.objects, counts.parents
            )
        )


class LockWaitNotice(_LiveLine):
    """`state.backend.LockWait` for a command: who holds the lock and how long this run has
    waited, on a live line on a terminal; elsewhere a line when the wait starts and every
    NOTICE_EVERY_S seconds, and one when the lock is taken after a wait.

    with LockWaitNotice(timeout) as notice, store.lock(..., on_wait=notice):
        notice.acquired()
    """

    def __init__(
        self,
        timeout_s: float,
        console: Console | None = None,
        echo: Callable[[str], None] = lambda line: click.echo(line, err=True),
    ) -> None:
        super().__init__(console)
        self._timeout_s = timeout_s
        self._echo = echo
        self._next_line_at = 0.0
        self._waited: float | None = None
        self._started = time.monotonic()

    def __call__(self, holder: str, waited_s: float) -> None:
        self._waited = waited_s
        text = visible(format_lock_wait(holder, waited_s, self._timeout_s))
        if self.shown:
            self.show(text)
        elif not UI.quiet and waited_s >= self._next_line_at:
            self._echo(text)
            self._next_line_at = (waited_s // NOTICE_EVERY_S + 1) * NOTICE_EVERY_S

    def acquired(self) -> None:
        """The lock is this run's: the wait (if any) is over."""
        self.close()
        if self._waited is not None and not UI.quiet:
            waited = time.monotonic() - self._started
            self._echo(f"Took the state lock after waiting {waited:.1f}s")
            self._waited = None
