"""Pictures of a chaos run: a timeline of kills, latency and errors (matplotlib, PNG).

``scripts/chaos --plot FILE`` draws it; ``docs/performance.md`` shows one. Top: the latency of
every acknowledged request (dots) with the 1-second p50 and p99 (lines), on a log scale, and
the chaos events as vertical lines (red: SIGKILL, blue: SIGSTOP/SIGCONT, purple: Redis
restart, grey: node restarted). Bottom: acknowledged requests per second and error answers
per second by type. matplotlib renders off-screen (Agg); it is imported only here, so the rest
of the tools do not need it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path


def _colour(label: str) -> str:
    if label.startswith("SIGKILL"):
        return "tab:red"
    if label.startswith(("SIGSTOP", "SIGCONT")):
        return "tab:blue"
    if label.startswith("Redis"):
        return "tab:purple"
    return "tab:gray"


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))]


def chaos_timeline(
    path: Path,
    samples: Sequence[tuple[float, float]],
    errors: Sequence[tuple[float, str]],
    marks: Sequence[tuple[float, str]],
    *,
    duration: float,
    title: str = "chaos run",
) -> Path:
    """Write the timeline PNG to ``path``: ``samples`` are (seconds since start, latency in
    seconds) of acknowledged requests, ``errors`` (seconds, error type), ``marks`` (seconds,
    event)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max([duration, *(t for t, _ in samples), *(t for t, _ in errors)], default=duration)
    seconds = math.ceil(end) + 1
    per_second: dict[int, list[float]] = defaultdict(list)
    for at, latency in samples:
        per_second[int(at)].append(latency * 1000)
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    if samples:
        top.scatter([t for t, _ in samples], [max(lat * 1000, 0.01) for _, lat in samples],
                    s=2, alpha=0.15, color="tab:green", label="request latency", rasterized=True)
    bins = sorted(per_second)
    top.plot([b + 0.5 for b in bins], [_percentile(per_second[b], 50) for b in bins],
             color="black", linewidth=1.2, label="p50 (1 s)")
    top.plot([b + 0.5 for b in bins], [_percentile(per_second[b], 99) for b in bins],
             color="tab:orange", linewidth=1.2, label="p99 (1 s)")
    top.set_yscale("log")
    top.set_ylabel("latency (ms)")
    top.set_title(title)
    acks = [len(per_second.get(s, [])) for s in range(seconds)]
    bottom.plot([s + 0.5 for s in range(seconds)], acks, color="tab:green",
                label="acknowledged/s")
    by_type: dict[str, Counter[int]] = defaultdict(Counter)
    for at, kind in errors:
        by_type[kind][int(at)] += 1
    base = [0] * seconds
    for kind in sorted(by_type):
        heights = [by_type[kind].get(s, 0) for s in range(seconds)]
        bottom.bar([s + 0.5 for s in range(seconds)], heights, width=0.9, bottom=base,
                   label=f"error: {kind}", alpha=0.8)
        base = [b + h for b, h in zip(base, heights, strict=True)]
    bottom.set_ylabel("per second")
    bottom.set_xlabel("seconds since the start")
    for axis in (top, bottom):
        for at, label in marks:
            axis.axvline(at, color=_colour(label), linestyle="--", linewidth=1, alpha=0.8)
    for at, label in marks:
        top.annotate(label, xy=(at, 1), xycoords=("data", "axes fraction"), rotation=90,
                     va="top", ha="right", fontsize=7, color=_colour(label))
    top.legend(loc="lower left", fontsize=8)
    bottom.legend(loc="upper left", fontsize=8, ncol=3)
    bottom.set_xlim(0, end)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
