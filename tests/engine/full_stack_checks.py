"""What a finished apply of the `full_stack` example leaves, for the tests that interrupt one
and then apply again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bimpeai import BimpeAI

from bimpe_iac.emulator.server import RunningEmulator


def assert_applied_once(running: RunningEmulator, state: Path) -> None:
    """Every object of the stack exists once in the team, and the state file holds all eight
    resources and no intent left over."""
    with BimpeAI(api_key=running.emulator.api_key, base_url=running.url) as sdk:
        assert Counter(w.name for w in sdk.workflows.list(scope="owned").data) == {
            "Main workflow": 1
        }
        agents = sdk.agents.list().data
        assert Counter(a.name for a in agents) == {"Full bot": 1, "Catalog bot": 1}
        bot = next(a for a in agents if a.name == "Full bot")
        kbs = Counter(kb.name for kb in sdk.agents.knowledge_bases.list(bot.id))
        assert kbs == {"FAQ": 1, "Site": 1}
    document = json.loads(state.read_text())
    assert document["intents"] == {}
    assert len(document["resources"]) == 8
