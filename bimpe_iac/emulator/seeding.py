"""What a new emulator database starts with: the public catalog, a default team and its key,
and the admin token."""

from __future__ import annotations

import secrets

from bimpe_iac.emulator.catalog import PUBLIC_WORKFLOWS
from bimpe_iac.emulator.store import PUBLIC_TEAM, Store, now_iso

DEFAULT_TEAM_ID = "team_default"
# Numbers the default team owns from the start, so stacks with phone links work offline.
DEMO_NUMBERS = ("+2348012345678", "+2348012345679", "+15550100001", "+15550100002")


def seed_catalog(store: Store) -> None:
    for workflow in PUBLIC_WORKFLOWS:
        if store.get("workflow", workflow["id"], (PUBLIC_TEAM,)) is None:
            store.insert("workflow", PUBLIC_TEAM, dict(workflow))


def default_key(store: Store) -> str:
    """The default team's first key, creating the team on first use."""
    if store.team(DEFAULT_TEAM_ID) is None:
        store.create_team(DEFAULT_TEAM_ID, "Default team", None)
        store.add_key(f"sk_emu_{secrets.token_hex(16)}", DEFAULT_TEAM_ID)
        at = now_iso()
        for index, e164 in enumerate(DEMO_NUMBERS):
            number = {
                "id": f"pn_demo_{index + 1}",
                "agent_id": None,
                "label": None,
                "e164": e164,
                "inbound_enabled": True,
                "created_at": at,
                "updated_at": at,
            }
            store.insert("phone_number", DEFAULT_TEAM_ID, number)
    return store.keys_of(DEFAULT_TEAM_ID)[0]


def admin_token(store: Store, wanted: str | None = None) -> str:
    """The admin token: the one asked for, else the stored one, else a new one (kept)."""
    if wanted:
        store.set_setting("admin_token", wanted)
        return wanted
    token = store.setting("admin_token")
    if token is None:
        token = f"adm_{secrets.token_hex(16)}"
        store.set_setting("admin_token", token)
        store.set_setting("created_at", now_iso())
    return token
