"""One manifest file in canonical form: keys in their model's order, indented as `export` writes,
quoted only where needed, every comment kept beside its entry; and proof that it still says
the same."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml.error import MarkedYAMLError

from bimpe_iac.errors import BimpeIacError
from bimpe_iac.export.roundtrip import dump, load
from bimpe_iac.fmt.comments import Unplaceable, comment_lines, put_comments, take_comments
from bimpe_iac.fmt.order import reorder
from bimpe_iac.fmt.quoting import unquote
from bimpe_iac.manifest.yaml_loader import parse_yaml
from bimpe_iac.model.issues import Issue, Position


class FormatError(BimpeIacError):
    """A file that cannot be formatted, with the problems found in it."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("\n".join(issue.render() for issue in issues))
        self.issues = issues


def formatted(
    text: str, path: Path, model: Any, first: Mapping[type[BaseModel], Sequence[str]] | None = None
) -> str:
    """`text`, the contents of the file at `path` whose data `model` reads, in canonical form;
    in a model of `first`, the fields it names go first."""
    document, issues = parse_yaml(text, path)
    if document is None or issues:
        raise FormatError(issues)
    if document.data is None:
        return text
    try:
        data = unquote(load(text))
        comments = take_comments(text, data)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        raise FormatError([Issue(path, where, "", f"invalid YAML: {exc.problem}")]) from None
    except Unplaceable as exc:
        mark = exc.args[0]
        message = "a mapping merged with '<<' cannot be formatted; write its keys out"
        where = Position(mark.line + 1, mark.column + 1)
        raise FormatError([Issue(path, where, "", message)]) from None
    reorder(data, model, first)
    out = put_comments(dump(data), data, comments)
    _check_same(text, out, path, document.data)
    return out


def _check_same(text: str, out: str, path: Path, data: Any) -> None:
    """Refuse a result that reads differently or lost a comment: the file is then left as is."""
    again, _ = parse_yaml(out, path)
    if again is None or again.data != data:
        problem = "formatting it would change what it says; it is left as it is"
    elif _comments(text) != _comments(out):
        problem = "formatting it would lose a comment; it is left as it is"
    else:
        return
    raise FormatError([Issue(path, Position(1, 1), "", problem)])


def _comments(text: str) -> Counter[str]:
    own, endings = comment_lines(text)
    return Counter(line for line in [*own.values(), *endings.values()] if line)
