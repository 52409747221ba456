"""The sessions suite's Markdown tables (stdout), its ``--json`` file and its ``--plots``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from . import budgets, summary
from .common import cpu_pct, cpu_us, machine_pct, num
from .env import described
from .load import Cell
from .sessions import EVALUATE_CODE, NODE_ARGS, NodeRun, Options, SuiteResult

# -- ratios ----------------------------------------------------------------------------------


def echo_floor(cells: list[Cell], clients: int) -> Cell | None:
    for cell in cells:
        if cell.group == "floor" and cell.operation.startswith("ws echo") and (
            cell.clients == clients
        ):
            return cell
    return None


def redis_floor(cells: list[Cell]) -> Cell | None:
    """The serial GET (or the least concurrent one measured): one unloaded round trip."""
    gets = [c for c in cells if c.group == "floor" and c.operation == "redis GET"]
    return min(gets, key=lambda c: c.clients) if gets else None


def ratios(cells: list[Cell], cell: Cell) -> tuple[float, float]:
    """(node ops/s / echo ops/s at the same concurrency, node p50 / serial Redis GET p50)."""
    if cell.group != "node":
        return math.nan, math.nan
    echo, redis = echo_floor(cells, cell.clients), redis_floor(cells)
    throughput = cell.ops_per_s / echo.ops_per_s if echo and echo.ops_per_s else math.nan
    latency = cell.latency.p50_ms / redis.latency.p50_ms if redis else math.nan
    return throughput, latency


def label(operation: str) -> str:
    return f"evaluate `{EVALUATE_CODE}` (warm)" if operation == "evaluate" else operation


def summary_rows(result: SuiteResult, run: NodeRun) -> list[summary.Row]:
    """One row per operation and connection count, ordered by connection count."""
    rows = []
    for cell in sorted(run.cells, key=lambda c: c.clients):
        echo = echo_floor(result.floors, cell.clients)
        rows.append(
            summary.Row(
                label=label(cell.operation),
                operation=cell.operation,
                cell=cell,
                echo_ops=echo.ops_per_s if echo else None,
                # Issue 9's CPU, ratio and p99 budgets are for one pinned worker.
                load_checks=run.workers == 1 and run.pinned,
            )
        )
    return rows


# -- Markdown ----------------------------------------------------------------------------------


def header(result: SuiteResult, options: Options) -> str:
    workers = ", ".join(str(w) for w in options.workers)
    return "\n".join(
        [
            "## STUI Cluster benchmark: sessions (issues 2 and 9)",
            "",
            *described(result.environment),
            "- Everything on 127.0.0.1: the load generator is this process "
            "(Trio, `client/connection.py`, one WebSocket per client, one request in flight on "
            "each), the node its own process (`python -m nodes`; with `--workers 2`, a "
            "supervisor and two node processes on one port), the echo floor its own "
            "process (`python -m bench.echo`), and `redis-server` its own process.",
            f"- {result.pinning}",
            f"- Node flags: `{' '.join((*NODE_ARGS, *options.node_args))}` (plus its port, "
            f"health port and the bench's redis-server); worker counts measured: {workers}.",
            f"- Each cell: {options.warmup:g} s warm-up (excluded), then {options.duration:g} s "
            "measured; ops/s = completions in the window / its length; percentiles over every "
            "sample of the window.",
            *(
                [f"- The node ran under cProfile ({options.profile_node}): these numbers are "
                 "slowed by the profiler."]
                if options.profile_node else []
            ),
        ]
    )


def summary_section(result: SuiteResult, run: NodeRun, *, with_floors: bool) -> str:
    floors = (
        [c for c in result.floors if c.operation.startswith("ws echo")]
        + [c for c in result.floors if c.operation == "redis GET"]
        if with_floors else []
    )
    return (
        f"### Summary: {run.title}\n\n"
        + summary.table(summary_rows(result, run), floors)
    )


SUMMARY_NOTE = (
    "Per request, over the measured window: Redis round trips from the node's "
    "`stui_redis_round_trips_total` (its `/metrics`; \"–\" when the node has no such counter), "
    "Redis commands from `INFO commandstats` (commands inside Lua scripts counted), server "
    "CPU from `/proc` (the node's processes together; on a floor row, the echo server's), "
    "ops/s ÷ the echo floor's ops/s at the same number of connections. The node's background "
    "work (heartbeats, sweeper) is inside every count."
)


def workers_table(result: SuiteResult) -> str:
    """Each worker count side by side per operation, and what saturated."""
    runs = result.runs
    base = runs[0]
    headers = ["operation", "clients"]
    for run in runs:
        headers.append(f"ops/s, {run.title}")
    for run in runs[1:]:
        headers.append(f"{run.workers} ÷ {base.workers}")
    headers += ["connections per worker", "node CPU", "load generator CPU", "redis CPU",
                "machine busy"]
    headers += [f"saturated ({run.workers} worker{'s' if run.workers > 1 else ''})"
                for run in runs]
    lines = ["| " + " | ".join(headers) + " |",
             "|---|" + "---:|" * (len(headers) - 1 - len(runs)) + "---|" * len(runs)]
    index = {(r.workers, c.operation, c.clients): c for r in runs for c in r.cells}
    for cell in base.cells:
        cells = [index.get((r.workers, cell.operation, cell.clients)) for r in runs]
        row = [label(cell.operation), str(cell.clients)]
        row += [f"{c.ops_per_s:,.0f}" if c else "–" for c in cells]
        row += [
            f"{c.ops_per_s / cell.ops_per_s:.2f}×" if c and cell.ops_per_s else "–"
            for c in cells[1:]
        ]
        last = cells[-1] or cell
        split = last.probes.get("worker_connections") or {}
        row.append(" / ".join(str(split[k]) for k in sorted(split)) or "–")
        nodes = summary.node_cpu(last)
        row.append(", ".join(f"{k} {v.get('core_pct', 0):.0f}%" for k, v in sorted(nodes.items())
                             if v.get("core_pct") is not None) or "–")
        row += [cpu_pct(last, name) for name in ("client", "redis")]
        row.append(machine_pct(last))
        row += [summary.saturation(c) if c else "–" for c in cells]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in row) + " |")
    return "\n".join(lines)


def cost_table(cells: list[Cell]) -> str:
    """CPU per operation by process, and what Redis saw per operation."""
    rows = [
        "| operation | clients | client CPU µs/op | server CPU µs/op | redis CPU µs/op | "
        "client CPU % | server CPU % | Redis commands/op | Redis exec µs/op |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        cpu = cell.probes.get("cpu", {})
        redis = cell.probes.get("redis", {})
        server_us = summary.server_cpu_us(cell)
        nodes = summary.node_cpu(cell)
        server_pct = (
            sum(float(v.get("core_pct") or 0) for v in nodes.values()) if nodes
            else cpu.get("server", {}).get("core_pct")
        )
        name = label(cell.operation) if cell.group == "node" else f"floor: {cell.operation}"
        rows.append(
            f"| {name} | {cell.clients} | {cpu_us(cell, 'client')} | "
            f"{'–' if server_us is None else f'{server_us:,.0f}'} | {cpu_us(cell, 'redis')} | "
            f"{cpu_pct(cell, 'client')} | {'–' if server_pct is None else f'{server_pct:.0f}%'} | "
            f"{num(redis.get('commands_per_op', math.nan) or math.nan, 1)} | "
            f"{num(redis.get('usec_per_op', math.nan) or math.nan, 1)} |"
        )
    return "\n".join(rows)


def commands_table(cells: list[Cell]) -> str:
    """Redis commands per node operation (from the least concurrent cell of each)."""
    seen: dict[str, Cell] = {}
    for cell in cells:
        if cell.group == "node" and cell.operation not in seen:
            seen[cell.operation] = cell
    rows = ["| operation | Redis commands per operation (INFO commandstats) |", "|---|---|"]
    for operation, cell in seen.items():
        commands = cell.probes.get("redis", {}).get("commands", {})
        shown = ", ".join(
            f"{name} {stats['per_op']:g}" for name, stats in commands.items()
            if stats["per_op"] >= 0.01
        )
        rows.append(f"| {label(operation)} | {shown or '–'} |")
    return "\n".join(rows).replace("script|", "script\\|")


def markdown(result: SuiteResult, options: Options, *, plots: list[str] | None = None) -> str:
    parts = [header(result, options)]
    for index, run in enumerate(result.runs):
        parts += ["", summary_section(result, run, with_floors=index == 0)]
    parts += ["", SUMMARY_NOTE, "", budgets.describe()]
    if len(result.runs) > 1:
        parts += [
            "",
            "### Workers: the same cells with each worker count",
            "",
            workers_table(result),
            "",
            "CPU columns: the last worker count's cell, % of one core over the window (each "
            "node process is one Python process: at most ~100%). Saturated: a process at "
            f"≥ {summary.SATURATED_PCT:.0f}% of a core, or every CPU of the machine busy "
            "(from `/proc`); the load generator shares the machine with what it measures.",
        ]
    parts += [
        "",
        "### Where the time goes (measured window)",
        "",
        cost_table(result.cells),
        "",
        "CPU µs/op: CPU time each process used in the window divided by the operations "
        "completed (client = this process, server = the node's processes together or the echo "
        "server); CPU %: of one core over the window. Redis exec µs/op: `usec` of `INFO "
        "commandstats` (time executing commands, not I/O) per operation.",
        "",
        commands_table(result.cells),
    ]
    if plots:
        parts += ["", "### Charts", "", *[f"![{Path(p).stem}]({Path(p).name})" for p in plots]]
    if result.notes:
        parts += ["", "Notes:", *[f"- {note}" for note in result.notes]]
    return "\n".join(parts)


def as_json(result: SuiteResult, options: Options, *, samples: bool = False) -> dict[str, Any]:
    def cell_entry(cell: Cell) -> dict[str, Any]:
        entry = cell.as_dict(with_samples=samples)
        throughput, latency = ratios(result.cells, cell)
        if cell.group == "node":
            entry["ratio_ops_to_echo_floor"] = None if math.isnan(throughput) else throughput
            entry["ratio_p50_to_redis_get_p50"] = None if math.isnan(latency) else latency
        return entry

    return {
        "suite": "sessions",
        "environment": result.environment,
        "pinning": result.pinning,
        "options": {
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "clients": list(options.clients),
            "redis_tasks": list(options.redis_tasks),
            "operations": list(options.operations),
            "node_args": [*NODE_ARGS, *options.node_args],
            "workers": list(options.workers),
        },
        "floors": [cell_entry(c) for c in result.floors],
        "runs": [
            {
                "workers": run.workers,
                "pinned": run.pinned,
                "cells": [cell_entry(c) for c in run.cells],
                "summary": [row.as_dict() for row in summary_rows(result, run)],
            }
            for run in result.runs
        ],
        "notes": result.notes,
    }


# -- charts ------------------------------------------------------------------------------------


def write_plots(result: SuiteResult, directory: Path) -> list[str]:
    """Throughput and latency charts of every node cell, beside the echo floor's lines."""
    from . import plots

    directory.mkdir(parents=True, exist_ok=True)
    operations = list(dict.fromkeys(c.operation for r in result.runs for c in r.cells))
    groups = [("evaluate" if o == "evaluate" else o.removesuffix("_session")
               .replace("update_session_state", "update_state")) for o in operations]
    series_ops: list[plots.Series] = []
    series_p50: list[plots.Series] = []
    series_p99: list[plots.Series] = []
    for run in result.runs:
        for clients in sorted({c.clients for c in run.cells}):
            name = f"{run.workers}w{' pinned' if run.pinned else ''}, {clients} conn"
            by_op = {c.operation: c for c in run.cells if c.clients == clients}
            mapping = dict(zip(operations, groups, strict=True))
            series_ops.append(plots.Series(name, {mapping[o]: c.ops_per_s
                                                  for o, c in by_op.items()}))
            series_p50.append(plots.Series(name, {mapping[o]: c.latency.p50_ms
                                                  for o, c in by_op.items()}))
            series_p99.append(plots.Series(name, {mapping[o]: c.latency.p99_ms
                                                  for o, c in by_op.items()}))
    echo = [c for c in result.floors if c.operation.startswith("ws echo")]
    throughput = directory / "sessions-throughput.png"
    plots.bars(throughput, "sessions: requests/s per operation (closed loop)", "requests/s",
               groups, series_ops,
               lines={f"echo floor, {c.clients} conn": c.ops_per_s for c in echo})
    latency = directory / "sessions-latency.png"
    plots.latency(latency, "sessions", groups, series_p50, series_p99,
                  lines50={f"echo, {c.clients} conn": c.latency.p50_ms for c in echo},
                  lines99={f"echo, {c.clients} conn": c.latency.p99_ms for c in echo})
    return [str(throughput), str(latency)]
