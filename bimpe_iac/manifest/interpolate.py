"""`${var.NAME}`, `${env.NAME}` and, in the body of an entry with `for_each`, `${each.key}`,
`${each.value}` and `${each.value.FIELD}` in string values; `$${` writes a literal `${`.

A string that is exactly one reference takes the referenced value with its type, so
`priority: ${var.priority}` stays a number and `for_each: ${var.regions}` a list or map.
Anything else renders to a string, and a list or map inside other text is an error.

A resource file is interpolated twice: first every string without `${each...}`; the strings
with one are left as written (`deferred`) until the entry holding them is expanded into its
instances (`manifest/instances.py`), each with its own `each` in the scope.

A reference that cannot be resolved is reported once, where it is written, and the value
holding it is "tainted": later checks skip it instead of reporting a second, confusing
error about the unresolved text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bimpe_iac.manifest.issues import DataPath, did_you_mean, format_address
from bimpe_iac.manifest.yaml_loader import Document, value_at
from bimpe_iac.model.issues import Issue, Position

ScalarValue = str | int | float | bool
VarValue = ScalarValue | list[Any] | dict[str, Any]
"""A var's value: a scalar, a list of scalars, or a map of scalars or of maps of scalars."""

_REFERENCE = re.compile(r"^(var|env)\.([A-Za-z_][A-Za-z0-9_]*)$")
_EACH = re.compile(r"^each\.(key|value(?:\.[A-Za-z0-9_-]+)?)$")
_HELP = "write ${var.NAME} or ${env.NAME}, or $${ for a literal ${"
_EACH_HELP = "write ${each.key}, ${each.value} or ${each.value.FIELD}"


@dataclass(frozen=True)
class Reference:
    kind: Literal["var", "env", "each", "resource"]
    name: str
    """The var's or variable's name; for `each`, `key`, `value` or `value.FIELD`; for a
    resource, all between `${` and `}`."""
    text: str


@dataclass(frozen=True)
class Each:
    """The instance of a `for_each` whose body is being interpolated."""

    key: str
    value: VarValue


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
            if literal:
                parts.append(literal)
                literal = ""
            parts.append(_reference(template[i + 2 : end], text, resources))
            i = end + 1
        else:
            literal += template[i]
            i += 1
    if literal:
        parts.append(literal)
    return parts


def _reference(inner: str, text: str, resources: bool) -> Reference:
    match = _REFERENCE.match(inner)
    if match is not None:
        return Reference("var" if match[1] == "var" else "env", match[2], text)
    each = _EACH.match(inner)
    if each is not None:
        return Reference("each", each[1], text)
    if resources:
        return Reference("resource", inner, text)
    help = _EACH_HELP if inner.startswith("each.") else _HELP
    raise TemplateError(f"invalid reference '{text}': {help}", text)


def render(
    parts: list[str | Reference], lookup: Callable[[Reference], VarValue | None]
) -> VarValue | None:
    """The rendered value, or None when `lookup` could not resolve some reference.
    TemplateError when a list or map would be part of a longer string."""
    values = [part if isinstance(part, str) else lookup(part) for part in parts]
    if any(value is None for value in values):
        return None
    if len(parts) == 1 and isinstance(parts[0], Reference):
        return values[0]
    texts = []
    for part, value in zip(parts, values, strict=True):
        if isinstance(value, list | dict):
            assert isinstance(part, Reference)
            what = "list" if isinstance(value, list) else "map"
            message = (
                f"'{part.text}' is a {what}: write it alone as the whole value"
                " (for_each, or a field that takes a list or mapping), not inside other text"
            )
            raise TemplateError(message, part.text)
        if value is not None:
            texts.append(as_text(value))
    return "".join(texts)


def as_text(value: VarValue) -> str:
    """A value as text: a list or map as JSON (the text an output of one shows)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def scalars(value: VarValue) -> Iterator[ScalarValue]:
    """The scalars a value holds: itself, or those in its list or map."""
    if isinstance(value, list):
        for item in value:
            yield from scalars(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from scalars(item)
    else:
        yield value


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
    each: Each | None = None
    """The instance whose body is interpolated; None elsewhere."""
    environment: str | None = None
    """The chosen environment, which `environments:` of a resource is checked against; None
    when the stack settings did not load."""
    environments: tuple[str, ...] = ()
    """Every environment stack.yaml declares."""
    sensitive: frozenset[str] = frozenset()
    """The values of the sensitive vars, which must not become instance keys."""


@dataclass
class Interpolated:
    """The data below `root` with references resolved, and the paths left unresolved."""

    root: DataPath
    data: Any
    issues: list[Issue] = field(default_factory=list)
    tainted: set[DataPath] = field(default_factory=set)
    given: dict[str, str] = field(default_factory=dict)
    """For each address whose value uses a var given on the command line, where that is."""
    deferred: set[DataPath] = field(default_factory=set)
    """The strings holding `${each...}`, left as written (with `defer_each`)."""

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


def interpolate(
    document: Document, scope: Scope, root: DataPath = (), *, defer_each: bool = False
) -> Interpolated:
    """Resolve every reference in the strings below `root` of the document's data; with
    `defer_each`, leave the strings that hold `${each...}` for the expansion of instances."""
    result = Interpolated(root, None)
    result.data = _walk(
        document, value_at(document.data, root), root, scope, result, defer_each=defer_each
    )
    return result


def _walk(
    document: Document,
    value: Any,
    path: DataPath,
    scope: Scope,
    out: Interpolated,
    *,
    defer_each: bool = False,
) -> Any:
    if isinstance(value, dict):
        return {
            k: _walk(document, v, (*path, k), scope, out, defer_each=defer_each)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _walk(document, v, (*path, i), scope, out, defer_each=defer_each)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "$" not in value:
        return value
    return interpolate_text(document, value, path, scope, out, defer_each=defer_each)


def interpolate_text(
    document: Document,
    value: str,
    path: DataPath,
    scope: Scope,
    out: Interpolated,
    *,
    defer_each: bool = False,
) -> Any:
    """The string at `path` with its references resolved; as written when one cannot be
    (reported in `out`, and the path tainted) or, with `defer_each`, when it holds
    `${each...}` (the path deferred)."""
    try:
        parts = parse_template(value)
    except TemplateError as exc:
        _report(document, path, exc, out)
        return value
    if defer_each and any(isinstance(p, Reference) and p.kind == "each" for p in parts):
        out.deferred.add(path)
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

    try:
        rendered = render(parts, lookup)
    except TemplateError as exc:
        _report(document, path, exc, out)
        return value
    if rendered is None:
        out.tainted.add(path)
        return value
    return rendered


def _report(document: Document, path: DataPath, exc: TemplateError, out: Interpolated) -> None:
    position = reference_position(document, path, exc.text)
    out.issues.append(Issue(document.file, position, format_address(path), exc.message))
    out.tainted.add(path)


@dataclass(frozen=True)
class Unresolved:
    """Why a reference has no value; None when that is reported elsewhere, or not at all."""

    reason: str | None = None


def resolve(reference: Reference, scope: Scope) -> VarValue | Unresolved:
    """The value of a `var` or `env` reference in `scope`, or why it has none."""
    if scope.silent:
        return Unresolved()
    if reference.kind == "each":
        return _each(reference, scope.each)
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


def outside_for_each(text: str) -> str:
    return f"'{text}' is only known in the body of a resource with for_each"


def _each(reference: Reference, each: Each | None) -> VarValue | Unresolved:
    if each is None:
        return Unresolved(outside_for_each(reference.text))
    if reference.name == "key":
        return each.key
    if reference.name == "value":
        return each.value
    field = reference.name.removeprefix("value.")
    if not isinstance(each.value, dict):
        return Unresolved(
            f"'{reference.text}': each.value of {each.key!r} is not a mapping, so it has"
            f" no field '{field}'"
        )
    if field not in each.value:
        hint = did_you_mean(field, sorted(each.value))
        return Unresolved(
            f"'{reference.text}': each.value of {each.key!r} has no field '{field}'{hint}"
        )
    found: VarValue = each.value[field]
    return found
