"""Latency statistics and CPU clocks.

Percentiles are computed from every sample of a cell (no histogram buckets, no sampling), with
linear interpolation between closest ranks (the default of numpy and of R's type 7).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 <= q <= 1) of already sorted samples; NaN when there are none."""
    if not ordered:
        return math.nan
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


@dataclass(frozen=True)
class Latency:
    """Summary of one cell's latencies, in milliseconds."""

    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ordered = sorted(seconds)
        count = len(ordered)

        def ms(q: float) -> float:
            return percentile(ordered, q) * 1000

        return cls(
            count=count,
            mean_ms=(sum(ordered) / count * 1000) if count else math.nan,
            p50_ms=ms(0.50),
            p90_ms=ms(0.90),
            p99_ms=ms(0.99),
            p999_ms=ms(0.999),
            max_ms=ordered[-1] * 1000 if count else math.nan,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux ``/proc``); None if unreadable.

    The resolution is one clock tick (10 ms), fine over a window of seconds.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            raw = stat.read()
    except OSError:
        return None
    # Fields after the command name (which may contain spaces) start at field 3 (state);
    # utime and stime are fields 14 and 15.
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def own_cpu_seconds() -> float:
    """CPU seconds of this process (every thread), at full resolution."""
    return time.process_time()
