"""The ``persistence`` suite: does an evaluation's cost stay flat as the session's heap grows?

For each heap size (objects stored in ``stui:{sid}:heap``, checked with HLEN), a fresh session
on one node gets its heap built first (``bN := (1 to: n) collect: [:i | Array with: i]`` in
chunks of 10,000 objects), then ``x := 0``; then one client evaluates ``x := x + 1`` in a closed
loop for the window. Per size it reports the round trip (p50/p99), the Redis commands and the
bytes Redis received and sent per evaluation (``INFO commandstats`` reset at the window's
start; ``INFO stats`` net bytes, deltas), and the CPU of each process per evaluation.

Two more readings per size, because they are where a big heap would show if anything does:

- **drift inside the window**: the p50 of the first and of the last 10% of the evaluations (each
  evaluation's result is also registered in the session's object registry, so anything
  proportional to the registry grows with every request), the registry's size after, and one
  ``restore_session`` then (its latency and response size: what a reconnecting client gets);
- **cold**: the first evaluation on a *second* node, which takes the session over and loads its
  heap from Redis (the image cache of that node is empty for it). A few samples, alternating
  between the two nodes (each alternation is a takeover and a full heap load);
- **neighbours**: at the end, ``x := x + 1`` on the smallest session again, on the node whose
  image cache now also holds the bigger sessions: one session's cost should not depend on how
  many objects *other* sessions keep cached on the same node.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import trio

from client.connection import Connection, open_connection
from cluster import keys

from . import budgets, summary
from .common import (
    LATENCY_HEADERS,
    MachineProbe,
    NodeProc,
    Progress,
    RedisTrafficProbe,
    Report,
    Run,
    cpu_us,
    failure_of,
    latency_row,
    machine_pct,
    num,
    table,
)
from .load import Cell, measure
from .pinning import Pinning
from .probes import RedisCommandsProbe
from .roundtrips import RoundTripProbe
from .stats import Latency

CHUNK = 10_000
"""Objects created per building evaluation (each well inside the evaluator's limits)."""
BUILD_TIMEOUT = 120.0
CODE = "x := x + 1"


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = (10, 10_000, 100_000)
    warmup: float = 1.0
    duration: float = 5.0
    cold_samples: int = 3
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()
    pin: str = "auto"
    """``--pin``: node 1 (and node 2) beside the echo on one CPU, the load generator on
    another (:mod:`bench.pinning`)."""


def options(args: argparse.Namespace) -> Options:
    if args.quick:
        base = Options(sizes=(10, 2_000), warmup=0.3, duration=1.5, cold_samples=1,
                       floor_warmup=0.2, floor_duration=0.8)
    else:
        base = Options()
    return Options(
        sizes=tuple(args.sizes) if args.sizes else base.sizes,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        cold_samples=base.cold_samples,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
        pin=getattr(args, "pin", "auto"),
    )


def cap(opts: Options) -> float:
    building = sum(5 + size / 1000 for size in opts.sizes)  # ~1 s of work per 1,000 objects
    per_size = opts.warmup + opts.duration + 20 + opts.cold_samples * (3 + max(opts.sizes) / 5000)
    return 90 + building + len(opts.sizes) * per_size


def chunks(size: int) -> list[int]:
    """Elements per building evaluation: ``n`` elements make ``n + 1`` objects (the arrays)."""
    if size <= 1:
        return [0] * size
    count = math.ceil(size / CHUNK)
    objects = [size // count + (1 if i < size % count else 0) for i in range(count)]
    return [n - 1 for n in objects]


async def evaluate(connection: Connection, session_id: str, code: str) -> dict[str, Any]:
    return await connection.call("evaluate", {"session_id": session_id, "code": code})


@dataclass
class SizeResult:
    target: int
    heap_objects: int
    build_seconds: float
    cell: Cell
    first_p50_ms: float
    last_p50_ms: float
    registry_after: int
    cold: Latency
    cold_errors: dict[str, int]
    workspace_bytes: int
    restore_ms: float = math.nan
    restore_bytes: int = 0
    session_id: str = ""
    holder: int = 0
    """Index of the node that evaluated last (its cache holds the session's current image)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_objects": self.target,
            "heap_objects": self.heap_objects,
            "build_seconds": round(self.build_seconds, 2),
            "warm": self.cell.as_dict(),
            "first_tenth_p50_ms": self.first_p50_ms,
            "last_tenth_p50_ms": self.last_p50_ms,
            "registry_entries_after": self.registry_after,
            "workspace_record_bytes": self.workspace_bytes,
            "restore_after_ms": self.restore_ms,
            "restore_after_bytes": self.restore_bytes,
            "cold": self.cold.as_dict(),
            "cold_errors": self.cold_errors,
        }


class BuildFailed(RuntimeError):
    pass


async def build_session(
    connection: Connection, tag: str, size: int, progress: Progress
) -> tuple[str, float]:
    """A new session whose heap holds ``size`` objects plus ``x := 0``; (session id, seconds)."""
    created = await connection.request("create_session", client_id=f"bench-persist-{tag}")
    session_id = str(created["session_id"])
    started = trio.current_time()
    with trio.fail_after(BUILD_TIMEOUT):
        for index, elements in enumerate(chunks(size), start=1):
            code = f"b{index} := (1 to: {elements}) collect: [:i | Array with: i]"
            response = await evaluate(connection, session_id, code)
            if failure_of(response) or response["result"].get("has_error"):
                raise BuildFailed(f"building the heap failed on {code!r}: {response}")
        response = await evaluate(connection, session_id, "x := 0")
        if failure_of(response):
            raise BuildFailed(f"'x := 0' failed: {response}")
    elapsed = trio.current_time() - started
    progress(f"heap of ~{size:,} objects built in {elapsed:.1f} s")
    return session_id, elapsed


def tenth_p50s(samples: list[float]) -> tuple[float, float]:
    """p50 (ms) of the first and of the last tenth of the window's evaluations, in order."""
    if len(samples) < 10:
        return math.nan, math.nan
    tenth = max(1, len(samples) // 10)
    return Latency.of(samples[:tenth]).p50_ms, Latency.of(samples[-tenth:]).p50_ms


def cold_node(index: int, nodes: list[NodeProc]) -> int:
    """The node of the ``index``-th cold evaluation: node 2, node 1, node 2... (0 before any)."""
    return (index + 1) % len(nodes)


async def cold_samples(
    nodes: list[NodeProc], session_id: str, count: int
) -> tuple[list[float], dict[str, int]]:
    """The first evaluation on the other node, ``count`` times (each one a takeover + load)."""
    samples: list[float] = []
    errors: dict[str, int] = {}
    for index in range(count):
        node = nodes[cold_node(index, nodes)]
        async with open_connection(node.url) as connection:
            started = trio.current_time()
            response = await evaluate(connection, session_id, CODE)
            samples.append(trio.current_time() - started)
            failure = failure_of(response)
            if failure:
                errors[failure] = errors.get(failure, 0) + 1
    return samples, errors


async def measure_size(
    run: Run, nodes: list[NodeProc], size: int, opts: Options
) -> SizeResult:
    progress = run.progress
    redis = run.redis
    node = nodes[0]
    async with open_connection(node.url) as connection:
        progress(f"building a heap of {size:,} objects")
        session_id, build_seconds = await build_session(connection, f"s{size}", size, progress)
        k = keys.SessionKeys(session_id)
        heap_objects = int(await redis.hlen(k.heap))
        progress(f"HLEN {k.heap} = {heap_objects:,}")
        parameters = {"session_id": session_id, "code": CODE}

        async def increment() -> str | None:
            return failure_of(await connection.call("evaluate", parameters))

        progress(f"measuring {CODE!r} on a heap of {heap_objects:,} objects")
        cell = await measure(
            "node", f"{CODE} @ {heap_objects}", [increment],
            warmup=opts.warmup, duration=opts.duration,
            probes=[run.cpu_probe([node]), RedisCommandsProbe(redis), RedisTrafficProbe(redis),
                    MachineProbe(), RoundTripProbe(node.health_port)],
        )
        progress.cell(cell)
        registry_after = int(await redis.hlen(k.registry))
        # The workspace is a hash (the record and one field per history slot): its bytes.
        workspace = await redis.hgetall(k.workspace)
        workspace_bytes = sum(len(str(value)) for value in workspace.values())
        # What a client reconnecting now receives (this connection holds the session, so
        # no takeover is involved): the registry and binding summaries are all in it.
        started = trio.current_time()
        restored = await connection.call("restore_session", {"session_id": session_id})
        restore_ms = (trio.current_time() - started) * 1000
        restore_bytes = len(orjson.dumps(restored))
    first, last = tenth_p50s(cell.samples)
    progress(f"cold evaluations on another node ({opts.cold_samples})")
    samples, cold_errors = await cold_samples(nodes, session_id, opts.cold_samples)
    return SizeResult(
        target=size,
        heap_objects=heap_objects,
        build_seconds=build_seconds,
        cell=cell,
        first_p50_ms=first,
        last_p50_ms=last,
        registry_after=registry_after,
        restore_ms=restore_ms,
        restore_bytes=restore_bytes,
        cold=Latency.of(samples),
        cold_errors=cold_errors,
        workspace_bytes=workspace_bytes,
        session_id=session_id,
        holder=cold_node(opts.cold_samples - 1, nodes) if opts.cold_samples else 0,
    )


@dataclass
class Beside:
    """The smallest session measured again on a node that also caches the bigger ones."""

    heap_objects: int
    others_cached: int
    cell: Cell

    def as_dict(self) -> dict[str, Any]:
        return {
            "heap_objects": self.heap_objects,
            "other_sessions_objects_cached_on_the_node": self.others_cached,
            "warm": self.cell.as_dict(),
        }


async def measure_beside(run: Run, nodes: list[NodeProc], results: list[SizeResult],
                         opts: Options) -> Beside | None:
    """``x := x + 1`` on the smallest session again, on the node whose image cache now also
    holds the bigger sessions (a session's cost should not depend on its neighbours)."""
    small = results[0]
    others = sum(r.heap_objects for r in results[1:] if r.holder == small.holder)
    if not others:
        return None
    node = nodes[small.holder]
    redis = run.redis
    async with open_connection(node.url) as connection:
        parameters = {"session_id": small.session_id, "code": CODE}

        async def increment() -> str | None:
            return failure_of(await connection.call("evaluate", parameters))

        run.progress(f"{CODE!r} on {small.heap_objects:,} objects again, beside {others:,} "
                     "objects of other sessions cached on the same node")
        cell = await measure(
            "node", f"{CODE} @ {small.heap_objects} beside {others}", [increment],
            warmup=opts.warmup, duration=opts.duration,
            probes=[run.cpu_probe([node]), RedisCommandsProbe(redis), RedisTrafficProbe(redis),
                    MachineProbe(), RoundTripProbe(node.health_port)],
        )
    run.progress.cell(cell)
    return Beside(heap_objects=small.heap_objects, others_cached=others, cell=cell)


async def run(opts: Options, progress: Progress) -> Report:
    pinning = Pinning.choose(opts.pin)
    report = Report(
        suite="persistence",
        title="persistence (evaluation cost vs heap size)",
        layout="Everything on 127.0.0.1: redis-server, two node processes (`python -m nodes`, "
        "node 1 measured warm; node 2 only for the cold evaluations), the load generator (this "
        "process, one WebSocket, one request in flight). "
        f"Window per size: {opts.warmup:g} s warm-up, {opts.duration:g} s measured.\n"
        f"- {pinning.describe()}",
    )
    async with Run(progress, pinning) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1,), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        nodes = [
            await bench.start_node(*opts.node_args, name="node-1"),
            await bench.start_node(*opts.node_args, name="node-2"),
        ]
        results: list[SizeResult] = []
        beside: Beside | None = None
        try:
            for size in opts.sizes:
                results.append(await measure_size(bench, nodes, size, opts))
            if len(results) > 1:
                beside = await measure_beside(bench, nodes, results, opts)
        except BuildFailed as exc:
            report.notes.append(str(exc)[:600])
            report.failed = True
        for node in list(nodes):
            await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(results, beside, report)
    report.data = {
        "options": opts.__dict__,
        "pinning": pinning.describe(),
        "sizes": [r.as_dict() for r in results],
        "beside": beside.as_dict() if beside else None,
    }
    report.plot_cells = [(f"{r.heap_objects:,}", r.cell) for r in results] + (
        [(f"{beside.heap_objects:,} beside {beside.others_cached:,}", beside.cell)]
        if beside else []
    )
    if any(r.cell.errors or r.cell.timed_out or r.cold_errors for r in results) or report.notes:
        report.failed = True
    if beside is not None and (beside.cell.errors or beside.cell.timed_out):
        report.failed = True
    return report


def sections(results: list[SizeResult], beside: Beside | None, report: Report) -> list[str]:
    floors = report.floors
    rows = [
        latency_row(f"warm `{CODE}`, heap {r.heap_objects:,}", r.cell, floors) for r in results
    ]
    measured: list[tuple[str, Cell]] = [(f"{r.heap_objects:,}", r.cell) for r in results]
    if beside is not None:
        name = (f"warm `{CODE}`, heap {beside.heap_objects:,}, beside "
                f"{beside.others_cached:,} objects of other cached sessions")
        rows.append(latency_row(name, beside.cell, floors))
        measured.append(
            (f"{beside.heap_objects:,} (+{beside.others_cached:,} cached beside)", beside.cell)
        )
    main = table(["evaluation, heap objects (HLEN)", *LATENCY_HEADERS], rows)
    echo_ops = floors.echo_ops(1) if floors else None
    summary_rows = [
        summary.Row(f"warm `{CODE}`, heap {label}", "evaluate", cell, echo_ops)
        for label, cell in measured
    ]
    echo_floor = floors.echo_cell(1) if floors else None
    cost_rows = []
    for label, cell in measured:
        redis = cell.probes.get("redis", {})
        traffic = cell.probes.get("traffic", {})
        cost_rows.append(
            [
                label,
                num(redis.get("commands_per_op"), 1),
                num(redis.get("usec_per_op"), 1),
                num(traffic.get("in_bytes_per_op"), 0),
                num(traffic.get("out_bytes_per_op"), 0),
                cpu_us(cell, "node"),
                cpu_us(cell, "redis"),
                cpu_us(cell, "client"),
                machine_pct(cell),
            ]
        )
    cost = table(
        ["heap objects", "Redis commands/eval", "Redis exec µs/eval", "bytes to Redis/eval",
         "bytes from Redis/eval", "node CPU µs/eval", "redis CPU µs/eval",
         "client CPU µs/eval", "machine busy"],
        cost_rows,
    )
    drift_rows = [
        [
            f"{r.heap_objects:,}",
            num(r.first_p50_ms),
            num(r.last_p50_ms),
            f"{r.registry_after:,}",
            num(r.restore_ms, 1),
            f"{r.restore_bytes / 1024:,.0f}",
            f"{r.workspace_bytes:,}",
            f"{r.cold.count}",
            num(r.cold.p50_ms, 1),
            num(r.cold.max_ms, 1),
            ", ".join(f"{n} {e}" for e, n in r.cold_errors.items()) or "0",
            f"{r.build_seconds:.1f}",
        ]
        for r in results
    ]
    drift = table(
        ["heap objects", "p50 first 10% ms", "p50 last 10% ms", "registry entries after",
         "restore after ms", "restore response KiB",
         "workspace record bytes", "cold evals", "cold p50 ms", "cold max ms", "cold errors",
         "heap build s"],
        drift_rows,
    )
    commands = table(
        ["heap objects", "Redis commands per evaluation (INFO commandstats)"],
        [
            [
                label,
                ", ".join(
                    f"{name} {stats['per_op']:g}"
                    for name, stats in cell.probes.get("redis", {}).get("commands", {}).items()
                    if stats["per_op"] >= 0.01
                ) or "–",
            ]
            for label, cell in measured
        ],
        "ll",
    )
    return [
        "### Summary: warm evaluations, per request\n\n"
        + summary.table(summary_rows, [echo_floor] if echo_floor else [])
        + "\n\nOne client on its own connection (the one that created the session, on the node "
        "that owns it). Per request, over the window: Redis round trips from the node's "
        "`stui_redis_round_trips_total` (\"–\" when the node has no such counter), Redis "
        "commands from `INFO commandstats` (inside scripts counted), node CPU from `/proc`, "
        "ops/s ÷ the 1-connection echo floor of this run.\n\n" + budgets.describe(),
        f"### Warm evaluations (one client, closed loop, node 1 holds the image)\n\n{main}\n\n"
        "Ratios: p50 ÷ the serial Redis GET p50 and ÷ the 1-connection echo p50 of this run.",
        f"### Cost per evaluation\n\n{cost}\n\n"
        "Bytes to/from Redis: `total_net_input_bytes` / `total_net_output_bytes` of "
        "`INFO stats` over the window ÷ evaluations (all clients of that Redis: the node's "
        "heartbeats, about 5 commands a second per node, are included).",
        f"### Drift, registry growth and cold loads\n\n{drift}\n\n"
        "Registry entries after: HLEN of `stui:{sid}:registry` once the window is over (every "
        "evaluation registers its result). Restore after: one `restore_session` on the "
        "connection that holds the session, right after the window (no takeover): its "
        "latency and the size of its JSON response.\n\n"
        "Cold: the first `x := x + 1` on the other node, which takes the session over and "
        "loads its heap (HGETALL of `stui:{sid}:heap`, unseal, `Image.load`).",
        commands,
    ]


def write_plots(report: Report, directory: Path) -> list[str]:
    """Throughput and latency of the warm evaluation per heap size, beside the echo floor."""
    from . import plots

    directory.mkdir(parents=True, exist_ok=True)
    cells = report.plot_cells
    groups = [label for label, _ in cells]
    name = f"warm `{CODE}`, 1 client"
    floors = report.floors
    echo = floors.echo_cell(1) if floors else None
    throughput = directory / "persistence-throughput.png"
    plots.bars(
        throughput, "persistence: evaluations/s by heap size (objects)", "evaluations/s",
        groups, [plots.Series(name, {label: c.ops_per_s for label, c in cells})],
        lines={"echo floor, 1 conn": echo.ops_per_s} if echo else None,
    )
    latency = directory / "persistence-latency.png"
    plots.latency(
        latency, "persistence (heap objects)", groups,
        [plots.Series(name, {label: c.latency.p50_ms for label, c in cells})],
        [plots.Series(name, {label: c.latency.p99_ms for label, c in cells})],
        lines50={"echo, 1 conn": echo.latency.p50_ms} if echo else None,
        lines99={"echo, 1 conn": echo.latency.p99_ms} if echo else None,
    )
    return [str(throughput), str(latency)]
