"""Injected faults, SDK retries, timeouts and the rate limit, each on a private emulator.

Covers: the SDK recovering from seeded injected faults of every kind (500, 503, 429, a
connection dropped before the request is handled, a connection dropped after the request was
committed) with every create succeeding exactly once, no duplicates, and the emulator's fault
counters showing the faults happened; each fault kind surfacing as its SDK error with retries
off; the SDK giving up after max_retries; a dropped answer to a committed create recovered by
resending the same idempotency key; a client timeout against injected latency; and the per-key
rate limit (X-RateLimit-* headers on answers, RateLimitError with retry_after, limit and
remaining populated, other keys unaffected, the SDK waiting out Retry-After).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from bimpeai import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BimpeAI,
    InternalServerError,
    RateLimitError,
)

from bimpe_iac.emulator.gateway import API_PREFIX

if TYPE_CHECKING:
    from conftest import PrivateEmulator

# With this seed, the five creates meet two faults in a row on the fourth: one call is retried
# twice, and for drop_after_commit the second attempt is an idempotent replay that is lost too.
# Retry-After 0 keeps 429s instant; 500, 503 and drops pay the SDK's own backoff (~1 s in all).
CREATES = 5
FAULT_RATE = 0.35
SEED = 20260105


@pytest.mark.parametrize(
    "kind",
    ["error_500", "unavailable_503", "throttled_429", "drop_before", "drop_after_commit"],
)
def test_sdk_recovers_from_injected_faults(
    private_emulator: Callable[..., PrivateEmulator], kind: str
) -> None:
    private = private_emulator(
        fault_rate=FAULT_RATE, fault_kinds={kind: 1.0}, retry_after_s=0, seed=SEED
    )
    client = private.client(max_retries=6)
    created = [
        client.workflows.create(name=f"Flow {n}", system_prompt="Be kind.").id
        for n in range(CREATES)
    ]
    counters = private.admin.counters()
    private.admin.set_faults(fault_rate=0.0)

    assert counters["faults"].get(kind, 0) > 0, counters
    assert set(counters["faults"]) == {kind}
    assert counters["requests"]["POST /workflows"] == CREATES + counters["faults"][kind]
    owned = [w.id for w in client.workflows.list(scope="owned")]
    assert len(set(created)) == CREATES
    assert sorted(owned) == sorted(created)
    assert [w.name for w in client.workflows.list(scope="owned", sort="name")] == [
        f"Flow {n}" for n in range(CREATES)
    ]


@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("error_500", InternalServerError, 500),
        ("unavailable_503", InternalServerError, 503),
        ("throttled_429", RateLimitError, 429),
        ("drop_before", APIConnectionError, None),
    ],
)
def test_each_fault_surfaces_as_its_sdk_error(
    private_emulator: Callable[..., PrivateEmulator],
    kind: str,
    error: type[Exception],
    status: int | None,
) -> None:
    private = private_emulator(fault_rate=1.0, fault_kinds={kind: 1.0}, retry_after_s=3)
    client = private.client(max_retries=0)
    before = int(time.time())
    with pytest.raises(error) as caught:
        client.workflows.create(name="Flow", system_prompt="p")
    if status is not None:
        assert isinstance(caught.value, APIError)
        assert caught.value.status == status
    if isinstance(caught.value, RateLimitError):
        assert caught.value.code == "too_many_requests"
        assert caught.value.retry_after == 3
        assert caught.value.remaining == 0
        assert caught.value.reset_at is not None
        assert caught.value.reset_at >= before + 3
    private.admin.set_faults()
    assert list(client.workflows.list(scope="owned")) == []


def test_sdk_gives_up_after_max_retries(private_emulator: Callable[..., PrivateEmulator]) -> None:
    private = private_emulator(fault_rate=1.0, fault_kinds={"throttled_429": 1.0}, retry_after_s=0)
    client = private.client(max_retries=3)
    with pytest.raises(RateLimitError):
        client.agents.list()
    assert private.admin.counters()["requests"]["GET /agents"] == 4


def test_a_lost_answer_to_a_committed_create_is_recovered_with_its_key(
    private_emulator: Callable[..., PrivateEmulator],
) -> None:
    private = private_emulator(fault_rate=1.0, fault_kinds={"drop_after_commit": 1.0})
    client = private.client(max_retries=0)
    with pytest.raises(APIConnectionError):
        client.workflows.create(idempotency_key="lost-answer", name="Flow", system_prompt="p")
    with pytest.raises(APIConnectionError):  # the replayed answer can be lost as well
        client.workflows.create(idempotency_key="lost-answer", name="Flow", system_prompt="p")
    private.admin.set_faults()
    (stored,) = list(client.workflows.list(scope="owned"))
    recovered = client.workflows.create(
        idempotency_key="lost-answer", name="Flow", system_prompt="p"
    )
    assert recovered.id == stored.id
    assert [w.id for w in client.workflows.list(scope="owned")] == [stored.id]


def test_client_timeout_against_latency(private_emulator: Callable[..., PrivateEmulator]) -> None:
    private = private_emulator(latency_ms=600)
    client = private.client(max_retries=0, timeout=0.1)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        client.agents.list()
    assert time.monotonic() - started < 0.5


def test_rate_limit_headers_on_answers(private_emulator: Callable[..., PrivateEmulator]) -> None:
    private = private_emulator(rate_limit=50)
    with httpx.Client(
        base_url=private.url + API_PREFIX,
        headers={"Authorization": f"Bearer {private.api_key}"},
    ) as http:
        response = http.get("/agents")
    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "50"
    assert 0 <= int(response.headers["x-ratelimit-remaining"]) < 50
    assert int(response.headers["x-ratelimit-reset"]) >= int(time.time())


def test_exceeding_the_rate_limit(private_emulator: Callable[..., PrivateEmulator]) -> None:
    private = private_emulator(rate_limit=3)
    client = private.client(max_retries=0)
    caught: RateLimitError | None = None
    for _ in range(8):  # 8 quick requests cannot all fit in two one-second windows of 3
        try:
            client.agents.list()
        except RateLimitError as error:
            caught = error
            break
    assert caught is not None, "the rate limit never applied"
    assert caught.status == 429
    assert caught.code == "rate_limited"
    assert caught.limit == 3
    assert caught.remaining == 0
    assert caught.retry_after is not None and caught.retry_after >= 1
    assert caught.reset_at is not None and caught.reset_at >= int(time.time())

    other = private.admin.new_team("another key")
    with BimpeAI(api_key=other.api_key, base_url=private.url, max_retries=0) as neighbour:
        assert list(neighbour.agents.list()) == []


def test_sdk_waits_out_the_rate_limit(private_emulator: Callable[..., PrivateEmulator]) -> None:
    private = private_emulator(rate_limit=2)
    client = private.client(max_retries=2)
    created = 0
    while private.admin.counters()["requests"].get("POST /workflows", 0) == created:
        assert created <= 5, "the rate limit never applied"
        client.workflows.create(name=f"Flow {created}", system_prompt="p")
        created += 1
    assert private.admin.counters()["requests"]["POST /workflows"] > created
    assert len(list(client.workflows.list(scope="owned"))) == created


def test_an_aimed_fault_hits_only_the_next_requests_of_its_route(
    private_emulator: Callable[..., PrivateEmulator],
) -> None:
    private = private_emulator()
    private.admin.set_faults(
        aimed=[{"route": "POST /workflows", "kind": "drop_after_commit", "count": 2}]
    )
    client = private.client(max_retries=0)
    assert list(client.workflows.list(scope="owned")) == []  # another route: not hit
    for n in range(2):
        with pytest.raises(APIConnectionError):
            client.workflows.create(name=f"Lost {n}", system_prompt="p")
    kept = client.workflows.create(name="Answered", system_prompt="p")
    names = sorted(w.name for w in client.workflows.list(scope="owned"))
    assert names == ["Answered", "Lost 0", "Lost 1"]  # both lost answers were committed
    assert kept.name == "Answered"
    assert private.admin.counters()["faults"] == {"drop_after_commit": 2}


def test_an_aimed_fault_matches_any_id_in_its_route(
    private_emulator: Callable[..., PrivateEmulator],
) -> None:
    private = private_emulator()
    client = private.client(max_retries=0)
    workflow = client.workflows.create(name="Flow", system_prompt="p")
    agent = client.agents.create(name="Bot", description="d", workflow_id=workflow.id)
    route = "POST /agents/{agent_id}/knowledge_bases"
    private.admin.set_faults(aimed=[{"route": route, "kind": "drop_before", "count": 1}])
    body: Any = {"type": "text", "name": "FAQ", "content": "c"}
    with pytest.raises(APIConnectionError):
        client.agents.knowledge_bases.create(agent.id, body)
    assert list(client.agents.knowledge_bases.list(agent.id)) == []  # dropped before
    client.agents.knowledge_bases.create(agent.id, body)
    assert [kb.name for kb in client.agents.knowledge_bases.list(agent.id)] == ["FAQ"]
