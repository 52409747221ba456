"""The per-operation summary table (issue 9) and the naming of what saturates.

One row per operation and connection count: ops/s, p50, p99, Redis round trips per request
(the node's ``stui_redis_round_trips_total``, :mod:`bench.roundtrips`), Redis commands per
request (``INFO commandstats``, commands inside scripts included), the CPU of the server per
request (the node's processes together, or the echo server on a floor row), ops/s ÷ the echo
floor at the same connection count, and the budget verdict (:mod:`bench.budgets`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import budgets
from .load import Cell

SATURATED_PCT = 90.0
"""A single-threaded process at or above this share of one core is taken as saturated."""


def node_cpu(cell: Cell) -> dict[str, dict[str, Any]]:
    """The CPU entries of the node's processes (``node``, or ``node-w<k>`` and ``node-sup``)."""
    return {k: v for k, v in cell.probes.get("cpu", {}).items() if k.startswith("node")}


def server_cpu_us(cell: Cell) -> float | None:
    """CPU µs per operation of the server: every node process together, or the echo server
    (``server``) on a floor cell."""
    cpu = cell.probes.get("cpu", {})
    parts = [v.get("us_per_op") for v in node_cpu(cell).values()] or [
        cpu.get("server", {}).get("us_per_op")
    ]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def round_trips(cell: Cell) -> float | None:
    value = cell.probes.get("round_trips", {}).get("per_op")
    return None if value is None else float(value)


def commands(cell: Cell) -> float | None:
    value = cell.probes.get("redis", {}).get("commands_per_op")
    return None if value is None else float(value)


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Row:
    """One summary row: ``operation`` names the budget (``evaluate`` for ``x := x + 1``)."""

    label: str
    operation: str
    cell: Cell
    echo_ops: float | None
    load_checks: bool = True

    @property
    def echo_ratio(self) -> float | None:
        if not self.echo_ops:
            return None
        return self.cell.ops_per_s / self.echo_ops

    def measured(self) -> budgets.Measured:
        return budgets.Measured(
            operation=self.operation,
            clients=self.cell.clients,
            round_trips=round_trips(self.cell),
            commands=commands(self.cell),
            node_cpu_us=server_cpu_us(self.cell),
            echo_ratio=self.echo_ratio,
            p99_ms=self.cell.latency.p99_ms,
        )

    def verdict(self) -> str:
        return budgets.verdict(self.measured(), load_checks=self.load_checks)

    def as_dict(self) -> dict[str, Any]:
        m = self.measured()
        return {
            "label": self.label,
            "operation": self.operation,
            "clients": self.cell.clients,
            "ops_per_s": round(self.cell.ops_per_s, 1),
            "p50_ms": self.cell.latency.p50_ms,
            "p99_ms": self.cell.latency.p99_ms,
            "round_trips_per_op": m.round_trips,
            "commands_per_op": m.commands,
            "server_cpu_us_per_op": m.node_cpu_us,
            "ratio_to_echo": m.echo_ratio,
            "budget": self.verdict(),
        }


HEADERS = [
    "operation", "clients", "ops/s", "p50 ms", "p99 ms", "Redis round trips/op",
    "Redis commands/op", "server CPU µs/op", "ops/s ÷ echo", "budget",
]


def floor_row(cell: Cell) -> list[str]:
    """A floor cell in the summary's columns (its server CPU: the echo server's)."""
    return [
        f"floor: {cell.operation}",
        f"{cell.clients}",
        f"{cell.ops_per_s:,.0f}",
        fmt(cell.latency.p50_ms, 2),
        fmt(cell.latency.p99_ms, 2),
        "–" if "echo" in cell.operation else "1.0",
        fmt(commands(cell), 1),
        fmt(server_cpu_us(cell), 0),
        "1.00" if "echo" in cell.operation else "–",
        "",
    ]


def row_cells(row: Row) -> list[str]:
    cell = row.cell
    label = row.label
    if cell.errors:
        label += f" ({sum(cell.errors.values())} errors)"
    if cell.timed_out:
        label += " (timed out)"
    return [
        label,
        f"{cell.clients}",
        f"{cell.ops_per_s:,.0f}",
        fmt(cell.latency.p50_ms, 2),
        fmt(cell.latency.p99_ms, 2),
        fmt(round_trips(cell), 2),
        fmt(commands(cell), 1),
        fmt(server_cpu_us(cell), 0),
        fmt(row.echo_ratio, 2),
        row.verdict(),
    ]


def table(rows: Sequence[Row], floors: Sequence[Cell] = ()) -> str:
    """The summary as a Markdown table, floor rows first."""
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|---|" + "---:|" * (len(HEADERS) - 2) + "---|",
    ]
    body = [floor_row(c) for c in floors] + [row_cells(r) for r in rows]
    for cells in body:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def saturation(cell: Cell) -> str:
    """What limited the cell, from /proc: each single-threaded process at ≥ 90% of a core
    (the node's workers, the load generator, redis-server), and the machine when all its
    cores were busy; otherwise the busiest process."""
    cpu: Mapping[str, Any] = cell.probes.get("cpu", {})

    def pct(name: str) -> float:
        return float(cpu.get(name, {}).get("core_pct") or 0.0)

    workers = {k: pct(k) for k in node_cpu(cell) if k != "node-sup"}
    found = []
    busy = [k for k, v in workers.items() if v >= SATURATED_PCT]
    shown = ", ".join(f"{k} {workers[k]:.0f}%" for k in sorted(workers))
    if workers and len(busy) == len(workers):
        found.append(f"node CPU ({shown})")
    elif busy:
        found.append(f"node CPU of {', '.join(sorted(busy))} ({shown})")
    if pct("client") >= SATURATED_PCT:
        found.append(f"load generator CPU ({pct('client'):.0f}%)")
    if pct("redis") >= SATURATED_PCT:
        found.append(f"Redis CPU ({pct('redis'):.0f}%)")
    machine = cell.probes.get("machine", {})
    if machine and machine["busy_core_pct"] >= SATURATED_PCT * machine["cores"]:
        ours = sum(float(v.get("core_pct") or 0.0) for v in cpu.values())
        others = max(0.0, machine["busy_core_pct"] - ours)
        found.append(f"all CPUs ({machine['busy_core_pct']:.0f}% of {100 * machine['cores']}%, "
                     f"{others:.0f}% of it processes the bench did not start)")
    if found:
        return "; ".join(found)
    named = {**workers, "load generator": pct("client"), "redis": pct("redis")}
    top = max(named, key=lambda k: named[k])
    return f"nothing ≥ {SATURATED_PCT:.0f}% of a core (busiest: {top} {named[top]:.0f}%)"
