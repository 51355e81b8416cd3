"""Copies of the example stacks for tests, without what a run left in them.

The README's main command applies examples/stacks/support in place, so its `.bimpe/` (state,
the emulator's database) may be there when the tests run; a copy that carried it would start
from that run's state rather than from nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples" / "stacks"
LEFT_BY_RUNS = shutil.ignore_patterns(".bimpe")


def copy_example(name: str, destination: Path, *, examples: Path = EXAMPLES) -> Path:
    """examples/stacks/NAME copied to `destination`, without any `.bimpe/`."""
    shutil.copytree(examples / name, destination, ignore=LEFT_BY_RUNS)
    return destination
