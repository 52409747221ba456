"""Per-client rate limits (cluster/ratelimit.py): node-local buckets, reconciled through Redis.

The buckets are pure (a fake clock drives them); the reconciliation runs against the real test
redis-server, with two bucket sets standing for two nodes that serve the same client.
"""

from __future__ import annotations

from typing import Any

import pytest

from cluster import keys
from cluster.ratelimit import ClientBuckets, RateSync
from cluster.wire import Endpoint, WireError, WirePool

pytestmark = pytest.mark.timeout(30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admitted(buckets: ClientBuckets, client: str, tries: int) -> int:
    return sum(buckets.take(client) for _ in range(tries))


def test_a_bucket_admits_its_burst_then_its_rate():
    clock = Clock()
    buckets = ClientBuckets(rate=10, burst=20, clock=clock)
    assert admitted(buckets, "alice", 50) == 20
    clock.now += 1.0
    assert admitted(buckets, "alice", 50) == 10
    assert admitted(buckets, "bob", 5) == 5  # each client its own bucket


def test_rate_zero_means_no_limit():
    buckets = ClientBuckets(rate=0, burst=0)
    assert admitted(buckets, "alice", 1000) == 1000
    assert buckets.pending() == {}


def test_idle_full_buckets_are_forgotten():
    clock = Clock()
    buckets = ClientBuckets(rate=10, burst=20, clock=clock)
    buckets.take("alice")
    assert buckets.pending() == {"alice": 1}
    buckets.synced("alice", 1, 1)
    assert buckets.pending() == {"alice": 0}  # still owes a token: keeps learning
    clock.now += 10
    assert buckets.pending() == {}
    assert "alice" not in buckets._buckets


def test_what_other_nodes_spent_is_debited_and_debt_is_capped():
    clock = Clock()
    buckets = ClientBuckets(rate=10, burst=20, clock=clock)
    assert admitted(buckets, "alice", 5) == 5
    assert buckets.synced("alice", 5, 105) == 0.0  # first look: nothing known of the others
    assert admitted(buckets, "alice", 1) == 1
    # Since our last look the counter grew by 300: 1 of them ours, 299 the other nodes'.
    assert buckets.synced("alice", 1, 405) == 299.0
    assert admitted(buckets, "alice", 5) == 0  # in debt...
    clock.now += 2 * 20 / 10  # ...for at most 2 * burst / rate seconds
    assert admitted(buckets, "alice", 1) == 1


async def test_two_nodes_share_one_clients_rate_through_redis(redis):
    """Two nodes each admit a burst for the same client; after one sync each has been debited
    by what the other admitted, so together they hold the client near its rate."""
    clock = Clock()
    wire = WirePool(Endpoint.from_url(redis.url))
    node_a = ClientBuckets(rate=10, burst=20, clock=clock)
    node_b = ClientBuckets(rate=10, burst=20, clock=clock)
    sync_a, sync_b = RateSync(node_a, wire), RateSync(node_b, wire)
    try:
        # Both nodes learn the counter's current value (the first sync debits nothing).
        assert admitted(node_a, "carol", 1) == 1
        assert admitted(node_b, "carol", 1) == 1
        assert await sync_a.sync_once() == 1 and await sync_b.sync_once() == 1
        clock.now += 10  # both buckets full again
        first_a = admitted(node_a, "carol", 100)
        first_b = admitted(node_b, "carol", 100)
        assert first_a == first_b == 20  # each node alone allows a burst
        await sync_a.sync_once()  # A learns nothing new of B yet (B has not added its 20)
        await sync_b.sync_once()  # B learns A's 20 and is debited
        await sync_a.sync_once()  # A, which spent nothing since, still learns B's 20
        clock.now += 1.0  # one second: 10 tokens of rate for the client, cluster-wide
        later = admitted(node_a, "carol", 100) + admitted(node_b, "carol", 100)
        assert later == 0  # both still pay off the other's burst
        clock.now += 3.0
        refilled = admitted(node_a, "carol", 100) + admitted(node_b, "carol", 100)
        # Within the stated bound: at most rate * time + each node's burst.
        assert 0 < refilled <= 2 * (10 * 3 + 20)
        spent = await wire.roundtrip([("GET", keys.client_spent("carol"))])
        assert int(spent[0]) == 42  # every admitted request counted once, cluster-wide
    finally:
        await wire.aclose()


class AnswerLost:
    """A round trip that reaches Redis and runs, whose answer never comes back (what a Redis
    Cluster round trip looks like when one primary dies: the others ran their part)."""

    def __init__(self, wire: WirePool) -> None:
        self.wire = wire

    async def roundtrip(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        await self.wire.roundtrip(commands)
        raise WireError("connection reset (the answer was lost)")


async def test_a_sync_whose_answer_is_lost_never_debits_the_client_for_its_own_requests(redis):
    clock = Clock()
    wire = WirePool(Endpoint.from_url(redis.url))
    node = ClientBuckets(rate=10, burst=20, clock=clock)
    sync = RateSync(node, wire)
    try:
        assert admitted(node, "dave", 1) == 1
        assert await sync.sync_once() == 1  # the counter's value is known here
        assert admitted(node, "dave", 15) == 15
        with pytest.raises(WireError):
            await RateSync(node, AnswerLost(wire)).sync_once()  # type: ignore[arg-type]
        clock.now += 10  # the bucket is full again
        assert admitted(node, "dave", 5) == 5
        await sync.sync_once()
        # Nobody else spent anything: no debit, so the rest of the burst is still there.
        assert admitted(node, "dave", 100) == 15
        spent = await wire.roundtrip([("GET", keys.client_spent("dave"))])
        assert int(spent[0]) == 21  # each admitted request counted once
    finally:
        await wire.aclose()
