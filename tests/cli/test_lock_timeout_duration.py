"""`--lock-timeout DURATION`: `30s`, `2m`, `1m30s`, `500ms`, `1h` or plain seconds; anything else
is a usage error naming the value."""

from __future__ import annotations

import click
import pytest

from bimpe_iac.commands.options import Duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("90", 90.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1h", 3600.0),
        (" 10S ", 10.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert Duration().convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["", "abc", "-5", "5 m", "m", "1x", "inf", "nan", "10s5"])
def test_not_durations(text: str) -> None:
    with pytest.raises(click.BadParameter, match="is not a duration such as 30s, 2m or 90"):
        Duration().convert(text, None, None)
