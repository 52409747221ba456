"""Probes read at the edges of a measured window: CPU of each process, Redis command counts.

CPU is what says where the time goes on a shared machine: per operation, how many microseconds
the load generator (this process), the server under test and ``redis-server`` each burned.
Redis's ``INFO commandstats`` (reset when the window opens) says how many commands of each kind
one operation sent and how long Redis spent executing them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import coredis

from .stats import own_cpu_seconds, process_cpu_seconds

_OWN = ("config|resetstat", "info")
"""Commands the probe itself sends: left out of the counts."""


class CpuProbe:
    """CPU seconds of named processes over the window; ``pid`` None means this process."""

    def __init__(self, processes: Mapping[str, int | None]) -> None:
        self.processes = dict(processes)
        self._start: dict[str, float | None] = {}

    @staticmethod
    def _read(pid: int | None) -> float | None:
        return own_cpu_seconds() if pid is None else process_cpu_seconds(pid)

    async def begin(self) -> None:
        self._start = {name: self._read(pid) for name, pid in self.processes.items()}

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        cpu: dict[str, Any] = {}
        for name, pid in self.processes.items():
            before, after = self._start.get(name), self._read(pid)
            if before is None or after is None:
                continue
            used = after - before
            cpu[name] = {
                "cpu_s": round(used, 4),
                "core_pct": round(100 * used / seconds, 1) if seconds > 0 else None,
                "us_per_op": round(1e6 * used / operations, 1) if operations else None,
            }
        return {"cpu": cpu}


class RedisCommandsProbe:
    """Commands per operation and Redis's own execution time per operation (``usec``)."""

    def __init__(self, redis: coredis.Redis[str]) -> None:
        self.redis = redis

    async def begin(self) -> None:
        await self.redis.config_resetstat()

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        stats = await self.redis.info("commandstats")
        commands: dict[str, dict[str, float]] = {}
        total_usec = 0
        total_calls = 0
        for key, value in stats.items():
            name = str(key).removeprefix("cmdstat_")
            if name in _OWN or not isinstance(value, dict):
                continue
            calls, usec = int(value.get("calls", 0)), int(value.get("usec", 0))
            total_calls += calls
            total_usec += usec
            if operations:
                commands[name] = {
                    "per_op": round(calls / operations, 3),
                    "usec_per_op": round(usec / operations, 2),
                }
        return {
            "redis": {
                "commands": dict(sorted(commands.items())),
                "commands_per_op": round(total_calls / operations, 2) if operations else None,
                "usec_per_op": round(total_usec / operations, 2) if operations else None,
            }
        }


def _machine_ticks() -> tuple[int, int] | None:
    """(busy, total) clock ticks of all CPUs since boot (``/proc/stat``)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user
    return total - idle, total


class MachineProbe:
    """How busy the whole machine was over the window: % of one core, summed over cores."""

    def __init__(self) -> None:
        self._start: tuple[int, int] | None = None

    async def begin(self) -> None:
        self._start = _machine_ticks()

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        end = _machine_ticks()
        if self._start is None or end is None or end[1] == self._start[1]:
            return {}
        busy = (end[0] - self._start[0]) / (end[1] - self._start[1])
        cores = os.cpu_count() or 1
        return {"machine": {"busy_pct_of_all": round(100 * busy, 1), "cores": cores,
                            "busy_core_pct": round(100 * busy * cores, 1)}}
