"""Rollback detection, by producing the loss on purpose.

The recipe (on Sentinel and on Cluster): freeze the replicas of the session's primary
(SIGSTOP), commit a few megabytes (more than the kernel's socket buffers hold for a frozen
replica), wait for the node's replication watch to see the primary's offset, kill -9 the
primary, thaw the replicas. A replica is promoted without the last commits, which the node
and the client had acknowledged (``--min-replicas 0``).

What must happen: the next request finds the session older than what was acknowledged; the
client gets ``session_rolled_back`` with both versions; the new commit's version is above the
acknowledged one (never given twice); the node's replication watch reports the shard's loss;
the client library resends the lost requests (same ids) and the counter is whole again. With
``--min-replicas 1`` the same recipe loses nothing acknowledged: the writes made while the
replicas were frozen were never acknowledged.
"""

from __future__ import annotations

import signal
from typing import Any

import trio
from ha_support import local_topology, shard_of, start_node, url_of

from client.session import open_session
from cluster.ops.redis_topology import LocalTopology

BIG = "x" * 150_000
"""About 150 KB per commit: 60 commits outrun a frozen replica's socket buffers (~4 MB)."""


async def _lose_commits(
    topology: LocalTopology, node: Any, session_id: str, send: Any, count: int
) -> tuple[int, list[int]]:
    """Freeze the session's replicas, ``send`` ``count`` requests, kill the primary, thaw.
    Returns (acknowledged during the freeze, the frozen replicas' ports)."""
    primary = shard_of(topology, session_id)
    replicas = topology.replicas_of(primary)
    for port in replicas:
        topology.signal(port, signal.SIGSTOP)
    acked = 0
    try:
        with trio.move_on_after(8):
            for _ in range(count):
                await send()
                acked += 1
        # Two polls of the replication watch: it has seen the primary's last offset.
        await trio.sleep(2 * node.replication.interval + 0.2)
        await trio.to_thread.run_sync(topology.kill, primary)
    finally:
        for port in replicas:
            topology.signal(port, signal.SIGCONT)
    return acked, replicas


async def test_a_lost_commit_is_detected_reported_and_resent(tmp_path, nursery):
    with local_topology("sentinel", tmp_path) as topology:
        node = await start_node(nursery, topology.url(), failover_wait=30,
                                max_state_bytes=256 * 1024)
        try:
            events: list[dict[str, Any]] = []
            async with open_session([url_of(node)], "rb", request_timeout=60,
                                    ping_interval=None) as client:
                await client.evaluate("n := 0")
                for _ in range(5):
                    await client.evaluate("n := n + 1")

                async def send() -> None:
                    await client.update_state({"pad": BIG})
                    await client.evaluate("n := n + 1")

                acked, _ = await _lose_commits(topology, node, client.session_id, send, 30)
                assert acked >= 20, acked
                acknowledged = client.acked
                assert acknowledged is not None
                # The next request meets the failover, waits, and finds the rollback.
                after = await client.evaluate("n")
                with trio.fail_after(5):
                    while client.rolled_back is None:
                        await trio.sleep(0.05)
                notice = dict(client.rolled_back)
                async for event in _drain(client):
                    events.append(event)
                lost = client.lost_requests()
                resent = await client.resend_lost()
                final = await client.evaluate("n")
            with trio.fail_after(5):  # the watch's next poll of the new primary
                while not node.replication.losses:
                    await trio.sleep(0.1)
            losses = node.replication.losses
        finally:
            node.drain()
    assert notice["acknowledged_version"] == acknowledged[0]
    assert notice["acknowledged_commit_id"] == acknowledged[1]
    assert notice["stored_version"] < acknowledged[0]  # rolled back
    assert notice["kind"] == "rolled_back"
    assert any(e.get("event") == "session_rolled_back" for e in events)
    assert after["version"] > acknowledged[0]  # a version is never given twice
    assert int(after["result"]) < 5 + acked  # the counter lost increments...
    assert len(lost) == len(resent) > 0
    evaluations_lost = sum(1 for entry in lost if entry[3].get("code") == "n := n + 1")
    assert int(after["result"]) + evaluations_lost == 5 + acked
    assert int(final["result"]) == 5 + acked  # ...and has them all again
    assert losses and losses[0].lost_bytes > 0, losses  # the shard's loss, seen too
    assert node.service.rollbacks.detected >= 1


async def _drain(client: Any) -> Any:
    while True:
        try:
            yield client.events.receive_nowait()
        except trio.WouldBlock:
            return


async def test_cluster_rollback_is_detected_by_the_next_commit(tmp_path, nursery):
    with local_topology("cluster", tmp_path) as topology:
        node = await start_node(nursery, topology.url(), failover_wait=30,
                                max_state_bytes=256 * 1024)
        try:
            async with open_session([url_of(node)], "rc", request_timeout=60,
                                    ping_interval=None) as client:
                for _ in range(3):
                    await client.update_state({"small": True})

                async def send() -> None:
                    await client.update_state({"pad": BIG})

                acked, _ = await _lose_commits(topology, node, client.session_id, send, 60)
                acknowledged = client.acked
                assert acknowledged is not None
                after = await client.update_state({"after": True})
                with trio.fail_after(5):
                    while client.rolled_back is None:
                        await trio.sleep(0.05)
                notice = dict(client.rolled_back)
        finally:
            node.drain()
    assert acked >= 30
    assert notice["stored_version"] < notice["acknowledged_version"] == acknowledged[0]
    assert after["version"] == acknowledged[0] + 1


async def test_min_replicas_one_acknowledges_nothing_a_failover_can_lose(tmp_path, nursery):
    with local_topology("sentinel", tmp_path) as topology:
        node = await start_node(nursery, topology.url(), failover_wait=30, min_replicas=1,
                                replica_wait_ms=100, max_state_bytes=256 * 1024)
        try:
            async with open_session([url_of(node)], "rm", request_timeout=60,
                                    ping_interval=None) as client:
                for _ in range(3):
                    done = await client.update_state({"small": True})
                    assert done["durability"]["replicas"] >= 1
                before = client.acked
                assert before is not None
                async with trio.open_nursery() as inner:
                    # The write waits (its replicas are frozen), the primary dies meanwhile.
                    inner.start_soon(_send_one, client)
                    await _lose_commits(topology, node, client.session_id, _noop, 1)
                after = await client.update_state({"after": True})
                info = await client.request("get_session_info")
        finally:
            node.drain()
    assert client.rolled_back is None
    assert node.service.rollbacks.detected == 0
    # Every acknowledged commit is there: the in-doubt one ran once on the new primary.
    assert info["version"] == after["version"] >= before[0] + 1
    assert after["durability"]["replicas"] >= 1


async def _send_one(client: Any) -> None:
    await client.update_state({"pad": BIG})


async def _noop() -> None:
    await trio.sleep(0.3)
