"""What the suites after ``sessions`` share: the processes of a run, its floors, its report.

Every one of them (``persistence``, ``fairness``, ``failover``, ``idle``, ``scaling``) runs the
same way: start a ``redis-server``; measure the two floors in the same run (a serial coredis GET
through a client configured like a node's, and a raw trio-websocket echo, :mod:`bench.floors`);
start the node process(es) under test; measure; stop everything. :class:`Run` owns what was
started and stops it on the way out, shielded and bounded (:mod:`bench.procs`), whether the
suite finished, failed or hit its time cap.
"""

from __future__ import annotations

import math
import os
import signal
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import coredis
import trio

from cluster.ops.embedded_redis import RedisServer

from . import floors
from .env import described, environment
from .load import Cell
from .pinning import Pinning
from .probes import CpuProbe, MachineProbe
from .procs import ServerProcess, start_redis, stop_redis
from .sessions import NODE_ARGS, Progress, failure_of, node_redis_client

__all__ = [
    "NODE_ARGS",
    "Floors",
    "MachineProbe",
    "NodeProc",
    "Progress",
    "Report",
    "Run",
    "failure_of",
]

# -- /proc readings ----------------------------------------------------------------------------


def rss_kib(pid: int | None) -> int | None:
    """Resident set size of a process in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class RedisTrafficProbe:
    """Bytes Redis received and sent over the window (``INFO stats``), per operation."""

    def __init__(self, redis: coredis.Redis[str]) -> None:
        self.redis = redis
        self._start: tuple[int, int] = (0, 0)

    async def _read(self) -> tuple[int, int]:
        stats: dict[str, Any] = dict(await self.redis.info("stats"))
        return int(stats.get("total_net_input_bytes", 0)), int(
            stats.get("total_net_output_bytes", 0)
        )

    async def begin(self) -> None:
        self._start = await self._read()

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        received, sent = await self._read()
        into, out = received - self._start[0], sent - self._start[1]
        return {
            "traffic": {
                "in_bytes": into,
                "out_bytes": out,
                "in_bytes_per_op": round(into / operations, 1) if operations else None,
                "out_bytes_per_op": round(out / operations, 1) if operations else None,
            }
        }


# -- formatting --------------------------------------------------------------------------------


def num(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def ratio(value: float | None, floor: float | None, digits: int = 1) -> str:
    if value is None or floor is None or not floor or math.isnan(value) or math.isnan(floor):
        return "–"
    return f"{value / floor:,.{digits}f}×"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; ``align`` has one letter per column (``l`` or ``r``, default ``r``
    for every column but the first). With no rows, its head, for rows printed one by one
    with :func:`table_row` as they are measured."""
    align = align or "l" + "r" * (len(headers) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    return "\n".join(
        [table_row(headers), "|" + "|".join(marks) + "|", *(table_row(r) for r in rows)]
    )


def table_row(cells: Sequence[str]) -> str:
    """One line of a Markdown table."""
    # A "|" inside a cell (Smalltalk block arguments) would end the cell: escape it.
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def cpu_pct(cell: Cell, name: str) -> str:
    value = cell.probes.get("cpu", {}).get(name, {}).get("core_pct")
    return "–" if value is None else f"{value:.0f}%"


def cpu_us(cell: Cell, name: str) -> str:
    value = cell.probes.get("cpu", {}).get(name, {}).get("us_per_op")
    return "–" if value is None else f"{value:,.0f}"


def machine_pct(cell: Cell) -> str:
    return machine_text(cell.probes)


def machine_text(probes: Mapping[str, Any]) -> str:
    """How busy the machine was, and how much of it was processes this bench did not start
    (other people's work on a shared machine: the busy total minus every process measured)."""
    machine = probes.get("machine", {})
    if not machine:
        return "–"
    ours = sum(float(entry.get("core_pct") or 0.0) for entry in probes.get("cpu", {}).values())
    others = max(0.0, machine["busy_core_pct"] - ours)
    return f"{machine['busy_core_pct']:.0f}% of {100 * machine['cores']}% (others {others:.0f}%)"


def error_text(cell: Cell) -> str:
    if not cell.errors:
        return ""
    return ", ".join(f"{n} {name}" for name, n in sorted(cell.errors.items()))


# -- floors ------------------------------------------------------------------------------------


@dataclass
class Floors:
    """The floors measured in this run: serial Redis GET, and the echo at 1+ connections."""

    redis: Cell
    echo: dict[int, Cell] = field(default_factory=dict)

    @property
    def get_p50_ms(self) -> float:
        return self.redis.latency.p50_ms

    def echo_cell(self, clients: int = 1) -> Cell | None:
        return self.echo.get(clients)

    def echo_p50_ms(self, clients: int = 1) -> float | None:
        cell = self.echo.get(clients)
        return cell.latency.p50_ms if cell else None

    def echo_p99_ms(self, clients: int = 1) -> float | None:
        cell = self.echo.get(clients)
        return cell.latency.p99_ms if cell else None

    def echo_ops(self, clients: int) -> float | None:
        cell = self.echo.get(clients)
        return cell.ops_per_s if cell else None

    def markdown(self) -> str:
        rows = []
        for cell in (self.redis, *self.echo.values()):
            unit = "task(s)" if cell.operation.startswith("redis") else "connection(s)"
            rows.append(
                [
                    f"floor: {cell.operation}",
                    f"{cell.clients} {unit}",
                    f"{cell.ops_per_s:,.0f}",
                    num(cell.latency.p50_ms, 3),
                    num(cell.latency.p99_ms, 3),
                    cpu_pct(cell, "client"),
                    cpu_pct(cell, "server" if "server" in cell.probes.get("cpu", {}) else "redis"),
                    machine_pct(cell),
                ]
            )
        return table(
            ["floor (this run)", "concurrency", "ops/s", "p50 ms", "p99 ms", "client CPU",
             "server CPU", "machine busy"],
            rows,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "redis_get": self.redis.as_dict(),
            "echo": {str(n): c.as_dict() for n, c in self.echo.items()},
        }


# -- processes ---------------------------------------------------------------------------------


@dataclass
class NodeProc:
    """A node process the bench started: where it listens and who it is."""

    process: ServerProcess
    url: str
    node_id: str
    pid: int
    killed: bool = False
    health_port: int = 0


class Run:
    """Everything one suite run starts, stopped at the end (``async with Run(progress)``)."""

    def __init__(self, progress: Progress, pinning: Pinning | None = None) -> None:
        self.progress = progress
        self.pinning = pinning or Pinning(enabled=False)
        """Where the processes go (:mod:`bench.pinning`); off unless the suite asks."""
        self.notes: list[str] = []
        self.environment: dict[str, Any] = {}
        self.redis_server = RedisServer()
        self._redis: coredis.Redis[str] | None = None
        self._stack = AsyncExitStack()
        self.nodes: list[NodeProc] = []

    async def __aenter__(self) -> Run:
        await self._stack.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        with trio.CancelScope(shield=True):
            for node in list(self.nodes):
                await self.stop_node(node)
        self.pinning.release(self.redis_pid)
        return await self._stack.__aexit__(kind, exc, tb)

    # -- redis ---------------------------------------------------------------------------------

    @property
    def redis(self) -> coredis.Redis[str]:
        assert self._redis is not None, "start_redis first"
        return self._redis

    @property
    def redis_pid(self) -> int | None:
        process = self.redis_server.process
        return process.pid if process is not None else None

    async def start_redis(self) -> coredis.Redis[str]:
        """The run's redis-server (no persistence, keyspace events ``Ex``, ``hz 50``)."""
        self._stack.push_async_callback(stop_redis, self.redis_server)
        self.progress("starting redis-server")
        self.pinning.pin()  # redis-server inherits the load generator's CPU
        await start_redis(self.redis_server)
        self.pinning.pin(self.redis_pid)
        self._redis = node_redis_client(self.redis_server.url)
        await self._stack.enter_async_context(self._redis)
        info = await self._redis.info("server")
        self.environment = environment(str(info.get("redis_version")))
        self.environment["cpus_usable"] = len(self.pinning.all_cpus)  # before pinning
        return self._redis

    # -- floors --------------------------------------------------------------------------------

    async def measure_floors(
        self, echo_clients: Sequence[int] = (1,), *, warmup: float, duration: float
    ) -> Floors:
        """A serial Redis GET, then the raw echo at each of ``echo_clients`` connections (the
        echo server is stopped before the suite's own processes start)."""
        self.progress("floor: redis GET from 1 task")
        redis_cell = await floors.redis_floor(
            self.redis, 1, warmup=warmup, duration=duration,
            probes=[CpuProbe({"client": None, "redis": self.redis_pid}), MachineProbe()],
        )
        self.progress.cell(redis_cell)
        result = Floors(redis=redis_cell)
        echo = ServerProcess("echo", "bench.echo", "--port", "0",
                             prefix=self.pinning.server_prefix())
        try:
            self.progress("starting the echo server")
            announced = await echo.start()
            url = f"ws://127.0.0.1:{announced['port']}/"
            for clients in sorted(set(echo_clients)):
                cell = await floors.echo_floor(
                    url, clients, warmup=warmup, duration=duration,
                    probes=[CpuProbe({"client": None, "server": echo.pid}), MachineProbe()],
                    progress=self.progress,
                )
                self.progress.cell(cell)
                result.echo[clients] = cell
        finally:
            await echo.stop()
            echo.remove_log()
        return result

    # -- nodes ---------------------------------------------------------------------------------

    async def start_node(self, *args: str, name: str = "node") -> NodeProc:
        """A node process on this run's Redis (``NODE_ARGS``, then ``args``)."""
        process = ServerProcess(
            name, "nodes", "--port", "0", "--health-port", "0",
            "--redis-url", self.redis_server.url, *NODE_ARGS, *args,
            prefix=self.pinning.server_prefix(),
        )
        self.progress(f"starting {name}")
        announced = await process.start()
        assert process.pid is not None
        node = NodeProc(
            process=process,
            url=f"ws://127.0.0.1:{announced['port']}/",
            node_id=str(announced.get("node_id")),
            pid=process.pid,
            health_port=int(announced.get("health_port") or 0),
        )
        self.nodes.append(node)
        return node

    def kill_node(self, node: NodeProc) -> None:
        """SIGKILL (a crash: no drain, no goodbye)."""
        if node.process.process is not None and node.process.process.returncode is None:
            os.kill(node.pid, signal.SIGKILL)
        node.killed = True

    async def stop_node(self, node: NodeProc) -> None:
        """SIGTERM (drain) and collect what its log says went wrong, into ``notes``."""
        if node not in self.nodes:
            return
        self.nodes.remove(node)
        code = await node.process.stop()
        if not node.killed and code not in (0, None):
            self.notes.append(f"{node.node_id} exited with code {code} (expected 0 after SIGTERM)")
        errors = self.log_lines(node, '"level":"error"')
        if errors:
            self.notes.append(
                f"{node.node_id} logged {len(errors)} error line(s); first: {errors[0][:400]}"
            )
        node.process.remove_log()

    @staticmethod
    def log_lines(node: NodeProc, needle: str) -> list[str]:
        log = node.process.log_tail(lines=1_000_000)
        return [line for line in log.splitlines() if needle in line.replace(" ", "")]

    def cpu_probe(self, nodes: Sequence[NodeProc] = ()) -> CpuProbe:
        """CPU of this process (``client``), redis-server and each node (``node-N``)."""
        processes: dict[str, int | None] = {"client": None, "redis": self.redis_pid}
        for index, node in enumerate(nodes, start=1):
            processes[f"node{index}" if len(nodes) > 1 else "node"] = node.pid
        return CpuProbe(processes)


# -- the report --------------------------------------------------------------------------------


@dataclass
class Report:
    """What a suite prints (Markdown) and writes with ``--json``."""

    suite: str
    title: str
    layout: str
    environment: dict[str, Any] = field(default_factory=dict)
    floors: Floors | None = None
    sections: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed: bool = False
    plot_cells: list[tuple[str, Cell]] = field(default_factory=list)
    """(label, cell) pairs a suite's ``write_plots`` draws (``--plots``)."""

    def header(self) -> str:
        return "\n".join(
            [
                f"## STUI Cluster benchmark: {self.title}",
                "",
                *described(self.environment),
                f"- {self.layout}",
            ]
        )

    def markdown(self) -> str:
        parts = [self.header()]
        if self.floors is not None:
            parts += [
                "",
                "Floors, measured in this run before the node started (a serial coredis GET "
                "to the same redis-server; a raw trio-websocket echo of 200 B driven by the "
                "same client code):",
                "",
                self.floors.markdown(),
            ]
        for section in self.sections:
            parts += ["", section]
        if self.notes:
            parts += ["", "Notes:", *[f"- {note}" for note in self.notes]]
        return "\n".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "environment": self.environment,
            "floors": self.floors.as_dict() if self.floors else None,
            "data": self.data,
            "notes": self.notes,
            "failed": self.failed,
        }


def latency_row(
    name: str, cell: Cell, floors: Floors | None, *, echo_clients: int = 1
) -> list[str]:
    """name, n, ops/s, p50, p99, max, p50 ÷ GET p50, p50 ÷ echo p50, errors."""
    lat = cell.latency
    get = floors.get_p50_ms if floors else None
    echo = floors.echo_p50_ms(echo_clients) if floors else None
    return [
        name,
        f"{cell.operations:,}",
        f"{cell.ops_per_s:,.0f}",
        num(lat.p50_ms),
        num(lat.p99_ms),
        num(lat.max_ms),
        ratio(lat.p50_ms, get),
        ratio(lat.p50_ms, echo),
        error_text(cell) or "0",
    ]


LATENCY_HEADERS = [
    "requests", "ops/s", "p50 ms", "p99 ms", "max ms", "p50 ÷ GET p50", "p50 ÷ echo p50",
    "errors",
]


