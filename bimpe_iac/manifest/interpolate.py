"""`${var.NAME}` and `${env.NAME}` in string values; `$${` writes a literal `${`.

A string that is exactly one reference takes the referenced value with its type, so
`priority: ${var.priority}` stays a number. Anything else renders to a string.

A reference that cannot be resolved is reported once, where it is written, and the value
holding it is "tainted": later checks skip it instead of reporting a second, confusing
error about the unresolved text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bimpe_iac.manifest.issues import DataPath, did_you_mean, format_address
from bimpe_iac.manifest.yaml_loader import Document, value_at
from bimpe_iac.model.issues import Issue, Position

VarValue = str | int | float | bool

_REFERENCE = re.compile(r"^(var|env)\.([A-Za-z_][A-Za-z0-9_]*)$")
_HELP = "write ${var.NAME} or ${env.NAME}, or $${ for a literal ${"


@dataclass(frozen=True)
class Reference:
    kind: Literal["var", "env", "resource"]
    name: str
    """The var or environment variable; for a resource, all between `${` and `}`."""
    text: str


class TemplateError(Exception):
    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.message = message
        self.text = text


def parse_template(template: str, *, resources: bool = False) -> list[str | Reference]:
    """The literal text and references of `template`; with `resources`, a reference that is
    neither `var.` nor `env.` is kept as a `resource` one, for the caller to check."""
    parts: list[str | Reference] = []
    literal = ""
    i = 0
    while i < len(template):
        if template.startswith("$${", i):
            literal += "${"
            i += 3
        elif template.startswith("${", i):
            end = template.find("}", i + 2)
            if end < 0:
                raise TemplateError(f"unclosed '${{' in '{template}': {_HELP}", "${")
            text = template[i : end + 1]
            inner = template[i + 2 : end]
            match = _REFERENCE.match(inner)
            if match is None and not resources:
                raise TemplateError(f"invalid reference '{text}': {_HELP}", text)
            if literal:
                parts.append(literal)
                literal = ""
            if match is None:
                parts.append(Reference("resource", inner, text))
            else:
                parts.append(Reference("var" if match[1] == "var" else "env", match[2], text))
            i = end + 1
        else:
            literal += template[i]
            i += 1
    if literal:
        parts.append(literal)
    return parts


def render(
    parts: list[str | Reference], lookup: Callable[[Reference], VarValue | None]
) -> VarValue | None:
    """The rendered value, or None when `lookup` could not resolve some reference."""
    values = [part if isinstance(part, str) else lookup(part) for part in parts]
    if any(value is None for value in values):
        return None
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return values[0]
    return "".join(as_text(value) for value in values if value is not None)


def as_text(value: VarValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def reference_position(document: Document, path: DataPath, text: str) -> Position:
    """Where `text` is written inside the value at `path`: exact for a one-line value,
    else the start of the value."""
    marks = document.marks.get(path)
    if marks is None:
        return document.position(path)
    if marks.start.line == marks.end.line and marks.start.line <= len(document.lines):
        line = document.lines[marks.start.line - 1]
        found = line.find(text, marks.start.column - 1, marks.end.column - 1)
        if found >= 0:
            return Position(marks.start.line, found + 1)
    return marks.start


@dataclass(frozen=True)
class Scope:
    """What references resolve to.

    `unresolved_vars` are declared but could not be resolved (already reported); when
    `vars_known` is False the stack settings did not load and no var can be checked.
    A `silent` scope resolves nothing and reports nothing: it is for settings of the
    environments not chosen, where only the syntax of references is checked.
    """

    vars: Mapping[str, VarValue]
    environ: Mapping[str, str]
    unresolved_vars: frozenset[str] = frozenset()
    vars_known: bool = True
    silent: bool = False
    var_noun: str = "var"
    """What `${var.NAME}` names, in messages: a module's resources name its `input`s."""
    env_refused: str | None = None
    """Why `${env.NAME}` may not be written here, when it may not."""
    origins: Mapping[str, str] = field(default_factory=dict)
    """Where the vars given on the command line come from (`--var NAME`, `FILE:LINE:COLUMN`)."""


@dataclass
class Interpolated:
    """The data below `root` with references resolved, and the paths left unresolved."""

    root: DataPath
    data: Any
    issues: list[Issue] = field(default_factory=list)
    tainted: set[DataPath] = field(default_factory=set)
    given: dict[str, str] = field(default_factory=dict)
    """For each address whose value uses a var given on the command line, where that is."""

    def is_tainted(self, path: DataPath) -> bool:
        return any(path[: len(t)] == t for t in self.tainted)

    def noted(self, issues: list[Issue]) -> list[Issue]:
        """`issues`, those about a value made with a var given on the command line saying so."""
        return [
            replace(issue, message=f"{issue.message} ({self.given[issue.address]})")
            if issue.address in self.given
            else issue
            for issue in issues
        ]


def interpolate(document: Document, scope: Scope, root: DataPath = ()) -> Interpolated:
    """Resolve every reference in the strings below `root` of the document's data."""
    result = Interpolated(root, None)
    result.data = _walk(document, value_at(document.data, root), root, scope, result)
    return result


def _walk(document: Document, value: Any, path: DataPath, scope: Scope, out: Interpolated) -> Any:
    if isinstance(value, dict):
        return {k: _walk(document, v, (*path, k), scope, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(document, v, (*path, i), scope, out) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    try:
        parts = parse_template(value)
    except TemplateError as exc:
        position = reference_position(document, path, exc.text)
        out.issues.append(Issue(document.file, position, format_address(path), exc.message))
        out.tainted.add(path)
        return value

    def lookup(reference: Reference) -> VarValue | None:
        resolved = resolve(reference, scope)
        if not isinstance(resolved, Unresolved):
            if reference.kind == "var" and reference.name in scope.origins:
                origin = scope.origins[reference.name]
                out.given[format_address(path)] = f"var.{reference.name} is set by {origin}"
            return resolved
        if resolved.reason:
            position = reference_position(document, path, reference.text)
            address = format_address(path)
            out.issues.append(Issue(document.file, position, address, resolved.reason))
        return None

    rendered = render(parts, lookup)
    if rendered is None:
        out.tainted.add(path)
        return value
    return rendered


@dataclass(frozen=True)
class Unresolved:
    """Why a reference has no value; None when that is reported elsewhere, or not at all."""

    reason: str | None = None


def resolve(reference: Reference, scope: Scope) -> VarValue | Unresolved:
    """The value of a `var` or `env` reference in `scope`, or why it has none."""
    if scope.silent:
        return Unresolved()
    if reference.kind == "env":
        if scope.env_refused is not None:
            return Unresolved(scope.env_refused)
        if reference.name in scope.environ:
            return scope.environ[reference.name]
        return Unresolved(f"environment variable '{reference.name}' is not set")
    if reference.name in scope.vars:
        return scope.vars[reference.name]
    if not scope.vars_known or reference.name in scope.unresolved_vars:
        return Unresolved()
    hint = did_you_mean(reference.name, sorted({*scope.vars, *scope.unresolved_vars}))
    return Unresolved(f"unknown {scope.var_noun} '{reference.name}'{hint}")
