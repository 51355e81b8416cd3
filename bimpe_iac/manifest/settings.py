"""stack.yaml: the stack's name, the chosen environment's target and vars, and where the
state lives.

Vars are resolved first, so that the target and state settings can use them; the whole
file is then validated once, after interpolation, so each problem is reported once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bimpe_iac import secrets
from bimpe_iac.manifest import variables
from bimpe_iac.manifest.fields import VarName
from bimpe_iac.manifest.interpolate import Interpolated, Scope, interpolate
from bimpe_iac.manifest.issues import did_you_mean, one_of
from bimpe_iac.manifest.models import (
    DEFAULT_STATE_DSN_ENV,
    StackFile,
    StateSettings,
    Target,
    VarEntry,
)
from bimpe_iac.manifest.outputs import DeclaredOutputs, declare_outputs
from bimpe_iac.manifest.overrides import NO_OVERRIDES, VarOverrides, override
from bimpe_iac.manifest.validation import validate
from bimpe_iac.manifest.yaml_loader import Document, load_yaml, value_at
from bimpe_iac.model.issues import Issue, Position

STACK_FILE = "stack.yaml"
WORK_DIR = ".bimpe"
"""The stack's own directory for its default state and the embedded emulator's database."""
DEFAULT_ENVIRONMENT = "default"

_VARS: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[VarName, VarEntry])


@dataclass(frozen=True)
class LocalStateBackend:
    """State kept in a JSON file at `path`."""

    path: Path
    declared: bool = True
    """False when stack.yaml has no `state:`, so that `BIMPE_STATE_DSN` may choose PostgreSQL."""


@dataclass(frozen=True)
class PostgresStateBackend:
    """State kept in the PostgreSQL database whose DSN is in the environment variable
    `dsn_env`; `path` is where the local backend would keep it (`state migrate --to local`)."""

    dsn_env: str
    path: Path


StateBackend = LocalStateBackend | PostgresStateBackend


@dataclass(frozen=True)
class StackSettings:
    name: str
    environment: str
    target: Target
    state: StateBackend


@dataclass
class LoadedSettings:
    """The settings, or None when stack.yaml has errors; `scope` resolves references in
    resource files either way (with every var unchecked when the vars did not load)."""

    settings: StackSettings | None
    scope: Scope
    sensitive_values: frozenset[str] = frozenset()
    issues: list[Issue] = field(default_factory=list)
    outputs: DeclaredOutputs = field(default_factory=DeclaredOutputs)


def load_settings(
    directory: Path,
    env: str | None,
    environ: Mapping[str, str],
    overrides: VarOverrides = NO_OVERRIDES,
) -> LoadedSettings:
    path = directory / STACK_FILE
    unknown_vars = Scope({}, environ, vars_known=False)
    if not path.exists():
        message = f"file does not exist; a stack directory needs a {STACK_FILE} naming the stack"
        return LoadedSettings(None, unknown_vars, issues=[Issue(path, None, "", message)])
    document, issues = load_yaml(path, within=directory)
    if document is None:
        return LoadedSettings(None, unknown_vars, issues=issues)
    data = document.data
    if data is None:
        message = "file is empty; it must at least name the stack, as in 'name: support'"
        issues.append(Issue(path, Position(1, 1), "", message))
        return LoadedSettings(None, unknown_vars, issues=issues)
    if not isinstance(data, dict):
        issues += validate(StackFile, document, data)[1]
        return LoadedSettings(None, unknown_vars, issues=issues)

    environments = data.get("environments")
    names = list(environments) if isinstance(environments, dict) else []
    environment, problem = _choose_environment(document, names, env)
    scope, sensitive = unknown_vars, frozenset[str]()
    if problem is not None:
        issues.append(problem)
    else:
        scope, sensitive = _resolve_vars(document, environment, environ, overrides, issues)
        scope = replace(
            scope, environment=environment, environments=tuple(names), sensitive=sensitive
        )

    interpolated = _interpolate_settings(document, environment, scope)
    for part in interpolated:
        issues += part.issues
    # Validated as a whole to report every problem; references left for environments not
    # chosen are skipped, so the settings are then read from the parts that matter.
    _, problems = validate(
        StackFile,
        document,
        _with_parts(data, interpolated),
        skip=lambda path: any(part.is_tainted(path) for part in interpolated),
    )
    for part in interpolated:
        problems = part.noted(problems)
    issues += problems
    outputs = declare_outputs(document, scope, sensitive)
    issues += outputs.issues
    if issues:
        return LoadedSettings(None, scope, sensitive, issues, outputs)
    parts = {part.root: part.data for part in interpolated}
    target = Target.model_validate(parts.get(("environments", environment, "target"), {}))
    state = StateSettings.model_validate(parts.get(("state",), {}))
    if state.path is not None and not _inside(directory, state.path):
        message = f"'{state.path}' must be relative and stay inside the stack directory"
        return LoadedSettings(None, scope, sensitive, [document.issue(("state", "path"), message)])
    default_path = f"{WORK_DIR}/state/{data['name']}/{environment}.json"
    for relative in (WORK_DIR, *([] if state.path else [default_path])):
        if not _inside(directory, relative):
            message = (
                "leads outside the stack directory through a symbolic link; bimpe-iac keeps"
                " its state and emulator data inside the stack"
            )
            issue = Issue(directory / relative, None, "", message)
            return LoadedSettings(None, scope, sensitive, [issue])
    state_path = directory / (state.path or default_path)
    backend: StateBackend = LocalStateBackend(state_path, declared="state" in data)
    if state.backend == "postgres":
        backend = PostgresStateBackend(state.dsn_env or DEFAULT_STATE_DSN_ENV, state_path)
    settings = StackSettings(
        name=data["name"], environment=environment, target=target, state=backend
    )
    return LoadedSettings(settings, scope, sensitive, issues, outputs)


def _inside(directory: Path, relative: str) -> bool:
    """Whether `relative` names a path in `directory`, symbolic links followed: a stack's state
    is neither read nor written elsewhere."""
    if "\0" in relative or Path(relative).is_absolute():
        return False
    try:
        return (directory / relative).resolve().is_relative_to(directory.resolve())
    except (OSError, RuntimeError):  # a loop of symbolic links
        return False


def _choose_environment(
    document: Document, names: list[str], env: str | None
) -> tuple[str, Issue | None]:
    if env is None:
        if len(names) <= 1:
            return (names[0] if names else DEFAULT_ENVIRONMENT), None
        message = f"the stack has several environments; choose one with --env: {one_of(names)}"
    elif env in names:
        return env, None
    elif names:
        hint = did_you_mean(env, names)
        message = f"unknown environment '{env}'{hint}; environments: {one_of(names)}"
    elif env == DEFAULT_ENVIRONMENT:
        return env, None
    else:
        message = f"unknown environment '{env}': the stack declares no environments"
    return env or "", document.issue(("environments",), message, at_key=True)


def _resolve_vars(
    document: Document,
    environment: str,
    environ: Mapping[str, str],
    overrides: VarOverrides,
    issues: list[Issue],
) -> tuple[Scope, frozenset[str]]:
    """The scope for the environment's vars. Vars that are not well formed are reported
    by the validation of the whole file; until then, no var can be checked."""
    own_path = ("environments", environment, "vars")
    try:
        shared = _VARS.validate_python(value_at(document.data, ("vars",)) or {})
        own = _VARS.validate_python(value_at(document.data, own_path) or {})
    except ValidationError:
        return Scope({}, environ, vars_known=False), frozenset()
    declared = variables.declare(shared, own, own_path)
    overridden = override(declared, overrides, document.file)
    issues += overridden.issues
    resolved = variables.resolve(document, declared, dict(environ))
    issues += resolved.issues
    sensitive = resolved.sensitive_values | overridden.replaced_secrets
    secrets.remember(sensitive)  # scrubbed from any crash log
    scope = Scope(
        resolved.values, environ, frozenset(resolved.unresolved), origins=resolved.origins
    )
    return scope, frozenset(sensitive)


def _interpolate_settings(document: Document, environment: str, scope: Scope) -> list[Interpolated]:
    """Interpolate the chosen environment's target and the state settings; in the other
    environments' targets, check only that references are well formed."""
    silent = Scope({}, {}, silent=True)
    environments = value_at(document.data, ("environments",))
    parts = []
    for name in environments if isinstance(environments, dict) else []:
        if value_at(document.data, ("environments", name, "target")) is not None:
            chosen = scope if name == environment else silent
            parts.append(interpolate(document, chosen, ("environments", name, "target")))
    if value_at(document.data, ("state",)) is not None:
        parts.append(interpolate(document, scope, ("state",)))
    return parts


def _with_parts(data: dict[str, Any], parts: list[Interpolated]) -> dict[str, Any]:
    """A copy of `data` with each interpolated part in its place."""
    copy: dict[str, Any] = dict(data)
    for part in parts:
        parent: Any = copy
        for key in part.root[:-1]:
            parent[key] = dict(parent[key])
            parent = parent[key]
        parent[part.root[-1]] = part.data
    return copy
