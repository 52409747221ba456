"""The run's environment, the Markdown tables printed on stdout, and the ``--json`` file."""

from __future__ import annotations

import math
from typing import Any

from .load import Cell
from .sessions import NODE_ARGS, Options, SuiteResult

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


# -- Markdown ----------------------------------------------------------------------------------


def _num(value: float, digits: int = 2) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def header(result: SuiteResult, options: Options) -> str:
    env = result.environment
    packages = ", ".join(f"{k} {v}" for k, v in env.get("packages", {}).items())
    return "\n".join(
        [
            "## STUI Cluster benchmark: sessions (issue 2)",
            "",
            f"- Machine: {env.get('cpu_count')} CPUs ({env.get('cpus_usable')} usable, "
            f"{env.get('cpu_model')}), {env.get('platform')}; load average at start "
            f"{env.get('load_average_at_start')}.",
            f"- {env.get('python')}, Redis {env.get('redis_version')}; {packages}; "
            f"commit {env.get('commit')}; {env.get('date')}.",
            "- Everything on 127.0.0.1, sharing those CPUs: the load generator is this process "
            "(Trio, `client/connection.py`, one WebSocket per client, one request in flight on "
            "each), the node its own process (`python -m nodes`), the echo floor its own "
            "process (`python -m bench.echo`), and `redis-server` its own process. The load "
            "generator competes for the CPUs with what it measures.",
            f"- Node flags: `{' '.join((*NODE_ARGS, *options.node_args))}` (plus its port and "
            "the bench's redis-server).",
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


def main_table(cells: list[Cell]) -> str:
    rows = [
        "| operation | clients | ops/s | p50 ms | p99 ms | ops/s ÷ echo floor | "
        "p50 ÷ Redis GET p50 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        throughput, latency = ratios(cells, cell)
        name = cell.operation if cell.group == "node" else f"floor: {cell.operation}"
        flags = []
        if cell.errors:
            flags.append(f"{sum(cell.errors.values())} errors")
        if cell.timed_out:
            flags.append("timed out")
        if flags:
            name += f" ({', '.join(flags)})"
        rows.append(
            f"| {name} | {cell.clients} | {cell.ops_per_s:,.0f} | {_num(cell.latency.p50_ms)} | "
            f"{_num(cell.latency.p99_ms)} | {_num(throughput)} | {_num(latency, 1)} |"
        )
    return "\n".join(rows)


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

        def us(name: str, cpu: dict[str, Any] = cpu) -> str:
            value = cpu.get(name, {}).get("us_per_op")
            return "–" if value is None else f"{value:,.0f}"

        def pct(name: str, cpu: dict[str, Any] = cpu) -> str:
            value = cpu.get(name, {}).get("core_pct")
            return "–" if value is None else f"{value:.0f}%"

        name = cell.operation if cell.group == "node" else f"floor: {cell.operation}"
        rows.append(
            f"| {name} | {cell.clients} | {us('client')} | {us('server')} | {us('redis')} | "
            f"{pct('client')} | {pct('server')} | "
            f"{_num(redis.get('commands_per_op', math.nan) or math.nan, 1)} | "
            f"{_num(redis.get('usec_per_op', math.nan) or math.nan, 1)} |"
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
        rows.append(f"| {operation} | {shown or '–'} |")
    return "\n".join(rows)


def markdown(result: SuiteResult, options: Options) -> str:
    parts = [
        header(result, options),
        "",
        main_table(result.cells),
        "",
        "Ratios: node ops/s divided by the WebSocket echo floor's ops/s at the same number of "
        "connections; node p50 divided by the p50 of one serial Redis GET (one unloaded round "
        "trip through coredis).",
        "",
        "### Where the time goes (measured window)",
        "",
        cost_table(result.cells),
        "",
        "CPU µs/op: CPU time each process used in the window divided by the operations "
        "completed (client = this process, server = the node or the echo server); CPU %: of "
        "one core over the window (a Python process can't use more than 100%). Redis exec "
        "µs/op: `usec` of `INFO commandstats` (time executing commands, not I/O) per operation.",
        "",
        commands_table(result.cells),
    ]
    if result.notes:
        parts += ["", "Notes:", *[f"- {note}" for note in result.notes]]
    return "\n".join(parts)


def as_json(result: SuiteResult, options: Options, *, samples: bool = False) -> dict[str, Any]:
    cells = []
    for cell in result.cells:
        entry = cell.as_dict(with_samples=samples)
        throughput, latency = ratios(result.cells, cell)
        if cell.group == "node":
            entry["ratio_ops_to_echo_floor"] = None if math.isnan(throughput) else throughput
            entry["ratio_p50_to_redis_get_p50"] = None if math.isnan(latency) else latency
        cells.append(entry)
    return {
        "suite": "sessions",
        "environment": result.environment,
        "options": {
            "duration_s": options.duration,
            "warmup_s": options.warmup,
            "clients": list(options.clients),
            "redis_tasks": list(options.redis_tasks),
            "operations": list(options.operations),
            "node_args": [*NODE_ARGS, *options.node_args],
        },
        "cells": cells,
        "notes": result.notes,
    }
