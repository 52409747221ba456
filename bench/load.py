"""The closed-loop load driver: N workers, one operation in flight each, a timed window.

A cell runs every worker for ``warmup + duration`` seconds. Only operations that complete inside
the window (after the warm-up) count: throughput is those completions divided by the window's
length, and every one of their latencies is kept for the percentiles. Workers start nothing
after the window ends; the cell is over when the last operation in flight returns.

Probes (CPU clocks, Redis command statistics) are read at the window's edges, so what they see
is the same window the latencies come from.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import trio

from .stats import Latency

Operation = Callable[[], Awaitable[str | None]]
"""One request: returns None on success, or a short error name (an error response)."""

CELL_GRACE = 20.0
"""Seconds a cell may run past its window (operations in flight) before it is abandoned."""


class Probe(Protocol):
    """Something read at the start and at the end of the measured window."""

    async def begin(self) -> None: ...

    async def end(self, operations: int, seconds: float) -> dict[str, Any]: ...


@dataclass
class Cell:
    """The outcome of one measured cell (one operation at one concurrency)."""

    group: str
    operation: str
    clients: int
    seconds: float
    operations: int
    latency: Latency
    errors: dict[str, int] = field(default_factory=dict)
    probes: dict[str, Any] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list, repr=False)
    timed_out: bool = False

    @property
    def ops_per_s(self) -> float:
        return self.operations / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self, *, with_samples: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "group": self.group,
            "operation": self.operation,
            "clients": self.clients,
            "window_s": round(self.seconds, 4),
            "operations": self.operations,
            "ops_per_s": round(self.ops_per_s, 1),
            "latency": self.latency.as_dict(),
            "errors": self.errors,
            "probes": self.probes,
            "timed_out": self.timed_out,
        }
        if with_samples:
            out["samples_us"] = [round(s * 1e6, 1) for s in self.samples]
        return out


async def measure(
    group: str,
    operation: str,
    workers: Sequence[Operation],
    *,
    warmup: float,
    duration: float,
    probes: Sequence[Probe] = (),
) -> Cell:
    """Run ``workers`` concurrently, each in a closed loop, and measure the window."""
    clock = time.perf_counter
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    started = clock()
    window_start = started + warmup
    window_end = window_start + duration
    window = [window_start, window_end]
    probe_results: dict[str, Any] = {}

    async def work(op: Operation) -> None:
        while True:
            t0 = clock()
            if t0 >= window_end:
                return
            failure = await op()
            t1 = clock()
            if window_start <= t1 < window_end:
                latencies.append(t1 - t0)
                if failure is not None:
                    errors[failure] += 1

    async def watch() -> None:
        await trio.sleep(max(0.0, window_start - clock()))
        window[0] = clock()
        for probe in probes:
            await probe.begin()
        await trio.sleep(max(0.0, window_end - clock()))
        window[1] = clock()
        for probe in probes:
            probe_results.update(await probe.end(len(latencies), window[1] - window[0]))

    timed_out = True
    with trio.move_on_after(warmup + duration + CELL_GRACE):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch)
            for op in workers:
                nursery.start_soon(work, op)
        timed_out = False
    # Completions are counted against the nominal window; probes against the one they saw.
    seconds = window_end - window_start
    return Cell(
        group=group,
        operation=operation,
        clients=len(workers),
        seconds=seconds,
        operations=len(latencies),
        latency=Latency.of(latencies),
        errors=dict(errors),
        probes=probe_results,
        samples=latencies,
        timed_out=timed_out,
    )
