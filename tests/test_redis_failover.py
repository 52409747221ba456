"""Failovers while clients write: kill -9 of a primary, of a sentinel, of a replica, and a
graceful failover, on Redis Sentinel and on Redis Cluster.

Each test starts its own topology (real ``redis-server`` processes on free loopback ports),
two in-process nodes and writers (:class:`ha_support.Writer`: the client library, one
session each, ``update_session_state`` in a loop). What must hold:

- requests in the failover window wait and run again inside the node (same request id): the
  clients see ``store_failing_over``, not errors;
- no request runs twice, and with ``--min-replicas 1`` no acknowledged request is lost;
- the time from the kill to the first acknowledged commit is bounded (the measured times are in
  ``docs/operations.md``; ``scripts/bench --suite redis-ha`` measures them again).

Bounded for CI: a few seconds of writing on each side of the event.
"""

from __future__ import annotations

import signal
import time

import trio
from ha_support import Run, local_topology, shard_of, start_node, wait_for

from cluster.ops.redis_topology import SERVICE

FAILOVER_WAIT = 20.0


async def _run(topology, nursery, writers: int, **overrides) -> Run:
    settings = {"failover_wait": FAILOVER_WAIT, **overrides}
    nodes = [await start_node(nursery, topology.url(), **settings) for _ in range(2)]
    run = Run(topology=topology, nodes=nodes, writers=[])
    await run.start(nursery, writers)
    await run.until_each_acked(5, timeout=20)
    return run


def _drain(run: Run) -> None:
    for node in run.nodes:
        node.drain()


# -- Sentinel ------------------------------------------------------------------------------


async def test_sentinel_kill_primary(tmp_path, nursery):
    with local_topology("sentinel", tmp_path) as topology:
        run = await _run(topology, nursery, writers=4, min_replicas=1, replica_wait_ms=200)
        try:
            old = topology.primaries()[0]
            topology.kill(old)
            run.mark()  # once the process is gone
            # The node stays healthy for the load balancer while the store fails over
            # (another node would not do better): its health says so.
            healthy, body = await run.nodes[0].health()
            await run.until_each_acked(10, timeout=45, after=run.moment)
            recovery = run.recovery()
            audit = await run.finish()
        finally:
            _drain(run)
        new = topology.primaries()
        print(f"\nsentinel kill -9 primary: first commit {recovery:.2f} s after the kill")
    assert new and new[0] != old
    assert healthy and body["redis"] == "failing_over", body
    # Nothing acknowledged is lost silently, nothing runs twice. With two replicas, WAIT 1
    # proves one of them had each commit; the sentinels promote the replica they last saw
    # furthest ahead, nearly always that one: seldom (once here under a loaded machine) the
    # other, and the commits it lacked are reported as rolled back and resent, never lost.
    assert audit["lost"] == 0 and audit["twice"] == 0, audit
    detected = sum(node.service.rollbacks.detected for node in run.nodes)
    assert audit["reported"] <= 2 * len(run.writers) and detected <= 2, (audit, detected)
    assert all(w.errors == [] for w in run.writers), [w.errors for w in run.writers]
    assert any(w.saw_failover for w in run.writers)  # they were told, not failed
    assert recovery < 15, recovery
    assert all(d.get("replicas", 0) >= 1 for w in run.writers for d in w.durabilities)


async def test_sentinel_graceful_failover_kill_sentinel_kill_replica(tmp_path, nursery):
    with local_topology("sentinel", tmp_path) as topology:
        run = await _run(topology, nursery, writers=3, min_replicas=1, replica_wait_ms=500)
        try:
            sentinels = [m.port for m in topology.sentinel_members]
            old = topology.primaries()[0]
            # One sentinel dies: the other two still make a quorum of 2 and still answer.
            topology.kill(sentinels[0])
            run.mark()
            topology.command(sentinels[1], "SENTINEL", "FAILOVER", SERVICE)
            await wait_for(lambda: old not in topology.primaries(), 30, "the old one demoted")
            await run.until_each_acked(10, timeout=30, after=run.moment)
            graceful = run.recovery()
            # One replica dies: the other still confirms every write (--min-replicas 1).
            new = topology.primaries()[0]
            await wait_for(lambda: len(topology.replicas_of(new)) == 2, 20, "both replicas back")
            replicas = topology.replicas_of(new)
            run.mark()
            topology.kill(replicas[0])
            await run.until_each_acked(10, timeout=30, after=run.moment)
            gaps = [run.longest_gap(w) for w in run.writers]
            audit = await run.finish()
        finally:
            _drain(run)
        print(f"\nsentinel graceful failover: first commit {graceful:.2f} s after SENTINEL "
              f"FAILOVER; longest pause around a replica's kill {max(gaps):.2f} s; {audit}")
    # SENTINEL FAILOVER promotes a replica while the old primary stays up and writable until
    # the sentinels convert it (~10 s here): what was acknowledged there in between is lost
    # (even with --min-replicas 1: its other replica confirmed it, then resynced). Such a loss
    # must be reported to the client as a rollback, never silent.
    assert audit["lost"] == 0 and audit["twice"] == 0, audit
    assert all(w.errors == [] for w in run.writers), [w.errors for w in run.writers]
    assert graceful < 15
    assert max(gaps) < 2.0, gaps  # a replica's death costs a writer no failover


# -- Cluster -------------------------------------------------------------------------------


async def test_cluster_kill_primary(tmp_path, nursery):
    with local_topology("cluster", tmp_path) as topology:
        # --min-replicas 0: with one replica per shard, a shard whose primary died has no
        # replica left to confirm writes until the dead node comes back (see the graceful
        # test and docs/operations.md). What is measured here is the failover itself.
        run = await _run(topology, nursery, writers=6)
        try:
            # (six random sessions all on one shard, 0.4% of runs: add writers until not)
            while len({shard_of(topology, w.session_id) for w in run.writers}) < 2:
                assert len(run.writers) < 20, "every writer landed on one shard"
                await run.start(nursery, 1)
                await run.until_each_acked(1, timeout=20)
            victim = shard_of(topology, run.writers[0].session_id)
            on_victim = [w for w in run.writers if shard_of(topology, w.session_id) == victim]
            elsewhere = [w for w in run.writers if w not in on_victim]
            topology.kill(victim)
            run.mark()  # once the process is gone
            healthy, body = await run.nodes[0].health()  # one shard down: still serving
            await run.until_each_acked(10, timeout=45, after=run.moment)
            recovery = run.recovery(on_victim)
            gaps = [run.longest_gap(w) for w in elsewhere]
            audit = await run.finish()
            detected = sum(node.service.rollbacks.detected for node in run.nodes)
        finally:
            _drain(run)
        print(f"\ncluster kill -9 primary: first commit on its shard {recovery:.2f} s after "
              f"the kill; other shards' longest pause {max(gaps, default=0):.2f} s")
    assert elsewhere, "every writer landed on one shard"
    assert healthy and body["redis"] == "partial", body
    assert audit["twice"] == 0, audit
    # Without --min-replicas an acknowledged write can be lost; if one was, it was reported.
    assert audit["lost"] == 0, audit
    assert audit["reported"] == 0 or detected > 0, audit
    assert all(w.errors == [] for w in run.writers), [w.errors for w in run.writers]
    assert any(w.saw_failover for w in on_victim)
    assert recovery < 15, recovery
    assert max(gaps) < 1.0, gaps  # the healthy shards did not wait


async def test_cluster_graceful_failover_and_replica_kill(tmp_path, nursery):
    with local_topology("cluster", tmp_path) as topology:
        run = await _run(topology, nursery, writers=4, min_replicas=1, replica_wait_ms=500)
        try:
            shard = shard_of(topology, run.writers[0].session_id)
            replica = topology.replicas_of(shard)[0]
            run.mark()
            topology.command(replica, "CLUSTER", "FAILOVER")
            await wait_for(lambda: topology.role(replica) == "master", 20, "the replica promoted")
            await run.until_each_acked(10, timeout=30, after=run.moment)
            graceful = run.recovery()
            # The old primary is the new primary's replica now; kill another shard's replica:
            # that shard cannot confirm writes any more (--min-replicas 1), the rest can.
            other = next(p for p in topology.primaries() if p != replica)
            other_replica = topology.replicas_of(other)[0]
            on_other = [w for w in run.writers if shard_of(topology, w.session_id) == other]
            run.mark()
            topology.kill(other_replica)
            await trio.sleep(1.0)
            topology.restart(other_replica)  # it comes back as a replica: writes confirm again
            await run.until_each_acked(5, timeout=40, after=run.moment)
            audit = await run.finish()
        finally:
            _drain(run)
        print(f"\ncluster graceful CLUSTER FAILOVER: first commit {graceful:.2f} s after it")
    assert audit == {"lost": 0, "reported": 0, "twice": 0}, audit
    assert all(w.errors == [] for w in run.writers), [w.errors for w in run.writers]
    assert graceful < 10
    for writer in on_other:
        assert writer.saw_failover  # told while its shard had no replica to confirm


async def test_replica_frozen_refuses_acknowledgements_until_it_catches_up(tmp_path, nursery):
    """--min-replicas 1: a commit no replica confirms is not acknowledged (in doubt: the node
    runs it again with the same id, which finds it stored and waits once more)."""
    with local_topology("sentinel", tmp_path) as topology:
        run = await _run(topology, nursery, writers=2, min_replicas=1, replica_wait_ms=100)
        try:
            primary = topology.primaries()[0]
            replicas = topology.replicas_of(primary)
            for port in replicas:
                topology.signal(port, signal.SIGSTOP)
            frozen_at = run.mark()
            await trio.sleep(1.5)
            thawed_at = time.monotonic()
            # Acknowledged while frozen: requests sent after the freeze, answered before the
            # thaw (one in flight at the freeze may have been confirmed just before it).
            during = [
                sum(1 for sent, done in zip(w.sent_times, w.commit_times, strict=True)
                    if sent >= frozen_at and done < thawed_at)
                for w in run.writers
            ]
            for port in replicas:
                topology.signal(port, signal.SIGCONT)
            run.mark()
            await run.until_each_acked(5, timeout=20, after=run.moment)
            audit = await run.finish()
        finally:
            for port in topology.replicas_of(topology.primaries()[0]) or []:
                topology.signal(port, signal.SIGCONT)
            _drain(run)
    assert during == [0] * len(run.writers), during  # nothing acknowledged while frozen
    assert audit == {"lost": 0, "reported": 0, "twice": 0}, audit
    assert all(w.errors == [] for w in run.writers)
    assert all(w.saw_failover for w in run.writers)
    assert any(w.replayed for w in run.writers)  # the in-doubt commit, answered from storage
