"""coredis's cluster client after a failover, and the repair in ``cluster/clients.py``.

coredis 6.9 (pinned in ``pyproject.toml``) refreshes a ``RedisCluster``'s slot map when a
single command fails, but not when a pipeline fails: a client that only sends pipelines keeps
talking to the demoted primary. The node registry and the sweeper send pipelines, so
:class:`cluster.clients.FollowingRedisCluster` reports a pipeline's errors to the cluster
layout. Two tests, one failover:

- the repaired client recovers, with transactions after a graceful ``CLUSTER FAILOVER`` (a
  MOVED inside an aborted transaction), with plain pipelines after kill -9 of the primary
  (lost connections) and with single commands sent from the moment of the kill (connections
  refused, which coredis does not report for single commands either);
- the plain client does not: a canary. When coredis fixes its pipelines this test fails, and
  the repair (a semi-internal call) can go.
"""

from __future__ import annotations

import time
from typing import Any

import coredis
import trio
from ha_support import local_topology, primary_for_key, wait_for

from cluster.clients import FollowingRedisCluster
from cluster.ops.redis_topology import LocalTopology

KEY = "stui:{probe}:pipeline"


async def _pipelines_until_ok(
    client: coredis.RedisCluster[str], seconds: float, *, transaction: bool
) -> float | None:
    """Seconds until a pipeline works again, or None if it never did in ``seconds``."""
    started = time.monotonic()
    with trio.move_on_after(seconds):
        while True:
            try:
                async with client.pipeline(transaction=transaction) as pipe:
                    pipe.set(KEY, "v")
                    pipe.get(KEY)
                return time.monotonic() - started
            except (coredis.exceptions.RedisError, TimeoutError, OSError):
                await trio.sleep(0.05)
    return None


async def _commands_until_ok(client: coredis.RedisCluster[str], seconds: float) -> float | None:
    """Seconds until a single command works again (one try a second, as the node registry's
    heartbeat does), or None if it never did in ``seconds``."""
    started = time.monotonic()
    with trio.move_on_after(seconds):
        while True:
            try:
                await client.set(KEY, "v")
                return time.monotonic() - started
            except (coredis.exceptions.RedisError, TimeoutError, OSError):
                await trio.sleep(1.0)
    return None


def _clients(topology: LocalTopology) -> tuple[coredis.RedisCluster[str], ...]:
    seeds = [coredis.connection.TCPLocation("127.0.0.1", m.port) for m in topology.data_members]
    kwargs: dict[str, Any] = {
        "decode_responses": True, "stream_timeout": 1.0, "connect_timeout": 1.0,
        "max_connections_per_node": True, "retry_policy": coredis.retry.NoRetryPolicy(),
    }
    return (
        FollowingRedisCluster(startup_nodes=seeds, **kwargs),
        coredis.RedisCluster(startup_nodes=seeds, **kwargs),
        FollowingRedisCluster(startup_nodes=seeds, **kwargs),
    )


async def test_pipelines_follow_failovers_only_with_the_repair(tmp_path):
    with local_topology("cluster", tmp_path) as topology:
        repaired, plain, _ = _clients(topology)
        async with repaired, plain:
            for client in (repaired, plain):
                assert await _pipelines_until_ok(client, 5, transaction=True) is not None
            primary = primary_for_key(topology, KEY)
            replica = topology.replicas_of(primary)[0]
            topology.command(replica, "CLUSTER", "FAILOVER")
            await wait_for(lambda: topology.role(replica) == "master", 20, "the promotion")
            graceful = await _pipelines_until_ok(repaired, 10, transaction=True)
            graceful_plain = await _pipelines_until_ok(plain, 5, transaction=True)
        repaired, plain, singles = _clients(topology)
        async with repaired, plain, singles:
            for client in (repaired, plain):
                assert await _pipelines_until_ok(client, 5, transaction=False) is not None
            assert await _commands_until_ok(singles, 5) is not None
            await wait_for(lambda: topology.replicas_of(replica) == [primary], 20, "the resync")
            topology.kill(replica)  # the promoted one: the old primary takes over again
            # Single commands from the moment of the kill: they cannot even connect, and
            # coredis reports no error of a connection it could not make.
            single = await _commands_until_ok(singles, 20)
            await wait_for(lambda: topology.role(primary) == "master", 20, "the promotion")
            killed = await _pipelines_until_ok(repaired, 10, transaction=False)
            killed_plain = await _pipelines_until_ok(plain, 5, transaction=False)
    print(f"\nrepaired client: pipelines work {graceful} s after a graceful failover, "
          f"{killed} s after the promotion that followed a kill -9; single commands "
          f"{single} s after the kill")
    assert graceful is not None and graceful < 10
    assert killed is not None and killed < 10
    assert single is not None and single < 15
    canary = ("coredis's plain RedisCluster now follows failovers in pipelines: the repair in "
              "cluster/clients.py may go")
    assert graceful_plain is None, canary
    assert killed_plain is None, canary
