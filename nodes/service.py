"""The session service: one owner for the store, the image cache, the per-session locks, the
running evaluations' interrupts, the rate buckets and the attachments, and the one pipeline
every state-changing command runs through.

The pipeline (:meth:`SessionService.mutate`), in this order:

1. **lock**: one writer per session on this node (local writers would only race each other's
   WATCH transactions);
2. **replay check and fence read**, in round trip 1 (``WATCH`` + meta + stored response): a
   request id answered before returns the stored response and touches nothing, not even
   ownership; then the fence: a connection that holds the session at an older epoch was taken
   over (refused, and closed), one that does not hold it takes the session over with its commit;
3. **run**: the command's ``prepare`` (an evaluation runs here, on the cached image when the
   stored version matches it, else on one loaded through the watched connection);
4. **commit** in round trip 2 (``MULTI`` ... ``EXEC``); a lost race drops the image and goes
   back to 2 with jittered back-off, a bounded number of times (then ``SessionConflict``);
5. **events** from the commit's result: delivered, with their ``seq``, to every local connection
   holding the session, before the response.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import attrs
import orjson
import trio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from cluster import keys
from cluster.errors import ContentionExhausted, SessionTakenOver
from cluster.model import SessionMeta
from cluster.ratelimit import ClientBuckets
from cluster.registry import NodeRegistry
from cluster.settings import Settings
from cluster.store import (
    RESTORE,
    WORKSPACE,
    Commit,
    Committed,
    ReadSpec,
    Records,
    SessionStore,
    Snapshot,
    WatchLost,
)

from .metrics import NodeMetrics
from .ownership import Attachments, Peer
from .protocol import event
from .smalltalk import Limits
from .workspace import (
    ImageCache,
    Pacing,
    Workspace,
    collected,
    garbage,
    wants_collection,
    workspace_from,
)

log = logging.getLogger("stui.service")

COMMIT_ATTEMPTS = 8
"""Tries of one state-changing request against concurrent writers before SessionConflict."""

Spawn = Callable[..., None]
T = TypeVar("T")


@attrs.frozen
class Prepared:
    """What ``prepare`` sees: the session as read in round trip 1, and its workspace."""

    session_id: str
    meta: SessionMeta
    records: Records
    workspace: Workspace | None


Prepare = Callable[[Prepared], Awaitable[Commit]]


@attrs.frozen
class Answer:
    """A state-changing command's answer: the (stored) response, and whether it was a replay."""

    response: dict[str, Any]
    replayed: bool
    committed: Committed | None = None


class SessionLocks:
    """One :class:`trio.Lock` per session with a writer on this node (dropped when idle)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[trio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(session_id, (None, 0))
        if lock is None:
            lock = trio.Lock()
        self._locks[session_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[session_id]
            if users == 1:
                del self._locks[session_id]
            else:
                self._locks[session_id] = (lock, users - 1)


class SessionService:
    """Sessions as this node serves them (see the module docstring for the pipeline)."""

    def __init__(
        self,
        settings: Settings,
        node_id: str,
        store: SessionStore,
        registry: NodeRegistry,
        metrics: NodeMetrics,
        spawn: Spawn,
        connection_count: Callable[[], int] = lambda: 0,
    ) -> None:
        self.settings = settings
        self.node_id = node_id
        self.store = store
        self.registry = registry
        self.metrics = metrics
        self.spawn = spawn
        self.connection_count = connection_count
        self.images = ImageCache(settings.max_cached_sessions, settings.max_cached_objects)
        self.attachments = Attachments()
        self.locks = SessionLocks()
        self.buckets = ClientBuckets(settings.client_rate, settings.client_burst)
        self.interrupts: dict[str, threading.Event] = {}
        # Evaluations run in worker threads; more than a few at once only queue for the GIL.
        self.eval_slots = trio.CapacityLimiter(8)
        self.pacing = Pacing()
        self.limits = Limits(
            max_steps=settings.eval_max_steps, max_seconds=settings.eval_max_seconds
        )

    # -- the pipeline ----------------------------------------------------------------------

    async def mutate(
        self,
        peer: Peer,
        session_id: str,
        request_id: str,
        prepare: Prepare,
        *,
        workspace: bool = False,
        reads: ReadSpec | None = None,
    ) -> Answer:
        """Run one state-changing command (lock, replay check, fence, run, commit, events).

        Raises the errors of :class:`SessionStore`, :class:`SessionTakenOver`, whatever
        ``prepare`` raises, and :class:`ContentionExhausted` after ``COMMIT_ATTEMPTS`` lost
        races.
        """
        async with self.locks.hold(session_id):
            outcome = await _retrying_races(
                session_id,
                lambda: self._attempt(peer, session_id, request_id, prepare, workspace, reads),
            )
        if outcome.committed is not None:
            self._deliver(session_id, outcome.committed)
        return outcome

    async def _attempt(
        self,
        peer: Peer,
        session_id: str,
        request_id: str,
        prepare: Prepare,
        with_workspace: bool,
        reads: ReadSpec | None,
    ) -> Answer:
        async with self.store.transaction(
            session_id, peer.client_id, request_id, reads=reads
        ) as (tx, records):
            if tx.stored is not None:
                return Answer(response={**tx.stored, "replayed": True}, replayed=True)
            take_over = self._fence(peer, session_id, tx.meta)
            entry = None
            if with_workspace:
                entry = self.images.get(session_id)
                if entry is None or entry.version != tx.meta.version:
                    entry = workspace_from(session_id, tx.meta.version, await tx.read(WORKSPACE))
            try:
                commit = await prepare(Prepared(session_id, tx.meta, records, entry))
                if take_over:
                    commit = attrs.evolve(
                        commit, take_over=True, publish=self._takeover_notice(tx.meta)
                    )
                committed = await tx.commit(commit)
            except WatchLost:
                self.images.drop(session_id)
                self.metrics.conflicts.inc()
                raise
            except BaseException:
                self.images.drop(session_id)  # prepare may have changed it in place
                raise
        if take_over:
            self._took_over(peer, session_id, committed.meta.epoch)
        if entry is not None:
            entry.version = committed.meta.version
            self.images.put(session_id, entry)  # its heap may have grown: keep within bounds
            if wants_collection(entry):
                await self._collect(peer, session_id, entry)
        return Answer(response=committed.response, replayed=False, committed=committed)

    def _fence(self, peer: Peer, session_id: str, meta: SessionMeta) -> bool:
        """Whether this commit must take the session over; refuse a stale holder."""
        if self.attachments.was_lost(peer, session_id):
            raise SessionTakenOver(f"session {session_id} was taken over by another connection")
        held = self.attachments.epoch(peer, session_id)
        if held is None:
            return True
        if held != meta.epoch:
            self.spawn(self._close_stale, peer, session_id, meta.epoch)
            raise SessionTakenOver(
                f"session {session_id} was taken over by another connection",
                details={"epoch": meta.epoch, "owner": meta.owner},
            )
        return False

    async def _collect(self, peer: Peer, session_id: str, entry: Workspace) -> None:
        """Delete stored objects nothing reaches: a commit like any other, so a concurrent
        writer makes it give up (never free what the other just made reachable)."""
        oids = garbage(entry)
        if not oids:
            return
        try:
            async with self.store.transaction(session_id, peer.client_id) as (tx, _):
                if tx.meta.version != entry.version:
                    self.images.drop(session_id)
                    return
                done = await tx.commit(Commit(request_id=None, deleted_objects=tuple(oids)))
        except WatchLost:
            self.images.drop(session_id)
            return
        collected(entry, oids)
        entry.version = done.meta.version

    # -- ownership -------------------------------------------------------------------------

    def _takeover_notice(self, meta: SessionMeta) -> tuple[tuple[str, bytes], ...]:
        """The PUBLISH that tells the previous owner node (sent inside the commit's MULTI)."""
        if not meta.owner or meta.owner == self.node_id:
            return ()
        notice = orjson.dumps(
            {
                "type": "taken_over",
                "session_id": meta.session_id,
                "epoch": meta.epoch + 1,
                "by": self.node_id,
            }
        )
        return ((keys.node_channel(meta.owner), notice),)

    def _took_over(self, peer: Peer, session_id: str, epoch: int) -> None:
        self.attachments.attach(peer, session_id, epoch)
        self.metrics.handoffs.inc()
        self.on_taken_over(session_id, epoch)

    def on_taken_over(self, session_id: str, epoch: int) -> None:
        """A session now has ``epoch``: close local connections holding an older one."""
        for peer, held in self.attachments.holders(session_id):
            if held < epoch:
                self.spawn(self._close_stale, peer, session_id, epoch)

    async def _close_stale(self, peer: Peer, session_id: str, epoch: int) -> None:
        if self.attachments.epoch(peer, session_id) is None and not self.attachments.was_lost(
            peer, session_id
        ):
            return  # already gone
        self.attachments.lose(peer, session_id)
        await peer.taken_over(session_id, epoch)

    async def on_session_expired(self, session_id: str) -> None:
        """The session's ``alive`` key expired: tell local holders, then clean up."""
        self.notify(session_id, "session_expired", {})
        for peer, _epoch in self.attachments.holders(session_id):
            self.attachments.detach(peer, session_id)
        self.images.drop(session_id)
        member = await self.store.expiry_member_of(session_id)
        if member is not None and await self.store.remove(*member, if_expired=True):
            self.metrics.evictions.inc()

    # -- create and restore ----------------------------------------------------------------

    async def create(self, peer: Peer, client_id: str, request_id: str) -> tuple[SessionMeta, bool]:
        """Create a session held by ``peer``; a retried request id answers the first one."""
        meta, replayed = await self.store.create(client_id, request_id)
        if replayed:
            meta, _ = await self.store.take_over(meta.session_id, peer.client_id)
        self.attachments.attach(peer, meta.session_id, meta.epoch)
        return meta, replayed

    async def restore(
        self, peer: Peer, session_id: str, last_seq: int | None
    ) -> tuple[SessionMeta, Records, int | None, bool]:
        """Resume ``session_id`` on ``peer``: (meta, records, ttl ms or None, resumed).

        A connection that does not hold the session takes it over and reads everything in the
        same MULTI (two round trips); one that holds it re-reads it (one round trip): if it was
        taken over meanwhile, its next write is refused by the fence.
        """
        spec = attrs.evolve(RESTORE, events_after=last_seq)
        if self.attachments.epoch(peer, session_id) is not None:
            snapshot: Snapshot = await self.store.read(session_id, peer.client_id, spec)
            self._check_cached(session_id, snapshot.meta.version)
            return snapshot.meta, snapshot.records, snapshot.ttl_ms, False
        async with self.locks.hold(session_id):
            committed = await self._take_over(peer, session_id, spec)
        self._took_over(peer, session_id, committed.meta.epoch)
        self._check_cached(session_id, committed.meta.version)
        return committed.meta, committed.records, None, True

    async def _take_over(self, peer: Peer, session_id: str, spec: ReadSpec) -> Committed:
        async def attempt() -> Committed:
            async with self.store.transaction(session_id, peer.client_id) as (tx, _):
                commit = Commit(
                    request_id=None,
                    take_over=True,
                    new_version=False,
                    publish=self._takeover_notice(tx.meta),
                )
                return await tx.commit(commit, reads=spec)

        return await _retrying_races(session_id, attempt)

    def _check_cached(self, session_id: str, version: int) -> None:
        cached = self.images.get(session_id)
        if cached is not None and cached.version != version:
            self.images.drop(session_id)

    # -- events, interrupts, limits --------------------------------------------------------

    def _deliver(self, session_id: str, committed: Committed) -> None:
        """A commit's events to every local connection holding the session, with ``seq``."""
        if not committed.events:
            return
        holders = self.attachments.holders(session_id)
        for session_event in committed.events:
            message = event(session_event.name, session_event.data, seq=session_event.seq)
            for peer, _epoch in holders:
                peer.send_nowait(message)

    def notify(self, session_id: str, name: str, data: dict[str, Any]) -> int:
        """Push an event to every local connection holding ``session_id``; how many got it."""
        message = event(name, {"session_id": session_id, **data})
        return sum(peer.send_nowait(message) for peer, _ in self.attachments.holders(session_id))

    @asynccontextmanager
    async def interruptible(self, session_id: str) -> AsyncIterator[threading.Event]:
        """The flag ``interrupt`` sets for this session's running evaluation."""
        flag = threading.Event()
        self.interrupts[session_id] = flag
        try:
            yield flag
        finally:
            if self.interrupts.get(session_id) is flag:
                del self.interrupts[session_id]

    def interrupt_local(self, session_id: str) -> bool:
        flag = self.interrupts.get(session_id)
        if flag is None:
            return False
        flag.set()
        return True

    async def interrupt_owner(self, session_id: str) -> bool:
        """Ask the node that owns ``session_id`` to interrupt it; True if that node heard."""
        owner = await self.store.owner_of(session_id)
        if not owner or owner == self.node_id:
            return False
        notice = orjson.dumps({"type": "interrupt", "session_id": session_id})
        return await self.store.publish(keys.node_channel(owner), notice) > 0

    def admit(self, client_id: str) -> bool:
        """The client's rate, from this node's bucket (no Redis call)."""
        return self.buckets.take(client_id)



async def _retrying_races(session_id: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt``; while it loses WATCH races, again with jittered exponential back-off
    (tenacity), ``COMMIT_ATTEMPTS`` times in all, then :class:`ContentionExhausted`.

    The first try runs outside tenacity: its bookkeeping costs more than a whole uncontended
    commit's own code, and most commits never race.
    """
    try:
        return await attempt()
    except WatchLost:
        pass
    try:
        async for retry in AsyncRetrying(
            retry=retry_if_exception_type(WatchLost),
            stop=stop_after_attempt(COMMIT_ATTEMPTS - 1),
            wait=wait_random_exponential(multiplier=0.002, max=0.1),
            before=_jitter_first,
        ):
            with retry:
                return await attempt()
    except RetryError:
        pass
    raise ContentionExhausted(
        f"session {session_id} kept changing under concurrent writers; try again",
        details={"retries": COMMIT_ATTEMPTS},
    )


async def _jitter_first(state: RetryCallState) -> None:
    """Racers that lost together must not retry together: a random pause before the first
    retry (tenacity waits only between its own attempts)."""
    if state.attempt_number == 1:
        await trio.sleep(random.uniform(0, 0.002))
