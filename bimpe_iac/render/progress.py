"""What apply says while it runs: one line per step when the output is not a terminal, a live
table of the operations when it is, and the closing summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Literal

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bimpe_iac.model.plan import Action

Status = Literal["started", "done", "failed", "skipped"]

_STARTED = {
    "create": "Creating...",
    "update": "Modifying...",
    "delete": "Destroying...",
    "replace": "Replacing...",
    "import": "Importing...",
    "noop": "Checking...",
}
_DONE = {
    "create": "Creation complete",
    "update": "Modifications complete",
    "delete": "Destruction complete",
    "replace": "Replacement complete",
    "import": "Import complete",
    "noop": "Check complete",
}
_SKIP_REASON = "depends on a failed operation"


def format_elapsed(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s"


def format_progress(
    address: str,
    action: Action,
    status: Status,
    elapsed_s: float | None = None,
    detail: str | None = None,
) -> str:
    """One line of apply progress; for `done`, `detail` is the resource's id."""
    if status == "started":
        return f"{address}: {_STARTED[action]}"
    if status == "done":
        after = f" after {format_elapsed(elapsed_s)}" if elapsed_s is not None else ""
        ident = f" [id={detail}]" if detail else ""
        return f"{address}: {_DONE[action]}{after}{ident}"
    if status == "failed":
        return f"{address}: Failed: {detail}" if detail else f"{address}: Failed"
    return f"{address}: Skipped ({detail or _SKIP_REASON})"


def format_apply_summary(
    counts: Mapping[str, int],
    *,
    failed: int = 0,
    skipped: int = 0,
    interrupted: bool = False,
    destroy: bool = False,
) -> str:
    """The last line of apply: `counts` of what was done (`add`, `change`, `destroy`, as in
    `Plan.counts`, with `import` and `move` when there were some), and how many operations
    failed or were skipped (not started, when `interrupted`). A `destroy` run says "Destroy"
    and counts only what it destroyed, as Terraform does."""
    if destroy:
        resources = f"Resources: {counts.get('destroy', 0)} destroyed."
    else:
        optional = "".join(
            f"{counts[key]} {word}, "
            for key, word in (("import", "imported"), ("move", "moved"))
            if counts.get(key)
        )
        resources = (
            f"Resources: {optional}{counts.get('add', 0)} added, "
            f"{counts.get('change', 0)} changed, {counts.get('destroy', 0)} destroyed."
        )
    run = "Destroy" if destroy else "Apply"
    noun = "operation" if failed == 1 else "operations"
    if interrupted:
        return f"{run} interrupted: {failed} {noun} failed, {skipped} not started. {resources}"
    if not failed and not skipped:
        return f"{run} complete! {resources}"
    return f"{run} failed: {failed} {noun} failed, {skipped} skipped. {resources}"


_MARKS: dict[Status, tuple[str, str]] = {
    "started": ("…", "yellow"),
    "done": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("-", "dim"),
}


class LiveProgress:
    """A live table of the operations of an apply, for a terminal only.

    with LiveProgress() as progress:
        progress.update("agents.bot", "started")
        progress.update("agents.bot", "done", "agt_123")
    """

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._console = console or Console()
        self._clock = clock
        self._rows: dict[str, tuple[Status, str | None, float, float | None]] = {}
        self._live = Live(self, console=self._console, refresh_per_second=8)

    def __enter__(self) -> LiveProgress:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.stop()

    def update(self, address: str, status: Status, detail: str | None = None) -> None:
        now = self._clock()
        started = self._rows[address][2] if address in self._rows else now
        self._rows[address] = (status, detail, started, None if status == "started" else now)
        self._live.refresh()

    def __rich__(self) -> Table:
        table = Table.grid(padding=(0, 1))
        now = self._clock()
        for address, (status, detail, started, ended) in self._rows.items():
            mark, style = _MARKS[status]
            elapsed = format_elapsed((ended if ended is not None else now) - started)
            table.add_row(
                Text(mark, style=style),
                Text(address),
                Text(status, style=style),
                Text(elapsed, style="dim"),
                Text(detail or "", style="dim"),
            )
        return table


# --- before the operations: reading the live state, waiting for the lock, phase lines --------


def format_read_progress(
    collections: int, collections_total: int, objects: int, parents: Mapping[str, tuple[int, int]]
) -> str:
    """How far reading the live state has come, e.g. `Reading the live state: 2/3 collections,
    140 objects, 1/4 agents`."""
    parts = [f"{collections}/{collections_total} collections", f"{objects} objects"]
    parts += [f"{done}/{total} {kind}s" for kind, (done, total) in sorted(parents.items())]
    return "Reading the live state: " + ", ".join(parts)


def format_phase(name: str, seconds: float, counts: Mapping[str, int]) -> str:
    """One line of `-v` for a phase that ended, e.g. `reading: 3 collections, 140 objects
    (1.2s)`."""
    what = ", ".join(f"{number} {_singular(noun, number)}" for noun, number in counts.items())
    return f"{name}: {what} ({format_elapsed(seconds)})" if what else f"{name} ({seconds:.1f}s)"


def _singular(noun: str, number: int) -> str:
    """`1 agent`, `1 write`: the counted nouns are plain plurals."""
    return noun[:-1] if number == 1 and noun.endswith("s") and " " not in noun else noun


def format_lock_wait(holder: str, waited_s: float, timeout_s: float) -> str:
    """A wait for the state lock, as it goes."""
    return (
        f"Waiting for the state lock ({format_elapsed(waited_s)} of at most "
        f"{format_elapsed(timeout_s)}): it is held by {holder}"
    )
