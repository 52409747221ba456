"""Prometheus metrics of one node (a registry per node, so in-process test nodes don't mix)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from cluster.wire import WireStats

    from .fanout import Fanout
    from .workspace import ImageCache, Pacing


class NodeMetrics:
    """Connections, requests by command and outcome, latencies, handoffs, conflicts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "stui_connections", "open WebSocket connections", registry=self.registry
        )
        self.connections_total = Counter(
            "stui_connections_opened", "WebSocket connections accepted", registry=self.registry
        )
        self.requests = Counter(
            "stui_requests",
            "requests answered, by command and outcome (success or error type)",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stui_request_seconds",
            "time from a request's frame to its response",
            ["command"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "stui_requests_in_flight", "requests being handled", registry=self.registry
        )
        self.bad_frames = Counter(
            "stui_bad_frames", "frames rejected before dispatch", registry=self.registry
        )
        self.conflicts = Counter(
            "stui_conflicts", "optimistic commits that lost a race", registry=self.registry
        )
        self.handoffs = Counter(
            "stui_handoffs", "sessions taken over from another connection", registry=self.registry
        )
        self.evictions = Counter(
            "stui_evictions", "sessions cleaned up after expiry", registry=self.registry
        )
        self._answered: dict[tuple[str, str], Any] = {}
        self._latencies: dict[str, Any] = {}
        self.rate_limited = Counter(
            "stui_rate_limited", "requests refused by a limit", registry=self.registry
        )
        self.store_failures = Counter(
            "stui_store_failures",
            "requests that met a store failure (failover, restart) and waited",
            registry=self.registry,
        )
        self.store_retries = Counter(
            "stui_store_retries",
            "runs again of such requests, with the same request id",
            registry=self.registry,
        )
        self.rollbacks = Counter(
            "stui_rollbacks",
            "sessions found older than a commit this node acknowledged (session_rolled_back)",
            registry=self.registry,
        )

    def answered(self, command: str, outcome: str, seconds: float) -> None:
        """One request answered: count it and its latency. The labelled children are cached
        (``labels()`` takes a lock and builds a key on every call; this runs per request)."""
        key = (command, outcome)
        counter = self._answered.get(key)
        if counter is None:
            counter = self._answered[key] = self.requests.labels(command, outcome)
        counter.inc()
        histogram = self._latencies.get(command)
        if histogram is None:
            histogram = self._latencies[command] = self.latency.labels(command)
        histogram.observe(seconds)

    def watch_cache(self, images: ImageCache) -> None:
        """Gauges read from the node's image cache at scrape time."""
        cached_sessions = Gauge(
            "stui_cached_sessions", "session images cached in memory", registry=self.registry
        )
        cached_objects = Gauge(
            "stui_cached_objects", "heap objects in cached images", registry=self.registry
        )
        cache_evictions = Gauge(
            "stui_cache_evictions", "images dropped from the cache", registry=self.registry
        )
        cached_sessions.set_function(lambda: len(images))
        cached_objects.set_function(lambda: images.objects())
        cache_evictions.set_function(lambda: images.evictions)

    def watch_wire(self, stats: WireStats) -> None:
        """Redis round trips and commands of the request path (read at scrape time)."""
        self.registry.register(_WireCollector(stats))

    def watch_store(self, describe: Callable[[], dict[str, Any]]) -> None:
        """The store's topology, primaries, failovers, replication lag and lost writes, from
        ``describe()`` at scrape time (see ``Node.store_state``)."""
        self.registry.register(_StoreCollector(describe))

    def watch_pacing(self, pacing: Pacing) -> None:
        """Evaluations run inline, in worker threads, and inline attempts that fell back."""
        self.registry.register(_PacingCollector(pacing))

    def watch_fanout(self, fanout: Fanout) -> None:
        """Shared sessions' fan-out: channel messages, stream reads, slow connections."""
        self.registry.register(_FanoutCollector(fanout))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _WireCollector(Collector):
    """``stui_redis_round_trips_total`` and ``stui_redis_commands_total`` from the wire pool's
    own counters (kept as plain integers on the hot path)."""

    def __init__(self, stats: WireStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "stui_redis_round_trips",
            "network round trips to Redis on the request path",
            value=self.stats.round_trips,
        )
        yield CounterMetricFamily(
            "stui_redis_commands",
            "Redis commands sent on the request path (commands inside scripts not counted)",
            value=self.stats.commands,
        )


class _StoreCollector(Collector):
    """``stui_redis_*``: what the node knows of the store's topology."""

    def __init__(self, state: Callable[[], dict[str, Any]]) -> None:
        self.state = state  # (not "describe": prometheus_client would call that one)

    def collect(self) -> Iterator[Metric]:
        state = self.state()
        topology = GaugeMetricFamily(
            "stui_redis_topology", "the store's topology (1 for the one in use)", labels=["kind"]
        )
        topology.add_metric([str(state.get("topology", "standalone"))], 1)
        yield topology
        yield GaugeMetricFamily(
            "stui_redis_primaries", "primaries the node routes to",
            value=len(state.get("shards") or []) or 1,
        )
        yield CounterMetricFamily(
            "stui_redis_primary_changes",
            "changes of a primary seen since start (failovers)",
            value=max(0, int(state.get("generation", 1)) - 1),
        )
        lag = GaugeMetricFamily(
            "stui_redis_replica_behind_bytes",
            "how far each replica is behind its primary, as of the last poll",
            labels=["primary", "replica"],
        )
        for shard in state.get("replication") or []:
            for replica in shard.get("replicas", []):
                lag.add_metric([shard["primary"], replica["address"]],
                               float(replica["behind_bytes"]))
        yield lag
        yield CounterMetricFamily(
            "stui_redis_lost_write_failovers",
            "failovers whose new primary took over below the last offset seen (writes lost)",
            value=len(state.get("losses") or []),
        )


class _PacingCollector(Collector):
    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "stui_evaluations", "evaluations by where they ran", labels=["where"]
        )
        runs.add_metric(["inline"], self.pacing.inline_runs)
        runs.add_metric(["thread"], self.pacing.thread_runs)
        yield runs
        yield CounterMetricFamily(
            "stui_evaluation_fallbacks",
            "inline evaluations that outgrew the inline limits and ran again in a thread",
            value=self.pacing.fallbacks,
        )


class _FanoutCollector(Collector):
    def __init__(self, fanout: Fanout) -> None:
        self.fanout = fanout

    def collect(self) -> Iterator[Metric]:
        fanout = self.fanout
        yield GaugeMetricFamily(
            "stui_fanout_sessions", "shared sessions this node follows", value=len(fanout.feeds)
        )
        yield CounterMetricFamily(
            "stui_fanout_messages", "messages received on shared sessions' channels",
            value=fanout.received,
        )
        yield CounterMetricFamily(
            "stui_fanout_stream_events",
            "events read from the stream (gaps, and catching up after a subscription)",
            value=fanout.from_stream,
        )
        yield CounterMetricFamily(
            "stui_fanout_gap_repairs", "gaps in a feed filled from the stream",
            value=fanout.repairs,
        )
        yield CounterMetricFamily(
            "stui_fanout_overwhelmed",
            "connections closed because their queue could not take a session event (4008)",
            value=fanout.overwhelmed,
        )
