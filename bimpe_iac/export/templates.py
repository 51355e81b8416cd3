"""The stack's own text for a value: what a `${var.NAME}` template renders to in an
environment, and whether it reads a sensitive var, so that export writes the template where
the live value is what it renders to and never writes a sensitive value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bimpe_iac.manifest.interpolate import (
    Reference,
    TemplateError,
    VarValue,
    as_text,
    parse_template,
    render,
)
from bimpe_iac.manifest.overrides import NO_OVERRIDES, VarOverrides
from bimpe_iac.manifest.settings import load_settings
from bimpe_iac.model.export import VarReference


def _parts(value: Any) -> list[str | Reference] | None:
    """A template's parts; None for a value that is no template, or not a valid one."""
    if not isinstance(value, str) or "$" not in value:
        return None
    try:
        return parse_template(value)
    except TemplateError:
        return None


@dataclass(frozen=True)
class Templates:
    """The vars of one environment, and the names of the vars that are sensitive (in it or,
    for a clone, in the destination)."""

    vars: Mapping[str, VarValue]
    environ: Mapping[str, str]
    sensitive: frozenset[str]

    def render(self, value: Any) -> Any:
        """What a value written in a manifest is in this environment (None when a reference
        cannot be resolved)."""
        parts = _parts(value)
        if parts is None:
            return value if not isinstance(value, str) or "$" not in value else None

        def lookup(reference: Reference) -> VarValue | None:
            found = self.vars if reference.kind == "var" else self.environ
            return found.get(reference.name)

        return render(parts, lookup)

    def reads_sensitive(self, value: Any) -> bool:
        return any(
            isinstance(part, Reference) and part.kind == "var" and part.name in self.sensitive
            for part in _parts(value) or ()
        )

    def reference_to(self, value: Any) -> str | None:
        """`${var.NAME}` for a sensitive var whose value `value` is, so that it is not written."""
        if not isinstance(value, str) or not value:
            return None
        for name in sorted(self.sensitive):
            if name in self.vars and as_text(self.vars[name]) == value:
                return f"${{var.{name}}}"
        return None

    def written(self, value: Any) -> Any:
        """A live value as a manifest writes it: `$${` for a literal `${`, and a sensitive
        var's value (or a `VarReference`) as a reference to the var."""
        if isinstance(value, VarReference):
            return str(value)
        if isinstance(value, str):
            return self.reference_to(value) or value.replace("${", "$${")
        if isinstance(value, dict):
            return {key: self.written(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.written(item) for item in value]
        return value


def sensitive_names(values: Mapping[str, VarValue], sensitive_values: frozenset[str]) -> set[str]:
    """The vars whose value is one of the environment's sensitive values."""
    return {name for name, value in values.items() if as_text(value) in sensitive_values}


def environment_templates(
    directory: Path,
    environment: str,
    environ: Mapping[str, str],
    *,
    also_sensitive: frozenset[str] = frozenset(),
    overrides: VarOverrides = NO_OVERRIDES,
) -> Templates:
    """The templates of `environment` of the stack in `directory` (its settings load: the
    stack did); `also_sensitive` adds var names sensitive elsewhere (a clone's destination)."""
    loaded = load_settings(directory, environment, environ, overrides)
    values = loaded.scope.vars
    names = sensitive_names(values, loaded.sensitive_values)
    return Templates(values, environ, frozenset(names) | also_sensitive)
