"""Which local connections hold which sessions, at which ownership epoch: both directions.

A connection that creates, restores or first writes a session holds it at an epoch (the one
its commit wrote). Restoring it elsewhere raises the epoch in Redis; the store refuses every
later commit made with the old epoch (fencing), and the takeover notice lets this node close
the stale connection at once. :class:`Attachments` is the one place that knows, for a session,
its local holders (to deliver events, notices and expiry) and, for a connection, its sessions
(to release them when it closes), so the two directions can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, Protocol


class Peer(Hashable, Protocol):
    """What the session layer needs of a connection."""

    @property
    def client_id(self) -> str | None: ...

    def send_nowait(self, message: dict[str, Any]) -> bool: ...

    async def taken_over(self, session_id: str, epoch: int) -> None: ...


class Attachments:
    """Session <-> connection index of one node, with each connection's epoch."""

    def __init__(self) -> None:
        self._holders: dict[str, dict[Peer, int]] = {}
        self._held: dict[Peer, dict[str, int]] = {}
        self._lost: dict[Peer, set[str]] = {}
        self.on_change: Callable[[str], None] = lambda session_id: None
        """Called with a session id whose holders changed (the node publishes them)."""

    @property
    def by_session(self) -> Mapping[str, Mapping[Peer, int]]:
        """Session id -> its local holders and their epochs (read-only use)."""
        return self._holders

    def attach(self, peer: Peer, session_id: str, epoch: int) -> None:
        """``peer`` holds ``session_id`` at ``epoch`` (again: a restore clears "lost")."""
        self._holders.setdefault(session_id, {})[peer] = epoch
        self._held.setdefault(peer, {})[session_id] = epoch
        self.on_change(session_id)
        lost = self._lost.get(peer)
        if lost is not None:
            lost.discard(session_id)

    def detach(self, peer: Peer, session_id: str) -> None:
        holders = self._holders.get(session_id)
        if holders is not None:
            holders.pop(peer, None)
            if not holders:
                del self._holders[session_id]
            self.on_change(session_id)
        held = self._held.get(peer)
        if held is not None:
            held.pop(session_id, None)

    def lose(self, peer: Peer, session_id: str) -> None:
        """``session_id`` was taken from ``peer``: it never grabs it back implicitly (two stale
        clients would take it from each other forever); an explicit restore still works."""
        self.detach(peer, session_id)
        self._lost.setdefault(peer, set()).add(session_id)

    def forget(self, peer: Peer) -> list[str]:
        """``peer`` closed: release everything it held; which sessions those were."""
        held = list(self._held.pop(peer, {}))
        for session_id in held:
            holders = self._holders.get(session_id)
            if holders is not None:
                holders.pop(peer, None)
                if not holders:
                    del self._holders[session_id]
                self.on_change(session_id)
        self._lost.pop(peer, None)
        return held

    def epoch(self, peer: Peer, session_id: str) -> int | None:
        """The epoch ``peer`` holds ``session_id`` at, if it holds it."""
        return self._held.get(peer, {}).get(session_id)

    def was_lost(self, peer: Peer, session_id: str) -> bool:
        return session_id in self._lost.get(peer, ())

    def holders(self, session_id: str) -> list[tuple[Peer, int]]:
        """Local connections holding ``session_id``, with their epochs."""
        return list(self._holders.get(session_id, {}).items())

    def sessions(self, peer: Peer) -> dict[str, int]:
        return dict(self._held.get(peer, {}))

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._holders
