"""A state document in its JSON form, as a running apply hands it to a backend.

Dumping a whole `StateDocument` on every write costs time in proportion to its size; the state
session (`engine/session.py`) keeps each resource's JSON form ready instead and assembles a
`Snapshot` from those parts, so a write costs little more than encoding the bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bimpe_iac.state.model import StateDocument, Writer


@dataclass(frozen=True, slots=True)
class Snapshot:
    """`data` is what `StateDocument.model_dump(mode="json")` gives for the version to store,
    except that with `encoded_resources` its resources are those instead; its values are never
    changed once the snapshot is made (a writer stamps a copy)."""

    data: dict[str, Any]
    encoded_resources: Mapping[str, bytes] | None = field(default=None, compare=False)
    """Each resource entry as compact JSON, when the maker kept them ready."""

    def full_data(self) -> dict[str, Any]:
        """`data` with the resources in it."""
        if self.encoded_resources is None:
            return self.data
        resources = {a: orjson.loads(e) for a, e in self.encoded_resources.items()}
        return {**self.data, "resources": resources}

    def compact_json(self) -> bytes:
        """The compact JSON form (one line, keys in any order). From ready-encoded resources
        it costs a join instead of encoding the whole document again."""
        if self.encoded_resources is None:
            return orjson.dumps(self.data) + b"\n"
        head = orjson.dumps({k: v for k, v in self.data.items() if k != "resources"})
        entries = b",".join(
            orjson.dumps(address) + b":" + encoded
            for address, encoded in self.encoded_resources.items()
        )
        separator = b"," if head != b"{}" else b""
        return head[:-1] + separator + b'"resources":{' + entries + b"}}\n"

    @classmethod
    def of(cls, doc: StateDocument) -> Snapshot:
        return cls(doc.model_dump(mode="json"))

    @property
    def stack(self) -> str:
        return str(self.data["stack"])

    @property
    def environment(self) -> str:
        return str(self.data["environment"])

    @property
    def lineage(self) -> str:
        return str(self.data["lineage"])

    @property
    def serial(self) -> int:
        return int(self.data["serial"])

    def stamped(self, stamp: Stamp) -> Snapshot:
        writer = None if stamp.writer is None else stamp.writer.model_dump()
        data = {**self.data, "updated_at": stamp.updated_at, "writer": writer}
        return Snapshot(data, self.encoded_resources)


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a version was written and by whom, and the form its backend stored."""

    updated_at: str | None
    writer: Writer | None
    canonical: bool = True
    """False when the stored bytes are not the canonical form (a compact local file): the last
    write of a run then stores the canonical form again."""

    @classmethod
    def of(cls, snapshot: Snapshot, *, canonical: bool = True) -> Stamp:
        """The stamp a snapshot already carries."""
        writer = snapshot.data.get("writer")
        return cls(
            snapshot.data.get("updated_at"),
            None if writer is None else Writer.model_validate(writer),
            canonical,
        )
