"""Which resources of a file the chosen environment declares (`enabled:`, `environments:`),
and the instances of those with `for_each:`, worked out on a file's interpolated data before
it is validated.

A resource not present is removed with what it holds. One with `for_each` is replaced by an
entry per instance, keyed `KEY["EACH"]`, with `${each.key}` and `${each.value}` resolved in
its body (what it holds included). The document learns that each instance's paths are written
where its template's are, so an error in an instance points at the template and names the
instance's address. The kinds never see the three fields: they are gone from the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from pydantic import Field

from bimpe_iac.manifest.fields import AcceptsInterpolation, Key, Scalar
from bimpe_iac.manifest.interpolate import Each, Interpolated, Scope, interpolate_text
from bimpe_iac.manifest.issues import DataPath, describe, did_you_mean, format_address, one_of
from bimpe_iac.manifest.yaml_loader import Document, NodeMarks, value_at
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Section, Sections, instance_key

PRESENCE = ("enabled", "environments", "for_each")
"""The fields every resource entry may have, which decide whether and how often it is declared."""

ForEach = Annotated[list[str] | dict[str, Scalar | dict[str, Scalar]], AcceptsInterpolation()]


def presence_fields(section: Section) -> dict[str, Any]:
    """The fields of `PRESENCE` an entry of `section` may have (`for_each` only where a key
    is a plain word), as `create_model` takes them: for the JSON Schema, since the loader
    takes them out of the data before validation."""
    fields = {
        "enabled": (
            Annotated[bool, AcceptsInterpolation()] | None,
            Field(None, description="false (or a var that is false): not declared here."),
        ),
        "environments": (
            list[Key] | None,
            Field(None, description="Declared only in these environments of stack.yaml."),
        ),
        "for_each": (
            ForEach | None,
            Field(
                None,
                description="One instance per item of a list of strings, or per key of a"
                ' mapping, addressed KEY["ITEM"]; ${each.key} and ${each.value} (or'
                " ${each.value.FIELD}) in the body.",
            ),
        ),
    }
    if section.key is not None:
        del fields["for_each"]
    return fields


@dataclass(frozen=True)
class _Place:
    """Where a value of an instance is: its template's path as written, its own path, and
    the instance of the nearest for_each around it."""

    written: DataPath
    path: DataPath
    each: Each | None

    def child(self, name: str | int) -> _Place:
        return _Place((*self.written, name), (*self.path, name), self.each)


@dataclass
class Expanded:
    """The file's data with absent resources removed and instances expanded; the issues
    found, the paths left unresolved, and why a reference cannot name a top-level key that
    is not declared here (`(section, key)` -> `is disabled here ...`)."""

    data: Any
    issues: list[Issue] = field(default_factory=list)
    tainted: set[DataPath] = field(default_factory=set)
    unavailable: dict[tuple[str, str], str] = field(default_factory=dict)
    given: dict[str, str] = field(default_factory=dict)
    """For each address in an instance whose value uses a var given on the command line,
    where that is."""

    def is_tainted(self, path: DataPath) -> bool:
        return any(path[: len(t)] == t for t in self.tainted)


def expand(
    document: Document, interpolated: Interpolated, scope: Scope, sections: Sections
) -> Expanded:
    """Expand the data of `interpolated` (a resource file's, with `${each...}` deferred)."""
    expander = _Expander(document, interpolated, scope, sections)
    data = interpolated.data
    if isinstance(data, dict):
        data = dict(data)
        for section in sections.top:
            items = data.get(section.name)
            if isinstance(items, dict):
                place = _Place((section.name,), (section.name,), None)
                data[section.name] = expander.entries(section, place, items)
    expander.outside_bodies()
    found = expander.found
    tainted = interpolated.tainted | found.tainted
    return Expanded(data, found.issues, tainted, expander.unavailable, found.given)


class _Expander:
    def __init__(
        self, document: Document, interpolated: Interpolated, scope: Scope, sections: Sections
    ) -> None:
        self.document = document
        self.deferred = interpolated.deferred
        self.first_tainted = interpolated.tainted
        self.first_given = interpolated.given
        self.scope = scope
        self.sections = sections
        self.found = Interpolated((), None)
        self.unavailable: dict[tuple[str, str], str] = {}
        self.visited: set[DataPath] = set()
        self.covered: list[DataPath] = []
        """Template paths whose deferred strings are not an error when left unvisited: bodies
        of a for_each, and resources not declared here."""
        self.template_marks = list(document.marks.items())
        self.under: dict[DataPath, list[tuple[DataPath, NodeMarks]]] = {}

    def entries(self, section: Section, place: _Place, items: dict[str, Any]) -> dict[str, Any]:
        """The entries of `section` at `place`, instances expanded and absent ones left out."""
        out: dict[str, Any] = {}
        for key, raw in items.items():
            template = (*place.written, key)
            if '["' in key:
                message = (
                    f"'{key}' is not a valid key: use letters, digits, '-' and '_'"
                    " (for_each makes the keys of its instances)"
                )
                self.found.issues.append(self.document.issue(template, message, at_key=True))
                self.covered.append(template)
                continue
            if not isinstance(raw, dict):
                out[key] = raw
                continue
            for instance, each in self._instances(section, place.child(key), key, raw):
                at = _Place(template, (*place.path, instance), each)
                if instance != key:
                    self._alias(template, at.path)
                if self._present(section, at, instance, raw):
                    out[instance] = self._body(section, at, raw)
        return out

    def outside_bodies(self) -> None:
        """Report each `${each...}` written outside the body of a resource with for_each."""
        for path in sorted(self.deferred - self.visited, key=str):
            if any(path[: len(c)] == c for c in self.covered):
                continue
            value = value_at(self.document.data, path)
            if isinstance(value, str):
                interpolate_text(self.document, value, path, self.scope, self.found)

    def _instances(
        self, section: Section, place: _Place, key: str, raw: dict[str, Any]
    ) -> list[tuple[str, Each | None]]:
        """The keys of the entry's instances, and the `each` of their bodies: the entry's own
        key and the `each` around it when it has no for_each."""
        if "for_each" not in raw:
            return [(key, place.each)]
        self.covered.append(place.written)
        at = place.child("for_each")
        value = self._fill(raw["for_each"], at)
        where = at.path
        if self._tainted(where):
            return []
        if section.key is not None:
            message = f"for_each is not available for {section.nouns}: their key is what they are"
            self.found.issues.append(self.document.issue(where, message, at_key=True))
            return []
        items = self._items(where, value)
        if items is None:
            return []
        if section.within is None:
            self.unavailable[(section.name, key)] = (
                f"has for_each: name one of its instances, as '{instance_key(key, items[0][0])}'"
                if items
                else "has for_each with no instances in this environment"
            )
        return [(instance_key(key, k), Each(k, v)) for k, v in items]

    def _items(self, where: DataPath, value: Any) -> list[tuple[str, Any]] | None:
        """The instance keys and values of a for_each's value, or None when it is invalid."""
        items: list[tuple[str, Any]] = []
        problems: list[Issue] = []
        if isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, str):
                    message = f"a for_each list holds strings, got {describe(item)}"
                    problems.append(self.document.issue((*where, index), message))
                elif item in (k for k, _ in items):
                    message = f"'{item}' is listed more than once"
                    problems.append(self.document.issue((*where, index), message))
                else:
                    items.append((item, item))
        elif isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, list) or item is None:
                    message = (
                        f"a for_each mapping's values are scalars or mappings, got {describe(item)}"
                    )
                    problems.append(self.document.issue((*where, name), message))
                items.append((name, item))
        else:
            message = f"for_each takes a list of strings or a mapping, got {describe(value)}"
            problems.append(self.document.issue(where, message))
        for index, (name, _) in enumerate(items):
            bad = _bad_key(name)
            if any(secret in name for secret in self.scope.sensitive):
                bad = "holds a sensitive var's value: keys are shown in addresses and plans"
            if bad:
                at = (*where, name) if isinstance(value, dict) else (*where, index)
                issue = self.document.issue(at, f"instance key {name!r} {bad}", at_key=True)
                problems.append(issue)
        self.found.issues += problems
        return None if problems else items

    def _present(self, section: Section, place: _Place, key: str, raw: dict[str, Any]) -> bool:
        enabled = self._written(raw, "enabled", place)
        names = self._written(raw, "environments", place)
        why = (enabled and self._disabled(*enabled)) or (names and self._elsewhere(*names))
        if not why:
            return True
        self.covered.append(place.written)
        if section.within is None:
            self.unavailable[(section.name, key)] = why
        return False

    def _written(
        self, raw: dict[str, Any], name: str, place: _Place
    ) -> tuple[DataPath, Any] | None:
        """The instance path and value of field `name` of an entry, when it is written and
        resolved."""
        if name not in raw:
            return None
        at = place.child(name)
        value = self._fill(raw[name], at)
        return None if self._tainted(at.path) else (at.path, value)

    def _disabled(self, at: DataPath, value: Any) -> str | None:
        if not isinstance(value, bool):
            message = f"expected true or false, got {describe(value)}"
            self.found.issues.append(self.document.issue(at, message))
            return None
        return None if value else "is disabled here (enabled: false)"

    def _elsewhere(self, at: DataPath, names: Any) -> str | None:
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            message = f"expected a list of environment names, got {describe(names)}"
            self.found.issues.append(self.document.issue(at, message))
            return None
        chosen, declared = self.scope.environment, self.scope.environments
        if chosen is None:
            return None
        for index, name in enumerate(names):
            if name not in declared:
                hint = did_you_mean(name, list(declared))
                known = one_of(declared) if declared else "no environments"
                message = f"unknown environment '{name}'{hint}; stack.yaml declares {known}"
                self.found.issues.append(self.document.issue((*at, index), message))
        if chosen in names:
            return None
        listed = one_of(names) if names else "none"
        return f"is present only in environments {listed} (this is {chosen})"

    def _body(self, section: Section, place: _Place, raw: dict[str, Any]) -> dict[str, Any]:
        held = {h.name: h for h in self.sections.held_by(section.name)}
        out: dict[str, Any] = {}
        for name, value in raw.items():
            if name in PRESENCE:
                continue
            if name in held and isinstance(value, dict):
                out[name] = self.entries(held[name], place.child(name), value)
            else:
                out[name] = self._fill(value, place.child(name))
        return out

    def _fill(self, value: Any, place: _Place) -> Any:
        """`value` with its deferred strings resolved for the `each` of `place`."""
        if not self.deferred:
            return value
        if isinstance(value, dict):
            return {k: self._fill(v, place.child(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fill(v, place.child(i)) for i, v in enumerate(value)]
        if isinstance(value, str) and place.written in self.deferred:
            self.visited.add(place.written)
            scope = replace(self.scope, each=place.each)
            return interpolate_text(self.document, value, place.path, scope, self.found)
        return value

    def _tainted(self, path: DataPath) -> bool:
        return any(path[: len(t)] == t for t in self.found.tainted | self.first_tainted)

    def _alias(self, template: DataPath, path: DataPath) -> None:
        """Positions, unresolved paths and vars given on the command line of the instance at
        `path` are its template's."""
        for suffix, marks in self._written_under(template):
            self.document.marks.setdefault((*path, *suffix), marks)
        size = len(template)
        for tainted in self.first_tainted:
            if tainted[:size] == template:
                self.found.tainted.add((*path, *tainted[size:]))
        written, instance = format_address(template), format_address(path)
        for address, origin in self.first_given.items():
            if address == written or address.startswith((f"{written}.", f"{written}[")):
                self.found.given[instance + address[len(written) :]] = origin

    def _written_under(self, template: DataPath) -> list[tuple[DataPath, NodeMarks]]:
        """The marks of the template's paths, by path below it (worked out once for all its
        instances)."""
        found = self.under.get(template)
        if found is None:
            size = len(template)
            found = self.under[template] = [
                (written[size:], marks)
                for written, marks in self.template_marks
                if written[:size] == template
            ]
        return found


def _bad_key(key: str) -> str | None:
    if not key:
        return "must not be empty"
    for character, name in (('"', "a double quote"), ("\\", "a backslash"), ("\n", "a newline")):
        if character in key:
            return f"must not hold {name}"
    return None
