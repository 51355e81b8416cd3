"""Resolve an environment's vars: stack-wide values overridden by the environment's own,
each of which may refer to environment variables and to other vars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bimpe_iac.manifest.interpolate import (
    Reference,
    TemplateError,
    VarValue,
    as_text,
    outside_for_each,
    parse_template,
    reference_position,
    render,
    scalars,
)
from bimpe_iac.manifest.issues import DataPath, did_you_mean, format_address
from bimpe_iac.manifest.models import VarDeclaration
from bimpe_iac.manifest.yaml_loader import Document
from bimpe_iac.model.issues import Issue


@dataclass(frozen=True)
class DeclaredVar:
    value: VarValue
    sensitive: bool
    path: DataPath
    """Where the value is written in stack.yaml."""
    literal: bool = False
    """A value given on the command line: used as it is, never read as a template."""
    origin: str | None = None
    """Where a value given on the command line comes from: `--var NAME`, `FILE:LINE:COLUMN`."""


@dataclass
class ResolvedVars:
    values: dict[str, VarValue] = field(default_factory=dict)
    unresolved: set[str] = field(default_factory=set)
    sensitive_values: set[str] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)


def declare(
    shared: Mapping[str, VarValue | VarDeclaration],
    own: Mapping[str, VarValue | VarDeclaration],
    own_path: DataPath,
) -> dict[str, DeclaredVar]:
    """The environment's vars; a var marked sensitive in either place stays sensitive."""
    declared: dict[str, DeclaredVar] = {}
    for values, base in ((shared, ("vars",)), (own, own_path)):
        for name, raw in values.items():
            path: DataPath = (*base, name)
            sensitive = name in declared and declared[name].sensitive
            if isinstance(raw, VarDeclaration):
                declared[name] = DeclaredVar(
                    raw.value, raw.sensitive or sensitive, (*path, "value")
                )
            else:
                declared[name] = DeclaredVar(raw, sensitive, path)
    return declared


def resolve(
    document: Document, declared: Mapping[str, DeclaredVar], environ: Mapping[str, str]
) -> ResolvedVars:
    resolver = _Resolver(document, declared, environ)
    for name in declared:
        resolver.resolve(name, ())
    result = resolver.result
    result.origins = {name: var.origin for name, var in declared.items() if var.origin}
    for name, var in declared.items():
        if var.sensitive and name in result.values:
            texts = {as_text(scalar) for scalar in scalars(result.values[name])}
            result.sensitive_values.update(text for text in texts if text)
    return result


class _Resolver:
    def __init__(
        self, document: Document, declared: Mapping[str, DeclaredVar], environ: Mapping[str, str]
    ) -> None:
        self.document = document
        self.declared = declared
        self.environ = environ
        self.result = ResolvedVars()

    def resolve(self, name: str, chain: tuple[str, ...]) -> VarValue | None:
        if name in self.result.values:
            return self.result.values[name]
        if name in self.result.unresolved:
            return None
        var = self.declared[name]
        value: VarValue | None = var.value
        if not var.literal:
            value = self._value(var.value, var.path, (*chain, name))
        if value is None:
            self.result.unresolved.add(name)
        else:
            self.result.values[name] = value
        return value

    def _value(self, value: VarValue, path: DataPath, chain: tuple[str, ...]) -> VarValue | None:
        """`value` with the references in its strings resolved (those of a list or map
        too), or None when one cannot be."""
        if isinstance(value, str):
            return self._render(value, path, chain)
        if isinstance(value, list):
            items = [self._value(v, (*path, i), chain) for i, v in enumerate(value)]
            return None if any(item is None for item in items) else items
        if isinstance(value, dict):
            entries = {k: self._value(v, (*path, k), chain) for k, v in value.items()}
            return None if any(item is None for item in entries.values()) else entries
        return value

    def _render(self, template: str, path: DataPath, chain: tuple[str, ...]) -> VarValue | None:
        try:
            parts = parse_template(template)
        except TemplateError as exc:
            self._report(path, exc.text, exc.message)
            return None

        def lookup(reference: Reference) -> VarValue | None:
            if reference.kind == "each":
                self._report(path, reference.text, outside_for_each(reference.text))
                return None
            if reference.kind == "env":
                if reference.name not in self.environ:
                    message = f"environment variable '{reference.name}' is not set"
                    self._report(path, reference.text, message)
                return self.environ.get(reference.name)
            if reference.name not in self.declared:
                hint = did_you_mean(reference.name, sorted(self.declared))
                self._report(path, reference.text, f"unknown var '{reference.name}'{hint}")
                return None
            if reference.name in chain:
                cycle = (*chain[chain.index(reference.name) :], reference.name)
                message = "reference cycle: " + " -> ".join(f"var.{n}" for n in cycle)
                self._report(path, reference.text, message)
                return None
            return self.resolve(reference.name, chain)

        try:
            return render(parts, lookup)
        except TemplateError as exc:
            self._report(path, exc.text, exc.message)
            return None

    def _report(self, path: DataPath, text: str, message: str) -> None:
        position = reference_position(self.document, path, text)
        address = format_address(path)
        self.result.issues.append(Issue(self.document.file, position, address, message))
