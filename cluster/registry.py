"""The node registry: which nodes are alive, where, and how busy.

Each node keeps a hash ``stui:node:<id>`` (address, connections, started, heartbeat) with a TTL
of three heartbeats, and its id in the sorted set ``stui:nodes`` scored by its last heartbeat.
A node that dies stops refreshing: its hash expires by itself and readers ignore (and prune)
set members whose hash is gone. Connection counters (connects, disconnects, reconnects) are
kept cluster-wide and per client; they are counted in memory and written with the next
heartbeat, so counting costs a request no round trip.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import coredis
import trio
from coredis.exceptions import RedisError

from . import keys

log = logging.getLogger("stui.registry")

HEARTBEAT = 1.0
"""Seconds between heartbeats; a node is gone after 3 missed ones."""

COUNTERS = keys.COUNTERS
CLIENT_STATS_TTL = 7 * 24 * 3600


class NodeRegistry:
    """Register this node, heartbeat it, and read the others."""

    def __init__(self, redis: coredis.Redis[str], node_id: str) -> None:
        self.redis = redis
        self.node_id = node_id
        self.started = time.time()
        self._pending: Counter[tuple[str, str | None]] = Counter()

    async def heartbeat(self, fields: dict[str, Any]) -> None:
        key = keys.node(self.node_id)
        now = time.time()
        await self.flush_counts()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                {
                    "node_id": self.node_id,
                    "started": str(self.started),
                    "heartbeat": str(now),
                    **{name: str(value) for name, value in fields.items()},
                },
            )
            pipe.pexpire(key, int(HEARTBEAT * 3000))
        await self.redis.zadd(keys.NODES, {self.node_id: now})

    async def run(self, fields: Callable[[], dict[str, Any]]) -> None:
        """Heartbeat forever (cancel to stop); a failed beat is logged and retried."""
        while True:
            try:
                await self.heartbeat(fields())
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("heartbeat failed", extra={"error": repr(exc)})
            await trio.sleep(HEARTBEAT)

    async def publish_sessions(
        self, counts: dict[str, int], removed: list[str], *, replace: bool
    ) -> None:
        """Write the sessions held here (``replace``: the whole set, else only changes) and
        keep the hash alive as long as the heartbeat."""
        key = keys.node_sessions(self.node_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            if replace:
                pipe.delete([key])
            if counts:
                pipe.hset(key, {sid: str(n) for sid, n in counts.items()})
            if removed:
                pipe.hdel(key, removed)
            pipe.pexpire(key, int(HEARTBEAT * 3000))

    async def clear_sessions(self) -> None:
        await self.redis.delete([keys.node_sessions(self.node_id)])

    async def deregister(self) -> None:
        await self.flush_counts()
        try:
            await self.redis.delete([keys.node(self.node_id)])
            await self.redis.zrem(keys.NODES, [self.node_id])
        except (RedisError, OSError, TimeoutError):
            pass

    def count(self, counter: str, client_id: str | None = None) -> None:
        """Bump a cluster-wide counter (connects, disconnects, reconnects) and the client's
        (written with the next heartbeat)."""
        self._pending[(counter, client_id)] += 1

    async def flush_counts(self) -> None:
        """Write the counts made since the last flush (kept for the next one if Redis fails)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, Counter()
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for (counter, client_id), amount in pending.items():
                    pipe.hincrby(COUNTERS, counter, amount)
                    if client_id is not None:
                        stats = keys.client_stats(client_id)
                        pipe.hincrby(stats, counter, amount)
                        pipe.expire(stats, CLIENT_STATS_TTL)
        except (RedisError, OSError, TimeoutError) as exc:
            self._pending.update(pending)
            log.info("counters not written yet", extra={"error": repr(exc)})

    async def live_nodes(self) -> list[dict[str, str]]:
        """Every node whose heartbeat hash still exists."""
        return await live_nodes(self.redis)

    async def counters(self, client_id: str | None = None) -> dict[str, int]:
        """Cluster-wide counters, or one client's."""
        key = COUNTERS if client_id is None else keys.client_stats(client_id)
        raw = await self.redis.hgetall(key)
        return {str(k): int(v) for k, v in raw.items()}


async def live_nodes(redis: coredis.Redis[str]) -> list[dict[str, str]]:
    """Every node whose heartbeat hash still exists (stale set members are pruned)."""
    ids = [str(i) for i in await redis.zrange(keys.NODES, 0, -1)]
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        reads = [pipe.hgetall(keys.node(node_id)) for node_id in ids]
    nodes, gone = [], []
    for node_id, read in zip(ids, reads, strict=True):
        fields = {str(k): str(v) for k, v in (await read).items()}
        if fields:
            nodes.append(fields)
        else:
            gone.append(node_id)
    if gone:
        await redis.zrem(keys.NODES, gone)
    return nodes


async def attached_sessions(
    redis: coredis.Redis[str], node_ids: list[str]
) -> dict[str, dict[str, int]]:
    """For each node id, the sessions its connections hold -> how many connections."""
    if not node_ids:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        reads = [pipe.hgetall(keys.node_sessions(node_id)) for node_id in node_ids]
    return {
        node_id: {str(sid): int(n) for sid, n in (await read).items()}
        for node_id, read in zip(node_ids, reads, strict=True)
    }
