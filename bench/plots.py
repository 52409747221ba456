"""``--plots DIR``: PNG charts of a run (throughput, latency) beside its Markdown tables.

matplotlib is the ``bench`` extra of ``pyproject.toml`` (``scripts/bench`` installs it); it is
imported only when plots are asked for, with the non-interactive Agg backend. Each chart is
grouped bars, one group per operation, one bar per series (connections, workers), on a log
scale (a ping and an evaluation differ by 10-100×); the echo floor of the same run is a
dashed line per connection count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed."""


@dataclass
class Series:
    """One bar per group: ``values[group]`` (missing groups get no bar)."""

    name: str
    values: dict[str, float] = field(default_factory=dict)


def _pyplot() -> Any:
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        raise PlotsUnavailable(
            "--plots needs matplotlib: .venv/bin/pip install -e '.[bench]' (scripts/bench does "
            "it when it creates .venv)"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def bars(
    path: Path,
    title: str,
    ylabel: str,
    groups: Sequence[str],
    series: Sequence[Series],
    *,
    lines: Mapping[str, float] | None = None,
    log: bool = True,
    ax: Any = None,
) -> None:
    """Grouped bars (and labelled dashed horizontal lines); written to ``path`` unless an
    axis of a bigger figure is given."""
    plt = _pyplot()
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(groups) + 3), 4.2), dpi=110)
    width = 0.8 / max(1, len(series))
    for index, one in enumerate(series):
        xs = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        heights = [one.values.get(name, 0.0) for name in groups]
        drawn = ax.bar(xs, heights, width * 0.95, label=one.name)
        for rect, height in zip(drawn, heights, strict=True):
            if height > 0:
                ax.annotate(f"{height:,.0f}" if height >= 10 else f"{height:.2g}",
                            (rect.get_x() + rect.get_width() / 2, height), ha="center",
                            va="bottom", fontsize=6, rotation=90, xytext=(0, 2),
                            textcoords="offset points")
    for colour, (name, value) in enumerate((lines or {}).items()):
        ax.axhline(value, linestyle="--", linewidth=1, color=f"C{(colour + 5) % 10}", label=name)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    if own:
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)


def latency(
    path: Path, title: str, groups: Sequence[str], p50: Sequence[Series], p99: Sequence[Series],
    *, lines50: Mapping[str, float] | None = None, lines99: Mapping[str, float] | None = None,
) -> None:
    """p50 and p99 side by side, each as :func:`bars`."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(2 * max(6.0, 1.2 * len(groups) + 2), 4.2), dpi=110
    )
    bars(path, f"{title}: p50", "ms", groups, p50, lines=lines50, ax=left)
    bars(path, f"{title}: p99", "ms", groups, p99, lines=lines99, ax=right)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
