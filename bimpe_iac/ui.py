"""How much the CLI says and whether it may ask: set once from the global flags."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass


@dataclass
class Ui:
    quiet: bool = False
    verbose: bool = False
    no_input: bool = False

    def can_prompt(self) -> bool:
        return not self.no_input and sys.stdin.isatty()


UI = Ui()


def configure(*, quiet: bool, verbose: bool, no_input: bool) -> None:
    UI.quiet, UI.verbose, UI.no_input = quiet, verbose, no_input
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log = logging.getLogger("bimpe_iac")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
