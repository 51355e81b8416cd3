"""The edits of a pull written into the stack's own files.

Each manifest is edited in place (`export/roundtrip.py`): the value at the edit's path, a
text file behind `{file: ...}` line by line, an item into or out of its list by identity.
What is not edited keeps its comments, key order and quoting; a file no edit touches is not
written. A value written as a template (`${var.region}`) is never replaced by a literal: the
var that would change is named instead, and the field stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bimpe_iac.engine.merge import Edit, Item, Step, ValuePath, path_text
from bimpe_iac.engine.pull import PullReport
from bimpe_iac.export import roundtrip
from bimpe_iac.export.templates import Templates
from bimpe_iac.manifest import Stack
from bimpe_iac.manifest.interpolate import Reference, TemplateError, parse_template
from bimpe_iac.model.export import Obj
from bimpe_iac.model.identity import identity_key
from bimpe_iac.model.sections import holder_of, join_address, split_address
from bimpe_iac.pull.comments import attach, detach, rearranged
from bimpe_iac.pull.new_entries import NewEntries


@dataclass
class Pulled:
    """The stack's files a pull changes (path relative to the stack -> new text), and what
    it could not write, for the user (what the state records follows from the files)."""

    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Unwritable(Exception):
    """An edit that cannot be written; the message says why, for the user."""


def _is_file_reference(value: Any) -> bool:
    return isinstance(value, dict) and list(value) == ["file"]


def _vars_of(value: Any) -> list[str]:
    if not isinstance(value, str) or "$" not in value:
        return []
    try:
        parts = parse_template(value)
    except TemplateError:
        return []
    return [f"{part.kind}.{part.name}" for part in parts if isinstance(part, Reference)]


def patch_text(current: str, new: str) -> str:
    """`current` (a file's text) with the lines that differ from `new` replaced by `new`'s,
    compared the way the platform stores text (without trailing whitespace at the end, line
    ends as LF); the file's own line ends and its unchanged lines are kept."""
    ending = "\r\n" if "\r\n" in current else "\n"
    old_lines = current.replace("\r\n", "\n").split("\n")
    trailing = len(old_lines) > 1 and old_lines[-1] == ""
    if trailing:
        old_lines.pop()
    new_lines = new.split("\n")
    compared = "\n".join(old_lines).rstrip().split("\n")
    matcher = SequenceMatcher(None, compared, new_lines, autojunk=False)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out += old_lines[i1:i2] if tag == "equal" else new_lines[j1:j2]
    # What the comparison left out (blank lines and spaces at the end) stays out: it is what
    # the platform does not store.
    return ending.join(out) + (ending if trailing or not out else "")


@dataclass(frozen=True)
class _Within:
    """A list in the manifests, with the mapping (or list) holding it and its key there."""

    seq: Any
    parent: Any
    key: Any

    def detach(self) -> list[str]:
        if not isinstance(self.seq, CommentedSeq):
            return []
        return detach(self.seq, self.parent, self.key)

    def attach(self, leading: list[str]) -> None:
        if isinstance(self.seq, CommentedSeq) and leading:
            attach(self.seq, self.parent, self.key, leading)


@dataclass
class _Writer:
    stack: Stack
    templates: Templates
    layout: dict[str, Obj]
    """The live objects in manifest form, by address (`export/against.flatten`)."""
    texts: dict[str, str]
    """Text files as read or as written so far, by path relative to the stack."""
    out: Pulled
    documents: dict[str, Any] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    # Finding things ---------------------------------------------------------------------

    def document(self, address: str) -> tuple[str, Any] | None:
        location = self.stack.locations.get(address)
        root = self.stack.directory.resolve()
        if location is None or not location.file.resolve().is_relative_to(root):
            return None
        name = location.file.resolve().relative_to(root).as_posix()
        if name not in self.documents:
            self.documents[name] = roundtrip.load((root / name).read_text("utf-8"))
        return name, self.documents[name]

    def node(self, address: str) -> tuple[str, CommentedMap]:
        found = self.document(address)
        data = found[1] if found else None
        for part in split_address(address) or []:
            data = data.get(part) if isinstance(data, dict) else None
        if found is None or not isinstance(data, CommentedMap):
            raise _Unwritable("declared through a module or a for_each, which pull cannot edit yet")
        return found[0], data

    def step(self, container: Any, step: Step) -> Any:
        if isinstance(step, Item):
            return container[self.index(container, step)]
        if isinstance(step, int):
            if not isinstance(container, list) or step >= len(container):
                raise _Unwritable("the list is shorter in the manifests")
            return container[step]
        if not isinstance(container, dict) or step not in container:
            raise _Unwritable(f"'{step}' is not written in the manifests")
        return container[step]

    def index(self, container: Any, item: Item) -> int:
        if isinstance(container, list):
            for index, value in enumerate(container):
                if isinstance(value, dict) and self.templates.render(value.get(item.key)) == (
                    item.value
                ):
                    return index
        raise _Unwritable(f"no item with {item.key} '{item.value}' in the manifests")

    def guard(self, value: Any) -> None:
        """Refuse to write through a template."""
        names = _vars_of(value)
        if names:
            raise _Unwritable("__template__:" + ", ".join(sorted(set(names))))

    # Writing ----------------------------------------------------------------------------

    def manifest_form(self, address: str, path: ValuePath, value: Any) -> Any:
        """The live value at `path` as a manifest writes it (the export form, without server
        defaults), or `value` itself when the export form has nothing there."""
        data: Any = self.layout.get(address)
        for step in path:
            if isinstance(step, Item) and isinstance(data, list):
                data = next(
                    (i for i in data if isinstance(i, dict) and i.get(step.key) == step.value),
                    None,
                )
            elif isinstance(step, int) and isinstance(data, list) and step < len(data):
                data = data[step]
            elif isinstance(step, str) and isinstance(data, dict):
                data = data.get(step)
            else:
                data = None
        if _is_file_reference(data):
            return value
        return data if data is not None else value

    def text_file(self, manifest: str, reference: Any, text: str) -> None:
        directory = (self.stack.directory / manifest).parent
        path = (directory / str(reference["file"])).resolve()
        name = path.relative_to(self.stack.directory.resolve()).as_posix()
        current = self.texts.get(name)
        if current is None:
            current = path.read_text("utf-8")
        patched = patch_text(current, text)
        if patched != current:
            self.texts[name] = patched
            self.out.files[name] = patched

    def apply(self, address: str, edit: Edit) -> None:
        manifest, node = self.node(address)
        lists = edit.op in {"insert", "order", "add", "discard"}
        leading = edit.path if lists else edit.path[:-1]
        container: Any = node
        parent: Any = None
        for step in leading:
            if _is_file_reference(container):
                raise _Unwritable("a file reference holds no fields")
            parent = container
            container = self.step(container, step)
            self.guard(container)
        if lists:
            self.list_edit(address, edit, _Within(container, parent, leading[-1]))
        elif edit.op == "delete":
            self.delete(container, parent, leading[-1] if leading else None, edit.path[-1])
        else:
            self.set(address, manifest, edit, container, edit.path[-1])
        self.changed.add(manifest)

    def set(self, address: str, manifest: str, edit: Edit, container: Any, last: Step) -> None:
        if isinstance(last, Item):
            index = self.index(container, last)
            old = container[index]
            self.guard(old)
            form = self.manifest_form(address, edit.path, edit.value)
            container[index] = roundtrip.like(old, self.templates.written(form))
            return
        old = container.get(last) if isinstance(container, dict) else self.step(container, last)
        if _is_file_reference(old) and isinstance(edit.value, str):
            self.text_file(manifest, old, edit.value)
            return
        self.guard(old)
        if isinstance(old, str) and self.templates.render(old) == edit.value:
            return
        form = self.manifest_form(address, edit.path, edit.value)
        container[last] = roundtrip.like(old, self.templates.written(form))

    def delete(self, container: Any, parent: Any, key: Any, last: Step) -> None:
        if isinstance(last, Item):
            self.remove(_Within(container, parent, key), self.index(container, last))
        elif isinstance(container, dict) and last in container:
            self.guard(container[last])
            del container[last]

    def list_edit(self, address: str, edit: Edit, where: _Within) -> None:
        container = where.seq
        if not isinstance(container, list):
            raise _Unwritable("the manifests do not write it as a list")
        if edit.op == "add":
            container.append(self.templates.written(edit.value))
        elif edit.op == "discard":
            for index, value in enumerate(container):
                if self.templates.render(value) == edit.value:
                    del container[index]
                    return
        elif edit.op == "insert":
            item = edit.value
            key = identity_key([item])
            assert key is not None
            form = self.manifest_form(address, (*edit.path, Item(key, item[key])), item)
            position = 0
            for before in edit.after:
                try:
                    position = self.index(container, Item(key, before)) + 1
                    break
                except _Unwritable:
                    continue
            order: list[int | None] = list(range(len(container)))
            order.insert(position, None)
            leading = where.detach()
            container.insert(position, roundtrip.like(None, self.templates.written(form)))
            where.attach(rearranged(leading, order))
        else:
            self.order(where, edit)

    def remove(self, where: _Within, index: int) -> None:
        leading = where.detach()
        order: list[int | None] = [i for i in range(len(where.seq)) if i != index]
        del where.seq[index]
        where.attach(rearranged(leading, order))

    def order(self, where: _Within, edit: Edit) -> None:
        container = where.seq
        key = identity_key(container)
        if key is None:
            raise _Unwritable("the manifests' list has items without an identity")
        wanted = [self.index(container, Item(key, value)) for value in edit.value]
        order: list[int | None] = list(range(len(container)))
        for place, moved in zip(sorted(wanted), wanted, strict=True):
            order[place] = moved
        leading = where.detach()
        items = [container[i] for i in range(len(container))]
        comments = {i: container.ca.items.pop(i, None) for i in range(len(container))}
        for place, old in enumerate(order):
            assert old is not None
            container[place] = items[old]
            if comments[old] is not None:
                container.ca.items[place] = comments[old]
        where.attach(rearranged(leading, order))


def write_pulls(
    stack: Stack,
    report: PullReport,
    layout: dict[str, Obj],
    templates: Templates,
    new: NewEntries,
) -> Pulled:
    """Write what `report` pulls (its conflicts are not written), and the new entries that go
    into the entries holding them."""
    out = Pulled()
    writer = _Writer(stack, templates, layout, {}, out)
    for address, data in new.in_holders.items():
        holder = holder_of(address)
        section = stack.sections.section_of(address)
        assert holder is not None and section is not None
        try:
            manifest, node = writer.node(holder)
        except _Unwritable as exc:
            out.notes.append(f"{address}: made in the Console, not written: {exc}")
            continue
        if node.get(section.name) is None:
            node[section.name] = CommentedMap()
        key = (split_address(address) or [address])[-1]
        node[section.name][key] = roundtrip.like(None, writer.templates.written(data))
        writer.changed.add(manifest)
    for address, edit in report.edits:
        entry_address, edit = _on_entry(stack, address, edit)
        try:
            writer.apply(entry_address, edit)
        except _Unwritable as exc:
            out.notes.append(_note(address, edit, str(exc)))
    for name in sorted(writer.changed):
        out.files[name] = roundtrip.dump(writer.documents[name])
    return out


def _on_entry(stack: Stack, address: str, edit: Edit) -> tuple[str, Edit]:
    """The declared entry an edit is written in, with its path there in manifest keys: the
    address itself, or the entry holding the address another kind manages from the entry's
    fields (an agent's `actions`), as the section's `manifest_keys` name them."""
    field_name = str(edit.path[0])
    entry, name = address, field_name
    if address not in stack.resources:
        parts = split_address(address) or []
        entry, name = join_address(*parts[:-1]), f"{parts[-1]}.{field_name}"
    section = stack.sections.section_of(entry)
    keys = dict(section.manifest_keys) if section is not None else {}
    key = keys.get(name, name)
    return entry, Edit(edit.op, (key, *edit.path[1:]), edit.value, edit.after)


def _note(address: str, edit: Edit, why: str) -> str:
    where = f"{address}.{path_text(edit.path)}"
    if why.startswith("__template__:"):
        names = why.removeprefix("__template__:")
        shown = (
            f" to {edit.value!r}"
            if edit.op == "set" and not isinstance(edit.value, dict | list)
            else ""
        )
        return (
            f"{where}: changed in the Console{shown}, but the manifests write it with"
            f" ${{{names}}}; change the var by hand (pull does not replace a template"
            " with a literal)"
        )
    return f"{where}: changed in the Console, not written: {why}"


__all__ = ["Pulled", "patch_text", "write_pulls"]
