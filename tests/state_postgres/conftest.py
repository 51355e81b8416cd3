"""Fixtures for the PostgreSQL state backend: one real, throwaway PostgreSQL cluster for the
session (`pg_cluster.py`), a fresh schema per test, stores on it, and forked child processes.

Without PostgreSQL server binaries these tests skip, saying so; with BIMPE_REQUIRE_POSTGRES=1
(as `.ci/run` sets) they fail instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from pg_cluster import Cluster, find_bindir, start_cluster
from pg_support import ENVIRONMENT, STACK

from bimpe_iac.state.postgres import PostgresStateStore


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        reason = (
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH"
        )
        if os.environ.get("BIMPE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"BIMPE_REQUIRE_POSTGRES=1, but there are {reason}")
        pytest.skip(reason)
    running = start_cluster(bindir)
    yield running
    running.stop()


@pytest.fixture
def dsn(cluster: Cluster) -> str:
    """The DSN (with a password) of a new, empty schema."""
    return cluster.create_schema(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def store(dsn: str) -> Iterator[PostgresStateStore]:
    with PostgresStateStore(dsn, STACK, ENVIRONMENT) as opened:
        yield opened
