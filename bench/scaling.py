"""The ``scaling`` suite: evaluation throughput with one node and with two.

Fifty clients (one connection and one session each) evaluate in a closed loop, first all on
node 1, then split between node 1 and node 2. Two workloads: ``x := x + 1`` (the evaluation is
tiny: the cost is the request, the commit and the Redis round trips) and ``(1 to: 1000) inject: 0
into: [:a :b | a + b]`` (the evaluator itself works for a few milliseconds).

On a 2-core machine the load generator, Redis and the nodes all compete for the same two
cores, so beside every number the suite reports the CPU each process used over the window
(``/proc/<pid>/stat``) and how busy the whole machine was (``/proc/stat``): a second node can
only help while there is a core left for it.
"""

from __future__ import annotations

import argparse
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from client.connection import Connection

from .clients import open_clients
from .common import (
    MachineProbe,
    NodeProc,
    Progress,
    Report,
    Run,
    cpu_pct,
    cpu_us,
    error_text,
    failure_of,
    machine_pct,
    num,
    ratio,
    table,
)
from .load import Cell, measure
from .probes import RedisCommandsProbe
from .sessions import create_sessions, evaluate_workers

WORKLOADS = {
    "increment": "x := x + 1",
    "inject": "(1 to: 1000) inject: 0 into: [:a :b | a + b]",
}


@dataclass(frozen=True)
class Options:
    clients: tuple[int, ...] = (50,)
    node_counts: tuple[int, ...] = (1, 2)
    warmup: float = 1.0
    duration: float = 5.0
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(clients=(10,), warmup=0.3, duration=1.5, floor_warmup=0.2, floor_duration=0.8)
        if args.quick
        else Options()
    )
    return Options(
        clients=tuple(args.clients) if args.clients else base.clients,
        node_counts=base.node_counts,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    cells = len(opts.clients) * len(opts.node_counts) * len(WORKLOADS)
    return 120 + cells * (opts.warmup + opts.duration + 30)


@dataclass
class ScalingCell:
    workload: str
    nodes: int
    cell: Cell

    def as_dict(self) -> dict[str, Any]:
        return {"workload": self.workload, "nodes": self.nodes, **self.cell.as_dict()}


async def cells_for(
    bench: Run, nodes: list[NodeProc], active: int, clients: int, opts: Options
) -> list[ScalingCell]:
    """Open ``clients`` connections split over the first ``active`` nodes; run each workload."""
    share = [clients // active + (1 if i < clients % active else 0) for i in range(active)]
    async with AsyncExitStack() as stack:
        connections: list[Connection] = []
        for node, count in zip(nodes, share, strict=False):
            connections += await stack.enter_async_context(open_clients(node.url, count))
        return await _measure(bench, nodes, active, connections, opts)


async def _measure(
    bench: Run, nodes: list[NodeProc], active: int, connections: list[Connection],
    opts: Options,
) -> list[ScalingCell]:
    progress = bench.progress
    sessions = await create_sessions(connections, f"scale{active}")
    for connection, session_id in zip(connections, sessions, strict=True):
        response = await connection.call("evaluate", {"session_id": session_id, "code": "x := 0"})
        if failure_of(response):
            progress(f"'x := 0' failed: {response}")
            break
    out = []
    for name, code in WORKLOADS.items():
        progress(f"{name} on {active} node(s), {len(connections)} clients")
        cell = await measure(
            f"{active} node(s)", name, evaluate_workers(connections, sessions, code),
            warmup=opts.warmup, duration=opts.duration,
            probes=[bench.cpu_probe(nodes), MachineProbe(), RedisCommandsProbe(bench.redis)],
        )
        progress.cell(cell)
        out.append(ScalingCell(workload=name, nodes=active, cell=cell))
    return out


async def run(opts: Options, progress: Progress) -> Report:
    report = Report(
        suite="scaling",
        title="scaling (evaluation throughput, one node and two)",
        layout="Everything on 127.0.0.1: redis-server, two node processes (both started for "
        "every cell; with one node, node 2 is idle), the load generator (this process, one "
        "WebSocket and one session per client, one request in flight each). Each cell: "
        f"{opts.warmup:g} s warm-up, {opts.duration:g} s measured.",
    )
    results: list[ScalingCell] = []
    async with Run(progress) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1, *opts.clients), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        nodes = [
            await bench.start_node(*opts.node_args, name="node-1"),
            await bench.start_node(*opts.node_args, name="node-2"),
        ]
        for clients in opts.clients:
            for active in opts.node_counts:
                results.extend(await cells_for(bench, nodes, active, clients, opts))
        for node in list(nodes):
            await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(results, report)
    report.data = {"options": opts.__dict__, "cells": [r.as_dict() for r in results]}
    if any(r.cell.errors or r.cell.timed_out for r in results) or report.notes:
        report.failed = True
    return report


def sections(results: list[ScalingCell], report: Report) -> list[str]:
    floors = report.floors
    rows = []
    for r in results:
        cell = r.cell
        echo_ops = floors.echo_ops(cell.clients) if floors else None
        rows.append(
            [
                f"`{WORKLOADS[r.workload]}`",
                f"{r.nodes}",
                f"{cell.clients}",
                f"{cell.ops_per_s:,.0f}",
                num(cell.latency.p50_ms, 1),
                num(cell.latency.p99_ms, 1),
                ratio(cell.ops_per_s, echo_ops, 3),
                ratio(cell.latency.p50_ms, floors.get_p50_ms if floors else None, 0),
                error_text(cell) or "0",
            ]
        )
    main = table(
        ["workload", "nodes", "clients", "evals/s", "p50 ms", "p99 ms", "÷ echo floor ops/s",
         "p50 ÷ GET p50", "errors"],
        rows,
    )
    cpu_rows = []
    for r in results:
        cell = r.cell
        redis = cell.probes.get("redis", {})
        cpu_rows.append(
            [
                f"{r.workload}, {r.nodes} node(s)",
                cpu_pct(cell, "node1"),
                cpu_pct(cell, "node2"),
                cpu_pct(cell, "redis"),
                cpu_pct(cell, "client"),
                machine_pct(cell),
                cpu_us(cell, "node1"),
                cpu_us(cell, "node2"),
                cpu_us(cell, "redis"),
                cpu_us(cell, "client"),
                num(redis.get("commands_per_op"), 1),
            ]
        )
    cpu = table(
        ["cell", "node 1 CPU", "node 2 CPU", "redis CPU", "load generator CPU",
         "machine busy", "node 1 µs/eval", "node 2 µs/eval", "redis µs/eval",
         "client µs/eval", "Redis commands/eval"],
        cpu_rows,
    )
    return [
        f"### Evaluation throughput\n\n{main}\n\nRatios: evaluations/s ÷ this run's echo floor "
        "at the same number of connections; p50 ÷ the serial Redis GET p50.",
        f"### Where the CPU went (measured window)\n\n{cpu}\n\nCPU %: of one core over the "
        "window (a node is one Python process: at most ~100% of a core, plus its evaluator "
        "thread, which shares the GIL). Machine busy: all cores together, out of 100% per "
        "core. µs/eval: CPU time of the process ÷ evaluations completed (both nodes' "
        "evaluations counted).",
    ]
