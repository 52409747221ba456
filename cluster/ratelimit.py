"""Per-client request rates without a Redis call per request.

Each node keeps a token bucket per client (:class:`ClientBuckets`: refilled at ``rate`` per
second up to ``burst``) and admits or refuses a request from memory. What keeps the limit
cluster-wide is :class:`RateSync`: every ``interval`` it adds, in one pipelined round trip, what
each active client spent on this node to the client's cluster-wide counter
(``INCRBY stui:client:{cid}:spent``). The reply is the counter's new total: minus what this
node has added since its last look, it is what the *other* nodes spent meanwhile, and the
client's bucket here is debited by that much.

So a client that spreads its requests over N nodes gets, over any stretch of time, its rate
plus at most what the other nodes admitted during one sync interval before this node heard of
it: at most ``(N - 1) * (rate * interval + burst)`` above ``rate * time + burst``, and a
debt is capped at ``burst`` (a client is never locked out for longer than ``2 * burst / rate``
seconds). A Redis outage only stops the debiting: each node then enforces the limit on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import attrs
import trio

from . import keys
from .wire import ReplyError, Wire, WireError

log = logging.getLogger("stui.ratelimit")

SPENT_TTL = 3600
"""Seconds a client's cluster-wide counter outlives its last request."""


@attrs.define
class _Bucket:
    tokens: float
    at: float
    unsynced: int = 0
    """Requests admitted here since the last sync."""
    seen_total: int | None = None
    """The cluster-wide counter as of the last sync (None: never synced)."""


class ClientBuckets:
    """Token buckets of this node, one per client that sent a request recently."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _bucket(self, client_id: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(client_id)
        if bucket is None:
            bucket = self._buckets[client_id] = _Bucket(tokens=self.burst, at=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def take(self, client_id: str) -> bool:
        """Admit one request of ``client_id`` if its bucket has a token (no I/O)."""
        if not self.enabled:
            return True
        bucket = self._bucket(client_id)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        bucket.unsynced += 1
        return True

    def pending(self) -> dict[str, int]:
        """What each recently active client spent here since the last sync (0 for one that
        spent nothing but may still owe: its sync learns what the others spent). A client
        whose bucket is full again is forgotten: it costs no memory and no sync."""
        spent: dict[str, int] = {}
        for client_id in list(self._buckets):
            bucket = self._bucket(client_id)
            if bucket.unsynced or bucket.tokens < self.burst:
                spent[client_id] = bucket.unsynced
            else:
                del self._buckets[client_id]
        return spent

    def synced(self, client_id: str, added: int, total: int) -> float:
        """The cluster-wide counter is ``total`` after we added ``added``: debit what the
        other nodes spent since our last sync; answer that amount."""
        bucket = self._buckets.get(client_id)
        if bucket is None:
            return 0.0
        bucket.unsynced -= added
        others = 0.0
        if bucket.seen_total is not None:
            others = max(0.0, float(total - bucket.seen_total - added))
        bucket.seen_total = total
        bucket.tokens = max(-self.burst, bucket.tokens - others)
        return others

    def sync_failed(self, client_id: str, added: int) -> None:
        """A sync that was to add ``added`` got no answer: take it as added. The round trip
        may have counted it anyway (a Redis Cluster's fails as a whole when one primary is
        away, after the others ran their part); adding it again would later debit this
        client for its own requests. If it was not counted, the other nodes' next
        ``added`` requests go undebited here: looser for a moment, never a lockout."""
        bucket = self._buckets.get(client_id)
        if bucket is None:
            return
        bucket.unsynced -= added
        if bucket.seen_total is not None:
            bucket.seen_total += added


class RateSync:
    """Reconciles :class:`ClientBuckets` with the other nodes through Redis (a service:
    ``await nursery.start(sync.run)``; cancel to stop)."""

    def __init__(self, buckets: ClientBuckets, wire: Wire, interval: float = 0.25) -> None:
        self.buckets = buckets
        self.wire = wire
        self.interval = interval

    async def sync_once(self) -> int:
        """One reconciliation round trip; how many clients were synced."""
        pending = self.buckets.pending()
        if not pending:
            return 0
        commands: list[tuple[Any, ...]] = []
        for client_id, spent in pending.items():
            key = keys.client_spent(client_id)
            commands += [("INCRBY", key, spent), ("EXPIRE", key, SPENT_TTL)]
        try:
            replies = await self.wire.roundtrip(commands)
        except WireError:
            for client_id, spent in pending.items():
                self.buckets.sync_failed(client_id, spent)
            raise
        for index, (client_id, spent) in enumerate(pending.items()):
            total = replies[2 * index]
            if not isinstance(total, ReplyError):
                self.buckets.synced(client_id, spent, int(total))
        return len(pending)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        if not self.buckets.enabled:
            return
        while True:
            await trio.sleep(self.interval)
            try:
                await self.sync_once()
            except WireError as exc:
                # Redis is away: this node keeps enforcing the limit on its own meanwhile.
                log.info("rate sync skipped", extra={"error": str(exc)})
