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
from .sessions import create_sessions, ping_workers, update_workers

LOOP = "[true] whileTrue"
EVAL_MAX_SECONDS = 5.0


@dataclass(frozen=True)
class Options:
    clients: int = 10
    warmup: float = 1.0
    duration: float = 6.0
    eval_max_seconds: float = EVAL_MAX_SECONDS
    repeats: int = 2
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(warmup=0.3, duration=1.5, eval_max_seconds=2.0, repeats=1, floor_warmup=0.2,
                floor_duration=0.8)
        if args.quick
        else Options()
    )
    return Options(
        clients=args.clients[0] if args.clients else base.clients,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        eval_max_seconds=base.eval_max_seconds,
        repeats=base.repeats,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    per_repeat = 4 * (opts.warmup + opts.duration + 25) + 2 * opts.eval_max_seconds + 10
    return 90 + opts.repeats * per_repeat


@dataclass
class LoopClient:
    """The client that keeps the node's evaluator busy: what it got back, and when."""

    outcomes: dict[str, int] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    running: trio.Event = field(default_factory=trio.Event)
    finished: trio.Event = field(default_factory=trio.Event)
    stopping: bool = False

    async def run(self, connection: Connection, session_id: str) -> None:
        """Evaluate the loop again as soon as the node stops it, until :attr:`stopping`."""
        parameters = {"session_id": session_id, "code": LOOP}
        while not self.stopping:
            started = trio.current_time()
            call = connection.call("evaluate", parameters)
            self.running.set()
            response = await call
            self.durations.append(trio.current_time() - started)
            outcome = failure_of(response) or "success"
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        self.finished.set()

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcomes": self.outcomes,
            "durations_s": [round(d, 3) for d in self.durations],
        }


async def run(opts: Options, progress: Progress) -> Report:
    report = Report(
        suite="fairness",
        title="fairness (other clients' latency beside an endless loop)",
        layout=f"Everything on 127.0.0.1: redis-server, one node (`--eval-max-seconds "
        f"{opts.eval_max_seconds:g}`), the load generator (this process: {opts.clients} "
        "clients, one WebSocket each, one request in flight each, own session each; plus the "
        f"looping client). Each cell: {opts.warmup:g} s warm-up, {opts.duration:g} s measured.",
    )
    cells: list[tuple[str, int, Cell]] = []
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
            for repeat in range(1, opts.repeats + 1):
                for name, workers in plan:
                    progress(f"[{repeat}/{opts.repeats}] alone: {name} x{opts.clients}")
                    cell = await measure("alone", name, workers(), warmup=opts.warmup,
                                         duration=opts.duration, probes=probes)
                    progress.cell(cell)
                    cells.append(("alone", repeat, cell))
                async with open_connection(node.url) as looping, trio.open_nursery() as nursery:
                    created = await looping.request(
                        "create_session", client_id=f"bench-fair-loop-{repeat}"
                    )
                    nursery.start_soon(loop.run, looping, str(created["session_id"]))
                    await loop.running.wait()
                    await trio.sleep(0.5)  # the evaluation runs in the node's worker thread
                    for name, workers in plan:
                        progress(f"[{repeat}/{opts.repeats}] beside {LOOP!r}: {name} "
                                 f"x{opts.clients}")
                        cell = await measure("loop", name, workers(), warmup=opts.warmup,
                                             duration=opts.duration, probes=probes)
                        progress.cell(cell)
                        cells.append((f"beside `{LOOP}`", repeat, cell))
                    # Let the evaluation in progress reach its limit, so that the next
                    # baseline runs on a quiet node.
                    loop.stopping = True
                    with trio.move_on_after(opts.eval_max_seconds + 5):
                        await loop.finished.wait()
                    nursery.cancel_scope.cancel()
                loop.stopping = False
                loop.running = trio.Event()
                loop.finished = trio.Event()
        # The abandoned evaluation finishes at its limit inside the node; stopping drains it.
        await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(cells, loop, opts, report)
    report.data = {
        "options": opts.__dict__,
        "cells": [{"condition": c, "repeat": r, **cell.as_dict()} for c, r, cell in cells],
        "loop_client": loop.as_dict(),
    }
    if any(cell.errors or cell.timed_out for _, _, cell in cells) or report.notes:
        report.failed = True
    return report


def sections(
    cells: list[tuple[str, int, Cell]], loop: LoopClient, opts: Options, report: Report
) -> list[str]:
    floors = report.floors
    echo_n = opts.clients
    echo_p99 = floors.echo_p99_ms(echo_n) if floors else None
    rows = []
    for condition, repeat, cell in cells:
        name = f"{cell.operation}, {condition}" + (f" ({repeat})" if opts.repeats > 1 else "")
        row = latency_row(name, cell, floors, echo_clients=echo_n)
        rows.append(
            [*row[:8], ratio(cell.latency.p99_ms, echo_p99), row[8], cpu_pct(cell, "node"),
             machine_pct(cell)]
        )
    main = table(
        [f"operation ({opts.clients} clients)", *LATENCY_HEADERS[:7], "p99 ÷ echo p99",
         "errors", "node CPU", "machine busy"],
        rows,
    )
    baseline = {(cell.operation, r): cell for c, r, cell in cells if c == "alone"}
    compare = []
    for condition, repeat, cell in cells:
        base = baseline.get((cell.operation, repeat))
        if condition == "alone" or base is None:
            continue
        compare.append(
            [
                cell.operation + (f" ({repeat})" if opts.repeats > 1 else ""),
                num(base.latency.p99_ms),
                num(cell.latency.p99_ms),
                ratio(cell.latency.p99_ms, base.latency.p99_ms),
                ratio(cell.ops_per_s, base.ops_per_s, 2),
                machine_pct(base),
                machine_pct(cell),
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
        "serial Redis GET (p50). Node CPU: % of one core; machine busy: all cores. "
        + (
            f"{opts.repeats} repetitions of alone, then beside the loop (numbered)."
            if opts.repeats > 1
            else ""
        ),
        table(["operation", "p99 alone ms", "p99 beside the loop ms", "p99 ratio",
               "throughput ratio", "machine alone", "machine beside"], compare),
        loop_line,
    ]
