"""Safe YAML loading that remembers where every key and value was written.

A file becomes a `Document`: plain Python data (dicts with string keys, lists, scalars)
plus the position of each value and of the key that names it, by data path. Mapping
keys are always strings, taken as written, so `+2348012345678:` stays a phone number.

Only the YAML 1.2 core scalars are recognised: `true`/`false` are booleans but `yes`,
`no`, `on` and `off` stay strings, and dates stay strings. Alias use and the size of
the expanded tree are bounded, so a small file cannot expand into a huge one, and so is
the nesting depth, so a file of brackets cannot exhaust the stack of whatever walks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from bimpe_iac.manifest.issues import DataPath, format_address
from bimpe_iac.manifest.text_files import TextFileError, read_text
from bimpe_iac.model.issues import Issue, Position

MAX_ALIASES = 100
MAX_NODES = 100_000
MAX_DEPTH = 100
_DEPTH_MESSAGE = f"invalid YAML: values nest more than {MAX_DEPTH} levels deep"

_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")
)
_COLLECTION_TAGS = frozenset(("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"))
# A `\ud800` escape gives half of a UTF-16 pair, which is no character and cannot be written out.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_MESSAGE = "invalid YAML: a \\ud800 to \\udfff escape is half of a UTF-16 pair"


class _LimitExceeded(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class _Alias(Node):
    """An alias as written: the node it names, and where the alias itself is."""

    def __init__(self, target: Node, mark: yaml.Mark) -> None:
        super().__init__(target.tag, target.value, mark, mark)
        self.target = target


class _Limits(Composer):
    """Composition that bounds nesting depth and alias use, shared by both loaders.

    It stands before the parser in each loader's bases, so PyYAML's composer (not
    libyaml's) builds the nodes from whichever parser's events."""

    aliases = 0
    depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        events: Any = self
        if not events.check_event(yaml.AliasEvent):
            if self.depth >= MAX_DEPTH:
                raise _LimitExceeded(_DEPTH_MESSAGE, _mark_position(events.peek_event().start_mark))
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        mark = events.peek_event().start_mark
        target = super().compose_node(parent, index)
        assert target is not None
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            message = f"invalid YAML: more than {MAX_ALIASES} aliases in one file"
            raise _LimitExceeded(message, _mark_position(mark))
        return _Alias(target, mark)


class _PythonLoader(_Limits, yaml.SafeLoader):
    """PyYAML's own parser: slow, but its error messages are the ones we report."""


_FastLoader: type[Any] | None = None
if yaml.__with_libyaml__:  # PyYAML's wheels ship it; a build from source may not
    from yaml._yaml import CParser

    class _LibyamlLoader(_Limits, CParser, SafeConstructor, Resolver):
        """libyaml's parser with PyYAML's composer, so limits and alias sites still apply."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _FastLoader = _LibyamlLoader

_Limits.yaml_implicit_resolvers = {  # type: ignore[attr-defined]
    first: [
        (tag, rx) for tag, rx in resolvers if tag not in (_BOOL_TAG, "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Limits.yaml_implicit_resolvers.setdefault(_first, []).append(  # type: ignore[attr-defined]
        (_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
    )


class NodeMarks(NamedTuple):
    """Where a value starts and ends, and where the key naming it starts (None in a list)."""

    key: Position | None
    start: Position
    end: Position


@dataclass
class Document:
    file: Path
    lines: list[str]
    data: Any
    marks: dict[DataPath, NodeMarks] = field(default_factory=dict)

    def position(self, path: DataPath, *, at_key: bool = False) -> Position:
        """The position of the value at `path`, or of its key; the nearest written ancestor
        when `path` itself is absent (a missing field is reported at its parent's key)."""
        for end in range(len(path), -1, -1):
            marks = self.marks.get(path[:end])
            if marks is None:
                continue
            if end < len(path) or at_key:
                return marks.key or marks.start
            return marks.start
        return Position(1, 1)

    def issue(self, path: DataPath, message: str, *, at_key: bool = False) -> Issue:
        return Issue(self.file, self.position(path, at_key=at_key), format_address(path), message)


def value_at(data: Any, path: DataPath) -> Any:
    """The value at `path` in loaded data, or None when there is none."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def load_yaml(
    path: Path, *, within: Path | None = None, root: str = "stack"
) -> tuple[Document | None, list[Issue]]:
    """Load one YAML file; with `within`, only if it lies in that directory, symbolic links
    followed. A file that cannot be read or parsed gives no document."""
    try:
        text = read_text(path, within=within, root=root)
    except TextFileError as exc:
        return None, [Issue(path, exc.position, "", f"file {exc.reason}")]
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> tuple[Document | None, list[Issue]]:
    """Parse `text`, the contents of the file at `path`, as `load_yaml` does."""
    lines = text.splitlines()
    if _FastLoader is not None:
        try:
            return _compose(_FastLoader(text), Document(path, lines, None))
        except Exception:
            pass  # PyYAML's own parser then reports the problem, in its words
    try:
        return _compose(_PythonLoader(text), Document(path, lines, None))
    except yaml.MarkedYAMLError as exc:
        return None, [Issue(path, _mark_position(exc.problem_mark), "", _syntax_message(exc))]
    except yaml.reader.ReaderError as exc:
        position = _offset_position(text, exc.position)
        reason = f"unacceptable character #x{exc.character:04x}"
        return None, [Issue(path, position, "", f"invalid YAML: {reason}")]
    except _LimitExceeded as exc:
        return None, [Issue(path, exc.position, "", exc.message)]


def _compose(loader: Any, document: Document) -> tuple[Document | None, list[Issue]]:
    try:
        root = loader.get_single_node()
        if root is None:
            return document, []
        builder = _Builder(loader, document)
        document.data = builder.build(root, (), None)
        return document, builder.issues
    finally:
        loader.dispose()


class _Builder:
    """Turns composed nodes into plain data, recording marks and problems as it goes."""

    def __init__(self, loader: Any, document: Document) -> None:
        self.loader = loader
        self.document = document
        self.issues: list[Issue] = []
        self.nodes = 0
        self.open: set[int] = set()
        # The outermost alias being expanded, where a runaway expansion is reported.
        self.expanding: Position | None = None

    def build(self, node: Node, path: DataPath, key: Position | None) -> Any:
        if len(path) >= MAX_DEPTH:
            # Aliases nested in aliases can build a tree deeper than any written in the file.
            raise _LimitExceeded(_DEPTH_MESSAGE, self.expanding or _mark_position(node.start_mark))
        if isinstance(node, _Alias):
            return self._expand(node, path, key)
        self._count(node)
        start = _mark_position(node.start_mark)
        self.document.marks[path] = NodeMarks(key, start, _mark_position(node.end_mark))
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _COLLECTION_TAGS:
            self._problem(path, f"unsupported YAML tag '{_short_tag(node.tag)}'")
        self.open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i), None) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            return self._mapping(node, path)
        finally:
            self.open.discard(id(node))

    def _expand(self, alias: _Alias, path: DataPath, key: Position | None) -> Any:
        site = _mark_position(alias.start_mark)
        if id(alias.target) in self.open:
            raise _LimitExceeded("invalid YAML: an alias refers to a node that contains it", site)
        outermost = self.expanding is None
        if outermost:
            self.expanding = site
        try:
            value = self.build(alias.target, path, key)
        finally:
            if outermost:
                self.expanding = None
        self.document.marks[path] = NodeMarks(key, site, site)
        return value

    def _count(self, node: Node, *, at: Position | None = None) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            position = self.expanding or at or _mark_position(node.start_mark)
            message = f"invalid YAML: aliases expand to more than {MAX_NODES} values"
            raise _LimitExceeded(message, position)

    def _scalar(self, node: ScalarNode, path: DataPath) -> Any:
        if _SURROGATE.search(node.value):
            self._problem(path, _SURROGATE_MESSAGE)
            return _SURROGATE.sub("\ufffd", node.value)
        if node.tag not in _SCALAR_TAGS:
            self._problem(path, f"unsupported YAML tag '{_short_tag(node.tag)}'")
            return node.value
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self._problem(path, f"invalid YAML: {exc.problem}")
            return node.value

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: dict[str, int] = {}
        merge = next((k for k, _ in node.value if k.tag == _MERGE_TAG), None)
        for key_node, value_node, merged in self._pairs(node, path, merged=False):
            if merged and merge is not None:
                # A merged pair costs work even when a key written before it wins.
                self._count(key_node, at=_mark_position(merge.start_mark))
            key_node = key_node.target if isinstance(key_node, _Alias) else key_node
            key_position = _mark_position(key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                self._problem_at(key_position, path, "a mapping key must be a plain string")
                continue
            key = key_node.value
            if _SURROGATE.search(key):
                self._problem_at(key_position, path, _SURROGATE_MESSAGE)
                continue
            if key in result:
                if not merged and key in explicit:
                    message = f"duplicate key '{key}' (first written at line {explicit[key]})"
                    self._problem_at(key_position, path, message)
                continue
            if not merged:
                explicit[key] = key_position.line
            result[key] = self.build(value_node, (*path, key), key_position)
        return result

    def _pairs(
        self, node: MappingNode, path: DataPath, *, merged: bool
    ) -> Iterator[tuple[Node, Node, bool]]:
        """The mapping's own pairs first, then those merged in with `<<`, which yield to them."""
        sources: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources.append(value_node)
            else:
                yield key_node, value_node, merged
        for source in sources:
            source = source.target if isinstance(source, _Alias) else source
            items = source.value if isinstance(source, SequenceNode) else [source]
            for item in items:
                item = item.target if isinstance(item, _Alias) else item
                if not isinstance(item, MappingNode):
                    self._problem(path, "invalid YAML: '<<' merges a mapping or a list of mappings")
                    continue
                if id(item) in self.open:
                    raise _LimitExceeded(
                        "invalid YAML: an alias refers to a node that contains it",
                        _mark_position(item.start_mark),
                    )
                self._count(item)
                self.open.add(id(item))
                try:
                    yield from self._pairs(item, path, merged=True)
                finally:
                    self.open.discard(id(item))

    def _problem(self, path: DataPath, message: str) -> None:
        self.issues.append(self.document.issue(path, message))

    def _problem_at(self, position: Position, path: DataPath, message: str) -> None:
        self.issues.append(Issue(self.document.file, position, format_address(path), message))


def reads_as_text(plain: str) -> bool:
    """Whether `plain`, written unquoted, is read back as that text (not a number, a boolean or
    null)."""
    resolver: Any = _PythonLoader("")
    tag = resolver.resolve(ScalarNode, plain, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def _mark_position(mark: yaml.Mark | None) -> Position:
    if mark is None:
        return Position(1, 1)
    return Position(mark.line + 1, mark.column + 1)


def _offset_position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    if exc.problem and "another document" in exc.problem:
        return "invalid YAML: a file holds one document, but a second one starts here"
    message = f"invalid YAML: {exc.problem}"
    context_mark = exc.context_mark
    problem_mark = exc.problem_mark
    if exc.context and context_mark and problem_mark and context_mark.line != problem_mark.line:
        message += f" ({exc.context} at line {context_mark.line + 1})"
    return message


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!", 1)
