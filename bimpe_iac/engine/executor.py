"""Apply a plan: each change starts once the changes it waits for are done, with at most
`parallelism` operations on BimpeAI at a time. A failed change stops the changes that wait for
it; independent branches carry on. Every finished operation is in the stored state before it
counts as done (`engine/session.py`). Once `stop` is set (Ctrl-C), no more changes start;
those under way finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from bimpeai import APIConnectionError, APIError, AsyncBimpeAI, ConflictError

from bimpe_iac.answers import MalformedAnswer
from bimpe_iac.engine.diff import resolve_refs
from bimpe_iac.engine.idempotency import create_key
from bimpe_iac.engine.retry import once_more
from bimpe_iac.engine.retry import transient as retry_transient
from bimpe_iac.engine.session import StateSession
from bimpe_iac.errors import ApiFailure, BimpeIacError
from bimpe_iac.model.ids import is_id
from bimpe_iac.model.kind import CreateRequest, ResourceKind, UpdateRequest
from bimpe_iac.model.plan import Change, Desired, Plan, Ref, count_actions
from bimpe_iac.printable import one_line
from bimpe_iac.state.digests import Digests
from bimpe_iac.state.model import Intent

T = TypeVar("T")
Status = Literal["started", "done", "failed", "skipped"]
Progress = Callable[[Change, Status, float | None, str | None], None]


@dataclass
class ApplyResult:
    done: list[Change] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    """Stopped by Ctrl-C (`stop`); the changes it left unstarted are in `skipped`."""
    moved: int = 0
    """The renames (`moved:` blocks) made in the state."""
    notices: list[str] = field(default_factory=list)
    """What a person must do now, by address (open an onboarding URL), as the kinds said."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted

    def counts(self) -> dict[str, int]:
        return count_actions(self.done, self.moved)


def describe_error(error: BaseException) -> str:
    """One line: what the API or the transport said has its line breaks spelled out, so that
    no text of theirs can pass for a line of bimpe-iac's own."""
    if isinstance(error, MalformedAnswer):
        return one_line(str(error))
    if isinstance(error, APIError):
        code = f" {one_line(str(error.code))}" if error.code else ""
        said, request_id = one_line(str(error)), one_line(str(error.request_id))
        return f"BimpeAI answered {error.status}{code}: {said} (request id {request_id})"
    if isinstance(error, APIConnectionError):
        cause = error.__cause__
        # The transport's own words say why (refused, reset, name not found), not the SDK's.
        reason = str(cause) if cause is not None and str(cause) else str(error)
        return f"could not reach BimpeAI ({one_line(reason)})"
    return one_line(str(error))


class _Unresolved(Exception):
    pass


class _Stopped(Exception):
    """The run was stopped before this change sent anything."""


class Executor:
    def __init__(
        self,
        client: AsyncBimpeAI,
        kinds: Mapping[str, ResourceKind],
        session: StateSession,
        plan: Plan,
        desired: Mapping[str, Desired],
        *,
        parallelism: int,
        progress: Progress,
        stop: asyncio.Event | None = None,
        mask: Callable[[str], str] = str,
    ) -> None:
        """`mask` hides sensitive values in what is reported of a failure: an API may quote
        what it was sent."""
        self.client = client
        self.kinds = kinds
        self.session = session
        self.plan = plan
        self.desired = desired
        self.limit = asyncio.Semaphore(parallelism)
        self.progress = progress
        self.stop = stop or asyncio.Event()
        self.mask = mask
        self.result = ApplyResult()
        self.finished: dict[str, asyncio.Event] = {}
        self.outcome: dict[str, bool] = {}
        self.started: dict[str, float] = {}
        # The ids an import brings are known before it is recorded: its children need not wait.
        self.imported = {c.address: c.id for c in plan.changes if c.action == "import" and c.id}

    async def run(self) -> ApplyResult:
        if self.plan.moved:
            await self.session.rename(self.plan.moved)
            self.result.moved = len(self.plan.moved)
        active = [c for c in self.plan.changes if c.action != "noop"]
        self.finished = {c.address: asyncio.Event() for c in active}
        await asyncio.gather(*(self._run_one(c) for c in active))
        await self._refresh_unchanged()
        self.result.interrupted = self.stop.is_set()
        return self.result

    async def _run_one(self, change: Change) -> None:
        try:
            for dep in change.depends_on:
                if dep in self.finished:
                    await self.finished[dep].wait()
            if self.stop.is_set():
                self._not_started(change)
                return
            # A dependency that ended without success (whatever it raised) blocks it.
            blocked = [
                d for d in change.depends_on if d in self.finished and not self.outcome.get(d)
            ]
            if blocked:
                self.outcome[change.address] = False
                self.result.skipped.append(change.address)
                self.progress(change, "skipped", None, f"waits for failed {blocked[0]}")
                return
            try:
                detail = await self._perform(change)
            except _Stopped:
                self._not_started(change)
                return
            except (BimpeIacError, APIError, APIConnectionError, _Unresolved) as error:
                self.outcome[change.address] = False
                reason = self.mask(describe_error(error))
                self.result.failed[change.address] = reason
                self.progress(change, "failed", self._elapsed(change), reason)
                return
            self.outcome[change.address] = True
            self.result.done.append(change)
            self._mark_started(change)
            self.progress(change, "done", self._elapsed(change), detail)
        finally:
            self.finished[change.address].set()

    def _not_started(self, change: Change) -> None:
        """Left for the next run, after Ctrl-C; not shown, as nothing was sent for it."""
        self.outcome[change.address] = False
        self.result.skipped.append(change.address)
        self.result.interrupted = True

    def _mark_started(self, change: Change) -> None:
        if change.address not in self.started:
            self.started[change.address] = time.perf_counter()
            self.progress(change, "started", None, None)

    def _elapsed(self, change: Change) -> float:
        return time.perf_counter() - self.started.get(change.address, time.perf_counter())

    async def _send(self, change: Change, operation: Callable[[], Awaitable[T]]) -> T:
        """Run a kind's operation on BimpeAI: at most `parallelism` at a time (an operation
        waiting for its state to be stored holds no place), once more after a transient
        failure (`engine/retry.py`). A change starts with its first such operation; after
        `stop`, none starts."""

        async def limited() -> T:
            async with self.limit:
                if self.stop.is_set() and change.address not in self.started:
                    raise _Stopped
                self._mark_started(change)
                return await operation()

        return await once_more(limited)

    def _resolve(self, values: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = resolve_refs(values, self.session.id_of)

        def check(value: Any) -> None:
            if isinstance(value, Ref):
                raise _Unresolved(f"the id of {value.address} is not known")
            if isinstance(value, dict):
                for item in value.values():
                    check(item)
            if isinstance(value, list):
                for item in value:
                    check(item)

        check(resolved)
        return resolved

    def _parent_id(self, change: Change) -> str | None:
        if change.parent is None:
            entry = self.session.document.resources.get(change.address)
            return entry.parent_id if entry else None
        parent = self.session.id_of(change.parent) or self.imported.get(change.parent)
        if parent is None:
            raise _Unresolved(f"the id of {change.parent} is not known")
        return parent

    async def _perform(self, change: Change) -> str | None:
        kind = self.kinds[change.kind]
        if change.action in ("delete", "replace"):
            await self._delete(change, kind)
            if change.action == "delete":
                return None
        if change.action in ("create", "replace"):
            return await self._create(change, kind)
        await self._update(change, kind)
        return change.id

    async def _delete(self, change: Change, kind: ResourceKind) -> None:
        entry = self.session.document.resources.get(change.address)
        intent = self.session.document.intents.get(change.address)
        target: tuple[str, str | None] | None = None
        if entry is not None:
            target = entry.id, entry.parent_id
        elif intent is not None and change.id is not None:
            target = change.id, intent.parent_id  # what a create whose answer was lost made
        if target is not None and not kind.forget_on_delete:
            id, parent_id = target
            await self._send(change, lambda: kind.delete(self.client, id, parent_id))
        await self.session.forget(change.address)

    async def _create(self, change: Change, kind: ResourceKind) -> str:
        assert change.after is not None
        values = self._resolve(change.after)
        parent_id = self._parent_id(change)
        intent = self.session.document.intents.get(change.address)
        if intent is not None:
            found = await self._find_intended(change, kind, intent, values, parent_id)
            if found is not None:
                return found
        key = create_key(
            stack=self.plan.stack,
            environment=self.plan.environment,
            lineage=self.plan.lineage,
            address=change.address,
            generation=self.session.generation(change.address),
            body=values,
            digests=self._digests(),
        )
        await self.session.begin_create(
            change.address, key, values, kind=change.kind, parent_id=parent_id
        )
        request = CreateRequest(change.address, values, parent_id, key)
        try:
            created = await self._send(change, lambda: kind.create(self.client, request))
        except _Stopped:
            self.session.abandon(change.address)
            raise
        for id in (created.id, created.parent_id):
            if id is not None and not is_id(id):
                # Never into the state, nor into a later request's path.
                raise ApiFailure(
                    f"BimpeAI answered the create of {change.address} with an id that no "
                    f"object can have: {id!r}"
                )
        await self._record(change, created.id, created.parent_id or parent_id, values, True)
        self._notice(change, created.notices)
        return created.id

    async def _find_intended(
        self,
        change: Change,
        kind: ResourceKind,
        intent: Intent,
        values: dict[str, Any],
        parent_id: str | None,
    ) -> str | None:
        """The object an earlier create at this address made, found by sending its recorded
        request again (same key, same body) and brought to `values`; None when there is none
        (the create below then makes one, under a new key if the old one names a deleted
        object). A request still under way at BimpeAI (409) fails this change."""
        body = intent.body
        if body is None and self.session.sent_before(change.address, values):
            body = values  # not recorded (it holds a sensitive value), but the same again
        if body is None or intent.kind not in (None, change.kind):
            return None
        if parent_id is not None and intent.parent_id not in (None, parent_id):
            return None  # sent under another parent, since replaced
        parent_id = intent.parent_id or parent_id
        request = CreateRequest(change.address, body, parent_id, intent.idempotency_key)
        try:
            made = await self._send(change, lambda: kind.create(self.client, request))
        except ConflictError as error:
            raise BimpeIacError(
                f"a create sent earlier for {change.address} is still under way at BimpeAI"
                f" (request id {error.request_id}); run again in a minute"
            ) from None
        except APIError as error:
            if retry_transient(error):
                raise
            self.session.abandon(change.address)  # refused: that request made nothing
            return None
        made_parent = made.parent_id or parent_id
        if not await kind.exists(self.client, made.id, made_parent):
            self.session.skip_generation(change.address)  # deleted by hand since
            self.session.abandon(change.address)
            return None
        await self._record(change, made.id, made_parent, body, True)
        changed = {k: v for k, v in values.items() if body.get(k) != v}
        if changed:
            update = UpdateRequest(made.id, made_parent, changed, values)
            self._notice(change, await self._send(change, lambda: kind.update(self.client, update)))
            await self._record(change, made.id, made_parent, values, False)
        return made.id

    def _notice(self, change: Change, notices: tuple[str, ...] | None) -> None:
        self.result.notices += [f"{change.address}: {n}" for n in notices or ()]

    def _digests(self) -> Digests:
        digests = self.session.secrecy.digests
        if digests is None:
            raise BimpeIacError("no keyed digests for this state: cannot make idempotency keys")
        return digests

    async def _update(self, change: Change, kind: ResourceKind) -> None:
        assert change.after is not None and change.id is not None
        if change.state_only:
            # Only what the state remembers changes (its lifecycle): nothing to send.
            self._touch(change.address, self.desired[change.address])
            await self.session.commit()
            return
        values = self._resolve(change.after)
        changed = {f.field: values[f.field] for f in change.fields}
        parent_id = self._parent_id(change)
        if change.action == "import":
            # Managed from now on, as it is live, even if the update below fails. One that a
            # create whose answer was lost made counts as created, for the next create's key.
            made = change.address in self.session.document.intents
            await self._record(change, change.id, parent_id, change.before or {}, made)
            if not changed:
                return
        request = UpdateRequest(change.id, parent_id, changed, values)
        notices = await self._send(change, lambda: kind.update(self.client, request))
        await self._record(change, change.id, parent_id, values, False)
        self._notice(change, notices)

    async def _record(
        self, change: Change, id: str, parent_id: str | None, values: dict[str, Any], created: bool
    ) -> None:
        want = self.desired.get(change.address)
        await self.session.record(
            change.address,
            kind=change.kind,
            id=id,
            parent_id=parent_id,
            values=values,
            depends_on=want.depends_on if want else (),
            prevent_destroy=want.lifecycle.prevent_destroy if want else False,
            created=created,
            ignore_changes=want.lifecycle.ignore_changes if want else (),
        )

    async def _refresh_unchanged(self) -> None:
        """Unchanged resources may still have new lifecycle settings worth remembering (the
        session stores them with its last write)."""
        for change in self.plan.changes:
            want = self.desired.get(change.address)
            if change.action != "noop" or want is None:
                continue
            if self.session.id_of(change.address) is None and change.id and change.after:
                # Found already as wanted (a number linked by hand): manage it from now on.
                parent_id = self.session.id_of(change.parent) if change.parent else None
                values = self._resolve(change.after)
                await self._record(change, change.id, parent_id, values, False)
            elif change.after and self.session.needs_digests(change.address):
                # Its keyed digests were made with another API key: record them anew (live is
                # as wanted, or this would not be a no-op).
                entry = self.session.document.resources[change.address]
                values = self._resolve(change.after)
                await self._record(change, entry.id, entry.parent_id, values, False)
            else:
                self._touch(change.address, want)

    def _touch(self, address: str, want: Desired) -> bool:
        lifecycle = want.lifecycle
        return self.session.touch(
            address, want.depends_on, lifecycle.prevent_destroy, lifecycle.ignore_changes
        )
