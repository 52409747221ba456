"""Helpers for the tests against Redis Sentinel and Redis Cluster (not a test module).

Real ``redis-server`` processes on free loopback ports (:mod:`cluster.ops.redis_topology`),
real in-process nodes on port 0, real clients over WebSockets. Every topology is stopped when
its ``with`` block ends, whatever happened.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from client.connection import Connection, RequestFailed, open_connection
from client.session import STORE_FAILING_OVER, open_session
from cluster import keys
from cluster.ops.redis_topology import LocalTopology
from cluster.settings import Settings
from cluster.topology import slot
from nodes.node import Node


@contextmanager
def local_topology(kind: str, base: Path) -> Iterator[LocalTopology]:
    """A started topology of ``kind`` under ``base``; stopped at the end of the block."""
    topology = LocalTopology(kind, base / f"redis-{kind}")
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()


def ha_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        # The rate limit stays on (its cluster-wide sync writes counters on every primary).
        "redis_url": url, "port": 0, "cleanup_interval": 1, "redis_timeout": 2.0,
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


async def start_node(nursery: trio.Nursery, url: str, **overrides: Any) -> Node:
    """An in-process node on ``url`` (drained when the nursery's test ends: call ``drain``)."""
    node = Node(ha_settings(url, **overrides))
    await nursery.start(node.run)
    return node


def url_of(node: Node) -> str:
    return f"ws://127.0.0.1:{node.port}/"


def flush(topology: LocalTopology) -> None:
    """Empty every primary (scripts too: a test may count NOSCRIPT)."""
    for port in topology.primaries():
        topology.command(port, "FLUSHALL")


def shard_of(topology: LocalTopology, session_id: str) -> int:
    """The port of the primary that serves the session's slot (cluster), or the primary."""
    return primary_for_key(topology, keys.SessionKeys(session_id).meta)


async def sessions_on_shards(
    conn: Connection, topology: LocalTopology, prefix: str, *, count: int, shards: int,
    limit: int,
) -> list[str]:
    """At least ``count`` new sessions (client ids ``<prefix><n>``), more until they are on
    ``shards`` shards: session ids are random, so a few may all land on one (four on one of
    three shards 4% of the time). Fails past ``limit`` sessions."""
    sids: list[str] = []
    while len(sids) < count or len({shard_of(topology, sid) for sid in sids}) < shards:
        assert len(sids) < limit, {shard_of(topology, sid) for sid in sids}
        created = await conn.request("create_session", client_id=f"{prefix}{len(sids)}")
        sids.append(created["session_id"])
    return sids


def primary_for_key(topology: LocalTopology, key: str) -> int:
    """The port of the primary that serves ``key`` now."""
    primaries = topology.primaries()
    if topology.kind != "cluster":
        return primaries[0]
    wanted = slot(key)
    for port in primaries:
        if any(start <= wanted <= end for start, end in _slots_of(topology, port)):
            return port
    raise AssertionError(f"no primary serves slot {wanted}")


def exists(topology: LocalTopology, key: str) -> bool:
    """Whether ``key`` exists on the primary that serves it."""
    return topology.command(primary_for_key(topology, key), "EXISTS", key) == "1"


def _slots_of(topology: LocalTopology, port: int) -> list[tuple[int, int]]:
    """Slot ranges the node on ``port`` serves, from its own ``CLUSTER NODES`` line."""
    for line in topology.command(port, "CLUSTER", "NODES").splitlines():
        parts = line.split()
        if "myself" in parts[2]:
            ranges = []
            for part in parts[8:]:
                if part.startswith("["):
                    continue
                start, _, end = part.partition("-")
                ranges.append((int(start), int(end or start)))
            return ranges
    return []


def replica_of(topology: LocalTopology, primary: int) -> list[int]:
    return topology.replicas_of(primary)


async def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll a blocking ``predicate`` (process-level checks: redis-cli) in a thread, so the
    in-process nodes keep serving meanwhile."""
    with trio.move_on_after(timeout):
        while not await trio.to_thread.run_sync(predicate):
            await trio.sleep(interval)
        return
    raise AssertionError(f"not within {timeout:g} s: {what}")


@attrs.define
class Writer:
    """One client writing its session in a loop: ``update_session_state({"n": acked + 1})``.

    Every commit raises the version by one, so the stored ``version - 1`` counts executions;
    the writer counts acknowledgements and the requests answered with an error (in doubt)."""

    client_id: str
    session_id: str | None = None
    acked: int = 0
    in_doubt: int = 0
    errors: list[str] = attrs.field(factory=list)
    commit_times: list[float] = attrs.field(factory=list)
    sent_times: list[float] = attrs.field(factory=list)
    """When each acknowledged request was sent (same order as ``commit_times``)."""
    durabilities: list[dict[str, Any]] = attrs.field(factory=list)
    states: list[str] = attrs.field(factory=list)
    replayed: int = 0
    last_version: int = 0
    reported_lost: int = 0
    """Acknowledged requests the client library was told a rollback lost."""
    rollbacks: list[dict[str, Any]] = attrs.field(factory=list)

    async def run(
        self, urls: list[str], stop: trio.Event, pause: float = 0.01, *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        def on_state(state: str, info: dict[str, Any]) -> None:
            self.states.append(state)

        async with open_session(urls, self.client_id, on_state=on_state, request_timeout=40,
                                reconnect_timeout=40, ping_interval=None) as client:
            self.session_id = client.session_id
            task_status.started()
            while not stop.is_set():
                if client.rolled_back is not None:  # told; not resent (test_rollback does)
                    self.rollbacks.append(client.rolled_back)
                    self.reported_lost += len(client.lost_requests())
                    client.rolled_back = None
                sent = time.monotonic()
                try:
                    result = await client.update_state({"n": self.acked + 1})
                except RequestFailed as exc:
                    self.in_doubt += 1
                    self.errors.append(f"{exc.error_type}: {exc.response.get('error')}")
                    await trio.sleep(0.05)
                    continue
                self.acked += 1
                self.last_version = int(result["version"])
                self.replayed += bool(result.get("replayed"))
                self.commit_times.append(time.monotonic())
                self.sent_times.append(sent)
                self.durabilities.append(result.get("durability") or {})
                await trio.sleep(pause)

    @property
    def saw_failover(self) -> bool:
        return STORE_FAILING_OVER in self.states

    def first_commit_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first acknowledgement of a request sent after it
        (a request in flight at that moment may be answered at once: it does not count)."""
        later = [done for sent, done in zip(self.sent_times, self.commit_times, strict=True)
                 if sent >= moment]
        return later[0] - moment if later else None


async def stored_version(url: str, session_id: str) -> int:
    """The session's stored version, read through a node."""
    async with open_connection(url) as conn:
        info = await conn.request("get_session_info", session_id=session_id)
    return int(info["version"])


@attrs.define
class Run:
    """Writers through nodes while something happens to the store; then an audit."""

    topology: LocalTopology
    nodes: list[Node]
    writers: list[Writer]
    stop: trio.Event = attrs.field(factory=trio.Event)
    moment: float = 0.0

    @property
    def urls(self) -> list[str]:
        return [url_of(node) for node in self.nodes]

    async def start(self, nursery: trio.Nursery, count: int) -> None:
        for index in range(len(self.writers), len(self.writers) + count):
            writer = Writer(client_id=f"w{index}")
            self.writers.append(writer)
            urls = self.urls[index % len(self.urls):] + self.urls[: index % len(self.urls)]
            await nursery.start(writer.run, urls, self.stop)

    async def until_each_acked(self, count: int, timeout: float, after: float = 0.0) -> None:
        """Until every writer has ``count`` acknowledgements after ``after`` (monotonic)."""
        with trio.fail_after(timeout):
            while any(len([t for t in w.commit_times if t > after]) < count
                      for w in self.writers):
                await trio.sleep(0.05)

    def mark(self) -> float:
        self.moment = time.monotonic()
        return self.moment

    async def finish(self) -> dict[str, int]:
        """Stop the writers and compare what each acknowledged with what is stored: the
        numbers of requests acknowledged but silently lost, lost and reported (rollback
        notices), and executed twice."""
        self.stop.set()
        await trio.sleep(0.2)
        lost = reported = twice = 0
        for writer in self.writers:
            assert writer.session_id is not None
            stored = await stored_version(self.urls[0], writer.session_id) - 1
            # A commit after a rollback skips past the acknowledged versions, so the stored
            # version still counts acknowledgements: a loss shows only if nobody noticed it.
            lost += max(0, writer.acked - stored)
            reported += writer.reported_lost
            twice += max(0, stored - writer.acked - writer.in_doubt)
        return {"lost": lost, "reported": reported, "twice": twice}

    def recovery(self, writers: list[Writer] | None = None) -> float:
        """Seconds from the mark to the first commit acknowledged after it, by the slowest
        of ``writers`` (default: all)."""
        times = [w.first_commit_after(self.moment) for w in (writers or self.writers)]
        assert all(t is not None for t in times), times
        return max(t for t in times if t is not None)

    def longest_gap(self, writer: Writer) -> float:
        """The longest pause between two acknowledgements of ``writer`` around the mark."""
        times = [t for t in writer.commit_times if t > self.moment - 1]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)
