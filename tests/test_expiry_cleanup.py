"""Expiry cleanup across node lifetimes: the sweeper, the keyspace fast path, idempotence.

TTL removes a session's own keys; what only the cluster can clean is the cross-session indexes
(the client index ``stui:client:{cid}:sessions``, the expiry index ``stui:expiry``, the clients
set ``stui:clients``). Sessions are created by a node with ``--session-timeout 1`` which is
then stopped, so they expire while *no node runs* (no keyspace event is heard, no sweep
happens); a node started later with ``--cleanup-interval 1`` must make every index converge in
its first sweep that holds the lease. How late cleanup ran is printed.

Rules: loopback only, a real redis-server on a free port, real node processes on free ports
(the sweeper test uses in-process :class:`~cluster.expiry.Sweeper` objects on the same Redis).
Every wait polls with a deadline of a few seconds; each test < 12 s.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import pytest
import trio
from cluster_support import metric, wait_until
from conftest import connect, redis_call, redis_keys

from cluster import keys
from cluster.expiry import Sweeper
from cluster.ops.embedded_redis import free_port
from cluster.settings import Settings
from cluster.store import SessionStore, expiry_member
from cluster.store import connect as redis_client

pytestmark = pytest.mark.timeout(60)


def members(redis: Any, key: str) -> list[str]:
    return sorted(m.decode() for m in redis_call(redis, "ZRANGE", key, "0", "-1"))


def clients_set(redis: Any) -> list[str]:
    return sorted(m.decode() for m in redis_call(redis, "SMEMBERS", keys.CLIENTS))


def alive(redis: Any, sid: str) -> bool:
    return bool(redis_call(redis, "EXISTS", keys.SessionKeys(sid).alive))


def session_keys(redis: Any, sid: str) -> list[str]:
    return [k for k in redis_keys(redis, f"stui:{{{sid}}}:*") if not k.endswith(":quarantine")]


async def create_sessions(url: str, per_client: dict[str, int]) -> dict[str, list[str]]:
    created: dict[str, list[str]] = {}
    async with connect(url) as conn:
        for client_id, count in per_client.items():
            for _ in range(count):
                result = await conn.request("create_session", client_id=client_id)
                created.setdefault(client_id, []).append(result["session_id"])
    return created


async def test_sessions_that_expired_while_no_node_ran_are_swept_by_the_next_node(
        node_process, redis):
    first = node_process("--session-timeout", "1", "--cleanup-interval", "1")
    created = await create_sessions(first.url, {"c1": 2, "c2": 2, "c3": 1, "kept": 1})
    deadline = time.time() + 1  # every session's alive key expires about now
    first.signal(signal.SIGTERM)
    assert first.wait(10) == 0
    [kept] = created.pop("kept")
    # A client refreshed this one (sliding expiry) just before the node went away.
    redis_call(redis, "PEXPIRE", keys.SessionKeys(kept).alive, "60000")
    expired = [sid for sids in created.values() for sid in sids]

    await wait_until(lambda: not any(alive(redis, sid) for sid in expired), 5,
                     "the alive keys expired")
    # Nobody cleaned up: every index still names the expired sessions.
    assert len(members(redis, keys.EXPIRY_INDEX)) == 6
    assert clients_set(redis) == ["c1", "c2", "c3", "kept"]
    assert members(redis, keys.client_sessions("c1")) == sorted(created["c1"])
    lease_left = int(redis_call(redis, "PTTL", keys.SWEEPER_LEASE)) / 1000

    health = free_port()
    started = time.monotonic()
    second = node_process("--cleanup-interval", "1", "--health-port", str(health))

    def converged() -> bool:
        return (
            members(redis, keys.EXPIRY_INDEX) == [expiry_member(kept, "kept")]
            and clients_set(redis) == ["kept"]
            and all(not members(redis, keys.client_sessions(c)) for c in created)
            and not any(session_keys(redis, sid) for sid in expired)
        )

    # Bound: the old lease runs out, then the new node's next pass (every 1 s), plus the
    # node's start-up (slow on a busy 2-core machine).
    bound = max(lease_left, 0) + 1 + 3
    await wait_until(converged, bound + 2, "indexes converged", interval=0.02)
    took = time.monotonic() - started
    late = time.time() - deadline
    print(f"\nexpiry sweep: converged {took:.2f} s after the node was started "
          f"(the stopped node's sweeper lease had {max(lease_left, 0):.2f} s left, interval "
          f"1 s); cleanup ran {late:.2f} s after the sessions' deadline")
    # One sweep did it: the evictions counted on the new node are exactly the expired ones.
    assert await metric(health, "stui_evictions_total") == len(expired)
    assert took <= bound
    # The refreshed session was rescheduled at its real deadline and stays listed.
    score = float(redis_call(redis, "ZSCORE", keys.EXPIRY_INDEX, expiry_member(kept, "kept")))
    assert score > time.time() + 50
    assert members(redis, keys.client_sessions("kept")) == [kept]
    async with connect(second.url) as conn:
        listed = await conn.request("list_client_sessions", client_id="kept")
        stats = await conn.request("get_session_statistics")
    assert [s["session_id"] for s in listed["sessions"]] == [kept]
    assert stats["total_sessions"] == 1 and stats["active_clients"] == 1


async def test_a_connected_client_is_told_session_expired_and_indexes_clean_at_once(
        node_process, redis):
    # The sweeper's next pass is a minute away: only the keyspace event can do this in time.
    node = node_process("--session-timeout", "1", "--cleanup-interval", "60")
    async with connect(node.url) as conn:
        sid = (await conn.request("create_session", client_id="idle"))["session_id"]
        created = time.monotonic()
        event = await conn.next_event("session_expired", timeout=5)
        told_after = time.monotonic() - created

        def cleaned() -> bool:
            return (not members(redis, keys.EXPIRY_INDEX) and not clients_set(redis)
                    and not members(redis, keys.client_sessions("idle"))
                    and not session_keys(redis, sid))

        cleaned_after = told_after + await wait_until(cleaned, 3, "fast-path cleanup",
                                                      interval=0.02)
        print(f"\nkeyspace fast path: session_expired {told_after:.2f} s after create "
              f"(timeout 1 s), indexes clean after {cleaned_after:.2f} s")
        assert event["data"]["session_id"] == sid
        assert told_after < 3.0
        # The connection stays usable; the session is gone for everyone.
        answer = await conn.call("get_session_info", {"session_id": sid})
        assert answer["error_type"] == "SessionNotFound"
        assert (await conn.request("ping"))["pong"] is True


async def test_cleanup_is_idempotent_and_racing_sweeps_agree(redis):
    settings = Settings.from_env({}, redis_url=redis.url, session_timeout=1)
    client = redis_client(settings)
    async with client:
        store = SessionStore(client, settings, "test-store")
        sessions = [(await store.create(f"client{i % 3}"))[0] for i in range(9)]
        long_lived = SessionStore(client, Settings.from_env({}, redis_url=redis.url), "keep")
        survivor, _, _ = await long_lived.create("client0")
        await wait_until(lambda: not any(alive(redis, m.session_id) for m in sessions), 5,
                         "sessions expired")
        before = redis_keys(redis)
        # Two sweepers racing over the same due sessions (the lease would normally prevent
        # it; cleanup must not need it for correctness).
        sweepers = [Sweeper(store, "s1"), Sweeper(store, "s2")]
        counts: list[int] = []

        async def sweep(sweeper: Sweeper) -> None:
            counts.append(await sweeper.sweep())

        async with trio.open_nursery() as nursery:
            for sweeper in sweepers:
                nursery.start_soon(sweep, sweeper)
        after_first = redis_keys(redis)
        again = await sweepers[0].sweep()
        # remove() of sessions that are already gone: no error, nothing changes.
        for meta in sessions:
            await store.remove(meta.session_id, meta.client_id)
        after_all = redis_keys(redis)
    print(f"\nracing sweeps removed {counts} (9 due); a third sweep removed {again}")
    assert 9 <= sum(counts) <= 18 and again == 0
    assert after_first == after_all
    assert len(before) > len(after_first)
    assert members(redis, keys.EXPIRY_INDEX) == [expiry_member(survivor.session_id, "client0")]
    assert clients_set(redis) == ["client0"]
    assert members(redis, keys.client_sessions("client0")) == [survivor.session_id]
    for meta in sessions:
        assert not session_keys(redis, meta.session_id)
