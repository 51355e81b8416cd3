"""`bimpe-iac state ...`: inspect and edit what the state remembers."""

from __future__ import annotations

import click


@click.group("state")
def state_group() -> None:
    """Inspect and edit the state of a stack."""
