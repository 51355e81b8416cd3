"""The emulator's admin API (`/_emulator`) as tests use it: teams and keys, phone numbers,
faults and request counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bimpe_iac.emulator.faults import FaultSettings
from bimpe_iac.emulator.server import RunningEmulator


@dataclass(frozen=True)
class Team:
    id: str
    api_key: str


class Admin:
    """The emulator's admin API, as a test uses it."""

    def __init__(self, running: RunningEmulator) -> None:
        self.url = running.url
        self.http = httpx.Client(
            base_url=running.url,
            headers={"Authorization": f"Bearer {running.emulator.admin_token}"},
            timeout=30,
        )

    def call(self, method: str, path: str, json: Any = None) -> Any:
        response = self.http.request(method, f"/_emulator{path}", json=json)
        response.raise_for_status()
        return response.json()["data"]

    def new_team(self, name: str = "test team") -> Team:
        data = self.call("POST", "/teams", {"name": name})
        return Team(data["id"], data["api_key"])

    def assign_number(self, team: Team, e164: str, label: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/teams/{team.id}/phone-numbers", {"e164": e164, "label": label}
        )
        return result

    def release_number(self, e164: str) -> None:
        """Take a number from whichever team holds it (a demo number from the default team)."""
        self.call("DELETE", f"/phone-numbers/{e164}")

    def set_faults(self, **settings: Any) -> None:
        self.call("PUT", "/faults", FaultSettings(**settings).model_dump())

    def counters(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/counters")
        return result

    def reset_counters(self) -> None:
        self.call("DELETE", "/counters")
