"""Sensitive values: masked before any diff in text and Markdown, kept out of the plan
document as digests, and given back from the manifests' values when a saved plan is read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from bimpe_iac.errors import PlanError
from bimpe_iac.model.plan import Change, FieldChange, Plan
from bimpe_iac.render.json import plan_from_json, plan_to_json, render_plan_json
from bimpe_iac.render.markdown import render_plan_markdown
from bimpe_iac.render.markers import sensitive_lookup
from bimpe_iac.render.text import render_plan_text
from bimpe_iac.state.digests import Digests

digest = Digests("sk_test_key", "lineage").text


def test_a_secret_in_a_changed_prompt_never_shows(
    plan_with_secret: Plan, mask_secret: Callable[[str], str], secret: str
) -> None:
    for color in (False, True):
        text = render_plan_text(plan_with_secret, color=color, mask=mask_secret)
        assert secret not in text
        assert "Rule 31: use key (sensitive);" in text
    for part in render_plan_markdown(plan_with_secret, mask=mask_secret):
        assert secret not in part


def test_a_secret_inside_a_changed_line_is_masked_before_the_word_diff(
    make_plan: Callable[..., Plan],
    update: Callable[..., Change],
    mask_secret: Callable[[str], str],
    secret: str,
) -> None:
    before = f"Call the API with key {secret} and wait.\n" + "filler\n" * 5
    after = f"Call the API with key {secret}x and retry.\n" + "filler\n" * 5
    plan = make_plan(update(system_prompt=(before, after)))
    text = render_plan_text(plan, color=False, mask=mask_secret)
    assert secret not in text
    assert secret[:12] not in text
    assert "- Call the API with key (sensitive) and [-wait-]." in text
    assert "+ Call the API with key (sensitive){+x+} and {+retry+}." in text


def test_a_changed_secret_shows_that_it_changed_but_not_how(
    make_plan: Callable[..., Plan], update: Callable[..., Change]
) -> None:
    plan = make_plan(update(api_key=("old-secret-value-1", "new-secret-value-2")))
    hidden = {"old-secret-value-1", "new-secret-value-2"}

    def mask(text: str) -> str:
        for value in hidden:
            text = text.replace(value, "(sensitive)")
        return text

    text = render_plan_text(plan, color=False, mask=mask)
    assert "~ api_key: (changed; the difference is sensitive)" in text
    assert "secret-value" not in text


def test_the_document_holds_digests_not_secrets(plan_with_secret: Plan, secret: str) -> None:
    text = render_plan_json(plan_with_secret, sensitive_values=frozenset({secret}), digest=digest)
    assert secret not in text
    document = json.loads(text)
    prompt = plan_with_secret.changes[0].after["system_prompt"]  # type: ignore[index]
    assert document["changes"][0]["after"]["system_prompt"] == {"$sensitive": digest(prompt)}
    # Keyed: no plain digest of the string, and another API key gives another digest.
    assert hashlib.sha256(prompt.encode()).hexdigest() not in text
    assert Digests("sk_other_key", "lineage").text(prompt) != digest(prompt)


def test_a_document_for_reading_masks_every_string(plan_with_secret: Plan, secret: str) -> None:
    def mask(text: str) -> str:
        return text.replace(secret, "(sensitive)").replace("Legacy", "(sensitive)")

    text = render_plan_json(
        plan_with_secret, sensitive_values=frozenset({secret}), mask=mask, digest=digest
    )
    assert secret not in text
    assert '"name": "(sensitive) bot"' in text
    after = json.loads(text)["changes"][0]["after"]
    assert set(after["system_prompt"]) == {"$sensitive"}


def test_a_saved_plan_reads_back_with_secrets_from_the_manifests(
    plan_with_secret: Plan, secret: str
) -> None:
    sensitive = frozenset({secret})
    document = plan_to_json(plan_with_secret, sensitive_values=sensitive, digest=digest)
    # The apply side looks strings up in the values it has: desired values and a fresh read.
    sources = [change.after for change in plan_with_secret.changes] + [
        change.before for change in plan_with_secret.changes
    ]
    resolve = sensitive_lookup(sources, sensitive, digest)
    assert plan_from_json(document, resolve=resolve, digest=digest) == plan_with_secret


def test_a_saved_plan_whose_secret_is_gone_is_refused(plan_with_secret: Plan, secret: str) -> None:
    document = plan_to_json(plan_with_secret, sensitive_values=frozenset({secret}), digest=digest)
    with pytest.raises(PlanError, match=r"cannot be applied: changes\[0\]\.before\.system_prompt"):
        plan_from_json(document)
    with pytest.raises(PlanError, match="run plan again"):
        plan_from_json(document, resolve=lambda _digest: None, digest=digest)


def test_a_resolver_that_answers_the_wrong_string_is_refused(
    plan_with_secret: Plan, secret: str
) -> None:
    document = plan_to_json(plan_with_secret, sensitive_values=frozenset({secret}), digest=digest)
    with pytest.raises(PlanError, match="sensitive value"):
        plan_from_json(document, resolve=lambda _digest: "something else", digest=digest)


def test_reasons_and_warnings_are_masked_in_the_document(
    make_plan: Callable[..., Plan], secret: str
) -> None:
    change = Change(
        "agents.a",
        "agent",
        "update",
        "agt_1",
        None,
        {"name": "a"},
        {"name": "b"},
        fields=(FieldChange("name", "a", "b"),),
        reason=f"token {secret} rotated",
    )
    plan = make_plan(change, warnings=(f"var token = {secret}",))
    text = render_plan_json(plan, sensitive_values=frozenset({secret}), digest=digest)
    assert secret not in text
    assert "token (sensitive) rotated" in text


def test_a_key_holding_a_secret_cannot_be_saved(
    make_plan: Callable[..., Plan], update: Callable[..., Change], secret: str
) -> None:
    plan = make_plan(update(headers=({}, {secret: "x"})))
    with pytest.raises(PlanError, match="a key holds a sensitive value"):
        plan_to_json(plan, sensitive_values=frozenset({secret}), digest=digest)
    assert secret not in render_plan_text(
        plan, color=False, mask=lambda text: text.replace(secret, "(sensitive)")
    )
