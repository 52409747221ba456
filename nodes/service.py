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

Shared sessions (issue 11): step 2 also checks the caller's rights (the owner, or a client the
owner shared the session with: :mod:`cluster.sharing`); a shared attachment holds the session
at its current epoch, so shared writers on any node pass the fence and are serialised by the
WATCH commit alone (a lost race runs ``prepare`` again on the new state); and a shared
session's commits publish their events on the session's channel, delivered in ``seq`` order
on every node by :mod:`nodes.fanout`.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
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

from cluster import keys, sharing
from cluster.durability import Durability
from cluster.errors import (
    ContentionExhausted,
    PermissionDenied,
    SessionTakenOver,
    StuiError,
)
from cluster.model import SessionEvent, SessionMeta
from cluster.ratelimit import ClientBuckets
from cluster.registry import NodeRegistry
from cluster.rollback import AckedVersions, Rollback
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
    Transaction,
    WatchLost,
)

from . import sharing as shared_events
from .fanout import Fanout
from .metrics import NodeMetrics
from .ownership import EXCLUSIVE, SHARED, Attachments, Peer
from .presence import Presence
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

ROLLBACK_CONFIRM_DELAY = 1.0
"""Seconds between a rollback check's two reads after a failover (a demoted primary learns
of its demotion well within it)."""

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
class _Attached:
    """An attach commit's outcome, before the connection is recorded as attached."""

    committed: Committed
    attachment_id: str
    since: float
    mode: str


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
        self.incarnation = secrets.token_hex(6)
        """This process among nodes of the same id (presence entries name it)."""
        self.fanout = Fanout(
            self.attachments,
            store,
            lambda session_id: store.wire.endpoint_for(keys.SessionKeys(session_id).fanout),
            spawn,
            self._on_fanout_event,
            timeout=settings.redis_timeout,
        )
        self.presence = Presence(
            node_id, self.incarnation, store, self.locks, self.fanout, spawn, self._deliver,
            _retrying_races,
        )
        self.attachments.on_forget = self.presence.released
        self.buckets = ClientBuckets(settings.client_rate, settings.client_burst)
        self.interrupts: dict[str, threading.Event] = {}
        # Evaluations run in worker threads; more than a few at once only queue for the GIL.
        self.eval_slots = trio.CapacityLimiter(8)
        self.pacing = Pacing()
        self.limits = Limits(
            max_steps=settings.eval_max_steps, max_seconds=settings.eval_max_seconds
        )
        self.rollbacks = AckedVersions()
        """The last (version, commit id) this node acknowledged per session (rollbacks)."""
        self._rollbacks_told: dict[str, Rollback] = {}

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
        need: str = sharing.WRITE,
        what: str = "this command",
        fence: bool = True,
    ) -> Answer:
        """Run one state-changing command (lock, rights, replay check, fence, run, commit,
        events).

        ``need`` is the access the caller must have (:mod:`cluster.sharing`; ``what`` names
        the command in the refusal); ``fence`` False skips the ownership fence (a command that
        configures the session rather than writing its workspace, such as a grant).

        Raises the errors of :class:`SessionStore`, :class:`SessionTakenOver`,
        ``PermissionDenied``, whatever ``prepare`` raises, and :class:`ContentionExhausted`
        after ``COMMIT_ATTEMPTS`` lost races.
        """
        async with self.locks.hold(session_id):
            outcome = await _retrying_races(
                session_id,
                lambda: self._attempt(
                    peer, session_id, request_id, prepare, workspace, reads, need, what, fence
                ),
            )
        if outcome.committed is not None:
            await self._deliver(session_id, outcome.committed)
        return outcome

    async def _attempt(
        self,
        peer: Peer,
        session_id: str,
        request_id: str,
        prepare: Prepare,
        with_workspace: bool,
        reads: ReadSpec | None,
        need: str,
        what: str,
        fence: bool,
    ) -> Answer:
        async with self.store.transaction(
            session_id, peer.client_id, request_id, reads=reads
        ) as (tx, records):
            access = sharing.require(tx.meta, peer.client_id, need, what)
            if tx.stored is not None:
                durability = await tx.confirm()  # a replay says what its write reached too
                return Answer(
                    response={**tx.stored, "replayed": True, "durability": durability.to_wire()},
                    replayed=True,
                )
            # A rollback is only suspected here: the read may come from a primary that a
            # failover has just demoted (it still answers reads while its writes are paused).
            # The commit proves the read (its WATCH held on the primary that ran it), so the
            # holders are told only after it; a failed commit drops the suspicion.
            suspected = self.rollbacks.check(session_id, tx.meta.version, tx.meta.commit_id)
            take_over = self._fence(peer, session_id, tx.meta, access) if fence else False
            attachment_id = ""
            entry = None
            if with_workspace:
                entry = self.images.get(session_id)
                if entry is None or entry.version != tx.meta.version:
                    entry = workspace_from(session_id, tx.meta.version, await tx.read(WORKSPACE))
            try:
                commit = await prepare(Prepared(session_id, tx.meta, records, entry))
                if suspected is not None:
                    commit = attrs.evolve(commit, version_floor=suspected.acknowledged_version)
                if take_over:
                    attachment_id = self.presence.new_id()
                    commit = self._exclusively(commit, peer, tx.meta, attachment_id)
                elif tx.meta.shared:
                    commit = attrs.evolve(commit, fanout=True)
                committed = await tx.commit(commit)
                self._settle_rollback(session_id, suspected)
            except WatchLost:
                self.images.drop(session_id)
                self.metrics.conflicts.inc()
                raise
            except BaseException:
                self.images.drop(session_id)  # prepare may have changed it in place
                raise
        if take_over:
            self._took_over(peer, session_id, committed, attachment_id)
        if entry is not None:
            entry.version = committed.meta.version
            self.images.put(session_id, entry)  # its heap may have grown: keep within bounds
            if wants_collection(entry):
                await self._collect(peer, session_id, entry)
        meta = committed.meta
        self.rollbacks.remember(session_id, meta.version, meta.commit_id)
        response = {**committed.response, "durability": committed.durability.to_wire()}
        return Answer(response=response, replayed=False, committed=committed)

    # -- rollbacks -------------------------------------------------------------------------

    def _settle_rollback(self, session_id: str, found: Rollback | None) -> None:
        """A commit proved what its read found (:mod:`cluster.rollback`): on a rollback,
        count it and tell the session's holders (once per rollback)."""
        if found is None:
            self._rollbacks_told.pop(session_id, None)
            return
        if self._rollbacks_told.get(session_id) != found:
            self._rollbacks_told[session_id] = found
            self.rollbacks.detected += 1
            self.metrics.rollbacks.inc()
            log.error("session rolled back by the store", extra=found.to_wire())
            self.notify(session_id, "session_rolled_back", found.to_wire())

    async def verify_held(self, session_ids: list[str] | None = None) -> int:
        """Check the sessions held by this node's connections (or ``session_ids``) for
        rollbacks, after a failover; how many were found rolled back."""
        ids = session_ids if session_ids is not None else list(self.attachments.by_session)
        ids = [sid for sid in ids if self.rollbacks.get(sid) is not None]
        if not ids:
            return 0
        suspects = self._rollbacks_in(await self.store.versions(ids))
        if not suspects:
            return 0
        # Reads alone prove nothing right after a failover: a demoted primary answers them
        # until it learns of its demotion. What is still rolled back a moment later is.
        await trio.sleep(ROLLBACK_CONFIRM_DELAY)
        confirmed = self._rollbacks_in(await self.store.versions(list(suspects)))
        for session_id, rollback in confirmed.items():
            self._settle_rollback(session_id, rollback)
        return len(confirmed)

    def _rollbacks_in(self, stored: dict[str, tuple[int, str]]) -> dict[str, Rollback]:
        found = {}
        for session_id, (version, commit_id) in stored.items():
            rollback = self.rollbacks.check(session_id, version, commit_id)
            if rollback is not None:
                found[session_id] = rollback
        return found

    def _fence(self, peer: Peer, session_id: str, meta: SessionMeta, access: str) -> bool:
        """Whether this commit must take the session over; refuse a stale holder.

        A shared holder passes while its epoch is the stored one (nobody attached exclusively
        since it attached); a client the session was shared with must attach before it
        writes (it never takes the session from its owner).
        """
        if self.attachments.was_lost(peer, session_id):
            raise SessionTakenOver(f"session {session_id} was taken over by another connection")
        held = self.attachments.epoch(peer, session_id)
        if held is None:
            if access != sharing.OWNER:
                raise PermissionDenied(
                    f"attach to session {session_id} first (restore_session with "
                    "attach: 'shared'): only its owner takes it over by writing"
                )
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

    def _exclusively(
        self, commit: Commit, peer: Peer, meta: SessionMeta, attachment_id: str
    ) -> Commit:
        """``commit`` as an exclusive attach: a new epoch (fencing every other holder), the
        notice to the previous owner's node, presence reset to this connection alone, and, on
        a shared session, an ``attached`` event on its channel that closes every shared holder
        on every node; the session is no longer shared after it."""
        since = time.time()
        presence = self.presence.entry(peer, meta, EXCLUSIVE, since)
        events = commit.events
        if meta.shared:
            notice = shared_events.attached(
                meta.session_id, attachment_id, presence.client_id, self.node_id, EXCLUSIVE,
                since, meta.epoch + 1,
            )
            events = (*events, notice)
        return attrs.evolve(
            commit,
            take_over=True,
            publish=(*commit.publish, *self._takeover_notice(meta)),
            presence_reset=True,
            presence={attachment_id: sharing.encode_attachment(presence)},
            meta_changes={**commit.meta_changes, "shared": 0},
            events=events,
            fanout=bool(meta.shared),
        )

    def _took_over(
        self, peer: Peer, session_id: str, committed: Committed, attachment_id: str
    ) -> None:
        self.attachments.attach(
            peer, session_id, committed.meta.epoch, EXCLUSIVE,
            attachment_id=attachment_id, since=time.time(), seen=committed.meta.event_seq,
        )
        self.metrics.handoffs.inc()
        self.on_taken_over(session_id, committed.meta.epoch)
        self.fanout.unfollow(session_id)  # not shared any more: events go straight out

    def on_taken_over(self, session_id: str, epoch: int) -> None:
        """A session now has ``epoch``: close local connections holding an older one."""
        for peer, held in self.attachments.holders(session_id):
            if held < epoch:
                self.spawn(self._close_stale, peer, session_id, epoch)

    async def _close_stale(self, peer: Peer, session_id: str, epoch: int) -> None:
        if self.attachments.epoch(peer, session_id) is None:
            # Already gone, or already told: a takeover here reaches this twice (from the
            # commit and from its own exclusive "attached" event); one notice is enough.
            return
        self.attachments.lose(peer, session_id)
        await peer.taken_over(session_id, epoch)

    async def on_closed(self, session_id: str, nodes: set[str]) -> None:
        """Its owner closed the session here: tell the other connections attached to it, here
        and (a control message each, a hint like a takeover notice) on ``nodes``."""
        self.let_go(session_id, "session_closed")
        message = orjson.dumps({"type": "closed", "session_id": session_id})
        for node_id in sorted(nodes - {self.node_id}):
            try:
                await self.store.publish(keys.node_channel(node_id), message)
            except StuiError as exc:  # they learn SessionNotFound at their next request
                log.info("close notice not sent", extra={"node": node_id, "error": repr(exc)})

    def let_go(self, session_id: str, event_name: str) -> None:
        """The session is gone (``session_closed`` by its owner, maybe on another node, or
        ``session_expired``): tell the local connections still holding it, and let go."""
        self.notify(session_id, event_name, {})
        for peer, _epoch in self.attachments.holders(session_id):
            self.attachments.detach(peer, session_id)
        self.images.drop(session_id)

    async def on_session_expired(self, session_id: str) -> None:
        """The session's ``alive`` key expired: tell local holders, then clean up."""
        self.let_go(session_id, "session_expired")
        member = await self.store.expiry_member_of(session_id)
        if member is not None and await self.store.remove(*member, if_expired=True):
            self.metrics.evictions.inc()

    # -- create and restore ----------------------------------------------------------------

    async def create(
        self, peer: Peer, client_id: str, request_id: str, mode: str = EXCLUSIVE
    ) -> tuple[SessionMeta, bool, Durability]:
        """Create a session held by ``peer``; a retried request id answers the first one.
        Also answers what the write reached (:mod:`cluster.durability`).

        ``mode`` shared: the creator attaches shared at once (the session starts shared).
        """
        meta, replayed, durability = await self.store.create(client_id, request_id)
        if replayed:
            meta, _ = await self.store.take_over(meta.session_id, peer.client_id)
        self.rollbacks.remember(meta.session_id, meta.version, meta.commit_id)
        if mode == SHARED:
            async with self.locks.hold(meta.session_id):
                done = await self._attach(peer, meta.session_id, None, SHARED)
            return done.committed.meta, replayed, durability
        attachment_id, since = self.presence.new_id(), time.time()
        self.attachments.attach(
            peer, meta.session_id, meta.epoch, EXCLUSIVE,
            attachment_id=attachment_id, since=since, seen=meta.event_seq,
        )
        try:
            await self.store.presence_put(
                meta.session_id, attachment_id, self.presence.entry(peer, meta, EXCLUSIVE, since)
            )
        except StuiError as exc:  # presence is advisory: the session is created all the same
            log.info("presence not recorded", extra={"error": repr(exc)})
        return meta, replayed, durability


    async def restore(
        self, peer: Peer, session_id: str, last_seq: int | None, mode: str | None = None
    ) -> tuple[SessionMeta, Records, int | None, bool]:
        """Resume ``session_id`` on ``peer``: (meta, records, ttl ms or None, resumed).

        ``mode``: ``exclusive`` (the owner's default) takes the session over (a new epoch:
        every other holder is closed); ``shared`` (a grantee's default, and its only choice)
        joins the holders at the current epoch, closing nobody. A connection that does not
        hold the session in that mode attaches in a commit that also reads everything (two
        round trips); one that already holds it so re-reads it (one round trip): if it was
        taken over meanwhile, its next write is refused by the fence.
        """
        spec = attrs.evolve(RESTORE, events_after=last_seq)
        held = self.attachments.held(peer, session_id)
        ttl_ms: int | None = None
        if held is not None and mode in (None, held.mode):
            snapshot: Snapshot = await self.store.read(session_id, peer.client_id, spec)
            meta, records, ttl_ms, resumed = snapshot.meta, snapshot.records, snapshot.ttl_ms, False
        else:
            async with self.locks.hold(session_id):
                done = await self._attach(peer, session_id, spec, mode)
            meta, records, resumed = done.committed.meta, done.committed.records, True
        self._check_cached(session_id, meta.version)
        self.rollbacks.remember(session_id, meta.version, meta.commit_id)
        return meta, records, ttl_ms, resumed

    async def _attach(
        self, peer: Peer, session_id: str, spec: ReadSpec | None, mode: str | None
    ) -> _Attached:
        """Attach ``peer`` in ``mode`` (None: exclusive for the owner, shared for a client the
        session was shared with) in one commit; the caller holds the session's lock."""

        async def attempt() -> _Attached:
            async with self.store.transaction(session_id, peer.client_id) as (tx, _):
                owner = sharing.access(tx.meta, peer.client_id) == sharing.OWNER
                if mode == SHARED or (mode is None and not owner):
                    return await self._join_in(tx, peer, spec)
                sharing.require(tx.meta, peer.client_id, sharing.OWNER, "an exclusive attach")
                attachment_id = self.presence.new_id()
                commit = self._exclusively(
                    Commit(request_id=None, new_version=False), peer, tx.meta, attachment_id
                )
                committed = await tx.commit(commit, reads=spec)
                return _Attached(committed, attachment_id, time.time(), EXCLUSIVE)

        done = await _retrying_races(session_id, attempt)
        if done.mode == EXCLUSIVE:
            self._took_over(peer, session_id, done.committed, done.attachment_id)
        else:
            self.attachments.attach(
                peer, session_id, done.committed.meta.epoch, SHARED,
                attachment_id=done.attachment_id, since=done.since,
                seen=done.committed.meta.event_seq,
            )
            self.fanout.follow(session_id)
            self.fanout.offer(session_id, done.committed.events)  # the other local holders
        return done

    async def _join_in(self, tx: Transaction, peer: Peer, spec: ReadSpec | None) -> _Attached:
        """The shared attach commit inside transaction ``tx``: presence, the ``attached``
        event (on the channel), ``shared`` set; the epoch stays. When the session becomes
        shared, its owner node is told, so an exclusive holder there starts listening too."""
        meta = tx.meta
        sharing.require(meta, peer.client_id, sharing.READ, "restore_session")
        attachment_id, since = self.presence.new_id(), time.time()
        presence = self.presence.entry(peer, meta, SHARED, since)
        notice = shared_events.attached(
            meta.session_id, attachment_id, presence.client_id, self.node_id, SHARED, since,
            meta.epoch,
        )
        publish: tuple[tuple[str, bytes], ...] = ()
        if not meta.shared and meta.owner and meta.owner != self.node_id:
            message = orjson.dumps({"type": "shared", "session_id": meta.session_id})
            publish = ((keys.node_channel(meta.owner), message),)
        held = self.attachments.held(peer, meta.session_id)
        commit = Commit(
            request_id=None,
            new_version=False,
            meta_changes={"shared": 1},
            presence={attachment_id: sharing.encode_attachment(presence)},
            presence_removed=(held.attachment_id,) if held and held.attachment_id else (),
            events=(notice,),
            fanout=True,
            publish=publish,
        )
        return _Attached(await tx.commit(commit, reads=spec), attachment_id, since, SHARED)

    def _on_fanout_event(self, session_id: str, session_event: SessionEvent) -> None:
        """What an event means for this node's connections, besides being sent to them."""
        data = session_event.data
        if session_event.name == "attached" and data.get("mode") == EXCLUSIVE:
            self.on_taken_over(session_id, int(data.get("epoch", 0)))
        elif session_event.name == "share_revoked":
            for peer, _held in self.attachments.attached(session_id):
                if peer.client_id == data.get("client_id"):
                    self.attachments.detach(peer, session_id)

    def on_shared(self, session_id: str) -> None:
        """The session became shared elsewhere: listen if a local connection holds it."""
        if session_id in self.attachments:
            self.fanout.follow(session_id)

    def _check_cached(self, session_id: str, version: int) -> None:
        cached = self.images.get(session_id)
        if cached is not None and cached.version != version:
            self.images.drop(session_id)

    # -- events, interrupts, limits --------------------------------------------------------

    async def _deliver(self, session_id: str, committed: Committed) -> None:
        """A commit's events to every local connection holding the session, with ``seq``.

        On a shared session they go through the fan-out's feed, which delivers in ``seq``
        order with the other nodes' events; the writer waits (briefly) until its own events
        went out, so they still arrive before its answer.
        """
        if not committed.events:
            return
        if committed.meta.shared or self.fanout.following(session_id):
            if session_id in self.attachments:
                self.fanout.follow(session_id)
            self.fanout.offer(session_id, committed.events)
            await self.fanout.delivered(session_id, committed.events[-1].seq)
            return
        for session_event in committed.events:
            self.fanout.send(session_id, session_event)
            self._on_fanout_event(session_id, session_event)

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
