"""Format every manifest of a stack, or only say which ones are not canonical."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bimpe_iac.fmt.document import FormatError, formatted
from bimpe_iac.fmt.manifests import manifests
from bimpe_iac.manifest.text_files import TextFileError, read_text
from bimpe_iac.model.issues import Issue
from bimpe_iac.model.sections import Sections


@dataclass
class Formatted:
    changed: list[Path] = field(default_factory=list)
    """The files not in canonical form: rewritten, or with `check`, left as they are."""
    issues: list[Issue] = field(default_factory=list)
    """Why a file could not be formatted (it is then left as it is)."""


def format_stack(directory: Path, sections: Sections, *, check: bool = False) -> Formatted:
    """Rewrite the manifests of the stack in `directory` that are not in canonical form; with
    `check`, write nothing. A file already canonical is not touched. NotAStack when `directory`
    holds no stack."""
    result = Formatted()
    for manifest in manifests(directory, sections):
        try:
            text = read_text(manifest.path, within=manifest.within)
            out = formatted(text, manifest.path, manifest.model, manifest.first)
        except TextFileError as exc:
            result.issues.append(Issue(manifest.path, exc.position, "", f"file {exc.reason}"))
            continue
        except FormatError as error:
            result.issues += error.issues
            continue
        if out == text:
            continue
        result.changed.append(manifest.path)
        if not check:
            with manifest.path.open("w", encoding="utf-8", newline="") as file:
                file.write(out)
    return result
