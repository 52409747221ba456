"""Which local connections hold which sessions, at which ownership epoch: both directions.

A connection that creates, restores or first writes a session holds it at an epoch (the one
its commit wrote). Restoring it elsewhere raises the epoch in Redis; the store refuses every
later commit made with the old epoch (fencing), and the takeover notice lets this node close
the stale connection at once. :class:`Attachments` is the one place that knows, for a session,
its local holders (to deliver events, notices and expiry) and, for a connection, its sessions
(to release them when it closes), so the two directions can never disagree.

Attach modes (issue 11): an *exclusive* attachment raises the epoch (everyone else is closed);
a *shared* one records the session's current epoch without raising it, so shared holders on
any node commit side by side for as long as nobody attaches exclusively (which raises the
epoch and so fences and closes all of them). Each attachment also knows its presence entry
(``attachment_id``), when it began, and the newest event ``seq`` its connection was sent, so
an event is never sent twice to one connection, whichever path brought it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol

import attrs

from cluster.model import SessionMeta

EXCLUSIVE, SHARED = "exclusive", "shared"


class Peer(Hashable, Protocol):
    """What the session layer needs of a connection."""

    @property
    def client_id(self) -> str | None: ...

    def send_nowait(self, message: dict[str, Any]) -> bool: ...

    async def taken_over(self, session_id: str, epoch: int) -> None: ...

    async def overwhelmed(self) -> None:
        """Its send queue could not take a session event: close it (its client replays)."""


def acting_client(peer: Peer, meta: SessionMeta) -> str:
    """The client ``peer`` acts as on the session: its own id, or, for a connection that has
    not authenticated (it holds the session id as a capability), the session's owner."""
    return peer.client_id or meta.client_id


@attrs.define
class Held:
    """One connection's attachment to one session."""

    epoch: int
    mode: str = EXCLUSIVE
    since: float = 0.0
    attachment_id: str = ""
    """Its field in the session's presence hash ("" when none was written)."""
    seen: int = 0
    """The newest event ``seq`` sent to the connection for this session."""
    overwhelmed: bool = False
    """An event could not be queued for it: it is being closed (and gets no more)."""


class Attachments:
    """Session <-> connection index of one node, with each connection's attachment."""

    def __init__(self) -> None:
        self._holders: dict[str, dict[Peer, Held]] = {}
        self._held: dict[Peer, dict[str, Held]] = {}
        self._lost: dict[Peer, set[str]] = {}
        self.watchers: list[Callable[[str], None]] = []
        """Called with a session id whose holders changed (the node publishes them, the
        fan-out follows the sessions it needs)."""
        self.on_forget: Callable[[Peer, dict[str, Held]], None] = lambda peer, held: None
        """Called when a closed connection's attachments are released (presence cleanup)."""

    def _changed(self, session_id: str) -> None:
        for watcher in self.watchers:
            watcher(session_id)

    def _drop_holder(self, session_id: str, peer: Peer) -> None:
        """``peer`` no longer holds ``session_id`` (the session-side index only)."""
        holders = self._holders.get(session_id)
        if holders is not None:
            holders.pop(peer, None)
            if not holders:
                del self._holders[session_id]
            self._changed(session_id)

    @property
    def by_session(self) -> Mapping[str, Mapping[Peer, Held]]:
        """Session id -> its local holders and their attachments (read-only use)."""
        return self._holders

    def attach(
        self,
        peer: Peer,
        session_id: str,
        epoch: int,
        mode: str = EXCLUSIVE,
        *,
        attachment_id: str = "",
        since: float = 0.0,
        seen: int = 0,
    ) -> Held:
        """``peer`` holds ``session_id`` at ``epoch`` (again: a restore clears "lost")."""
        held = Held(epoch, mode, since, attachment_id, seen)
        self._holders.setdefault(session_id, {})[peer] = held
        self._held.setdefault(peer, {})[session_id] = held
        self._changed(session_id)
        lost = self._lost.get(peer)
        if lost is not None:
            lost.discard(session_id)
        return held

    def detach(self, peer: Peer, session_id: str) -> Held | None:
        self._drop_holder(session_id, peer)
        held = self._held.get(peer)
        if held is not None:
            return held.pop(session_id, None)
        return None

    def lose(self, peer: Peer, session_id: str) -> None:
        """``session_id`` was taken from ``peer``: it never grabs it back implicitly (two stale
        clients would take it from each other forever); an explicit restore still works."""
        self.detach(peer, session_id)
        self._lost.setdefault(peer, set()).add(session_id)

    def forget(self, peer: Peer) -> list[str]:
        """``peer`` closed: release everything it held; which sessions those were."""
        released = self._held.pop(peer, {})
        for session_id in released:
            self._drop_holder(session_id, peer)
        self._lost.pop(peer, None)
        if released:
            self.on_forget(peer, released)
        return list(released)

    def epoch(self, peer: Peer, session_id: str) -> int | None:
        """The epoch ``peer`` holds ``session_id`` at, if it holds it."""
        held = self._held.get(peer, {}).get(session_id)
        return None if held is None else held.epoch

    def held(self, peer: Peer, session_id: str) -> Held | None:
        """``peer``'s attachment to ``session_id``, if any."""
        return self._held.get(peer, {}).get(session_id)

    def was_lost(self, peer: Peer, session_id: str) -> bool:
        return session_id in self._lost.get(peer, ())

    def holders(self, session_id: str) -> list[tuple[Peer, int]]:
        """Local connections holding ``session_id``, with their epochs."""
        return [(peer, held.epoch) for peer, held in self._holders.get(session_id, {}).items()]

    def attached(self, session_id: str) -> list[tuple[Peer, Held]]:
        """Local connections holding ``session_id``, with their attachments."""
        return list(self._holders.get(session_id, {}).items())

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._holders
