"""The ``fairness`` suite: does one endless evaluation hurt the other clients of its node?

One node, started with ``--eval-max-seconds 5``. Ten clients (connections), each with its own
session, run ``ping`` and then ``update_session_state`` in a closed loop; once alone
(baseline) and once while an eleventh client evaluates ``[true] whileTrue`` over and over (each
evaluation runs until the node's wall-clock limit stops it with ``Timeout``, and the client sends
it again at once, so the loop covers the whole window). The evaluator runs in a worker thread
that releases the GIL at its checkpoints (``nodes/workspace.py``, ``run_in_thread``): the
question is what the other clients' p99 pays for that.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from client.connection import Connection, open_connection

from .clients import open_clients
from .common import (
    LATENCY_HEADERS,
    MachineProbe,
    Progress,
    Report,
    Run,
    cpu_pct,
    failure_of,
    latency_row,
    machine_pct,
    num,
    ratio,
    table,
)
from .load import Cell, Operation, Probe, measure
from .sessions import create_sessions, state_data

LOOP = "[true] whileTrue"
EVAL_MAX_SECONDS = 5.0


@dataclass(frozen=True)
class Options:
    clients: int = 10
    warmup: float = 1.0
    duration: float = 6.0
    eval_max_seconds: float = EVAL_MAX_SECONDS
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(warmup=0.3, duration=1.5, eval_max_seconds=2.0, floor_warmup=0.2,
                floor_duration=0.8)
        if args.quick
        else Options()
    )
    return Options(
        clients=args.clients[0] if args.clients else base.clients,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        eval_max_seconds=base.eval_max_seconds,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    return 90 + 4 * (opts.warmup + opts.duration + 25) + 2 * opts.eval_max_seconds


@dataclass
class LoopClient:
    """The client that keeps the node's evaluator busy: what it got back, and when."""

    outcomes: dict[str, int] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    running: trio.Event = field(default_factory=trio.Event)

    async def run(self, connection: Connection, session_id: str) -> None:
        parameters = {"session_id": session_id, "code": LOOP}
        while True:
            started = trio.current_time()
            call = connection.call("evaluate", parameters)
            self.running.set()
            response = await call
            self.durations.append(trio.current_time() - started)
            outcome = failure_of(response) or "success"
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcomes": self.outcomes,
            "durations_s": [round(d, 3) for d in self.durations],
        }


def ping_workers(connections: list[Connection]) -> list[Operation]:
    def worker(connection: Connection) -> Operation:
        async def ping() -> str | None:
            return failure_of(await connection.call("ping", {}))

        return ping

    return [worker(c) for c in connections]


def update_workers(connections: list[Connection], sessions: list[str]) -> list[Operation]:
    state = state_data()

    def worker(connection: Connection, session_id: str) -> Operation:
        parameters = {"session_id": session_id, "state_data": state}

        async def update() -> str | None:
            return failure_of(await connection.call("update_session_state", parameters))

        return update

    return [worker(c, s) for c, s in zip(connections, sessions, strict=True)]


async def run(opts: Options, progress: Progress) -> Report:
    report = Report(
        suite="fairness",
        title="fairness (other clients' latency beside an endless loop)",
        layout=f"Everything on 127.0.0.1: redis-server, one node (`--eval-max-seconds "
        f"{opts.eval_max_seconds:g}`), the load generator (this process: {opts.clients} "
        "clients, one WebSocket each, one request in flight each, own session each; plus the "
        f"looping client). Each cell: {opts.warmup:g} s warm-up, {opts.duration:g} s measured.",
    )
    cells: list[tuple[str, Cell]] = []
    loop = LoopClient()
    async with Run(progress) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1, opts.clients), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        node = await bench.start_node(
            "--eval-max-seconds", f"{opts.eval_max_seconds:g}", *opts.node_args
        )
        probes: list[Probe] = [bench.cpu_probe([node]), MachineProbe()]
        async with open_clients(node.url, opts.clients) as connections:
            sessions = await create_sessions(connections, "fair")
            plan: list[tuple[str, Callable[[], list[Operation]]]] = [
                ("ping", lambda: ping_workers(connections)),
                ("update_session_state", lambda: update_workers(connections, sessions)),
            ]
            for name, workers in plan:
                progress(f"baseline: {name} x{opts.clients}")
                cell = await measure("baseline", name, workers(), warmup=opts.warmup,
                                     duration=opts.duration, probes=probes)
                progress.cell(cell)
                cells.append(("alone", cell))
            async with open_connection(node.url) as looping, trio.open_nursery() as nursery:
                created = await looping.request("create_session", client_id="bench-fair-loop")
                nursery.start_soon(loop.run, looping, str(created["session_id"]))
                await loop.running.wait()
                await trio.sleep(0.5)  # the evaluation is running in the node's worker thread
                for name, workers in plan:
                    progress(f"with {LOOP!r} running: {name} x{opts.clients}")
                    cell = await measure("loop", name, workers(), warmup=opts.warmup,
                                         duration=opts.duration, probes=probes)
                    progress.cell(cell)
                    cells.append((f"beside `{LOOP}`", cell))
                nursery.cancel_scope.cancel()
        # The abandoned evaluation finishes at its limit inside the node; stopping drains it.
        await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(cells, loop, opts, report)
    report.data = {
        "options": opts.__dict__,
        "cells": [{"condition": c, **cell.as_dict()} for c, cell in cells],
        "loop_client": loop.as_dict(),
    }
    if any(cell.errors or cell.timed_out for _, cell in cells) or report.notes:
        report.failed = True
    return report


def sections(
    cells: list[tuple[str, Cell]], loop: LoopClient, opts: Options, report: Report
) -> list[str]:
    floors = report.floors
    echo_n = opts.clients
    rows = []
    for condition, cell in cells:
        row = latency_row(f"{cell.operation}, {condition}", cell, floors, echo_clients=echo_n)
        echo_p99 = floors.echo_p99_ms(echo_n) if floors else None
        rows.append(
            [*row[:8], ratio(cell.latency.p99_ms, echo_p99), row[8], cpu_pct(cell, "node"),
             machine_pct(cell)]
        )
    main = table(
        [f"operation ({opts.clients} clients)", *LATENCY_HEADERS[:7], "p99 ÷ echo p99",
         "errors", "node CPU", "machine busy"],
        rows,
    )
    baseline = {cell.operation: cell for condition, cell in cells if condition == "alone"}
    compare = []
    for condition, cell in cells:
        if condition == "alone":
            continue
        base = baseline.get(cell.operation)
        if base is None:
            continue
        compare.append(
            [
                cell.operation,
                num(base.latency.p99_ms),
                num(cell.latency.p99_ms),
                ratio(cell.latency.p99_ms, base.latency.p99_ms),
                ratio(cell.ops_per_s, base.ops_per_s, 2),
            ]
        )
    loop_line = (
        f"The looping client sent {sum(loop.outcomes.values())} evaluation(s) of `{LOOP}`; "
        f"outcomes: {', '.join(f'{n} {o}' for o, n in loop.outcomes.items()) or 'none'}; each "
        f"took {num(min(loop.durations, default=float('nan')))}–"
        f"{num(max(loop.durations, default=float('nan')))} s (limit "
        f"{opts.eval_max_seconds:g} s)."
    )
    return [
        f"### Other clients' latency, alone and beside the loop\n\n{main}\n\n"
        f"Ratios against this run's floors at {echo_n} echo connections (p50, p99) and the "
        "serial Redis GET (p50). Node CPU: % of one core; machine busy: all cores.",
        table(["operation", "p99 alone ms", "p99 beside the loop ms", "p99 ratio",
               "throughput ratio"], compare),
        loop_line,
    ]
