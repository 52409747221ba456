"""Which sessions this node's connections hold, published for operators.

``stui-cluster sessions`` shows, per session, how many connections are attached to it and
where. A node knows its own (:class:`nodes.ownership.Attachments`); this publishes them as one
Redis hash per node (``stui:node:<id>:sessions``: session id -> connections), written once a
second with only what changed since the last write (so the cost follows connection churn, not
the number of sessions), and expiring with the node's heartbeat: a dead node's hash
disappears by itself.
Operators' information only: nothing in the request path reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sized

import trio
from coredis.exceptions import RedisError

from cluster.registry import HEARTBEAT, NodeRegistry

log = logging.getLogger("stui.held_sessions")


class HeldSessions:
    """Dirty-tracking of held sessions and the task that publishes them."""

    def __init__(self, registry: NodeRegistry) -> None:
        self.registry = registry
        self._dirty: set[str] = set()
        self._full = True  # the first write (and one after a failure) replaces the hash

    def changed(self, session_id: str) -> None:
        self._dirty.add(session_id)

    async def flush(self, holders: Mapping[str, Sized]) -> None:
        dirty, self._dirty = self._dirty, set()
        full = self._full
        if full:
            counts = {sid: len(held) for sid, held in holders.items() if held}
            removed: list[str] = []
        else:
            counts = {sid: len(holders[sid]) for sid in dirty if holders.get(sid)}
            removed = [sid for sid in dirty if not holders.get(sid)]
        try:
            await self.registry.publish_sessions(counts, removed, replace=full)
            self._full = False
        except (RedisError, OSError, TimeoutError) as exc:
            self._full = True  # rewrite everything once Redis answers again
            log.info("attached sessions not published", extra={"error": repr(exc)})

    async def run(self, holders: Mapping[str, Sized]) -> None:
        """Publish every heartbeat until cancelled."""
        while True:
            await self.flush(holders)
            await trio.sleep(HEARTBEAT)

    async def clear(self) -> None:
        try:
            await self.registry.clear_sessions()
        except (RedisError, OSError, TimeoutError):
            pass
