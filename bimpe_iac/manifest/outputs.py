"""`outputs:` of stack.yaml: named values made of vars, environment variables and the ids of
the stack's resources (`${agents.support.id}`), printed after apply and by `bimpe-iac output`.

Vars and environment variables are resolved when the stack loads; ids are known only from a
state, so an output keeps `ResourceId` parts until `value` is given the ids.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bimpe_iac.manifest.fields import OutputName
from bimpe_iac.manifest.interpolate import (
    Reference,
    Scope,
    TemplateError,
    Unresolved,
    VarValue,
    as_text,
    parse_template,
    reference_position,
    resolve,
)
from bimpe_iac.manifest.issues import DataPath, did_you_mean, format_address
from bimpe_iac.manifest.models import OutputDeclaration, OutputEntry
from bimpe_iac.manifest.yaml_loader import Document, value_at
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Sections

ATTRIBUTES = ("id",)
_OUTPUTS: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[OutputName, OutputEntry])
_FORMS = "write ${var.NAME}, ${env.NAME} or ${ADDRESS.id} (the id of a resource of the stack)"


@dataclass(frozen=True)
class ResourceId:
    """The id of the resource at `address`, read from a state."""

    address: str


@dataclass(frozen=True)
class Output:
    name: str
    parts: tuple[VarValue | ResourceId, ...]
    sensitive: bool
    """Marked sensitive, or made with the value of a sensitive var."""
    description: str | None = None

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(part.address for part in self.parts if isinstance(part, ResourceId))

    def value(self, ids: Mapping[str, str]) -> VarValue | None:
        """The value with the resources' `ids`; None when one of them has none. A value that
        is exactly one var keeps its type, as interpolation does."""
        values = [ids.get(p.address) if isinstance(p, ResourceId) else p for p in self.parts]
        if any(value is None for value in values):
            return None
        if len(values) == 1:
            return values[0]
        return "".join(as_text(value) for value in values if value is not None)


@dataclass(frozen=True)
class _Placed:
    """A resource reference, and the issue to report when it names nothing."""

    address: str
    issue: Callable[[str], Issue]


@dataclass
class DeclaredOutputs:
    outputs: list[Output] = field(default_factory=list)
    references: list[_Placed] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def check(self, sections: Sections, known: Collection[str]) -> list[Issue]:
        """An issue for each reference to an address that is no resource of the stack."""
        issues = []
        for placed in self.references:
            if placed.address in known:
                continue
            if sections.section_of(placed.address) is None:
                shapes = ", ".join(sections.shapes())
                message = f"'{placed.address}' is not a resource address (one of {shapes})"
            else:
                hint = did_you_mean(placed.address, sorted(known))
                message = f"no resource '{placed.address}' in the stack{hint}"
            issues.append(placed.issue(message))
        return issues


def declare_outputs(
    document: Document, scope: Scope, sensitive_values: Collection[str]
) -> DeclaredOutputs:
    """The outputs of stack.yaml, vars resolved; none when `outputs:` is not well formed,
    which the validation of the whole file reports."""
    declared = DeclaredOutputs()
    try:
        written = _OUTPUTS.validate_python(value_at(document.data, ("outputs",)) or {})
    except ValidationError:
        return declared
    for name, entry in written.items():
        path: DataPath = ("outputs", name)
        description, marked, value = None, False, entry
        if isinstance(entry, OutputDeclaration):
            path = (*path, "value")
            description, marked, value = entry.description, entry.sensitive, entry.value
        parts = _Parts(document, path, scope, declared).of(value)
        if parts is None:
            continue
        text = "".join(as_text(p) for p in parts if not isinstance(p, ResourceId))
        sensitive = marked or any(secret in text for secret in sensitive_values)
        declared.outputs.append(Output(name, parts, sensitive, description))
    return declared


@dataclass
class _Parts:
    document: Document
    path: DataPath
    scope: Scope
    out: DeclaredOutputs

    def of(self, value: VarValue) -> tuple[VarValue | ResourceId, ...] | None:
        """The parts of one output's value; None when something in it was reported."""
        if not isinstance(value, str):
            return (value,)
        try:
            parsed = parse_template(value, resources=True)
        except TemplateError as exc:
            self._report(exc.text, exc.message.replace("write ${var.NAME} or ${env.NAME}", _FORMS))
            return None
        parts = [self._part(part) for part in parsed]
        if any(part is None for part in parts):
            return None
        return tuple(part for part in parts if part is not None)

    def _part(self, part: str | Reference) -> VarValue | ResourceId | None:
        if isinstance(part, str):
            return part
        if part.kind != "resource":
            resolved = resolve(part, self.scope)
            if not isinstance(resolved, Unresolved):
                return resolved
            if resolved.reason:
                self._report(part.text, resolved.reason)
            return None
        # The address as written: the stack's own addresses say whether it names a resource.
        address, _, attribute = part.name.rpartition(".")
        if "." not in address:
            self._report(part.text, f"invalid reference '{part.text}': {_FORMS}")
            return None
        if attribute not in ATTRIBUTES:
            message = f"'{attribute}' is not an attribute of {address}: only 'id' is"
            self._report(part.text, message)
            return None
        text = part.text
        self.out.references.append(_Placed(address, lambda message: self._issue(text, message)))
        return ResourceId(address)

    def _issue(self, text: str, message: str) -> Issue:
        position = reference_position(self.document, self.path, text)
        return Issue(self.document.file, position, format_address(self.path), message)

    def _report(self, text: str, message: str) -> None:
        self.out.issues.append(self._issue(text, message))
