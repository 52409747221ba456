"""The per-client session limit under races, and session expiry and its cleanup.

Rules: loopback only, a real redis-server on a free port, real in-process nodes on port 0; no
mocks. Expiry tests use ``session_timeout=1`` and the fixture's ``cleanup_interval=1``, and
poll Redis (through redis-cli) with a hard cap of a few seconds, so the module stays under
~10 s. Index entries are spelled with :mod:`cluster.keys`; a stale reservation is planted with
``ZADD`` and an old score, as a node that died mid-create would leave it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import trio
from conftest import connect, raw_connect, redis_keys

from client.connection import RequestFailed
from cluster import keys
from cluster.auth import new_session_id
from cluster.store import RESERVATION_GRACE, expiry_member


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = trio.current_time() + timeout
    while not predicate():
        if trio.current_time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await trio.sleep(0.05)


def index_of(redis: Any, client_id: str) -> list[str]:
    return [m for m in redis.command("ZRANGE", keys.client_sessions(client_id), "0", "-1")
            .splitlines() if m]


def in_expiry_index(redis: Any, sid: str, client_id: str) -> bool:
    return redis.command("ZSCORE", keys.EXPIRY_INDEX, expiry_member(sid, client_id)) != ""


# -- the per-client limit ----------------------------------------------------------------------


async def test_racing_creates_over_two_nodes_never_exceed_the_limit(start_node, redis):
    node_a = await start_node()
    node_b = await start_node()
    outcomes: list[dict[str, Any]] = []
    async with connect(node_a) as a1, connect(node_a) as a2, connect(node_b) as b1, \
            connect(node_b) as b2:
        clients = [a1, a2, b1, b2]

        async def create(n: int) -> None:
            outcomes.append(await clients[n % 4].call("create_session", {"client_id": "alice"}))

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for n in range(20):
                    nursery.start_soon(create, n)
        listed = await a1.request("list_client_sessions", client_id="alice")
    succeeded = [o["result"]["session_id"] for o in outcomes if o["status"] == "success"]
    refused = [o for o in outcomes if o["status"] == "error"]
    assert len(outcomes) == 20
    assert len(succeeded) == 5 == len(set(succeeded))
    assert {o["error_type"] for o in refused} == {"SessionError"}
    assert all(o["details"]["max_sessions_per_client"] == 5 for o in refused)
    assert sorted(index_of(redis, "alice")) == sorted(succeeded)
    assert sorted(s["session_id"] for s in listed["sessions"]) == sorted(succeeded)
    assert len([k for k in redis_keys(redis, "stui:{*}:meta")]) == 5


async def test_the_limit_is_per_client_and_frees_after_close(start_node):
    node = await start_node(max_sessions_per_client=2)
    async with connect(node) as client:
        first = (await client.request("create_session", client_id="alice"))["session_id"]
        await client.request("create_session", client_id="alice")
        try:
            await client.request("create_session", client_id="alice")
            raise AssertionError("a third session was created")
        except RequestFailed as refused:
            assert refused.error_type == "SessionError"
        bob = await client.request("create_session", client_id="bob")
        await client.request("close_session", session_id=first)
        again = await client.request("create_session", client_id="alice")
        listed = await client.request("list_client_sessions", client_id="alice")
    assert bob["client_id"] == "bob"
    assert again["session_id"] != first
    assert listed["session_count"] == 2


async def test_a_stale_reservation_is_pruned_when_the_client_is_at_its_limit(start_node, redis):
    node = await start_node(max_sessions_per_client=2)
    index = keys.client_sessions("alice")
    ghost = new_session_id()  # a create that reserved, then its node died before writing
    async with connect(node) as client:
        real = (await client.request("create_session", client_id="alice"))["session_id"]
        old = time.time() - RESERVATION_GRACE - 60
        assert redis.command("ZADD", index, f"{old:.3f}", ghost) == "1"
        assert sorted(index_of(redis, "alice")) == sorted([real, ghost])
        created = await client.request("create_session", client_id="alice")
        listed = await client.request("list_client_sessions", client_id="alice")
    assert ghost not in index_of(redis, "alice")
    assert sorted(index_of(redis, "alice")) == sorted([real, created["session_id"]])
    assert listed["session_count"] == 2


async def test_a_fresh_reservation_is_not_pruned(start_node, redis):
    # A reservation younger than RESERVATION_GRACE may be a create still in progress.
    node = await start_node(max_sessions_per_client=2)
    index = keys.client_sessions("alice")
    pending = new_session_id()
    async with connect(node) as client:
        await client.request("create_session", client_id="alice")
        redis.command("ZADD", index, f"{time.time():.3f}", pending)
        response = await client.call("create_session", {"client_id": "alice"})
    assert response["error_type"] == "SessionError"
    assert pending in index_of(redis, "alice")
    assert len(index_of(redis, "alice")) == 2


async def test_an_old_entry_of_an_expired_session_is_pruned(start_node, redis):
    node = await start_node(max_sessions_per_client=1)
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        # Its shadow key is gone (DEL sends no "expired" event) and it was created long ago.
        redis.command("DEL", keys.SessionKeys(sid).alive)
        old = time.time() - RESERVATION_GRACE - 1
        redis.command("ZADD", keys.client_sessions("alice"), "XX", f"{old:.3f}", sid)
        created = await client.request("create_session", client_id="alice")
    assert index_of(redis, "alice") == [created["session_id"]]


# -- expiry ------------------------------------------------------------------------------------


async def test_expired_session_is_gone_and_its_holder_is_told(start_node, redis):
    node = await start_node(session_timeout=1)
    async with raw_connect(node) as client:
        created = await client.call("create_session", {"client_id": "alice"})
        sid = created["result"]["session_id"]
        await trio.sleep(1.5)
        restore = await client.call("restore_session", {"session_id": sid}, request_id="r")
        info = await client.call("get_session_info", {"session_id": sid}, request_id="i")
        with trio.fail_after(3):
            while not client.events:
                await client.assert_alive()
                await trio.sleep(0.05)
    assert restore["error_type"] == "SessionNotFound"
    assert info["error_type"] == "SessionNotFound"
    assert client.events[0]["event"] == "session_expired"
    assert client.events[0]["data"]["session_id"] == sid
    await wait_until(lambda: not in_expiry_index(redis, sid, "alice"), 3, "expiry index cleaned")
    await wait_until(lambda: sid not in index_of(redis, "alice"), 3, "client index cleaned")
    assert redis.command("SISMEMBER", keys.CLIENTS, "alice") == "0"
    assert not [k for k in redis_keys(redis) if sid in k]


async def test_the_sweeper_cleans_up_without_keyspace_events(start_node, redis):
    # As on a managed Redis that refuses CONFIG: no "expired" events, the sweeper alone cleans.
    node = await start_node(session_timeout=1)
    redis.command("CONFIG", "SET", "notify-keyspace-events", "")
    try:
        async with connect(node) as client:
            sid = (await client.request("create_session", client_id="alice"))["session_id"]
            keep = (await client.request("create_session", client_id="bob"))["session_id"]
            # Keep bob's session alive by using it (sliding expiry) while alice's runs out.
            deadline = trio.current_time() + 1.6
            while trio.current_time() < deadline:
                await client.request("get_session_info", session_id=keep)
                await trio.sleep(0.2)
            try:
                await client.request("restore_session", session_id=sid)
                raise AssertionError("an expired session was restored")
            except RequestFailed as gone:
                assert gone.error_type == "SessionNotFound"
            await wait_until(lambda: not in_expiry_index(redis, sid, "alice"), 4,
                             "the sweeper removed the expired session from the expiry index")
            assert sid not in index_of(redis, "alice")
            assert not [k for k in redis_keys(redis) if sid in k]
            stats = await client.request("get_session_statistics")
            info = await client.request("get_session_info", session_id=keep)
        # Bob's session was due in the index too, but alive: rescheduled, not removed.
        assert in_expiry_index(redis, keep, "bob")
        score = float(redis.command("ZSCORE", keys.EXPIRY_INDEX, expiry_member(keep, "bob")))
        assert score > time.time() - 1
        assert stats["total_sessions"] == 1 and stats["active_clients"] == 1
        assert info["session_id"] == keep
    finally:
        redis.command("CONFIG", "SET", "notify-keyspace-events", "Ex")
    assert b"stui_evictions_total 1.0" in node.metrics.render()


async def test_listing_skips_an_expired_session_not_yet_cleaned(start_node, redis):
    node = await start_node(session_timeout=1, cleanup_interval=60)
    redis.command("CONFIG", "SET", "notify-keyspace-events", "")
    try:
        async with connect(node) as client:
            # The sweeper ran once at start-up; the next pass is a minute away.
            sid = (await client.request("create_session", client_id="alice"))["session_id"]
            await trio.sleep(1.2)
            listed = await client.request("list_client_sessions", client_id="alice")
    finally:
        redis.command("CONFIG", "SET", "notify-keyspace-events", "Ex")
    assert sid in index_of(redis, "alice")  # not cleaned yet...
    assert listed["session_count"] == 0 and listed["sessions"] == []  # ...but not listed


async def test_the_limit_frees_when_a_session_expires(start_node):
    node = await start_node(session_timeout=1, max_sessions_per_client=1)
    async with connect(node) as client:
        await client.request("create_session", client_id="alice")
        refused = await client.call("create_session", {"client_id": "alice"})
        assert refused["error_type"] == "SessionError"
        await trio.sleep(1.2)
        with trio.fail_after(3):
            while True:
                again = await client.call("create_session", {"client_id": "alice"})
                if again["status"] == "success":
                    break
                await trio.sleep(0.1)
    assert again["result"]["client_id"] == "alice"
