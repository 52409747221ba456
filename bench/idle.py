"""The ``idle`` suite: what idle connections cost one node, and what an active client then sees.

One node; the bench opens idle WebSocket connections to it in steps (1,000, then up to 5,000,
then up to 10,000 by default: connections are added, never reopened) and at each step reads
the node's resident memory (``VmRSS`` of ``/proc/<pid>/status``, before any idle connection and
after each step) and measures one active client's ``ping`` round trip in a closed loop.

File descriptors: every idle connection costs one descriptor in this process and one in the
node. The bench raises its own soft ``RLIMIT_NOFILE`` to the hard limit before starting the node
(which inherits it) and skips, saying so, the sizes that would not fit.
"""

from __future__ import annotations

import argparse
import gc
import resource
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import open_websocket_url

from client.connection import open_connection

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
    rss_kib,
    table,
)
from .load import Cell, measure

RESERVED_FDS = 200
"""Descriptors kept free beside the idle connections (Redis pools, logs, the active client)."""
OPEN_CONCURRENCY = 32
CONNECT_TIMEOUT = 20.0


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = (1_000, 5_000, 10_000)
    warmup: float = 1.0
    duration: float = 5.0
    settle: float = 2.0
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(sizes=(100, 500), warmup=0.3, duration=1.5, settle=0.5, floor_warmup=0.2,
                floor_duration=0.8)
        if args.quick
        else Options()
    )
    return Options(
        sizes=tuple(sorted(args.sizes)) if args.sizes else base.sizes,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        settle=base.settle,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    opening = max(opts.sizes, default=0) / 300  # a few hundred handshakes a second
    return 120 + opening * 2 + (len(opts.sizes) + 1) * (opts.warmup + opts.duration + 25)


def raise_file_limit() -> tuple[int, int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard one; (soft before, soft now, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard


@dataclass
class Step:
    size: int
    opened: int
    open_seconds: float
    node_reports: int | None
    rss_kib: int | None
    cell: Cell

    def as_dict(self) -> dict[str, Any]:
        return {
            "idle_connections": self.size,
            "opened": self.opened,
            "open_seconds": round(self.open_seconds, 2),
            "node_connections": self.node_reports,
            "node_rss_kib": self.rss_kib,
            "ping": self.cell.as_dict(),
        }


@dataclass
class IdlePool:
    """Idle WebSocket connections held open by tasks of one nursery (cancel it to close)."""

    url: str
    opened: int = 0
    failed: list[str] = field(default_factory=list)

    async def _hold(
        self, limiter: trio.CapacityLimiter, done: trio.MemorySendChannel[bool]
    ) -> None:
        await limiter.acquire()
        holding = True
        opened = False
        try:
            async with open_websocket_url(
                self.url, connect_timeout=CONNECT_TIMEOUT, disconnect_timeout=1
            ):
                limiter.release()
                holding = False
                opened = True
                self.opened += 1
                done.send_nowait(True)
                await trio.sleep_forever()
        except Exception as exc:  # a refused or timed-out handshake: counted and reported
            if opened:
                raise
            self.failed.append(repr(exc)[:200])
            done.send_nowait(False)
        finally:
            if holding:
                limiter.release()

    async def grow(self, nursery: trio.Nursery, count: int) -> None:
        """Open ``count`` more connections (in parallel, bounded) and wait for all of them."""
        limiter = trio.CapacityLimiter(OPEN_CONCURRENCY)
        send, receive = trio.open_memory_channel[bool](count)
        for _ in range(count):
            nursery.start_soon(self._hold, limiter, send)
        for _ in range(count):
            await receive.receive()


async def run(opts: Options, progress: Progress) -> Report:
    soft_before, soft, hard = raise_file_limit()
    report = Report(
        suite="idle",
        title="idle connections on one node",
        layout="Everything on 127.0.0.1: redis-server, one node, the load generator (this "
        "process: the idle connections, raw trio-websocket clients that never send, and one "
        "active client sending `ping` in a closed loop). "
        f"File limit: soft {soft_before} raised to {soft} (hard {hard}); the node inherits it. "
        f"Each cell: {opts.warmup:g} s warm-up, {opts.duration:g} s measured.",
    )
    fits = [n for n in opts.sizes if n + RESERVED_FDS <= soft]
    skipped = [n for n in opts.sizes if n not in fits]
    for n in skipped:
        report.notes.append(
            f"skipped {n:,} idle connections: they need about {n + RESERVED_FDS:,} file "
            f"descriptors in this process and in the node, and the limit is {soft:,} "
            f"(hard {hard:,})"
        )
    steps: list[Step] = []
    rss_start: int | None = None
    async with Run(progress) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1,), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        node = await bench.start_node(*opts.node_args)
        pool = IdlePool(node.url)
        async with open_connection(node.url) as active, trio.open_nursery() as holders:

            async def ping() -> str | None:
                return failure_of(await active.call("ping", {}))

            async def step(size: int, seconds: float) -> None:
                await trio.sleep(opts.settle)
                stats = await active.request("get_session_statistics")
                gc.collect()
                gc.freeze()  # the load generator's own collections must not stall the window
                cell = await measure(
                    "idle", f"ping beside {size:,} idle", [ping],
                    warmup=opts.warmup, duration=opts.duration,
                    probes=[bench.cpu_probe([node]), MachineProbe()],
                )
                gc.unfreeze()
                progress.cell(cell)
                steps.append(
                    Step(size=size, opened=pool.opened, open_seconds=seconds,
                         node_reports=stats.get("node_connections"), rss_kib=rss_kib(node.pid),
                         cell=cell)
                )

            await trio.sleep(opts.settle)
            rss_start = rss_kib(node.pid)
            await step(0, 0.0)
            for size in fits:
                more = size - pool.opened
                progress(f"opening {more:,} idle connections (to {size:,})")
                started = trio.current_time()
                await pool.grow(holders, more)
                seconds = trio.current_time() - started
                progress(f"{pool.opened:,} open ({len(pool.failed)} failed) after "
                         f"{seconds:.1f} s; node RSS {rss_kib(node.pid)} KiB")
                if pool.failed:
                    report.notes.append(
                        f"{len(pool.failed)} idle connection(s) failed to open; first: "
                        f"{pool.failed[0]}"
                    )
                    break
                await step(size, seconds)
            progress("closing the idle connections")
            holders.cancel_scope.cancel()
        await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(steps, rss_start, report)
    report.data = {
        "options": opts.__dict__,
        "file_limit": {"soft_before": soft_before, "soft": soft, "hard": hard},
        "skipped_sizes": skipped,
        "node_rss_kib_before": rss_start,
        "steps": [s.as_dict() for s in steps],
    }
    if report.notes and any(not n.startswith("skipped") for n in report.notes):
        report.failed = True
    if any(s.cell.errors or s.cell.timed_out for s in steps):
        report.failed = True
    return report


def sections(steps: list[Step], rss_start: int | None, report: Report) -> list[str]:
    floors = report.floors
    rows = []
    for s in steps:
        per = (
            (s.rss_kib - rss_start) * 1024 / s.size
            if s.size and s.rss_kib is not None and rss_start is not None
            else None
        )
        row = latency_row(f"{s.size:,}", s.cell, floors)
        rows.append(
            [
                row[0],
                f"{s.node_reports if s.node_reports is not None else '–'}",
                f"{(s.rss_kib or 0) / 1024:,.1f}",
                num(per / 1024 if per is not None else None, 1),
                f"{s.open_seconds:.1f}" if s.size else "–",
                *row[1:],
                cpu_pct(s.cell, "node"),
                machine_pct(s.cell),
            ]
        )
    main = table(
        ["idle connections", "node says", "node RSS MiB", "KiB per idle connection",
         "open s", *[f"ping {h}" if h in ("p50 ms", "p99 ms", "max ms") else h
                     for h in LATENCY_HEADERS], "node CPU", "machine busy"],
        rows,
    )
    return [
        f"### Idle connections and an active client's pings\n\n{main}\n\n"
        f"Node RSS before any idle connection: "
        f"{(rss_start or 0) / 1024:,.1f} MiB. \"Node says\": `node_connections` of "
        "`get_session_statistics` (the active client included). KiB per idle connection: "
        "(RSS now − RSS before) ÷ idle connections. Ratios against this run's serial Redis "
        "GET and 1-connection echo."
    ]
