"""Apply progress: the line for each step of an operation, the closing summary (complete or
failed), and the live table shown on a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bimpe_iac.model.plan import Action
from bimpe_iac.render.progress import (
    LiveProgress,
    Status,
    format_apply_summary,
    format_elapsed,
    format_progress,
)


@pytest.mark.parametrize(
    ("action", "status", "elapsed", "detail", "line"),
    [
        ("create", "started", None, None, "agents.bot: Creating..."),
        ("update", "started", None, None, "agents.bot: Modifying..."),
        ("delete", "started", None, None, "agents.bot: Destroying..."),
        ("replace", "started", None, None, "agents.bot: Replacing..."),
        (
            "create",
            "done",
            0.4,
            "agt_x",
            "agents.bot: Creation complete after 0.4s [id=agt_x]",
        ),
        (
            "update",
            "done",
            12.2,
            "agt_x",
            "agents.bot: Modifications complete after 12s [id=agt_x]",
        ),
        ("delete", "done", 75, None, "agents.bot: Destruction complete after 1m15s"),
        ("replace", "done", None, None, "agents.bot: Replacement complete"),
        (
            "create",
            "failed",
            1.0,
            "409 conflict: name taken",
            "agents.bot: Failed: 409 conflict: name taken",
        ),
        ("create", "failed", None, None, "agents.bot: Failed"),
        ("update", "skipped", None, None, "agents.bot: Skipped (depends on a failed operation)"),
        ("update", "skipped", None, "interrupted", "agents.bot: Skipped (interrupted)"),
    ],
)
def test_progress_lines(
    action: Action, status: Status, elapsed: float | None, detail: str | None, line: str
) -> None:
    assert format_progress("agents.bot", action, status, elapsed, detail) == line


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (9.94, "9.9s"), (42.4, "42s"), (60, "1m0s"), (3599, "59m59s")],
)
def test_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_apply_complete() -> None:
    summary = format_apply_summary({"add": 2, "change": 1, "destroy": 0})
    assert summary == "Apply complete! Resources: 2 added, 1 changed, 0 destroyed."


def test_apply_failed() -> None:
    summary = format_apply_summary({"add": 1, "change": 0, "destroy": 0}, failed=1, skipped=2)
    assert summary == (
        "Apply failed: 1 operation failed, 2 skipped. Resources: 1 added, 0 changed, 0 destroyed."
    )


def test_apply_failed_with_only_skips() -> None:
    summary = format_apply_summary({"add": 0, "change": 0, "destroy": 0}, skipped=1)
    assert summary.startswith("Apply failed: 0 operations failed, 1 skipped.")


def test_live_progress_shows_each_operation() -> None:
    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=100, color_system=None)
    now = [0.0]
    with LiveProgress(console, clock=lambda: now[0]) as progress:
        progress.update("agents.bot", "started")
        now[0] = 0.5
        progress.update("agents.bot", "done", "agt_1")
        progress.update("workflows.triage", "failed", "boom")
        progress.update("agents.other", "skipped")
        now[0] = 3.0
    text = output.getvalue()
    for expected in (
        "agents.bot",
        "done",
        "agt_1",
        "workflows.triage",
        "failed",
        "boom",
        "skipped",
    ):
        assert expected in text
    assert "0.5s" in text
