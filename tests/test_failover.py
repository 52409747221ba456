"""Any node continues any session: everything a session is lives in Redis.

Rules: loopback only, a real redis-server on a free port, two or three real in-process nodes on
port 0 sharing it; no mocks. A session resumed elsewhere is taken over (spec event
``session_taken_over``: the old connection is told and closed), so each step of a failover uses
the connection a client would use at that moment. Every wait is capped at 5 s.
"""

from __future__ import annotations

import pytest
import trio
from conftest import connect, raw_connect
from trio_websocket import ConnectionClosed

from client.connection import RequestFailed


async def test_restore_on_a_second_node(start_node):
    node_a = await start_node()
    node_b = await start_node()
    async with connect(node_a) as on_a:
        created = await on_a.request("create_session", client_id="alice")
        sid = created["session_id"]
        stored = await on_a.request("update_session_state", session_id=sid,
                                    state_data={"panes": ["editor", "inspector"]})
        async with connect(node_b) as on_b:
            restored = await on_b.request("restore_session", session_id=sid)
            info = await on_b.request("get_session_info", session_id=sid)
            # The connection on A is told it lost the session, and closed.
            notice = await on_a.next_event("session_taken_over", timeout=5)
            with trio.fail_after(5):
                await on_a.closed.wait()
    assert restored["client_id"] == "alice"
    assert restored["created_at"] == created["created_at"]
    assert restored["last_modified"] == stored["last_modified"]
    assert restored["session_state"] == {"panes": ["editor", "inspector"]}
    assert restored["version"] == stored["version"] == 2
    assert info["created_at"] == created["created_at"] and info["version"] == 2
    assert notice["data"]["session_id"] == sid
    assert notice["data"]["epoch"] >= 2


async def test_update_on_b_then_restore_on_a_sees_bs_state(start_node):
    node_a = await start_node()
    node_b = await start_node()
    async with connect(node_a) as first:
        sid = (await first.request("create_session", client_id="alice"))["session_id"]
        await first.request("update_session_state", session_id=sid, state_data={"step": "a"})
    async with connect(node_b) as on_b:
        await on_b.request("restore_session", session_id=sid)
        from_b = await on_b.request("update_session_state", session_id=sid,
                                    state_data={"step": "b"}, expected_version=2)
        async with connect(node_a) as back_on_a:
            restored = await back_on_a.request("restore_session", session_id=sid)
            again = await back_on_a.request("update_session_state", session_id=sid,
                                            state_data={"step": "a2"}, expected_version=3)
            await on_b.next_event("session_taken_over", timeout=5)
    assert from_b["version"] == 3
    assert restored["session_state"] == {"step": "b"} and restored["version"] == 3
    assert again["version"] == 4


async def test_update_without_restore_on_another_node_takes_over(start_node):
    # An upstream client may update without restoring first: the write takes the session over.
    node_a = await start_node()
    node_b = await start_node()
    async with connect(node_a) as on_a, connect(node_b) as on_b:
        sid = (await on_a.request("create_session", client_id="alice"))["session_id"]
        written = await on_b.request("update_session_state", session_id=sid, state_data=1)
        await on_a.next_event("session_taken_over", timeout=5)
        restored = await on_b.request("restore_session", session_id=sid)
    assert written["version"] == 2
    assert restored["session_state"] == 1


async def test_a_stale_owner_cannot_write(start_node):
    """Fencing: a connection whose epoch is no longer the stored one has its write refused,
    even if the takeover notice never reached it (here node B raises the epoch in the store
    without announcing it)."""
    node_a = await start_node()
    node_b = await start_node()
    async with raw_connect(node_a) as stale:
        created = await stale.call("create_session", {"client_id": "alice"})
        sid = created["result"]["session_id"]
        await node_b.store.take_over(sid, None)  # epoch 2, silently
        refused = await stale.call("update_session_state",
                                   {"session_id": sid, "state_data": {"lost": True}})
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
            await stale.receive()
    assert refused["status"] == "error" and refused["error_type"] == "SessionError"
    assert "taken over" in refused["error"]
    assert [e["event"] for e in stale.events] == ["session_taken_over"]
    assert closed.value.reason.code == 4001
    async with connect(node_b) as fresh:
        restored = await fresh.request("restore_session", session_id=sid)
    assert restored["session_state"] is None and restored["version"] == 1


async def test_close_on_one_node_is_seen_by_the_others(start_node):
    node_a = await start_node()
    node_b = await start_node()
    async with connect(node_a) as on_a, connect(node_b) as on_b:
        sid = (await on_a.request("create_session", client_id="alice"))["session_id"]
        listed_b = await on_b.request("list_client_sessions", client_id="alice")
        stats_b = await on_b.request("get_session_statistics")
        await on_b.request("close_session", session_id=sid)
        with pytest.raises(RequestFailed) as gone:
            await on_a.request("restore_session", session_id=sid)
        listed_a = await on_a.request("list_client_sessions", client_id="alice")
    assert [s["session_id"] for s in listed_b["sessions"]] == [sid]
    assert stats_b["total_sessions"] == 1
    assert gone.value.error_type == "SessionNotFound"
    assert listed_a["session_count"] == 0


async def test_a_retried_update_is_replayed_not_executed_again_on_another_node(start_node):
    node_a = await start_node()
    node_b = await start_node()
    async with raw_connect(node_a) as on_a:
        sid = (await on_a.call("create_session", {"client_id": "alice"}))["result"]["session_id"]
        first = await on_a.call("update_session_state",
                                {"session_id": sid, "state_data": {"n": 1}}, request_id="upd-7")
    # The client lost the answer, fails over and sends the same request (same id) again.
    async with raw_connect(node_b) as on_b:
        again = await on_b.call("update_session_state",
                                {"session_id": sid, "state_data": {"n": 1}}, request_id="upd-7")
        restored = await on_b.call("restore_session", {"session_id": sid}, request_id="r")
    assert first["status"] == "success" and first["result"]["version"] == 2
    assert again["status"] == "success" and again.get("replayed") is True
    assert again["result"]["version"] == 2
    assert again["result"]["last_modified"] == first["result"]["last_modified"]
    assert restored["result"]["version"] == 2


async def test_a_session_survives_its_node(start_node):
    # The node that created the session stops (drains); the session lives on in Redis.
    node_a = await start_node()
    node_b = await start_node()
    async with connect(node_a) as on_a:
        sid = (await on_a.request("create_session", client_id="alice"))["session_id"]
        await on_a.request("update_session_state", session_id=sid, state_data="kept")
        node_a.drain()
        with trio.fail_after(5):
            await on_a.closed.wait()
    async with connect(node_b) as on_b:
        restored = await on_b.request("restore_session", session_id=sid)
    assert restored["session_state"] == "kept"
