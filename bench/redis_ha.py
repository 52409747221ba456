"""The ``redis-ha`` suite: the request path on Redis Sentinel and Redis Cluster beside one
Redis, what each durability level costs, and how long a failover takes.

1. **Floors**, in this run: a serial coredis GET and the raw trio-websocket echo
   (:mod:`bench.floors`), as in every suite.
2. **Requests per topology.** For each topology (standalone, Sentinel: 1 primary, 2 replicas,
   3 sentinels; Cluster: 3 primaries, 3 replicas; all local, AOF ``everysec``), a node process
   with ``--min-replicas 0`` (no wait) and, where there are replicas, ``--min-replicas 1``
   (``WAIT 1`` in the commit's round trip); ``update_session_state`` at each ``--clients`` and a
   warm ``x := x + 1`` at the largest; ops/s, p50, p99, Redis round trips per request (the
   node's own counter), the ratios to the floors and to standalone's same cell.
3. **Failover.** On Sentinel and on Cluster, with each durability level: ``--writers``
   clients (the client library, one session each) write in a loop; the primary of the first
   writer's session gets SIGKILL; measured per affected writer is the time from the kill to
   the first acknowledgement of a request sent after it (the node waits the failover out and
   runs the request again with the same id). Then the graceful move: ``SENTINEL FAILOVER`` or
   ``CLUSTER FAILOVER`` on a replica. Reported with each: the writers that saw
   ``store_failing_over``, errors, and the acknowledged commits reported lost
   (``session_rolled_back``).

Everything started (Redis processes, sentinels, nodes, the echo server) is stopped at the end.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from client.connection import RequestFailed
from client.session import STORE_FAILING_OVER, open_session
from cluster.ops.redis_topology import SERVICE, LocalTopology

from .clients import open_clients
from .common import (
    LATENCY_HEADERS,
    MachineProbe,
    Progress,
    Report,
    Run,
    error_text,
    num,
    ratio,
    table,
)
from .load import Cell, measure
from .probes import CpuProbe
from .procs import ServerProcess
from .roundtrips import RoundTripProbe
from .sessions import (
    NODE_ARGS,
    create_sessions,
    evaluate_workers,
    prepare_evaluations,
    update_workers,
)

TOPOLOGIES = ("standalone", "sentinel", "cluster")
FAILOVER_WAIT = 20.0


@dataclass(frozen=True)
class Options:
    clients: tuple[int, ...] = (1, 50)
    warmup: float = 1.0
    duration: float = 3.0
    writers: int = 8
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(clients=(1, 8), warmup=0.3, duration=1.0, writers=4, floor_warmup=0.2,
                floor_duration=0.8)
        if args.quick else Options()
    )
    return Options(
        clients=tuple(args.clients) if args.clients else base.clients,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        writers=base.writers,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    configs = 5  # standalone; sentinel and cluster, each at two durability levels
    cells = configs * (len(opts.clients) + 1) * (opts.warmup + opts.duration + 15)
    failovers = 4 * 60 + 2 * 40
    return 120 + cells + failovers


# -- the node ----------------------------------------------------------------------------------


@dataclass
class Node:
    process: ServerProcess
    url: str
    pid: int
    health_port: int


async def start_node(url: str, min_replicas: int, opts: Options, name: str) -> Node:
    process = ServerProcess(
        name, "nodes", "--port", "0", "--health-port", "0", "--redis-url", url, *NODE_ARGS,
        "--min-replicas", str(min_replicas), "--replica-wait-ms", "100",
        "--failover-wait", str(FAILOVER_WAIT), *opts.node_args,
    )
    announced = await process.start()
    assert process.pid is not None
    return Node(process, f"ws://127.0.0.1:{announced['port']}/", process.pid,
                int(announced.get("health_port") or 0))


async def stop_node(node: Node, notes: list[str]) -> None:
    code = await node.process.stop()
    if code not in (0, None):
        notes.append(f"{node.process.name} exited with code {code}")
    node.process.remove_log()


# -- 2. requests per topology --------------------------------------------------------------


@dataclass
class RequestCell:
    topology: str
    min_replicas: int
    cell: Cell
    replicas_seen: float | None = None
    """Mean ``durability.replicas`` of the answers (sampled outside the window)."""

    def as_dict(self) -> dict[str, Any]:
        return {"topology": self.topology, "min_replicas": self.min_replicas,
                "replicas_seen": self.replicas_seen, **self.cell.as_dict()}


async def request_cells(
    node: Node, topology: str, level: int, opts: Options, progress: Progress
) -> list[RequestCell]:
    out: list[RequestCell] = []
    largest = max(opts.clients)
    async with open_clients(node.url, largest) as connections:
        sessions = await create_sessions(connections, f"{topology}-{level}")
        sample = await connections[0].request(
            "update_session_state", session_id=sessions[0], state_data={"probe": 1}
        )
        seen = float(sample.get("durability", {}).get("replicas", 0))
        for clients in opts.clients:
            workers = update_workers(connections[:clients], sessions[:clients])
            cell = await measure(
                f"{topology} r{level}", "update_session_state", workers,
                warmup=opts.warmup, duration=opts.duration,
                probes=[RoundTripProbe(node.health_port),
                        CpuProbe({"client": None, "node": node.pid}), MachineProbe()],
            )
            progress.cell(cell)
            out.append(RequestCell(topology, level, cell, seen))
        await prepare_evaluations(connections, sessions)
        cell = await measure(
            f"{topology} r{level}", "evaluate", evaluate_workers(connections, sessions),
            warmup=opts.warmup, duration=opts.duration,
            probes=[RoundTripProbe(node.health_port),
                    CpuProbe({"client": None, "node": node.pid}), MachineProbe()],
        )
        progress.cell(cell)
        out.append(RequestCell(topology, level, cell, seen))
    return out


# -- 3. failover -------------------------------------------------------------------------------


@dataclass
class Writer:
    client_id: str
    session_id: str | None = None
    acked: list[tuple[float, float]] = field(default_factory=list)
    """(sent, acknowledged) times of every acknowledged request."""
    errors: int = 0
    waited: bool = False
    reported_lost: int = 0

    def first_after(self, moment: float) -> float | None:
        later = [done for sent, done in self.acked if sent >= moment]
        return later[0] - moment if later else None

    async def run(self, url: str, stop: trio.Event, *,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        def on_state(state: str, info: dict[str, Any]) -> None:
            if state == STORE_FAILING_OVER:
                self.waited = True

        async with open_session([url], self.client_id, on_state=on_state, request_timeout=60,
                                reconnect_timeout=60, ping_interval=None) as client:
            self.session_id = client.session_id
            task_status.started()
            while not stop.is_set():
                if client.rolled_back is not None:
                    self.reported_lost += len(client.lost_requests())
                    client.rolled_back = None
                sent = time.monotonic()
                try:
                    await client.update_state({"n": len(self.acked)})
                except (RequestFailed, trio.TooSlowError):
                    self.errors += 1
                    await trio.sleep(0.05)
                    continue
                self.acked.append((sent, time.monotonic()))
                await trio.sleep(0.01)


@dataclass
class FailoverResult:
    topology: str
    min_replicas: int
    event: str
    affected: int
    recovery_s: list[float]
    waited: int
    errors: int
    reported_lost: int
    others_longest_pause_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _shard_ports(topology: LocalTopology, session_id: str) -> int:
    """The port of the primary serving ``session_id`` (by asking the primaries)."""
    from cluster import keys
    from cluster.topology import slot

    if topology.kind != "cluster":
        return topology.primaries()[0]
    wanted = slot(keys.SessionKeys(session_id).meta)
    for port in topology.primaries():
        for line in topology.command(port, "CLUSTER", "NODES").splitlines():
            parts = line.split()
            if "myself" not in parts[2]:
                continue
            for part in parts[8:]:
                start, _, end = part.partition("-")
                if not part.startswith("[") and int(start) <= wanted <= int(end or start):
                    return port
    raise RuntimeError(f"no primary serves slot {wanted}")


async def failover_round(
    topology: LocalTopology, level: int, opts: Options, progress: Progress, notes: list[str],
    *, graceful: bool,
) -> FailoverResult:
    event = ("SENTINEL FAILOVER" if topology.kind == "sentinel" else "CLUSTER FAILOVER") \
        if graceful else "kill -9 of a primary"
    node = await start_node(topology.url(), level, opts, f"node-{topology.kind}-failover")
    stop = trio.Event()
    writers = [Writer(f"bench-ha-{topology.kind}-{level}-{graceful}-{i}")
               for i in range(opts.writers)]
    restarted = False
    try:
        async with trio.open_nursery() as nursery:
            for writer in writers:
                await nursery.start(writer.run, node.url, stop)
            with trio.fail_after(30):
                while any(len(w.acked) < 5 for w in writers):
                    await trio.sleep(0.05)
            assert writers[0].session_id is not None
            primary = await trio.to_thread.run_sync(_shard_ports, topology, writers[0].session_id)
            affected = [
                w for w in writers
                if await trio.to_thread.run_sync(_shard_ports, topology, str(w.session_id))
                == primary
            ]
            progress(f"{topology.kind} --min-replicas {level}: {event} of :{primary} "
                     f"({len(affected)} of {len(writers)} writers on it)")
            if graceful:
                replica = (await trio.to_thread.run_sync(topology.replicas_of, primary))[0]
                moment = time.monotonic()
                if topology.kind == "sentinel":
                    sentinel = topology.sentinel_members[0].port
                    await trio.to_thread.run_sync(
                        topology.command, sentinel, "SENTINEL", "FAILOVER", SERVICE)
                else:
                    await trio.to_thread.run_sync(topology.command, replica, "CLUSTER",
                                                  "FAILOVER")
            else:
                replicas = await trio.to_thread.run_sync(topology.replicas_of, primary)
                await trio.to_thread.run_sync(topology.kill, primary)
                moment = time.monotonic()
                if topology.kind == "cluster" and level >= 1:
                    # Its only replica is the new primary: nothing can confirm a write until
                    # the dead node is back as a replica. Restart it once the promotion shows
                    # (the measured time includes that restart and its resync).
                    await _until_promoted(topology, replicas)
                    await trio.to_thread.run_sync(topology.restart, primary)
                    restarted = True
            with trio.move_on_after(FAILOVER_WAIT + 20):
                while any(w.first_after(moment) is None for w in writers):
                    await trio.sleep(0.05)
            if graceful and topology.kind == "sentinel":
                # The old primary stays up and writable until the sentinels convert it
                # (~10 s): keep writing until then, so what it lost is reported here.
                with trio.move_on_after(30):
                    while await trio.to_thread.run_sync(topology.role, primary) != "slave":
                        await trio.sleep(0.2)
            await trio.sleep(2.0)  # more writing after: errors, late reports
            stop.set()
    finally:
        await stop_node(node, notes)
    if not graceful and not restarted:
        await trio.to_thread.run_sync(topology.restart, primary)
    await trio.to_thread.run_sync(topology.wait_ready, 60.0)
    recovery = [t for t in (w.first_after(moment) for w in affected) if t is not None]
    if len(recovery) < len(affected):
        notes.append(f"{topology.kind} r{level} {event}: {len(affected) - len(recovery)} "
                     "writer(s) never wrote again")
    others = [w for w in writers if w not in affected]
    pauses = []
    for writer in others:
        times = [done for _sent, done in writer.acked if done > moment - 1]
        pauses.append(max((b - a for a, b in itertools.pairwise(times)), default=0.0))
    result = FailoverResult(
        topology=topology.kind, min_replicas=level, event=event, affected=len(affected),
        recovery_s=[round(t, 3) for t in recovery], waited=sum(w.waited for w in writers),
        errors=sum(w.errors for w in writers),
        reported_lost=sum(w.reported_lost for w in writers),
        others_longest_pause_s=round(max(pauses), 3) if pauses else None,
    )
    progress(f"  first commit after it: p50 {num(_p50(result.recovery_s))} s, max "
             f"{num(max(result.recovery_s, default=None))} s; reported lost "
             f"{result.reported_lost}")
    return result


async def _until_promoted(topology: LocalTopology, replicas: list[int]) -> None:
    with trio.fail_after(30):
        while True:
            roles = [await trio.to_thread.run_sync(topology.role, port) for port in replicas]
            if "master" in roles:
                return
            await trio.sleep(0.1)


def _p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# -- the suite ---------------------------------------------------------------------------------


async def run(opts: Options, progress: Progress) -> Report:
    notes: list[str] = []
    cells: list[RequestCell] = []
    failovers: list[FailoverResult] = []
    async with Run(progress) as bench_run:
        await bench_run.start_redis()
        floors = await bench_run.measure_floors(
            opts.clients, warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        base = Path(tempfile.mkdtemp(prefix="stui-bench-ha-"))
        try:
            for kind in TOPOLOGIES:
                progress(f"starting a local {kind} topology")
                topology = LocalTopology(kind, base / kind)
                try:
                    await trio.to_thread.run_sync(topology.start)
                    levels = (0,) if kind == "standalone" else (0, 1)
                    for level in levels:
                        node = await start_node(
                            topology.url(), level, opts, f"node-{kind}-r{level}"
                        )
                        try:
                            cells += await request_cells(node, kind, level, opts, progress)
                        finally:
                            await stop_node(node, notes)
                    if kind != "standalone":
                        for level in levels:
                            failovers.append(await failover_round(
                                topology, level, opts, progress, notes, graceful=False))
                        failovers.append(await failover_round(
                            topology, 0, opts, progress, notes, graceful=True))
                finally:
                    with trio.CancelScope(shield=True):
                        await trio.to_thread.run_sync(topology.stop)
        finally:
            shutil.rmtree(base, ignore_errors=True)  # the topologies' data dirs
        notes += bench_run.notes
        environment = bench_run.environment
    report = Report(
        suite="redis-ha",
        title="Redis topologies, durability levels and failovers (issue 10)",
        layout="Each topology local on this machine (AOF everysec): standalone; Sentinel with "
        "1 primary, 2 replicas, 3 sentinels (down-after 2000 ms); Cluster with 3 primaries and "
        "3 replicas (node timeout 1000 ms). One node process (one worker) per cell, clients "
        "in this process.",
        environment=environment,
        floors=floors,
        notes=notes,
    )
    report.sections.append(_requests_table(cells, floors))
    report.sections.append(_failover_table(failovers))
    report.data = {"requests": [c.as_dict() for c in cells],
                   "failovers": [f.as_dict() for f in failovers]}
    report.failed = any(c.cell.errors or c.cell.timed_out for c in cells)
    return report


def _requests_table(cells: list[RequestCell], floors: Any) -> str:
    standalone = {(c.cell.operation, c.cell.clients): c.cell for c in cells
                  if c.topology == "standalone"}
    rows = []
    for entry in cells:
        cell = entry.cell
        base = standalone.get((cell.operation, cell.clients))
        rt = cell.probes.get("round_trips", {}).get("per_op")
        node_cpu = cell.probes.get("cpu", {}).get("node", {}).get("us_per_op")
        rows.append([
            entry.topology, str(entry.min_replicas),
            "warm x := x + 1" if cell.operation == "evaluate" else cell.operation,
            str(cell.clients), f"{cell.ops_per_s:,.0f}", num(cell.latency.p50_ms),
            num(cell.latency.p99_ms), num(rt), num(node_cpu, 0),
            ratio(cell.ops_per_s, floors.echo_ops(cell.clients), 2),
            ratio(cell.latency.p50_ms, floors.get_p50_ms),
            ratio(cell.ops_per_s, base.ops_per_s if base else None, 2),
            num(entry.replicas_seen, 0), error_text(cell) or "0",
        ])
    return "### Requests per topology and durability level\n\n" + table(
        ["topology", "min replicas", "operation", "clients", "ops/s", "p50 ms", "p99 ms",
         "round trips", "node µs/req", "ops ÷ echo", "p50 ÷ GET p50", "ops ÷ standalone",
         "replicas in answer", "errors"],
        rows,
    )


def _failover_table(results: list[FailoverResult]) -> str:
    rows = []
    for r in results:
        rows.append([
            r.topology, str(r.min_replicas), r.event, str(r.affected),
            num(_p50(r.recovery_s)), num(max(r.recovery_s, default=None)),
            num(r.others_longest_pause_s), str(r.waited), str(r.errors), str(r.reported_lost),
        ])
    return "### Failover while clients write\n\n" + table(
        ["topology", "min replicas", "event", "writers on that primary",
         "first commit after it, p50 s", "max s", "other shards' longest pause s",
         "writers told store_failing_over", "errors", "reported lost (rolled back)"],
        rows,
    ) + (
        "\n\nThe first commit counts from the kill (or the failover command) to the first "
        "acknowledgement of a request *sent after it*; requests in flight meanwhile waited "
        "inside the node and were run again with the same id. Cluster with --min-replicas 1: "
        "the shard's only replica became its primary, so the dead node was restarted as soon "
        "as the promotion showed, and the time includes its restart and resync."
    )


__all__ = ["LATENCY_HEADERS", "Options", "cap", "options", "run"]
