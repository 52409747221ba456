"""Presence: who is attached to which session, kept in the session's ``attached`` hash.

Every attachment of a connection to a session is one entry (:class:`cluster.model.Attachment`:
client, node, since, mode, and this node process's incarnation), written by the commit that
attaches (or, for a new session's creator, right after the create). When a connection closes,
its entries go: a plain ``HDEL`` for an exclusive session (no event, no WATCH: the request
budget of unshared sessions stays as it was), or, on a shared session, a commit with a
``detached`` event for every attached connection, which also removes the entries of nodes that
died (a SIGKILLed node never says goodbye) and clears ``shared`` once nobody is left.

Entries of dead nodes are recognised by the node registry: the node id is gone, or lives on
under another incarnation (a node restarted with the same id). Readers (``list_attached``,
``get_session_info``) leave them out; detach commits delete them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from coredis.exceptions import RedisError

from cluster import sharing
from cluster.errors import StoreUnavailable, StuiError
from cluster.model import Attachment, SessionEvent, SessionMeta
from cluster.registry import live_nodes
from cluster.store import Commit, Committed, ReadSpec, SessionStore, Snapshot

from . import sharing as shared_events
from .fanout import Fanout
from .ownership import EXCLUSIVE, Held, Peer, acting_client

log = logging.getLogger("stui.presence")

Retry = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


class Presence:
    """This node's side of the presence hashes: new entries, leaving, listing."""

    def __init__(
        self,
        node_id: str,
        incarnation: str,
        store: SessionStore,
        locks: Any,
        fanout: Fanout,
        spawn: Callable[..., None],
        deliver: Callable[[str, Committed], Awaitable[None]],
        retrying: Retry,
    ) -> None:
        self.node_id = node_id
        self.incarnation = incarnation
        self.store = store
        self.locks = locks
        self.fanout = fanout
        self.spawn = spawn
        self.deliver = deliver
        self.retrying = retrying
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        """A presence entry's field: unique per node process."""
        return f"{self.node_id}#{self.incarnation}.{next(self._ids)}"

    def entry(self, peer: Peer, meta: SessionMeta, mode: str, since: float) -> Attachment:
        return Attachment(
            client_id=acting_client(peer, meta),
            node_id=self.node_id,
            since=since,
            mode=mode,
            incarnation=self.incarnation,
        )

    # -- leaving ---------------------------------------------------------------------------

    def released(self, peer: Peer, released: dict[str, Held]) -> None:
        """A connection closed: its attachments leave the sessions' presence."""
        for session_id, held in released.items():
            if held.attachment_id:
                self.spawn(self._leave, session_id, held)

    async def _leave(self, session_id: str, held: Held) -> None:
        try:
            if held.mode == EXCLUSIVE and not self.fanout.following(session_id):
                await self.store.presence_drop(session_id, held.attachment_id)
                return
            incarnations = await self.incarnations()
            async with self.locks.hold(session_id):
                committed = await self.retrying(
                    session_id, lambda: self._detach_commit(session_id, held, incarnations)
                )
        except StuiError as exc:  # gone, expired, or Redis away: presence is advisory
            log.info("detach not recorded", extra={"session_id": session_id,
                                                   "error": repr(exc)})
            return
        if committed is not None:
            await self.deliver(session_id, committed)

    async def _detach_commit(
        self, session_id: str, held: Held, incarnations: dict[str, str]
    ) -> Committed | None:
        async with self.store.transaction(
            session_id, None, reads=ReadSpec(attached=True)
        ) as (tx, records):
            mine = records.attached.get(held.attachment_id)
            live, stale = sharing.split_live(records.attached, incarnations)
            live.pop(held.attachment_id, None)
            events: list[SessionEvent] = []
            if mine is not None:
                events.append(shared_events.detached(
                    session_id, held.attachment_id, mine.client_id, mine.node_id, "closed"))
            for gone in stale:
                if gone != held.attachment_id:
                    left = records.attached[gone]
                    events.append(shared_events.detached(
                        session_id, gone, left.client_id, left.node_id, "node_gone"))
            if not events:
                return None
            commit = Commit(
                request_id=None,
                new_version=False,
                presence_removed=tuple(dict.fromkeys([held.attachment_id, *stale])),
                events=tuple(events),
                fanout=bool(tx.meta.shared),
                meta_changes={} if live else {"shared": 0},
            )
            committed: Committed = await tx.commit(commit)
            return committed

    # -- reading ---------------------------------------------------------------------------

    async def incarnations(self) -> dict[str, str]:
        """Live node id -> its incarnation (this node's own, even before its first heartbeat)."""
        try:
            nodes = await live_nodes(self.store.redis)
        except (RedisError, OSError, TimeoutError) as exc:
            # The registry lives in the store: a failover there waits like any store failure
            # (nodes/failover.py runs the request again).
            raise StoreUnavailable(f"node registry unavailable ({exc!r})") from exc
        found = {str(n.get("node_id")): str(n.get("incarnation", "")) for n in nodes}
        found[self.node_id] = self.incarnation
        return found

    async def attached(
        self, peer: Peer, session_id: str
    ) -> tuple[Snapshot, dict[str, Attachment]]:
        """The session (one read) and its live attachments (``list_attached``,
        ``get_session_info``): entries of nodes gone are left out."""
        snapshot = await self.store.read(session_id, peer.client_id, ReadSpec(attached=True))
        live, _stale = sharing.split_live(snapshot.records.attached, await self.incarnations())
        return snapshot, live
