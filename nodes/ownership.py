"""Which connection owns a session, and the fencing that keeps a stale owner from writing.

A connection that creates or restores a session holds it at an ownership epoch. Restoring it
elsewhere raises the epoch in Redis (:meth:`SessionStore.take_over`) and tells the previous
owner; every commit carries the writer's epoch and fails if it is no longer the stored one. A
connection that writes to a session it does not hold takes it over first (an upstream client
may update without restoring).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cluster.errors import SessionTakenOver

from .control import announce_takeover
from .dispatch import Call


async def take_over(call: Call, session_id: str) -> int:
    """Make this connection the session's owner; return the new epoch."""
    node = call.node
    meta, previous = await node.store.take_over(session_id, call.connection.client_id)
    call.connection.lost.discard(session_id)
    call.connection.hold(session_id, meta.epoch)
    await node.on_taken_over(session_id, meta.epoch)  # other local connections
    await announce_takeover(node, session_id, meta.epoch, previous)
    return meta.epoch


@asynccontextmanager
async def fenced(call: Call, session_id: str) -> AsyncIterator[int]:
    """The epoch to write with; if a commit finds it stale, this connection is closed."""
    if session_id in call.connection.lost:
        # Taken over from this very connection: never grab it back implicitly (two stale
        # clients would take it from each other forever). Restoring it explicitly still works.
        raise SessionTakenOver(f"session {session_id} was taken over by another connection")
    epoch = call.connection.sessions.get(session_id)
    if epoch is None:
        epoch = await take_over(call, session_id)
    try:
        yield epoch
    except SessionTakenOver:
        call.node.spawn(call.connection.taken_over, session_id, epoch + 1)
        raise
