"""Uses of modules: stack.yaml's `modules:` names local directories whose module.yaml declares
inputs and whose other YAML files hold resources. Each use loads those files with its inputs
as the vars, and its resources join the stack under `module.NAME.`.

A module's problems are located in its own files and name the use they came from; module.yaml
is read once however many uses share it, so its problems are reported once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bimpe_iac.manifest.declarations import Declarations, declarations, manifest_files
from bimpe_iac.manifest.interpolate import Scope, VarValue, as_text, interpolate
from bimpe_iac.manifest.issues import DataPath, describe, did_you_mean
from bimpe_iac.manifest.models import ModuleFile, ModuleUse, MovedBlock, input_value
from bimpe_iac.manifest.references import PlacedMove, Use, check_references
from bimpe_iac.manifest.resources import Declared
from bimpe_iac.manifest.settings import STACK_FILE
from bimpe_iac.manifest.validation import validate
from bimpe_iac.manifest.yaml_loader import Document, load_yaml, value_at
from bimpe_iac.model.issues import Issue, display_path
from bimpe_iac.model.sections import MODULE, Sections, in_module, join_address

MODULE_FILE = "module.yaml"
_NO_ENV = (
    "a module reads only its inputs, not environment variables: give the value as an input"
    " of the use in stack.yaml, which may write ${env.NAME}"
)
_NESTED = "a module cannot use modules; use each module from the stack's stack.yaml"
_TYPE_WORDS = {"string": "a string", "number": "a number", "bool": "true or false"}


@dataclass
class LoadedUse:
    """One use of a module: what its files declare, its problems tagged with the use, and its
    moves in the stack's addresses."""

    address: str
    declarations: Declarations


@dataclass
class LoadedModules:
    uses: list[LoadedUse] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    """Every problem: in stack.yaml's `modules:`, in module.yaml files, and in each use."""
    sensitive_values: set[str] = field(default_factory=set)
    """The values of sensitive inputs, and of `Secret` fields in modules' files."""


@dataclass(frozen=True)
class _Module:
    directory: Path
    inputs: ModuleFile
    files: list[Path]


def load_modules(directory: Path, scope: Scope, sections: Sections) -> LoadedModules:
    """Every use of a module that the stack in `directory` makes, its inputs resolved in
    `scope`. A use that is not well formed is skipped: the validation of stack.yaml reports it."""
    out = LoadedModules()
    document, _ = load_yaml(directory / STACK_FILE, within=directory)
    uses = value_at(document.data, ("modules",)) if document is not None else None
    if document is None or not isinstance(uses, dict):
        return out
    modules: dict[Path, _Module | None] = {}
    for name, raw in uses.items():
        try:
            use = ModuleUse.model_validate(raw)
        except ValidationError:
            continue
        path: DataPath = ("modules", name)
        module_dir = _directory(directory, use.source)
        if isinstance(module_dir, str):
            out.issues.append(document.issue((*path, "source"), module_dir))
            continue
        if module_dir not in modules:
            modules[module_dir] = _read_module(module_dir, out.issues)
        module = modules[module_dir]
        if module is not None:
            out.uses.append(_load_use(document, name, use, module, scope, sections, out))
    return out


def shared_objects(own: Declarations, uses: list[LoadedUse], sections: Sections) -> list[Issue]:
    """An object in BimpeAI that an entry names by itself (a phone number: its section's
    `identity`) is declared by one use of a module, or by the stack, not by several."""
    first: dict[tuple[str, str], tuple[str, Declared]] = {}
    issues: list[Issue] = []
    for address, found in [("", own), *((use.address, use.declarations) for use in uses)]:
        for (section, key), declared in found.resources.items():
            identity = sections[section].identity
            named = identity(key, declared.data) if identity is not None else None
            if named is None:
                continue
            where, earlier = first.setdefault((section, named), (address, declared))
            if earlier is declared or where == address:
                continue
            line, column = earlier.document.position(earlier.path, at_key=True)
            message = (
                f"{sections[section].noun} '{named}' is also declared by"
                f" {where or 'the stack'} at {display_path(earlier.document.file)}:{line}:{column};"
                " it names one object in BimpeAI, which only one of them may hold"
            )
            issue = declared.document.issue(declared.path, message, at_key=True)
            issues.append(replace(issue, address=in_module(address, section, key)))
    return issues


def _directory(stack_dir: Path, source: str) -> Path | str:
    """The module's directory, or why `source` names none."""
    try:
        found = (stack_dir / source).resolve()
        if not found.is_dir():
            exists = found.exists()
            return f"'{source}' {'is not a directory' if exists else 'does not exist'}"
        if found == stack_dir.resolve():
            return f"'{source}' is the stack's own directory, not a module's"
        if not (found / MODULE_FILE).is_file():
            return (
                f"'{source}' holds no {MODULE_FILE}: a module's directory declares its inputs there"
            )
    except (OSError, RuntimeError, ValueError) as exc:
        # RuntimeError: a loop of symbolic links; ValueError: a NUL in the path.
        return f"'{source}' cannot be read ({getattr(exc, 'strerror', None) or exc})"
    return found


def _read_module(directory: Path, issues: list[Issue]) -> _Module | None:
    path = directory / MODULE_FILE
    document, problems = load_yaml(path, within=directory, root="module")
    issues += problems
    if document is None:
        return None
    data = document.data or {}
    if isinstance(data, dict) and "modules" in data:
        issues.append(document.issue(("modules",), _NESTED, at_key=True))
        data = {key: value for key, value in data.items() if key != "modules"}
    inputs, problems = validate(ModuleFile, document, data)
    issues += problems
    try:
        files = manifest_files(directory, MODULE_FILE)
    except OSError as exc:
        issues.append(Issue(directory, None, "", f"module directory cannot be read ({exc})"))
        return None
    return None if inputs is None else _Module(directory, inputs, files)


def _load_use(
    document: Document,
    name: str,
    use: ModuleUse,
    module: _Module,
    scope: Scope,
    sections: Sections,
    out: LoadedModules,
) -> LoadedUse:
    path: DataPath = ("modules", name)
    address = join_address(MODULE, name)
    line, column = document.position(path, at_key=True)
    tag = Use(address, f"{display_path(document.file)}:{line}:{column}")
    values, unresolved = _inputs(document, path, use, module, scope, out)
    inner = Scope(
        values,
        {},
        frozenset(unresolved),
        var_noun="input",
        env_refused=_NO_ENV,
        environment=scope.environment,
        environments=scope.environments,
        sensitive=scope.sensitive | out.sensitive_values,
    )
    found = declarations(module.files, module.directory, inner, sections, "module")
    references = check_references(found.resources, sections, found.unavailable)
    found.issues = [tag.tag(issue) for issue in [*found.issues, *references]]
    found.moves = [_moved(move, tag) for move in found.moves]
    out.issues += found.issues
    out.sensitive_values |= found.secrets
    return LoadedUse(address, found)


def _moved(move: PlacedMove, use: Use) -> PlacedMove:
    """A module's `moved` block in the stack's addresses."""
    block = MovedBlock.model_validate(
        {"from": f"{use.address}.{move.block.from_}", "to": f"{use.address}.{move.block.to}"}
    )
    return PlacedMove(block, move.document, move.index, use)


def _inputs(
    document: Document,
    path: DataPath,
    use: ModuleUse,
    module: _Module,
    scope: Scope,
    out: LoadedModules,
) -> tuple[dict[str, VarValue], set[str]]:
    """The use's inputs by name, defaults filled in, and the names of those that have no value
    (each reported once, here)."""
    interpolated = interpolate(document, scope, (*path, "inputs"))
    out.issues += interpolated.issues
    given: dict[str, Any] = interpolated.data if isinstance(interpolated.data, dict) else {}
    declared = module.inputs.inputs
    values: dict[str, VarValue] = {}
    unresolved: set[str] = set()
    for key, value in given.items():
        at: DataPath = (*path, "inputs", key)
        spec = declared.get(key)
        if spec is None:
            hint = did_you_mean(key, sorted(declared))
            message = f"unknown input '{key}' of the module at '{use.source}'{hint}"
            out.issues.append(document.issue(at, message, at_key=True))
            continue
        typed = None if interpolated.is_tainted(at) else input_value(spec.type, value)
        if typed is None:
            unresolved.add(key)
            if not interpolated.is_tainted(at):
                message = f"expected {_TYPE_WORDS[spec.type]}, got {describe(value)}"
                out.issues.append(document.issue(at, message))
            continue
        values[key] = typed
        if spec.sensitive:
            out.sensitive_values.add(as_text(typed))
    for key, spec in declared.items():
        if key in given:
            continue
        if spec.default is None:
            unresolved.add(key)
            message = f"missing input '{key}' of the module at '{use.source}'"
            out.issues.append(document.issue(path, message, at_key=True))
            continue
        values[key] = input_value(spec.type, spec.default)
        if spec.sensitive:
            out.sensitive_values.add(as_text(values[key]))
    out.sensitive_values.discard("")
    return values, unresolved
