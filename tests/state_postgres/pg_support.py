"""Helpers of the PostgreSQL backend tests: state documents, forked child processes, stack
directories and the CLI run in-process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cli_runner import Outcome, invoke

from bimpe_iac.state.model import ResourceState, StateDocument

STACK, ENVIRONMENT = "support", "prod"


def make_state(serial: int = 1, resources: int = 3) -> StateDocument:
    doc = StateDocument(stack=STACK, environment=ENVIRONMENT, serial=serial)
    for n in range(resources):
        doc.resources[f"agents.bot_{n}"] = ResourceState(
            kind="agent",
            id=f"agt_{n:04d}",
            values={"name": f"Bot {n}", "temperature": 0.3, "tags": ["a", "b"], "api_key": "***"},
            hashes={"name": f"{n:032x}"},
            generation=1,
        )
    return doc


def run_cli(*args: str | Path, env: Mapping[str, str | None] | None = None) -> Outcome:
    """The CLI in this process, through its error boundary, with `env` over os.environ."""
    return invoke(*args, env=env)


def write_stack(directory: Path, stack_yaml: str, resources: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stack.yaml").write_text(stack_yaml)
    if resources:
        (directory / "resources.yaml").write_text(resources)
    return directory
