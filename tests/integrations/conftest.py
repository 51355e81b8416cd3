"""Fixtures for integrations as code: `cli`, the CLI run against the session's emulator as a
fresh team (helpers in integration_cli.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bimpeai import BimpeAI
from emulator_admin import Admin, Team
from integration_cli import Cli

from bimpe_iac.emulator.server import RunningEmulator


@pytest.fixture
def cli(emulator: RunningEmulator, team: Team, admin: Admin) -> Iterator[Cli]:
    with BimpeAI(api_key=team.api_key, base_url=emulator.url) as sdk:
        yield Cli(emulator, team, admin, sdk)
