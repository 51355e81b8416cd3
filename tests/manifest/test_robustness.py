"""Whatever a stack holds, loading it ends in a Stack or in located issues, never in an
unexpected exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loading import load_stack

from bimpe_iac.manifest import InvalidStackError

WORDS = [
    "workflows",
    "agents",
    "phone_numbers",
    "moved",
    "name",
    "system_prompt",
    "workflow",
    "description",
    "persona",
    "live_status",
    "knowledge_bases",
    "type",
    "text",
    "url",
    "content",
    "file",
    "actions",
    "lifecycle",
    "ignore_changes",
    "prevent_destroy",
    "rules",
    "flows",
    "id",
    "public",
    "agent",
    "from",
    "to",
    "+2348012345678",
    "vars",
    "environments",
    "target",
    "state",
    "path",
    "value",
    "sensitive",
    "api_key_env",
    "triage",
    "bot",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(WORDS),
    st.sampled_from(["${var.x}", "${env.HOME}", "$${", "${", "agents.bot", "a@b.co", "friendly"]),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(WORDS), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stack=st.dictionaries(st.sampled_from(WORDS), VALUES, max_size=4), resources=VALUES)
def test_any_content_loads_or_reports_issues(
    tmp_path_factory: Any, stack: dict[str, Any], resources: Any
) -> None:
    directory: Path = tmp_path_factory.mktemp("stack")
    (directory / "stack.yaml").write_text(yaml.safe_dump({"name": "s", **stack}), encoding="utf-8")
    (directory / "resources.yaml").write_text(yaml.safe_dump(resources), encoding="utf-8")

    try:
        load_stack(directory, environ={"HOME": "/home/user"})
    except InvalidStackError as error:
        assert error.issues
        assert all(issue.message for issue in error.issues)
