"""Values for a stack's vars given on the command line: `--var-file FILE` (a YAML mapping of
name: value) and `--var NAME=VALUE`, laid over stack.yaml's vars, files first, each in the
order given. A value given so is a value, not a template: `${` in it stays as written."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from bimpe_iac.manifest.interpolate import VarValue, as_text
from bimpe_iac.manifest.issues import describe, did_you_mean
from bimpe_iac.manifest.variables import DeclaredVar
from bimpe_iac.manifest.yaml_loader import load_yaml
from bimpe_iac.model.issues import Issue, Position

_NOT_A_MAPPING = "a var file is a mapping of var names to values, as in 'brand: Kora'"


@dataclass(frozen=True)
class VarOverrides:
    assignments: tuple[tuple[str, str], ...] = ()
    """`--var NAME=VALUE`, in command-line order."""
    files: tuple[Path, ...] = ()
    """`--var-file FILE`, in command-line order."""


NO_OVERRIDES = VarOverrides()


@dataclass
class Overridden:
    issues: list[Issue] = field(default_factory=list)
    replaced_secrets: set[str] = field(default_factory=set)
    """The values of sensitive vars written in stack.yaml that an override replaced: still
    secrets, so still masked should they show up (a live value not yet updated)."""


def override(
    declared: dict[str, DeclaredVar], overrides: VarOverrides, stack_file: Path
) -> Overridden:
    """Lay `overrides` over the `declared` vars, in place."""
    result = Overridden()

    def assign(name: str, value: VarValue, if_undeclared: Issue) -> None:
        var = declared.get(name)
        if var is None:
            result.issues.append(if_undeclared)
            return
        written = as_text(var.value)
        if var.sensitive and not var.literal and written and "${" not in written:
            result.replaced_secrets.add(written)
        declared[name] = replace(var, value=value, literal=True, origin=if_undeclared.place)

    names = sorted(declared)
    for path in overrides.files:
        document, problems = load_yaml(path)
        result.issues += problems
        if document is None or document.data is None:
            continue
        if not isinstance(document.data, dict):
            result.issues.append(Issue(path, Position(1, 1), "", _NOT_A_MAPPING))
            continue
        for name, value in document.data.items():
            if not isinstance(value, str | int | float | bool):
                expected = "expected a string, number or boolean"
                message = f"var '{name}': {expected}, got {describe(value)}"
                result.issues.append(Issue(path, document.position((name,)), "", message))
                continue
            where = document.position((name,), at_key=True)
            assign(name, value, Issue(path, where, "", _undeclared(name, names)))
    for name, text in overrides.assignments:
        undeclared = Issue(stack_file, None, "", _undeclared(name, names), origin=f"--var {name}")
        assign(name, _typed(declared.get(name), text), undeclared)
    return result


def _typed(var: DeclaredVar | None, text: str) -> VarValue:
    """A `--var` value: text, but `true` or `false` for a var declared as a boolean is that
    boolean, so that `--var with_promo=false` can turn a resource's `enabled:` off."""
    if var is not None and isinstance(var.value, bool) and text in ("true", "false"):
        return text == "true"
    return text


def _undeclared(name: str, names: list[str]) -> str:
    return (
        f"undeclared var '{name}'{did_you_mean(name, names)}: declare it in the vars: of"
        " stack.yaml to give it a value"
    )
