"""The state commands and the choice of backend, run through the CLI against a real server.

Covers: `BIMPE_STATE_DSN` moves a stack without `state:` to PostgreSQL, while stack.yaml's
`state:` wins over it; `backend: postgres` with `dsn_env` reads the DSN from that variable and
says which variable is missing; a DSN or a misplaced field in stack.yaml is reported;
`state migrate` moves a state local -> postgres -> local without losing anything (documents
equal, serial and lineage kept, versions copied), refuses a target that holds another state,
and never prints the password; `state history` and `state pull [--serial N]` on both backends;
`state lock status` and `state force-unlock ID`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pg_cluster import Cluster
from pg_support import make_state, run_cli, write_stack

from bimpe_iac.commands.workspace import Workspace, open_workspace
from bimpe_iac.errors import ConfigError, LockError
from bimpe_iac.manifest import InvalidStackError
from bimpe_iac.resources import REGISTRY
from bimpe_iac.state.codec import decode_state
from bimpe_iac.state.local import LocalStateStore
from bimpe_iac.state.model import StateDocument
from bimpe_iac.state.postgres import PostgresStateStore

STACK_YAML = "name: support\nenvironments: {prod: {}}\n"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    return write_stack(tmp_path / "support", STACK_YAML)


def workspace_of(stack: Path) -> Workspace:
    return open_workspace(stack, None, sections=REGISTRY.sections)


def local_path(stack_dir: Path) -> Path:
    return stack_dir / ".bimpe" / "state" / "support" / "prod.json"


def pulled(*args: str | Path, env: dict[str, str | None]) -> StateDocument:
    outcome = run_cli("state", "pull", *args, env=env)
    assert outcome.exit_code == 0, outcome.stderr
    return decode_state(outcome.output.encode())


def test_bimpe_state_dsn_chooses_postgres_unless_stack_yaml_says_otherwise(
    tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    implicit = write_stack(tmp_path / "implicit", STACK_YAML)
    declared = write_stack(tmp_path / "declared", STACK_YAML + "state: {backend: local}\n")
    monkeypatch.setenv("BIMPE_STATE_DSN", dsn)

    assert isinstance(workspace_of(implicit).store, PostgresStateStore)
    assert isinstance(workspace_of(declared).store, LocalStateStore)
    monkeypatch.delenv("BIMPE_STATE_DSN")
    assert isinstance(workspace_of(implicit).store, LocalStateStore)


def test_backend_postgres_reads_the_dsn_from_dsn_env(
    tmp_path: Path, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = write_stack(
        tmp_path / "team", STACK_YAML + "state: {backend: postgres, dsn_env: TEAM_STATE_DSN}\n"
    )
    monkeypatch.delenv("BIMPE_STATE_DSN", raising=False)
    monkeypatch.delenv("TEAM_STATE_DSN", raising=False)

    with pytest.raises(ConfigError, match="the state backend is postgres, but TEAM_STATE_DSN"):
        workspace_of(stack).store  # noqa: B018
    monkeypatch.setenv("TEAM_STATE_DSN", dsn)
    with workspace_of(stack).store as store:
        assert isinstance(store, PostgresStateStore)
        assert store.read("support", "prod").serial == 0


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("{backend: postgres, dsn: 'postgresql://u:pw@db/x'}", "never write the DSN"),
        ("{backend: postgres, path: x.json}", "path is for the local backend"),
        ("{dsn_env: X}", "dsn_env is for the postgres backend"),
        ("{backend: s3}", "state.backend: 's3' is not one of local, postgres"),
    ],
)
def test_state_settings_that_do_not_fit_are_reported(
    tmp_path: Path, state: str, message: str
) -> None:
    stack = write_stack(tmp_path / "bad", STACK_YAML + f"state: {state}\n")

    with pytest.raises(InvalidStackError) as caught:
        workspace_of(stack)

    assert message in str(caught.value)
    assert "pw@" not in str(caught.value)


def test_migrate_local_to_postgres_and_back_loses_nothing(
    stack_dir: Path, dsn: str, cluster: Cluster
) -> None:
    local = LocalStateStore(local_path(stack_dir))
    doc = make_state(serial=1)
    local.write(doc)
    first = doc.model_copy(deep=True)
    doc.serial = 2
    doc.resources.pop("agents.bot_2")
    local.write(doc)
    before = local.read("support", "prod")
    env: dict[str, str | None] = {"BIMPE_STATE_DSN": dsn}

    moved = run_cli("state", "migrate", stack_dir, "--to", "postgres", env=env)

    assert moved.exit_code == 0, moved.stderr
    assert cluster.password not in moved.output + moved.stderr
    assert moved.output.startswith(
        f"Migrated 2 versions from state file {local.path} to the state of support (prod) in "
        f"postgresql://bimpe@127.0.0.1:{cluster.port}/"
    )
    assert "serial 2, lineage " + before.lineage in moved.output
    assert pulled(stack_dir, env=env) == before
    assert pulled(stack_dir, "--serial", "1", env=env) == first
    history = run_cli("state", "history", stack_dir, env=env)
    assert history.exit_code == 0
    rows = history.output.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["1", "2"]
    assert [row.split()[3] for row in rows] == ["3", "2"]

    with PostgresStateStore(dsn, "support", "prod") as shared:  # a run elsewhere moves it on
        later = shared.read("support", "prod")
        later.serial = 3
        shared.write(later)
        after = shared.read("support", "prod")

    back = run_cli("state", "migrate", stack_dir, "--to", "local", env=env)

    assert back.exit_code == 0, back.stderr
    assert "Migrated 1 version from the state of support (prod)" in back.output
    assert "Runs without BIMPE_STATE_DSN set use it now." in back.output
    assert local.read("support", "prod") == after
    assert [v.serial for v in local.history("support", "prod")] == [2, 3]
    again = run_cli("state", "migrate", stack_dir, "--to", "local", env={"BIMPE_STATE_DSN": None})
    assert again.exit_code == 1
    assert "the state is already there" in again.stderr


def test_migrate_refuses_a_target_holding_another_state(stack_dir: Path, dsn: str) -> None:
    LocalStateStore(local_path(stack_dir)).write(make_state(serial=4))
    with PostgresStateStore(dsn, "support", "prod") as shared:
        shared.write(make_state(serial=9))

    refused = run_cli(
        "state", "migrate", stack_dir, "--to", "postgres", env={"BIMPE_STATE_DSN": dsn}
    )

    assert refused.exit_code == 1
    assert "already holds another state (lineage" in refused.stderr
    assert "serial 9); nothing was migrated" in refused.stderr


def test_migrate_from_a_declared_postgres_backend_to_local(tmp_path: Path, dsn: str) -> None:
    stack = write_stack(
        tmp_path / "team", STACK_YAML + "state: {backend: postgres, dsn_env: TEAM_DSN}\n"
    )
    with PostgresStateStore(dsn, "support", "prod") as shared:
        doc = make_state(serial=1)
        for serial in range(1, 6):
            doc.serial = serial
            shared.write(doc)
        current = shared.read("support", "prod")
    env: dict[str, str | None] = {"TEAM_DSN": dsn, "BIMPE_STATE_DSN": None}

    moved = run_cli("state", "migrate", stack, "--to", "local", env=env)

    assert moved.exit_code == 0, moved.stderr
    assert "Migrated 2 versions" in moved.output
    assert "To use it, set `state: {backend: local}` in stack.yaml." in moved.output
    local = LocalStateStore(local_path(stack))
    assert local.read("support", "prod") == current
    assert [v.serial for v in local.history("support", "prod")] == [4, 5]


def test_history_and_pull_of_the_local_backend(stack_dir: Path) -> None:
    env: dict[str, str | None] = {"BIMPE_STATE_DSN": None}
    assert run_cli("state", "history", stack_dir, env=env).output.startswith("No state yet")
    missing = run_cli("state", "pull", stack_dir, env=env)
    assert missing.exit_code == 1 and "no state yet" in missing.stderr
    local = LocalStateStore(local_path(stack_dir))
    doc = make_state(serial=1)
    for serial in (1, 2, 3):
        doc.serial = serial
        local.write(doc)

    history = run_cli("state", "history", stack_dir, env=env)
    assert [row.split()[0] for row in history.output.splitlines()[2:]] == ["2", "3"]
    assert pulled(stack_dir, "--serial", "2", env=env).serial == 2
    gone = run_cli("state", "pull", stack_dir, "--serial", "1", env=env)
    assert gone.exit_code == 1
    assert "keeps only the current version and the one before it (serials: 3 and 2)" in (
        gone.stderr
    )


def test_lock_status_and_force_unlock(stack_dir: Path, dsn: str) -> None:
    env: dict[str, str | None] = {"BIMPE_STATE_DSN": dsn}
    assert run_cli("state", "lock", "status", stack_dir, env=env).output.startswith(
        "Not locked: the state of support (prod) in postgresql://bimpe@"
    )
    with (
        PostgresStateStore(dsn, "support", "prod") as shared,
        pytest.raises(LockError, match="was lost"),
        shared.lock("bimpe-iac apply") as info,
    ):
        status = run_cli("state", "lock", "status", stack_dir, env=env)
        assert status.exit_code == 0
        assert status.output.splitlines()[0].startswith("Locked: the state of support (prod)")
        assert f"lock id:    {info.id}" in status.output
        assert "running 'bimpe-iac apply'" in status.output
        assert re.search(r"expires:    \S+Z \(in (29|30)s\)", status.output)

        wrong = run_cli("state", "force-unlock", "not-it", stack_dir, env=env)
        assert wrong.exit_code == 1
        assert "lock id not-it does not match" in wrong.stderr
        broken = run_cli("state", "force-unlock", info.id, stack_dir, env=env)
        assert broken.exit_code == 0
        assert broken.output.startswith("Unlocked the state of support (prod) in ")
        assert run_cli("state", "lock", "status", stack_dir, env=env).output.startswith(
            "Not locked"
        )
