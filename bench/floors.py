"""The floors a node sits on, measured in the same run as the node.

- Redis: one GET of one key through coredis, configured exactly as a node configures it
  (:func:`cluster.store.connect`), serial and from concurrent tasks. A node request that needs
  ``k`` round trips cannot have a latency below ``k`` times this p50.
- WebSocket: a raw trio-websocket echo server (:mod:`bench.echo`, its own process) driven by
  the same client machinery as the node: the throughput of a node can't exceed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import coredis

from client.connection import Connection

from .clients import open_clients, padded_parameters
from .load import Cell, Operation, Probe, measure

REDIS_KEY = "bench:floor:key"
REDIS_VALUE = "v" * 64
ECHO_BYTES = 200


async def redis_floor(
    redis: coredis.Redis[str],
    tasks: int,
    *,
    warmup: float,
    duration: float,
    probes: Sequence[Probe] = (),
) -> Cell:
    """GET of one key from ``tasks`` concurrent tasks sharing one client (as a node does)."""
    await redis.set(REDIS_KEY, REDIS_VALUE)

    async def get() -> str | None:
        await redis.get(REDIS_KEY)
        return None

    return await measure(
        "floor",
        "redis GET",
        [get] * tasks,
        warmup=warmup,
        duration=duration,
        probes=probes,
    )


def echo_operation(connection: Connection) -> Operation:
    """One ~200-byte JSON request echoed back, matched by id like any node response."""
    parameters = padded_parameters(ECHO_BYTES, "echo", connection.new_id())

    async def echo() -> str | None:
        await connection.call("echo", parameters)
        return None

    return echo


async def echo_floor(
    url: str,
    clients: int,
    *,
    warmup: float,
    duration: float,
    probes: Sequence[Probe] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> Cell:
    """The echo round trip at ``clients`` connections, one message in flight on each."""
    progress(f"opening {clients} connection(s) to the echo server")
    async with open_clients(url, clients) as connections:
        return await measure(
            "floor",
            "ws echo 200 B",
            [echo_operation(c) for c in connections],
            warmup=warmup,
            duration=duration,
            probes=probes,
        )
