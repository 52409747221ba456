"""Fencing: a node frozen (SIGSTOP) mid-request wakes up after its session moved on, and its
late commit must fail while the new owner's writes stay.

How node A is held between its read and its commit:

- ``test_frozen_node_between_read_and_commit_cannot_write`` (always runs): A talks to Redis
  through :class:`cluster_support.RedisGate`, a loopback TCP proxy run by the test. The gate
  holds the first chunk of A's that carries the session's ``state`` key, i.e. the MULTI/EXEC of
  the commit, after A's WATCH and reads went through. Then A is frozen with SIGSTOP, B restores
  and writes, A is resumed and the gate released: A's EXEC reaches Redis after B's writes.
- ``test_frozen_evaluation_cannot_commit`` (needs ``nodes.smalltalk``; skipped until it
  imports): A evaluates a loop that runs ~2 s (``--eval-max-seconds 60``), is frozen in the
  middle of it, and commits when resumed.

Rules: loopback only, a real redis-server on a free port, real node processes on free ports
(A is started with ``--redis-timeout 30`` so the held EXEC is not timed out by A itself). Every
wait polls with a deadline of 5-10 s; each test < 15 s.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
import trio
from cluster_support import EVALUATOR, RedisGate, metric, wait_until
from conftest import connect, raw_connect, redis_call
from trio_websocket import ConnectionClosed

from cluster import keys
from cluster.ops.embedded_redis import free_port

pytestmark = pytest.mark.timeout(60)


def stored_version(redis: Any, sid: str) -> int:
    return int(redis_call(redis, "HGET", keys.SessionKeys(sid).meta, "version"))


async def outcome_of(raw: Any, timeout: float = 10) -> dict[str, Any] | None:
    """A's answer to the frozen request, or None if A closed the connection first."""
    try:
        return await raw.receive(timeout)
    except ConnectionClosed:
        return None


async def closed_as_taken_over(raw: Any) -> None:
    """A's stale connection is dropped (after a takeover notice, if A heard it): with 4001."""
    with pytest.raises(ConnectionClosed) as closed, trio.fail_after(10):
        while True:
            await raw.receive()
    assert closed.value.reason.code == 4001


async def test_frozen_node_between_read_and_commit_cannot_write(node_process, redis, nursery):
    gate = RedisGate(redis.port)
    await nursery.start(gate.serve)
    health_a = free_port()
    # Started from a thread: the gate runs in this test's event loop.
    node_a = await trio.to_thread.run_sync(
        lambda: node_process("--redis-url", gate.url, "--redis-timeout", "30",
                             "--health-port", str(health_a)))
    node_b = node_process()
    async with raw_connect(node_a.url) as on_a:
        sid = (await on_a.call("create_session", {"client_id": "alice"}))["result"]["session_id"]
        first = await on_a.call("update_session_state",
                                {"session_id": sid, "state_data": {"by": "a", "n": 1}})
        assert first["result"]["version"] == 2

        gate.arm(keys.SessionKeys(sid).state.encode(), mode="request")
        await on_a.send('{"id": "late", "command": "update_session_state", "parameters": '
                        f'{{"session_id": "{sid}", "state_data": {{"by": "a", "n": 2}}}}}}')
        with trio.fail_after(5):
            await gate.triggered.wait()  # A read version 2 / epoch 1 and sent MULTI..EXEC
        node_a.signal(signal.SIGSTOP)
        try:
            async with connect(node_b.url) as on_b:
                restored = await on_b.request("restore_session", session_id=sid)
                b1 = await on_b.request("update_session_state", session_id=sid,
                                        state_data={"by": "b", "n": 1}, expected_version=2)
                b2 = await on_b.request("update_session_state", session_id=sid,
                                        state_data={"by": "b", "n": 2}, expected_version=3)
                assert restored["version"] == 2 and b1["version"] == 3 and b2["version"] == 4
        finally:
            node_a.signal(signal.SIGCONT)
        gate.release()
        late = await outcome_of(on_a)
        await closed_as_taken_over(on_a)
    assert "session_taken_over" in [e["event"] for e in on_a.events]
    if late is not None:  # the answer raced the close: it must be the fencing error
        assert late["status"] == "error" and late["error_type"] == "SessionError", late
    # A counted its late commit as refused (SessionError = taken over), never as a success.
    await wait_until(
        lambda: metric(health_a, "stui_requests_total", command="update_session_state",
                       outcome="SessionError"), 5, "A's late commit counted as SessionError")
    assert await metric(health_a, "stui_requests_total", command="update_session_state",
                        outcome="success") == 1
    # Only B's writes remain.
    assert stored_version(redis, sid) == 4
    async with connect(node_b.url) as check:
        restored = await check.request("restore_session", session_id=sid)
    assert restored["session_state"] == {"by": "b", "n": 2}
    assert restored["version"] == 4
    assert redis_call(redis, "HGET", keys.SessionKeys(sid).done, "late") is None


async def test_frozen_owner_is_fenced_even_if_the_notice_is_lost(node_process, redis, nursery):
    """While A is frozen its pub/sub connection is cut, so B's takeover notice reaches nobody
    (PUBLISH to A's channel finds no subscriber). A learns of the takeover only from its own
    commit: WATCH fails, the retry reads the new epoch, and A refuses and drops the connection."""
    gate = RedisGate(redis.port)
    await nursery.start(gate.serve)
    node_a = await trio.to_thread.run_sync(
        lambda: node_process("--redis-url", gate.url, "--redis-timeout", "30"))
    node_b = node_process()
    async with raw_connect(node_a.url) as on_a:
        sid = (await on_a.call("create_session", {"client_id": "dave"}))["result"]["session_id"]
        gate.arm(keys.SessionKeys(sid).state.encode(), mode="request")
        await on_a.send('{"id": "late", "command": "update_session_state", "parameters": '
                        f'{{"session_id": "{sid}", "state_data": "from a"}}}}')
        with trio.fail_after(5):
            await gate.triggered.wait()
        node_a.signal(signal.SIGSTOP)
        try:
            assert gate.cut_subscribers() == 1
            await wait_until(lambda: redis_call(redis, "PUBSUB", "NUMSUB",
                                                keys.node_channel(node_a.node_id))[1] == 0,
                             5, "A's control subscription is gone")
            async with connect(node_b.url) as on_b:
                await on_b.request("restore_session", session_id=sid)
                await on_b.request("update_session_state", session_id=sid, state_data="from b")
        finally:
            node_a.signal(signal.SIGCONT)
        gate.release()
        late = await outcome_of(on_a)
        await closed_as_taken_over(on_a)
    if late is not None:
        assert late["status"] == "error" and late["error_type"] == "SessionError", late
        assert "taken over" in late["error"]
    async with connect(node_b.url) as check:
        info = await check.request("restore_session", session_id=sid)
    assert info["session_state"] == "from b" and info["version"] == 2


@pytest.mark.skipif(not EVALUATOR, reason="nodes.smalltalk does not import yet")
async def test_frozen_evaluation_cannot_commit(node_process, redis):
    health_a = free_port()
    node_a = node_process("--eval-max-seconds", "60", "--health-port", str(health_a))
    node_b = node_process()
    async with raw_connect(node_a.url) as on_a:
        sid = (await on_a.call("create_session", {"client_id": "erin"}))["result"]["session_id"]
        init = await on_a.call("evaluate", {"session_id": sid, "code": "n := 1"})
        assert init["status"] == "success", init
        await on_a.send('{"id": "slow", "command": "evaluate", "parameters": {"session_id": '
                        f'"{sid}", "code": "1 to: 3000000 do: [:i | ]. n := 1000"}}}}')
        await wait_until(lambda: metric(health_a, "stui_requests_in_flight"), 5,
                         "the slow evaluation is running on A")
        node_a.signal(signal.SIGSTOP)
        try:
            async with connect(node_b.url) as on_b:
                await on_b.request("restore_session", session_id=sid)
                by_b = await on_b.request("evaluate", session_id=sid, code="n := n + 41")
        finally:
            node_a.signal(signal.SIGCONT)
        late = await outcome_of(on_a, timeout=30)
    assert by_b["result"] == "42"
    if late is not None:
        assert late["status"] == "error" and late["error_type"] == "SessionError", late
    await wait_until(
        lambda: metric(health_a, "stui_requests_total", command="evaluate",
                       outcome="SessionError"), 30, "A's late evaluation refused")
    async with connect(node_b.url) as check:
        restored = await check.request("restore_session", session_id=sid)
    assert restored["workspace_context"]["bindings"]["n"]["print_string"] == "42"
    assert all(h["request_id"] != "slow" for h in restored["workspace_context"]["history"])
