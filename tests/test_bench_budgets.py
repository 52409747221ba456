"""The bench's budget verdicts and round-trip reading (bench/budgets.py, bench/roundtrips.py).

Real parts: Prometheus pages rendered by ``prometheus_client`` itself, as a node and a
``--workers`` supervisor render them, and a real node's health port on a real redis-server.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest

from bench import budgets
from bench.roundtrips import METRIC, RoundTripProbe, by_worker, counter_total, read_metrics


def page(**workers: float) -> str:
    """A Prometheus page with the round-trip counter, labelled by worker when named."""
    registry = CollectorRegistry()
    if list(workers) == [""]:
        Counter(METRIC.removesuffix("_total"), "round trips", registry=registry).inc(workers[""])
    else:
        counter = Counter(METRIC.removesuffix("_total"), "round trips", ["worker"],
                          registry=registry)
        for name, value in workers.items():
            counter.labels(name).inc(value)
    Counter("stui_redis_round_trips_other", "a longer name", registry=registry).inc(99)
    return generate_latest(registry).decode()


def test_counter_total_reads_one_node_and_sums_workers() -> None:
    assert counter_total(page(**{"": 7})) == 7
    assert counter_total(page(w0=3, w1=4.5)) == 7.5
    assert counter_total("# HELP stui_requests x\nstui_requests_total 3.0\n") is None
    assert by_worker(page(w0=3, w1=4.5), METRIC) == {"w0": 3, "w1": 4.5}
    assert by_worker(page(**{"": 7}), METRIC) == {}


def measured(operation: str, clients: int = 50, **values: float | None) -> budgets.Measured:
    base: dict[str, float | None] = {"round_trips": 2, "commands": 12, "node_cpu_us": 300,
                                     "echo_ratio": 0.3, "p99_ms": 40}
    base.update(values)
    return budgets.Measured(operation=operation, clients=clients, **base)  # type: ignore[arg-type]


def test_verdicts() -> None:
    assert budgets.verdict(measured("update_session_state")) == "ok"
    assert budgets.verdict(measured("update_session_state", round_trips=2.04)) == "ok"
    over = budgets.verdict(measured("update_session_state", round_trips=4, commands=26))
    assert over == "OVER: rt 4.0 > 2.0, cmd 26.0 > 12.0"
    slow = budgets.verdict(measured("evaluate", node_cpu_us=2500, echo_ratio=0.05, p99_ms=220))
    assert slow == "OVER: cpu µs 2,500 > 600, p99 ms 220.0 > 50.0, ÷ echo 0.05 < 0.20"
    # The load budgets are for 50 connections, one pinned worker.
    assert budgets.verdict(measured("evaluate", clients=1, node_cpu_us=2500)) == "ok"
    assert budgets.verdict(measured("evaluate", node_cpu_us=2500), load_checks=False) == "ok"
    assert budgets.verdict(measured("ping", round_trips=None)) == "ok (? rt)"
    assert budgets.verdict(measured("ping", round_trips=1)) == "OVER: rt 1.0 > 0.0"
    assert budgets.verdict(measured("create_session", round_trips=9)) == "–"
    assert "update_session_state" in budgets.describe()


@pytest.mark.parametrize("pings", [20])
async def test_round_trip_probe_agrees_with_a_real_nodes_page(start_node, pings) -> None:
    from conftest import connect

    node = await start_node(health_port=0)
    probe = RoundTripProbe(node.health_port)
    await probe.begin()
    async with connect(node) as client:
        for _ in range(pings):
            await client.request("ping")
    result = await probe.end(pings, 1.0)
    text = await read_metrics(node.health_port)
    if METRIC in text:
        assert result["round_trips"]["per_op"] is not None
        assert result["round_trips"]["per_op"] >= 0
    else:
        assert result["round_trips"] == {"per_op": None, "total": None}
    assert result["worker_connections"] == {}, "a single node's page has no worker labels"
