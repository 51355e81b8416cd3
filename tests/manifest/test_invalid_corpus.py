"""The invalid corpus: each directory under invalid/ is a stack with one kind of mistake,
and expected.txt is exactly what `bimpe-iac validate` prints for it, run from inside
the directory. An optional `args` file holds the command's arguments (default `.`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from bimpe_iac.printable import visible

RunValidate = Callable[..., Result]

CORPUS = Path(__file__).parent / "invalid"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


def _args(case: Path) -> list[str]:
    args_file = case / "args"
    args = args_file.read_text(encoding="utf-8").split() if args_file.exists() else []
    return args if args and not args[0].startswith("-") else [".", *args]


@pytest.fixture(autouse=True)
def _unset_test_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIMPE_IAC_TEST_NEVER_SET", raising=False)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_reports_located_message(
    name: str, run_validate: RunValidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CORPUS / name
    monkeypatch.chdir(case)

    result = run_validate(*_args(case))

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), "an unexpected exception escaped"
    assert "Traceback" not in result.output
    assert result.output == (case / "expected.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", CASES)
def test_json_output_holds_the_same_errors(
    name: str, run_validate: RunValidate, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CORPUS / name
    monkeypatch.chdir(case)

    result = run_validate(*_args(case), "--format", "json")

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["valid"] is False
    rendered = []
    for error in report["errors"]:
        where = error["file"]
        if error["line"] is not None:
            where += f":{error['line']}:{error['column']}"
        what = f"{error['address']}: {error['message']}" if error["address"] else error["message"]
        # JSON holds messages as they are; text spells out what would act on a terminal.
        rendered.append(visible(f"{where}: {what}".replace("\n", "\\n")))
    expected = (case / "expected.txt").read_text(encoding="utf-8").splitlines()[:-1]
    assert rendered == expected
