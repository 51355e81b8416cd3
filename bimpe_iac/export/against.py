"""A team written as the stack that manages it, so that `diff -r` against that stack shows
only what differs on the team.

Every file of the stack is copied byte for byte. A manifest declaring a resource the plan
finds different, gone, or given something new (a knowledge base added to an agent) is
rewritten in place (`roundtrip.py`): only the differing values change, resources gone from
the team are removed, new ones nested in a declared holder are added to it. A value the
stack writes as a template stays the template where the live value is what it renders to;
one reading a sensitive var is never replaced by the live value. A text file behind
`{file: ...}` whose live text differs is rewritten. Top-level resources the state does not
know go to `exported.yaml`. Which resources differ is the plan's business (the engine's
comparison, with its normalisation and write-only fields): a resource the plan leaves
unchanged is left as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bimpe_iac.export import roundtrip
from bimpe_iac.export.layout import Layout
from bimpe_iac.export.templates import Templates
from bimpe_iac.export.write import dump, env_name
from bimpe_iac.manifest import Stack
from bimpe_iac.manifest.settings import STACK_FILE, WORK_DIR
from bimpe_iac.model.export import Obj, VarReference
from bimpe_iac.model.plan import Plan
from bimpe_iac.model.sections import Sections, holder_of, join_address, split_address, top_of
from bimpe_iac.resources.export_keys import as_file

NEW_FILE = "exported.yaml"
"""Where the resources the stack does not declare are written."""
_SKIPPED = {WORK_DIR, ".git"}


@dataclass
class Written:
    files: dict[str, bytes] = field(default_factory=dict)
    """Every file of the written stack by path relative to its directory."""
    warnings: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    """The files that differ from the stack's."""
    kept: list[str] = field(default_factory=list)
    """The resources that differ on the team but are kept as written."""
    variables: dict[str, str] = field(default_factory=dict)
    """The credential vars declared for new resources, which the user must set."""


def flatten(layout: Layout, sections: Sections) -> dict[str, tuple[str, Obj]]:
    """Every laid-out entry by address: its section and its own data (without what it holds)."""
    out: dict[str, tuple[str, Obj]] = {}

    def walk(section: str, entries: dict[str, Obj], holder: str | None) -> None:
        held = sections.held_by(section)
        for key, data in entries.items():
            address = sections.address(section, key, holder)
            own = {k: v for k, v in data.items() if k not in {h.name for h in held}}
            out[address] = (section, own)
            for inner in held:
                walk(inner.name, data.get(inner.name) or {}, address)

    for section in sections.top:
        walk(section.name, layout.section(section.name), None)
    return out


def _entry_of(address: str, sections: Sections) -> str | None:
    """The declared entry a change is about: itself, or the agent whose `live_status` or
    `actions` it is."""
    if sections.section_of(address) is not None:
        return address
    parts = split_address(address)
    return join_address(*parts[:-1]) if parts and len(parts) > 2 else None


def differences(plan: Plan, sections: Sections) -> tuple[set[str], set[str]]:
    """The declared entries that differ on the team, and those gone from it."""
    differing: set[str] = set()
    gone: set[str] = set()
    for change in plan.changes:
        entry = _entry_of(change.address, sections)
        if entry is None or change.action == "noop":
            continue
        if change.action == "create" and entry == change.address:
            gone.add(entry)
        else:
            differing.add(entry)
    return differing - gone, gone


def _files_of(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not _SKIPPED & set(path.relative_to(directory).parts)
    }


def _is_file_reference(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["file"]


def _node(data: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _found(value: Any, pick: Callable[[Any], str | None]) -> Iterator[str]:
    """What `pick` finds in `value` and, where it finds nothing, in what `value` holds."""
    picked = pick(value)
    if picked is not None:
        yield picked
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _found(item, pick)


def file_references(value: Any) -> Iterator[str]:
    return _found(value, lambda v: str(v["file"]) if _is_file_reference(v) else None)


def var_references(value: Any) -> Iterator[str]:
    return _found(value, lambda v: v.name if isinstance(v, VarReference) else None)


@dataclass
class _Sync:
    """Bring one declared entry's written values to the live ones."""

    templates: Templates
    stack: Stack
    live_files: dict[str, str]
    out: Written

    def text(self, value: Any) -> Any:
        return self.live_files.get(str(value["file"])) if _is_file_reference(value) else value

    def entry(self, node: dict[str, Any], live: Obj, address: str) -> bool:
        changed = [
            self.value(node, key, live[key], f"{address}.{key}")
            for key in list(node)
            if key in live
        ]
        return any(changed)

    def value(self, container: Any, key: Any, have: Any, where: str) -> bool:
        raw = container[key]
        if _is_file_reference(raw):
            self.text_file(str(raw["file"]), self.text(have))
            return False
        have = self.text(have)
        if isinstance(raw, dict) and isinstance(have, dict):
            found = [self.value(raw, k, have[k], f"{where}.{k}") for k in list(raw) if k in have]
            return any(found)
        if isinstance(raw, list) and isinstance(have, list):
            if len(raw) == len(have) and all(isinstance(i, dict) for i in (*raw, *have)):
                return any([self.value(raw, i, have[i], f"{where}[{i}]") for i in range(len(raw))])
            if self.same_set(raw, have):
                return False
        elif not isinstance(raw, dict | list) and not isinstance(have, dict | list):
            if self.templates.render(raw) == have:
                return False
            if self.templates.reads_sensitive(raw):
                self.out.warnings.append(
                    f"{where}: the team's value is not what the stack's sensitive var gives;"
                    " the reference is kept and the value is not written"
                )
                return False
        container[key] = roundtrip.like(raw, self.templates.written(have))
        return True

    def same_set(self, raw: list[Any], have: list[Any]) -> bool:
        scalars = all(not isinstance(i, dict | list) for i in (*raw, *have))
        rendered = sorted(map(repr, (self.templates.render(i) for i in raw)))
        return scalars and rendered == sorted(map(repr, have))

    def text_file(self, relative: str, text: Any) -> None:
        if not isinstance(text, str):
            return
        path = (self.stack.directory / relative).resolve()
        name = path.relative_to(self.stack.directory.resolve()).as_posix()
        current = self.out.files.get(name, b"").decode("utf-8")
        if current.rstrip("\n") != text.rstrip("\n"):
            self.out.files[name] = as_file(text).encode("utf-8")
            self.out.rewritten.append(name)


def as_stack(
    stack: Stack,
    plan: Plan,
    layout: Layout,
    templates: Templates,
    *,
    schema: str | None,
    only: frozenset[str] | None = None,
) -> Written:
    """The files of `stack` changed only where the team differs (see the module's doc);
    with `only`, only the resources under those top-level addresses."""
    sections = stack.sections
    out = Written(files=_files_of(stack.directory))
    live = flatten(layout, sections)
    differing, gone = differences(plan, sections)
    sync = _Sync(templates, stack, layout.files, out)
    documents: dict[str, Any] = {}
    changed: set[str] = set()
    root = stack.directory.resolve()

    def document(address: str) -> tuple[str, Any] | None:
        location = stack.locations.get(address)
        inside = location is not None and location.file.resolve().is_relative_to(root)
        name = location.file.resolve().relative_to(root).as_posix() if location and inside else ""
        if name not in out.files:
            return None
        if name not in documents:
            documents[name] = roundtrip.load(out.files[name].decode("utf-8"))
        return name, documents[name]

    def kept(address: str) -> None:
        out.kept.append(address)
        out.warnings.append(
            f"{address}: declared in a way export cannot rewrite yet; kept as written, though"
            " the team differs"
        )

    def chosen(address: str) -> bool:
        return only is None or top_of(address) in only

    for address in stack.resources:
        if not chosen(address):
            continue
        if address not in gone and address not in differing:
            continue
        if address not in gone and address not in live:
            kept(address)  # laid out by no key of its own: a module's use
            continue
        holder = holder_of(address)
        if holder in gone:
            continue
        found = document(address)
        parts = split_address(address) or []
        node = _node(found[1], parts) if found else None
        if found is None or not isinstance(node, dict):
            kept(address)
        elif address in gone:
            del _node(found[1], parts[:-1])[parts[-1]]
            changed.add(found[0])
        elif sync.entry(node, live[address][1], address):
            changed.add(found[0])

    new_top: dict[str, dict[str, Obj]] = {}
    new_data: list[Any] = []
    for address, (section, _) in live.items():
        holder = holder_of(address)
        if address in stack.resources or (holder is not None and holder not in stack.resources):
            continue
        if not chosen(address):
            continue
        key = (split_address(address) or [address])[-1]
        full = _with_held(layout, sections, address)
        new_data.append(full)
        if holder is None:
            new_top.setdefault(section, {})[key] = full
            continue
        found = document(holder)
        node = _node(found[1], split_address(holder) or []) if found else None
        if found is None or not isinstance(node, dict):
            kept(holder)
            continue
        node.setdefault(section, {})[key] = roundtrip.like(None, sync.templates.written(full))
        changed.add(found[0])

    for name in sorted(changed):
        out.files[name] = roundtrip.dump(documents[name]).encode("utf-8")
        out.rewritten.append(name)
    if new_top:
        text = dump(sync.templates.written(new_top), schema)
        out.files[NEW_FILE] = text.encode("utf-8")
        out.rewritten.append(NEW_FILE)
    for path in {p for data in new_data for p in file_references(data)}:
        if path in layout.files and path not in out.files:
            out.files[path] = layout.files[path].encode("utf-8")
    needed = {name for data in new_data for name in var_references(data)}
    out.variables = _declare_vars(out, {v: w for v, w in layout.variables.items() if v in needed})
    if out.variables:
        out.rewritten.append(STACK_FILE)
    return out


def _with_held(layout: Layout, sections: Sections, address: str) -> Obj:
    """The laid-out data at `address`, with what it holds."""
    parts = split_address(address) or []
    data: Any = layout.sections
    for part in parts:
        data = data[part]
    assert isinstance(data, dict)
    return data


def _declare_vars(out: Written, variables: dict[str, str]) -> dict[str, str]:
    """Declare in stack.yaml each credential var new resources read that it does not declare."""
    settings = roundtrip.load(out.files[STACK_FILE].decode("utf-8"))
    declared = set(settings.get("vars") or {})
    for environment in (settings.get("environments") or {}).values():
        declared |= set((environment or {}).get("vars") or {})
    missing = {var: what for var, what in sorted(variables.items()) if var not in declared}
    if not missing:
        return {}
    if settings.get("vars") is None:
        settings["vars"] = {}
    for var, what in missing.items():
        settings["vars"][var] = {
            "value": f"${{env.{env_name(var)}}}",
            "sensitive": True,
            "description": what,
        }
    out.files[STACK_FILE] = roundtrip.dump(settings).encode("utf-8")
    return missing
