"""Plans built by hand for the renderer tests: a support stack with a long system prompt,
an agent with knowledge bases, and a secret that must never show."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bimpe_iac.model.plan import Change, FieldChange, Plan, Ref

SECRET = "sk_live_9f8e7d6c5b4a"


def prompt(count: int = 60, changes: dict[int, str] | None = None) -> str:
    """A system prompt of `count` distinct numbered lines; `changes` replaces lines by number."""
    lines = [
        f"Rule {number:02d}: greet the caller, confirm the account and answer in a calm tone."
        for number in range(1, count + 1)
    ]
    for number, text in (changes or {}).items():
        lines[number - 1] = text
    return "\n".join(lines)


def edited_prompt() -> tuple[str, str]:
    """The 60-line prompt, and the same with one word changed in line 30."""
    before = prompt()
    after = prompt(
        changes={30: "Rule 30: greet the caller, confirm the account and answer in a warm tone."}
    )
    return before, after


FAQ_BEFORE = [
    {"question": "What are your hours?", "answer": "Monday to Friday, 9am to 5pm."},
    {"question": "Where are you?", "answer": "12 Marina Road, Lagos."},
    {"question": "Can I get a refund?", "answer": "Within 30 days, with the receipt."},
]
FAQ_AFTER = [
    {"question": "What are your hours?", "answer": "Monday to Saturday, 9am to 5pm."},
    {"question": "Where are you?", "answer": "12 Marina Road, Lagos."},
    {"question": "Can I get a refund?", "answer": "Within 30 days, with the receipt."},
    {"question": "Do you ship abroad?", "answer": "Yes, to 14 countries."},
]


def support_plan(secret_in_prompt: bool = False) -> Plan:
    """One of each action, a no-op, drift and a warning."""
    before, after = edited_prompt()
    if secret_in_prompt:
        before = before.replace("Rule 31:", f"Rule 31: use key {SECRET};")
        after = after.replace("Rule 31:", f"Rule 31: use key {SECRET};")
    workflow_before = {"name": "Triage", "system_prompt": before, "faq": FAQ_BEFORE}
    workflow_after = {"name": "Triage desk", "system_prompt": after, "faq": FAQ_AFTER}
    return Plan(
        stack="support",
        environment="prod",
        lineage="7d7c4b1e-1111-4a2b-9c3d-000000000001",
        serial=4,
        created_at="2025-05-01T10:00:00Z",
        changes=(
            Change(
                address="workflows.triage",
                kind="workflow",
                action="update",
                id="wf_123",
                parent=None,
                before=workflow_before,
                after=workflow_after,
                fields=(
                    FieldChange("name", "Triage", "Triage desk"),
                    FieldChange("system_prompt", before, after),
                    FieldChange("faq", FAQ_BEFORE, FAQ_AFTER),
                ),
                drift=(FieldChange("name", "Triage desk", "Triage"),),
                fingerprint="fp-wf-123",
                updated_at="2025-04-30T08:00:00Z",
            ),
            Change(
                address="agents.bot",
                kind="agent",
                action="create",
                id=None,
                parent=None,
                before=None,
                after={
                    "name": "Support bot",
                    "workflow_id": Ref("workflows.triage"),
                    "persona": prompt(25),
                    "languages": ["en", "yo"],
                },
                reason="deleted outside bimpe-iac",
                depends_on=("workflows.triage",),
            ),
            Change(
                address="agents.bot.knowledge_bases.faq",
                kind="knowledge_base",
                action="replace",
                id="kb_9",
                parent="agents.bot",
                before={"type": "text", "content": "Old facts."},
                after={"type": "url", "url": "https://example.com/faq"},
                fields=(
                    FieldChange("type", "text", "url"),
                    FieldChange("content", "Old facts.", None),
                    FieldChange("url", None, "https://example.com/faq"),
                ),
                reason="type changed",
                depends_on=("agents.bot",),
                fingerprint="fp-kb-9",
            ),
            Change(
                address="agents.legacy",
                kind="agent",
                action="delete",
                id="agt_old",
                parent=None,
                before={"name": "Legacy bot", "persona": prompt(40)},
                after=None,
                fingerprint="fp-agt-old",
            ),
            Change(
                address="phone_numbers.+15550001111",
                kind="phone_link",
                action="noop",
                id="pn_1",
                parent=None,
                before={"agent_id": "agt_1"},
                after={"agent_id": "agt_1"},
            ),
        ),
        warnings=("agents.legacy has prevent_destroy unset",),
    )


@pytest.fixture
def plan() -> Plan:
    return support_plan()


@pytest.fixture
def plan_with_secret() -> Plan:
    return support_plan(secret_in_prompt=True)


@pytest.fixture
def mask_secret() -> Callable[[str], str]:
    return lambda text: text.replace(SECRET, "(sensitive)")


@pytest.fixture
def secret() -> str:
    return SECRET


@pytest.fixture
def make_prompt() -> Callable[..., str]:
    return prompt


@pytest.fixture
def edited() -> tuple[str, str]:
    return edited_prompt()


@pytest.fixture
def make_plan() -> Callable[..., Plan]:
    """A plan of the given changes in the support stack."""

    def make(*changes: Change, **options: object) -> Plan:
        fields: dict[str, object] = {
            "stack": "support",
            "environment": "prod",
            "lineage": "lineage-1",
            "serial": 1,
            **options,
        }
        return Plan(changes=changes, **fields)  # type: ignore[arg-type]

    return make


@pytest.fixture
def update() -> Callable[..., Change]:
    """An update of `address` changing the given fields (name -> (before, after))."""

    def make(address: str = "workflows.triage", **fields: tuple[object, object]) -> Change:
        return Change(
            address=address,
            kind="workflow",
            action="update",
            id="wf_1",
            parent=None,
            before={name: pair[0] for name, pair in fields.items()},
            after={name: pair[1] for name, pair in fields.items()},
            fields=tuple(FieldChange(name, *pair) for name, pair in fields.items()),
        )

    return make
