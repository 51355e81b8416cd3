"""Which phone numbers a clone links in the destination: each `--map-number SRC=DST` links DST
where the source links SRC. The one place that knows where a phone link writes its number:
its key (`phone_numbers."+15550100001"`) or, when it has one, its `number` field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bimpe_iac.errors import ConfigError
from bimpe_iac.export import roundtrip
from bimpe_iac.manifest import Stack
from bimpe_iac.model.sections import split_address

SECTION = "phone_numbers"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True)
class NumberMap:
    pairs: Mapping[str, str]

    @classmethod
    def parse(cls, values: Iterable[str]) -> NumberMap:
        pairs: dict[str, str] = {}
        for value in values:
            source, _, destination = value.partition("=")
            source, destination = source.strip(), destination.strip()
            if not (_E164.match(source) and _E164.match(destination)):
                raise ConfigError(
                    f"--map-number {value}: write SRC=DST with both numbers in E.164 form,"
                    " as in +15550100001=+15550100002"
                )
            if pairs.get(source, destination) != destination:
                raise ConfigError(f"--map-number maps {source} twice")
            pairs[source] = destination
        return cls(pairs)

    def __call__(self, number: str) -> str:
        return self.pairs.get(number, number)


def linked_numbers(stack: Stack) -> dict[str, str]:
    """The number each phone link of the stack links, by address."""
    return {
        entry.address: str(getattr(entry.spec, "number", None) or entry.key)
        for entry in stack.entries(SECTION)
    }


def map_numbers(stack: Stack, numbers: NumberMap) -> bool:
    """Rewrite the stack's files so each phone link links its mapped number; whether any did."""
    documents: dict[Any, Any] = {}
    for address, number in linked_numbers(stack).items():
        if numbers(number) == number:
            continue
        location = stack.locations[address]
        if location.file not in documents:
            documents[location.file] = roundtrip.load(location.file.read_text(encoding="utf-8"))
        parts = split_address(address) or []
        holder = documents[location.file]
        for part in parts[:-1]:
            holder = holder[part]
        link = holder[parts[-1]]
        if isinstance(link, dict) and link.get("number") == number:
            link["number"] = numbers(number)
        else:
            roundtrip.rename_key(holder, parts[-1], numbers(number))
    for path, document in documents.items():
        path.write_text(roundtrip.dump(document), encoding="utf-8")
    return bool(documents)
