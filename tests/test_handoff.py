"""Handoff between real node processes, and a dead node leaving the registry.

Rules: loopback only; a real redis-server on a free port (the ``redis`` fixture, flushed per
test); nodes are real ``python -m nodes`` processes (``node_process``) on free ports, killed by
the fixture after the test. No mocks, no bare sleeps: every wait polls with a deadline (5 s for
events and counters, 3 heartbeats + 1.5 s for a dead node's registry entry). Each test < 10 s.
"""

from __future__ import annotations

import signal
import time

import pytest
import trio
from cluster_support import eventually, wait_until
from conftest import connect, raw_connect
from trio_websocket import ConnectionClosed

from cluster import keys
from cluster.registry import HEARTBEAT
from cluster.store import connect as redis_client

pytestmark = pytest.mark.timeout(60)


def _node(stats: dict, node_id: str) -> dict | None:
    return next((n for n in stats["nodes"] if n["node_id"] == node_id), None)


async def test_restore_on_b_takes_over_from_a_and_statistics_follow(node_process, redis):
    node_a = node_process()
    node_b = node_process()
    async with raw_connect(node_a.url) as on_a:
        created = await on_a.call("create_session", {"client_id": "alice"}, request_id="c1")
        sid = created["result"]["session_id"]
        written = await on_a.call(
            "update_session_state", {"session_id": sid, "state_data": {"pane": "a"}},
            request_id="u1")
        assert written["status"] == "success", written
        async with connect(node_b.url) as on_b:
            restored = await on_b.request("restore_session", session_id=sid)
            # A's connection is told, then closed with 4001 (the notice crossed pub/sub).
            with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
                await on_a.receive()
            notice = [e for e in on_a.events if e["event"] == "session_taken_over"]
            assert closed.value.reason.code == 4001
            assert len(notice) == 1 and notice[0]["data"]["session_id"] == sid
            assert notice[0]["data"]["epoch"] == 2

            # B continues the session, with the version A left.
            assert restored["session_state"] == {"pane": "a"}
            assert restored["version"] == 2
            moved = await on_b.request("update_session_state", session_id=sid,
                                       state_data={"pane": "b"}, expected_version=2)
            assert moved["version"] == 3

            async def statistics_reflect_the_handoff() -> None:
                stats = await on_b.request("get_session_statistics")
                a, b = _node(stats, node_a.node_id), _node(stats, node_b.node_id)
                assert a is not None and b is not None, stats["nodes"]
                assert a["connections"] == 0 and b["connections"] == 1, stats["nodes"]
                assert stats["connections"] == 1
                assert stats["total_sessions"] == 1 and stats["active_clients"] == 1
                # A's connection acted for alice (connect), then closed (disconnect); B's
                # connection restored (connect + reconnect).
                assert stats["connects"] == 2, stats
                assert stats["disconnects"] == 1, stats
                assert stats["reconnects"] == 1, stats

            await eventually(statistics_reflect_the_handoff, 5, "statistics after handoff")

    # Only B's writes are stored; A holds nothing any more.
    async with connect(node_b.url) as again:
        info = await again.request("get_session_info", session_id=sid)
    assert info["version"] == 3


async def test_handoff_back_and_forth_keeps_one_owner(node_process, redis):
    """A -> B -> A: each restore closes exactly the previous holder; epochs only grow."""
    node_a = node_process()
    node_b = node_process()
    async with raw_connect(node_a.url) as first:
        sid = (await first.call("create_session", {"client_id": "bob"}))["result"]["session_id"]
        async with raw_connect(node_b.url) as second:
            took = await second.call("restore_session", {"session_id": sid})
            assert took["status"] == "success"
            with pytest.raises(ConnectionClosed), trio.fail_after(5):
                await first.receive()
            async with raw_connect(node_a.url) as third:
                back = await third.call("restore_session", {"session_id": sid})
                assert back["status"] == "success"
                with pytest.raises(ConnectionClosed), trio.fail_after(5):
                    await second.receive()
                written = await third.call(
                    "update_session_state", {"session_id": sid, "state_data": "third"})
                await third.assert_alive()
    assert [e["data"]["epoch"] for e in first.events if e["event"] == "session_taken_over"] == [2]
    assert [e["data"]["epoch"] for e in second.events
            if e["event"] == "session_taken_over"] == [3]
    assert written["status"] == "success" and written["result"]["version"] == 2


async def test_registry_entry_disappears_after_sigkill_within_three_heartbeats(
        node_process, redis):
    node_a = node_process()
    node_b = node_process()
    client = redis_client(_settings(redis.url))
    async with client:
        from cluster.registry import live_nodes

        async def both_registered() -> bool:
            ids = {n["node_id"] for n in await live_nodes(client)}
            return {node_a.node_id, node_b.node_id} <= ids

        await wait_until(both_registered, 5, "both nodes registered")
        node_a.kill()  # SIGKILL: no deregistration, the heartbeat hash must expire by itself
        killed = time.monotonic()

        async def a_gone() -> bool:
            ids = {n["node_id"] for n in await live_nodes(client)}
            return node_a.node_id not in ids and node_b.node_id in ids

        await wait_until(a_gone, 3 * HEARTBEAT + 1.5, "the killed node left the registry")
        gone_after = time.monotonic() - killed
        print(f"registry: killed node gone after {gone_after:.2f} s "
              f"(heartbeat {HEARTBEAT:g} s, TTL {3 * HEARTBEAT:g} s)")
        # live_nodes prunes the sorted set too.
        assert node_a.node_id not in [str(m) for m in await client.zrange(keys.NODES, 0, -1)]
    async with connect(node_b.url) as on_b:
        stats = await on_b.request("get_session_statistics")
    assert [n["node_id"] for n in stats["nodes"]] == [node_b.node_id]


async def test_a_dead_owner_does_not_block_a_restore(node_process, redis):
    """SIGKILL the owner: nobody can answer its notice; the restore elsewhere must not wait."""
    node_a = node_process()
    node_b = node_process()
    async with connect(node_a.url) as on_a:
        sid = (await on_a.request("create_session", client_id="carol"))["session_id"]
        await on_a.request("update_session_state", session_id=sid, state_data=[1, 2, 3])
        node_a.signal(signal.SIGKILL)
        node_a.wait(5)
    async with connect(node_b.url) as on_b:
        started = time.monotonic()
        restored = await on_b.request("restore_session", session_id=sid)
        took = time.monotonic() - started
    assert restored["session_state"] == [1, 2, 3]
    assert took < 2.0, f"restore after the owner died took {took:.2f} s"


def _settings(url: str):  # type: ignore[no-untyped-def]
    from cluster.settings import Settings

    return Settings.from_env({}, redis_url=url)
