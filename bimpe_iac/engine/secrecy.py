"""Which parts of a value hold a sensitive value, and what may be shown and stored of them.

A *leaf* is a scalar inside a resource's values, named by a JSON pointer (RFC 6901) from the
values' root: `/escalation_email`, `/rules/0/response`. A leaf is sensitive when it holds the
value of a sensitive var, now (the manifests say so) or at the last apply (the state entry's
`sensitive` map says so, with a keyed check of which values it held).

Strings that hold a sensitive value known now are masked where they are shown or stored: the
value reads "(sensitive)". A live leaf that was sensitive at the last apply may hold a value
the manifests no longer give (the var was rotated, the leaf was edited by hand): it is shown
through the mask only when the keyed check proves it holds exactly the sensitive values the
last apply put there, all of them known now; otherwise it reads "(sensitive)" whole. The same
goes for a live leaf that a resource not managed yet holds where the manifests put a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from bimpe_iac.manifest.stack import SENSITIVE_MASK, mask, scalar_text
from bimpe_iac.model.plan import Change, FieldChange, Plan
from bimpe_iac.state.digests import UNVERIFIED, Digests
from bimpe_iac.state.model import ResourceState
from bimpe_iac.state.pointers import escape, leaves, within


def _replace_leaves(value: Any, hidden: set[str], path: str = "") -> Any:
    if path in hidden:
        return SENSITIVE_MASK
    if isinstance(value, dict):
        return {k: _replace_leaves(v, hidden, f"{path}/{escape(k)}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_leaves(v, hidden, f"{path}/{i}") for i, v in enumerate(value)]
    return value


def _masked(value: Any, sensitive_values: frozenset[str]) -> Any:
    if isinstance(value, str):
        return mask(value, sensitive_values)
    text = scalar_text(value)
    if text is not None and mask(text, sensitive_values) != text:
        return SENSITIVE_MASK  # a number holding a sensitive value
    if isinstance(value, dict):
        return {k: _masked(v, sensitive_values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, sensitive_values) for v in value]
    return value


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A resource's values as a state entry keeps them."""

    values: dict[str, Any]
    sensitive: dict[str, str]
    hashes: dict[str, str]
    key_check: str | None


@dataclass(frozen=True, slots=True)
class Secrecy:
    """The sensitive values of this run and the keyed digests of its state."""

    sensitive_values: frozenset[str] = frozenset()
    digests: Digests | None = None

    def found(self, leaf: Any) -> frozenset[str]:
        """The sensitive values a leaf holds."""
        text = scalar_text(leaf)
        if text is None:
            return frozenset()
        return frozenset(value for value in self.sensitive_values if value and value in text)

    def key_current(self, entry: ResourceState) -> bool:
        """Whether the entry's keyed digests were made with this run's key."""
        return self.digests is not None and entry.key_check == self.digests.check

    def needs_digests(self, entry: ResourceState) -> bool:
        """Whether the entry has sensitive leaves this run cannot check: recorded under
        another key, or unverified."""
        if not entry.sensitive or self.digests is None:
            return False
        return not self.key_current(entry) or UNVERIFIED in entry.sensitive.values()

    def _vouched(self, entry: ResourceState, check: str, leaf: Any) -> bool:
        if check == UNVERIFIED or self.digests is None or not self.key_current(entry):
            return False
        return self.digests.secrets(self.found(leaf)) == check

    def live_view(
        self,
        values: dict[str, Any],
        entry: ResourceState | None,
        desired: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Live `values` with every leaf that may hold a sensitive value the mask cannot hide
        replaced by "(sensitive)". `entry` is the state entry (None for an object not managed
        yet), `desired` what the manifests want there."""
        applied = entry.sensitive if entry is not None else {}
        wanted: dict[str, frozenset[str]] = {}
        if entry is None and desired is not None:
            wanted = {p: found for p, leaf in leaves(desired) if (found := self.found(leaf))}
        if not applied and not wanted:
            return values
        hidden = set()
        for path, leaf in leaves(values):
            if path in applied:
                assert entry is not None
                if not self._vouched(entry, applied[path], leaf):
                    hidden.add(path)
            elif any(path.startswith(p + "/") for p in applied):
                hidden.add(path)  # a sensitive text became a structure: nothing is known of it
            elif path in wanted and self.found(leaf) != wanted[path]:
                hidden.add(path)
        result: dict[str, Any] = _replace_leaves(values, hidden) if hidden else values
        return result

    def field_view(
        self, item: FieldChange, entry: ResourceState | None, desired: dict[str, Any] | None
    ) -> FieldChange:
        """A field change with its live side (`before`) as `live_view` shows it."""
        view = self.live_view({item.field: item.before}, entry, desired)
        return replace(item, before=view[item.field])

    def record(self, values: dict[str, Any]) -> Recorded:
        """`values` as a state entry keeps them: masked, with each sensitive leaf and a keyed
        check of what it holds, and a keyed digest of each field holding one (the others are
        compared as they are stored). A leaf reading "(sensitive)" whole was hidden from this
        run: it is kept unverified, and its field without a digest, until an apply sets it."""
        sensitive: dict[str, str] = {}
        unverifiable: set[str] = set()
        for field, value in values.items():
            for path, leaf in leaves(value, f"/{escape(field)}"):
                found = self.found(leaf)
                if leaf == SENSITIVE_MASK or (found and self.digests is None):
                    sensitive[path] = UNVERIFIED
                    unverifiable.add(field)
                elif found and self.digests is not None:
                    sensitive[path] = self.digests.secrets(found)
        hashes = {}
        if self.digests is not None:
            for field, value in values.items():
                holds = any(within(p, field) for p in sensitive)
                if holds and field not in unverifiable:
                    hashes[field] = self.digests.value(value)
        return Recorded(
            values=_masked(values, self.sensitive_values),
            sensitive=sensitive,
            hashes=hashes,
            key_check=self.digests.check if self.digests is not None and sensitive else None,
        )

    def drifted(self, entry: ResourceState, field: str, now: Any) -> bool | None:
        """Whether a field's live value `now` differs from what the last apply left there;
        None when that cannot be known (a sensitive field under another key, or unverified)."""
        if not any(within(p, field) for p in entry.sensitive):
            try:
                return _canonical(now) != _canonical(entry.values.get(field))
            except TypeError:  # nested deeper than JSON allows: not what any apply left
                return True
        if field not in entry.hashes or self.digests is None or not self.key_current(entry):
            return None
        try:
            return self.digests.value(now) != entry.hashes[field]
        except TypeError:
            return True

    def seal(
        self,
        plan: Plan,
        state: dict[str, ResourceState],
        unmanaged: frozenset[str] = frozenset(),
    ) -> Plan:
        """`plan` with the live side of every change shown as `live_view` allows, and live
        fingerprints keyed (a plain digest of an object holding a secret is a guess oracle)."""
        changes = []
        for change in plan.changes:
            entry = None if change.address in unmanaged else state.get(change.address)
            changes.append(self._seal_change(change, entry))
        return replace(plan, changes=tuple(changes))

    def _seal_change(self, change: Change, entry: ResourceState | None) -> Change:
        desired = change.after
        fingerprint = change.fingerprint
        if fingerprint is not None and self.digests is not None:
            fingerprint = self.digests.fingerprint(fingerprint)
        before = change.before
        if before is not None and change.fingerprint is not None:  # read live
            before = self.live_view(before, entry, desired)
        return replace(
            change,
            before=before,
            fields=tuple(self.field_view(item, entry, desired) for item in change.fields),
            fingerprint=fingerprint,
        )
