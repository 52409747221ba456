"""Everything works on Redis Sentinel and on Redis Cluster, as on one Redis.

One topology of each kind for the whole module (real ``redis-server`` processes on free loopback
ports: 1 primary, 2 replicas and 3 sentinels; 3 primaries and 3 replicas), emptied before each
test; real in-process nodes and WebSocket clients. Failovers are in ``test_redis_failover.py``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from ha_support import (
    exists,
    flush,
    local_topology,
    sessions_on_shards,
    shard_of,
    start_node,
    url_of,
)

from client.connection import RequestFailed, open_connection
from cluster import keys
from cluster.ops import backup
from cluster.ops.redis_topology import LocalTopology
from cluster.router import WireRouter, segments
from cluster.settings import Settings
from cluster.store import connect
from cluster.topology import CLUSTER, SENTINEL, Address, Topology, crc16, hash_tag, slot

KINDS = (SENTINEL, CLUSTER)


@pytest.fixture(scope="module")
def topologies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LocalTopology]]:
    base = tmp_path_factory.mktemp("topologies")
    with local_topology(SENTINEL, base) as sentinel, local_topology(CLUSTER, base) as cluster:
        yield {SENTINEL: sentinel, CLUSTER: cluster}


@pytest.fixture(params=KINDS)
def topology(request: pytest.FixtureRequest, topologies: dict[str, LocalTopology]) -> LocalTopology:
    chosen = topologies[request.param]
    flush(chosen)
    return chosen


# -- URLs and slots (no servers) -----------------------------------------------------------


def test_urls_of_each_topology():
    plain = Topology.from_url("redis://u:p%40ss@10.0.0.1:6380/2")
    assert (plain.kind, plain.seeds, plain.db) == ("standalone", (Address("10.0.0.1", 6380),), 2)
    assert (plain.username, plain.password) == ("u", "p@ss")
    sentinel = Topology.from_url("redis+sentinel://:pw@h1:26379,h2:26380,h3:26381/mymaster/1")
    assert sentinel.kind == SENTINEL and sentinel.service == "mymaster" and sentinel.db == 1
    assert [str(a) for a in sentinel.seeds] == ["h1:26379", "h2:26380", "h3:26381"]
    assert sentinel.password == "pw" and sentinel.username is None
    cluster = Topology.from_url("redis+cluster://stui@h1:7000,h2:7001")
    assert cluster.kind == CLUSTER and cluster.username == "stui" and len(cluster.seeds) == 2
    for bad in ("redis+sentinel://h1:1,h2:2", "redis+cluster://h:1/3", "redis://a:1,b:2/0",
                "http://h:1", "redis://h:port/0"):
        with pytest.raises(ValueError):
            Topology.from_url(bad)
    assert "pw" not in sentinel.describe()


def test_slots_follow_redis_cluster_rules():
    assert crc16(b"123456789") == 0x31C3  # the reference value of CRC16-CCITT (XMODEM)
    assert hash_tag("stui:{abc}:meta") == "abc"
    assert hash_tag("foo{}{bar}") == "foo{}{bar}"  # an empty tag: the whole key
    assert slot("{user1000}.following") == slot("{user1000}.followers")
    session = keys.SessionKeys("s-1")
    assert len({slot(key) for key in session.all_keys()}) == 1


def test_batches_are_cut_where_they_must_stay_together():
    commands = [
        ("MULTI",), ("HSET", "stui:{a}:meta", "f", "v"), ("SET", "stui:{a}:alive", "n"),
        ("EXEC",), ("WAIT", 1, 100), ("ZADD", "stui:expiry", 1, "a c"), ("PUBLISH", "ch", "m"),
        ("EVALSHA", "sha", 2, "stui:client:{c}:sessions", "stui:client:{c}:creates", "x"),
    ]
    assert segments(commands) == [
        ("stui:{a}:meta", [0, 1, 2, 3, 4]), ("stui:expiry", [5]), (None, [6]),
        ("stui:client:{c}:sessions", [7]),
    ]


async def test_slots_match_the_servers(topologies):
    cluster = topologies[CLUSTER]
    port = cluster.primaries()[0]
    for key in ("stui:{s-1}:meta", "stui:expiry", "stui:client:{alice}:sessions", "x", "{}y"):
        assert int(cluster.command(port, "CLUSTER", "KEYSLOT", key)) == slot(key)


# -- the request path on each topology -----------------------------------------------------


async def test_session_commands_and_takeover(topology, nursery):
    node_a = await start_node(nursery, topology.url())
    node_b = await start_node(nursery, topology.url())
    try:
        async with open_connection(url_of(node_a)) as on_a:
            created = await on_a.request("create_session", client_id="alice")
            sid = created["session_id"]
            assert created["durability"] == {"replicas": 0, "aof": False}
            stored = await on_a.request("update_session_state", session_id=sid,
                                        state_data={"pane": "editor"})
            assert stored["version"] == 2 and stored["commit_id"] and "durability" in stored
            listed = await on_a.request("list_client_sessions", client_id="alice")
            assert [s["session_id"] for s in listed["sessions"]] == [sid]
            async with open_connection(url_of(node_b)) as on_b:
                restored = await on_b.request("restore_session", session_id=sid)
                # The takeover notice travels by PUBLISH on the previous owner's channel.
                notice = await on_a.next_event("session_taken_over", timeout=10)
                assert notice["data"]["session_id"] == sid
                assert restored["session_state"] == {"pane": "editor"}
                assert restored["commit_id"] == stored["commit_id"]
                again = await on_b.request("update_session_state", session_id=sid,
                                           state_data=2, expected_version=2)
                assert again["version"] == 3 and again["commit_id"] != stored["commit_id"]
                stats = await on_b.request("get_session_statistics")
                assert stats["total_sessions"] == 1 and stats["active_clients"] == 1
                assert len(stats["nodes"]) == 2
                await on_b.request("close_session", session_id=sid)
                with pytest.raises(RequestFailed) as gone:
                    await on_b.request("get_session_info", session_id=sid)
                assert gone.value.error_type == "SessionNotFound"
                assert (await on_b.request("list_client_sessions", client_id="alice"))[
                    "session_count"] == 0
    finally:
        node_a.drain()
        node_b.drain()


async def test_sessions_spread_over_every_primary(topologies, nursery):
    cluster = topologies[CLUSTER]
    flush(cluster)
    node = await start_node(nursery, cluster.url())
    try:
        async with open_connection(url_of(node)) as conn:
            # Twelve sessions, more until every shard has one (twelve random ids miss one of
            # three shards 2% of the time); a node that did not spread them fails the bound.
            sids = await sessions_on_shards(conn, cluster, "c", count=12, shards=3, limit=60)
            for sid in sids:
                await conn.request("update_session_state", session_id=sid, state_data=sid)
        for sid in sids:
            port = shard_of(cluster, sid)
            assert cluster.command(port, "EXISTS", keys.SessionKeys(sid).meta) == "1"
        assert isinstance(node.wire, WireRouter)
        assert len(node.wire.describe()["shards"]) == 3
    finally:
        node.drain()


async def test_expiry_events_from_every_primary_clean_up(topology, nursery):
    # The sweeper is kept out of the way (an hour between passes): only keyspace events can
    # clean up in time, and on a cluster only one listener per primary hears every shard.
    node = await start_node(nursery, topology.url(), cleanup_interval=3600, session_timeout=1)
    try:
        async with open_connection(url_of(node)) as conn:
            sids = [(await conn.request("create_session", client_id=f"e{i}"))["session_id"]
                    for i in range(9)]
        with trio.fail_after(15):
            while True:
                left = [sid for sid in sids if exists(topology, keys.SessionKeys(sid).meta)]
                if not left:
                    break
                await trio.sleep(0.2)
        if topology.kind == CLUSTER:
            assert len({shard_of(topology, sid) for sid in sids}) >= 2
            assert node.expired_events is not None and node.expired_events.received >= 9
        assert b"stui_evictions_total 9.0" in node.metrics.render()
    finally:
        node.drain()


async def test_sweeper_cleans_up_across_slots(topology, nursery):
    # No keyspace events on this node (a subscription per primary is not started): the
    # sweeper's lease ({sweeper} slot), the deadline index and the sessions' own slots.
    node = await start_node(nursery, topology.url(), cleanup_interval=1, session_timeout=1)
    try:
        async with open_connection(url_of(node)) as conn:
            sids = [(await conn.request("create_session", client_id=f"s{i}"))["session_id"]
                    for i in range(6)]
        redis = node.redis
        with trio.fail_after(15):
            while await redis.zcard(keys.EXPIRY_INDEX):
                await trio.sleep(0.2)
        assert all(not exists(topology, keys.SessionKeys(sid).meta) for sid in sids)
        assert await redis.get(keys.SWEEPER_LEASE) is not None
    finally:
        node.drain()


async def test_scripts_are_reloaded_where_the_server_lost_them(topology, nursery):
    # SCRIPT LOAD is not replicated: a promoted replica answers NOSCRIPT. The store sends the
    # script's source then (EVAL), for reserve.lua (create) and touch.lua (reads).
    node = await start_node(nursery, topology.url())
    try:
        async with open_connection(url_of(node)) as conn:
            sid = (await conn.request("create_session", client_id="a"))["session_id"]
            await conn.request("get_session_info", session_id=sid)
            for port in topology.primaries():
                topology.command(port, "SCRIPT", "FLUSH")
            second = await conn.request("create_session", client_id="a")
            info = await conn.request("get_session_info", session_id=second["session_id"])
        assert info["version"] == 1
    finally:
        node.drain()


async def test_backup_and_restore(topology, nursery, tmp_path: Path):
    node = await start_node(nursery, topology.url())
    try:
        async with open_connection(url_of(node)) as conn:
            sids = []
            for i in range(5):
                sid = (await conn.request("create_session", client_id=f"b{i}"))["session_id"]
                await conn.request("update_session_state", session_id=sid, state_data={"i": i})
                sids.append(sid)
        settings = Settings.from_env({}, redis_url=topology.url())
        redis = connect(settings)
        async with redis:
            written = await backup.backup(redis, tmp_path / "all.jsonl")
            flush(topology)
            restored, skipped = await backup.restore(redis, tmp_path / "all.jsonl")
        assert (written, restored, skipped) == (5, 5, 0)
        async with open_connection(url_of(node)) as conn:
            for i, sid in enumerate(sids):
                got = await conn.request("restore_session", session_id=sid)
                assert got["session_state"] == {"i": i} and got["version"] == 2
    finally:
        node.drain()


async def test_health_and_metrics_show_the_topology(topology, nursery):
    node = await start_node(nursery, topology.url(), health_port=0)
    try:
        healthy, body = await node.health()
        assert healthy and body["redis"] == "ok"
        store = body["store"]
        assert store["topology"] == topology.kind
        primaries = {f"127.0.0.1:{p}" for p in topology.primaries()}
        assert {s["primary"] for s in store["shards"]} == primaries
        with trio.fail_after(5):
            while not (node.replication and node.replication.describe()):
                await trio.sleep(0.1)
        replication = node.store_state()["replication"]
        assert {r["primary"] for r in replication} == primaries
        assert all(r["replicas"] for r in replication)  # each primary has its replicas
        page = node.metrics.render().decode()
        assert f'stui_redis_topology{{kind="{topology.kind}"}} 1.0' in page
        assert f"stui_redis_primaries {len(primaries)}.0" in page
    finally:
        node.drain()


def test_local_topologies_run_with_acl_users(tmp_path: Path):
    """The launcher's secure set-up: ACL users on every data node, replicas and sentinels
    logging in as the admin user; the nodes' user can do its work (and no more)."""
    from cluster import redis_auth

    admin, node_password = redis_auth.new_password(), redis_auth.new_password()
    acl = tmp_path / "users.acl"
    acl.write_text(redis_auth.admin_acl(admin) + "\n" + redis_auth.node_acl(node_password) + "\n")
    topology = LocalTopology(SENTINEL, tmp_path / "t", acl_file=acl, admin_password=admin)
    try:
        topology.start()
        primary = topology.primaries()[0]
        assert len(topology.replicas_of(primary)) == 2
        with pytest.raises(RuntimeError):  # no password: refused
            subprocess_run(["redis-cli", "-p", str(primary), "SET", "k", "v"])
    finally:
        topology.stop()


def subprocess_run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=5)
    if done.returncode != 0 or "NOAUTH" in done.stdout or "NOPERM" in done.stdout:
        raise RuntimeError(done.stdout + done.stderr)
    return done.stdout


async def test_shared_session_events_reach_another_node(topology, nursery):
    """Shared sessions' fan-out (SPUBLISH in the commit, SSUBSCRIBE on the primary that holds
    the session's channel, found through the router): on a Redis Cluster one subscription per
    shard in use, so sessions on every shard reach the other node."""
    flush(topology)
    node_a = await start_node(nursery, topology.url())
    node_b = await start_node(nursery, topology.url())
    try:
        async with open_connection(url_of(node_a)) as on_a, \
                open_connection(url_of(node_b)) as on_b:
            # Four sessions; on a Cluster more until they are on several shards.
            sids = await sessions_on_shards(on_a, topology, "alice", count=4,
                                            shards=2 if topology.kind == CLUSTER else 1, limit=30)
            for sid in sids:
                joined = await on_b.request("restore_session", session_id=sid, attach="shared")
                assert joined["attach"] == "shared"
            for index, sid in enumerate(sids):
                await on_a.request("evaluate", session_id=sid, code=f"n := {index}")
            seen = [await on_b.next_event("evaluated", timeout=10) for _ in sids]
        assert sorted(e["data"]["session_id"] for e in seen) == sorted(sids)
        assert sorted(e["data"]["result"] for e in seen) == sorted(str(i) for i in range(len(sids)))
    finally:
        node_a.drain()
        node_b.drain()
