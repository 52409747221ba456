"""The ``shared`` suite (issue 11): shared sessions under contention, and their fan-out.

Everything on 127.0.0.1: one redis-server, two node processes (A and B), the load generator.

1. **Floors, in this run**: a serial Redis GET and the raw WebSocket echo (as in every suite),
   and the raw pub/sub hop a shared session's events take: ``SPUBLISH`` on one plain
   connection to a plain ``SSUBSCRIBE`` connection, serially, publish to receipt.
2. **Fan-out latency**: one connection on node A evaluates ``n := n + 1`` in a shared session,
   serially; a listener attached to the same session on node B (and one on node A) receives
   every ``evaluated`` event. Latency: from the commit (the writer node stamps the event
   ``at`` just before the commit's round trip) to the event's arrival at the listener's
   client, on the same machine's clock. The floor to compare with is the pub/sub hop plus a
   WebSocket one-way (half the echo round trip).
3. **Conflict retries**: W connections attached shared, half on each node, evaluate
   ``n := n + 1`` in one session in a closed loop. Per success: WATCH races the nodes lost and
   re-ran (``stui_conflicts`` on both nodes' ``/metrics``), ``SessionConflict`` answers (a
   request that lost every bounded retry; the writer sends the same id again, which is safe),
   throughput and latency, connections closed (must be 0), and the fan-out latency to the
   writers of the other node while contending. The reference row: one writer, exclusive
   session (no fan-out), on node A, in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import time
import urllib.request
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import hiredis
import trio

from client.connection import Connection, open_connection

from .common import (
    MachineProbe,
    NodeProc,
    Progress,
    Report,
    Run,
    failure_of,
    machine_pct,
    num,
    ratio,
    table,
)
from .load import Cell, measure
from .stats import Latency

_MISSING = object()


@dataclass(frozen=True)
class Options:
    writers: tuple[int, ...] = (2, 8)
    warmup: float = 0.5
    duration: float = 4.0
    fanout_duration: float = 4.0
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    pubsub_samples: int = 2000
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    base = (
        Options(writers=(4,), warmup=0.2, duration=1.0, fanout_duration=1.0, floor_warmup=0.2,
                floor_duration=0.8, pubsub_samples=300)
        if args.quick else Options()
    )
    return Options(
        writers=tuple(args.clients) if args.clients else base.writers,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        fanout_duration=args.duration if args.duration is not None else base.fanout_duration,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        pubsub_samples=base.pubsub_samples,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    cells = len(opts.writers) + 1
    return 120 + cells * (opts.warmup + opts.duration + 30) + opts.fanout_duration + 30


# -- the pub/sub floor ------------------------------------------------------------------------


class _Resp:
    """A plain RESP connection (no client library between the bench and Redis)."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.reader = hiredis.Reader(encoding="utf-8", notEnoughData=_MISSING)

    async def send(self, *command: Any) -> None:
        await self.stream.send_all(hiredis.pack_command(command))

    async def receive(self) -> Any:
        while True:
            reply = self.reader.gets()
            if reply is not _MISSING:
                return reply
            data = await self.stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("redis closed the connection")
            self.reader.feed(data)


async def pubsub_floor(port: int, samples: int) -> Latency:
    """SPUBLISH -> SSUBSCRIBE delivery, one message at a time, on plain connections."""
    channel = "bench:{floor}:fan"
    async with await trio.open_tcp_stream("127.0.0.1", port) as sub_stream, \
            await trio.open_tcp_stream("127.0.0.1", port) as pub_stream:
        sub, pub = _Resp(sub_stream), _Resp(pub_stream)
        await sub.send("SSUBSCRIBE", channel)
        await sub.receive()
        delays: list[float] = []
        payload = "x" * 200
        for _ in range(samples):
            sent = time.perf_counter()
            await pub.send("SPUBLISH", channel, payload)
            while True:
                message = await sub.receive()
                if isinstance(message, list) and message and message[0] == "smessage":
                    break
            delays.append(time.perf_counter() - sent)
            await pub.receive()
    return Latency.of(delays)


# -- members of a shared session --------------------------------------------------------------


@dataclass
class Member:
    """One connection attached (shared) to the bench's session, and what it heard."""

    name: str
    node: str
    conn: Connection
    fanout: list[float] = field(default_factory=list)
    """Seconds from commit to arrival, of others' evaluations committed on the other node."""
    local: list[float] = field(default_factory=list)
    """The same, for evaluations committed on this member's own node."""
    events: int = 0
    listening: bool = True

    async def listen(self, node_of: dict[str, str]) -> None:
        async for message in self.conn.events:
            arrived = time.time()
            self.events += 1
            if message.get("event") != "evaluated" or not self.listening:
                continue
            data = message.get("data") or {}
            at = data.get("at")
            if not isinstance(at, (int, float)):
                continue
            committed_on = node_of.get(str(data.get("node_id")), "?")
            (self.local if committed_on == self.node else self.fanout).append(arrived - at)


@asynccontextmanager
async def members(
    nodes: Sequence[NodeProc], count: int, prefix: str
) -> AsyncIterator[tuple[list[Member], str]]:
    """``count`` connections, round robin over ``nodes``, attached shared to a new session
    (created by the first); every member listens to its events. Node names: A, B, ... by
    node id."""
    names: dict[str, str] = {}
    for node in nodes:
        names.setdefault(node.node_id, "ABCDEFGH"[len(names)])
    async with AsyncExitStack() as stack:
        out: list[Member] = []
        for index in range(count):
            node = nodes[index % len(nodes)]
            conn = await stack.enter_async_context(open_connection(node.url))
            out.append(Member(f"{prefix}{index}", names[node.node_id], conn))
        async with trio.open_nursery() as nursery:
            for one in out:
                nursery.start_soon(one.listen, names)
            await out[0].conn.request("authenticate", client_id="bench-shared")
            created = await out[0].conn.request("create_session", client_id="bench-shared",
                                                attach="shared")
            session_id = str(created["session_id"])
            await out[0].conn.request("evaluate", session_id=session_id, code="n := 0")
            for one in out[1:]:
                await one.conn.request("authenticate", client_id="bench-shared")
                await one.conn.request("restore_session", session_id=session_id,
                                       attach="shared")
            try:
                yield out, session_id
            finally:
                nursery.cancel_scope.cancel()


def incrementer(conn: Connection, session_id: str, counts: dict[str, int]) -> Any:
    ids = itertools.count(1)
    prefix = f"{id(conn):x}"

    async def increment() -> str | None:
        request_id = f"{prefix}-{next(ids)}"
        while True:
            response = await conn.call("evaluate", {"session_id": session_id,
                                                    "code": "n := n + 1"},
                                       request_id=request_id)
            failure = failure_of(response)
            if failure is None:
                counts["acked"] += 1
            if failure != "SessionConflict":
                return failure
            counts["conflicts"] += 1  # lost every bounded retry: the same id again

    return increment


COUNTERS = ("stui_conflicts_total", "stui_fanout_gap_repairs_total",
            "stui_fanout_stream_events_total", "stui_fanout_overwhelmed_total")
"""Counters summed over the nodes: WATCH races lost, fan-out gaps filled from the stream,
events read from it, connections closed as too slow."""


async def node_counters(nodes: Sequence[NodeProc]) -> dict[str, float]:
    """:data:`COUNTERS` summed over the nodes' ``/metrics``."""

    def read(node: NodeProc) -> dict[str, float]:
        url = f"http://127.0.0.1:{node.health_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as reply:
            text = reply.read().decode()
        found = dict.fromkeys(COUNTERS, 0.0)
        for line in text.splitlines():
            name = line.split(" ", 1)[0]
            if name in found:
                found[name] += float(line.split()[-1])
        return found

    total = dict.fromkeys(COUNTERS, 0.0)
    for node in nodes:
        for name, value in (await trio.to_thread.run_sync(read, node)).items():
            total[name] += value
    return total


class ConflictProbe:
    """WATCH races lost (both nodes) and SessionConflict answers inside the window."""

    def __init__(self, nodes: Sequence[NodeProc], counts: dict[str, int],
                 listeners: Sequence[Member]) -> None:
        self.nodes = nodes
        self.counts = counts
        self.listeners = listeners
        self._before: dict[str, float] = {}
        self._answers = 0

    async def begin(self) -> None:
        self._before = await node_counters(self.nodes)
        self._answers = self.counts["conflicts"]
        for one in self.listeners:
            one.fanout.clear()
            one.local.clear()

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        after = await node_counters(self.nodes)
        delta = {name: after[name] - self._before.get(name, 0.0) for name in COUNTERS}
        return {
            "races": delta["stui_conflicts_total"],
            "gap_repairs": delta["stui_fanout_gap_repairs_total"],
            "stream_events": delta["stui_fanout_stream_events_total"],
            "overwhelmed": delta["stui_fanout_overwhelmed_total"],
            "conflict_answers": self.counts["conflicts"] - self._answers,
            "fanout": Latency.of([x for one in self.listeners for x in one.fanout]).as_dict(),
        }


# -- the cells ----------------------------------------------------------------------------------


@dataclass
class FanoutResult:
    other: Latency
    same: Latency
    writes: int


async def fanout_phase(nodes: Sequence[NodeProc], opts: Options, progress: Progress) -> (
    FanoutResult
):
    progress("fan-out: one writer on A, listeners on B and A")
    async with members([nodes[0], nodes[1], nodes[0]], 3, "f") as (group, session_id):
        writer, on_b, on_a = group
        on_a.listening = on_b.listening = True
        ids = itertools.count(1)
        deadline = time.perf_counter() + opts.floor_warmup
        while time.perf_counter() < deadline:  # warm-up: caches, subscriptions
            await writer.conn.request("evaluate", request_id=f"w-{next(ids)}",
                                      session_id=session_id, code="n := n + 1")
        await trio.sleep(0.2)
        on_b.fanout.clear()
        on_a.local.clear()
        writes = 0
        deadline = time.perf_counter() + opts.fanout_duration
        while time.perf_counter() < deadline:
            await writer.conn.request("evaluate", request_id=f"w-{next(ids)}",
                                      session_id=session_id, code="n := n + 1")
            writes += 1
        await trio.sleep(0.5)  # the last events arrive
        return FanoutResult(Latency.of(on_b.fanout), Latency.of(on_a.local), writes)


@dataclass
class ContentionCell:
    writers: int
    cell: Cell
    closed: int
    exact: bool
    shared: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"writers": self.writers, "closed": self.closed, "exact": self.exact,
                "shared": self.shared, **self.cell.as_dict()}


async def contention_cell(
    run: Run, nodes: Sequence[NodeProc], writers: int, opts: Options
) -> ContentionCell:
    counts = {"conflicts": 0, "acked": 0}
    async with members(nodes, writers, f"c{writers}-") as (group, session_id):
        ops = [incrementer(one.conn, session_id, counts) for one in group]
        cell = await measure(
            "shared", f"n := n + 1, {writers} shared writers on A and B", ops,
            warmup=opts.warmup, duration=opts.duration,
            probes=[ConflictProbe(nodes, counts, group), run.cpu_probe(list(nodes)),
                    MachineProbe()],
        )
        closed = sum(1 for one in group if one.conn.closed.is_set())
        # Every acknowledged increment counted once, none lost: n equals the acknowledged
        # increments of the whole cell (warm-up included) and the commits the version counts.
        final = await group[-1].conn.request("evaluate", session_id=session_id, code="n")
        commits = await _commits(group[0].conn, session_id)
        exact = int(final["result"]) == counts["acked"] == commits
    run.progress.cell(cell)
    return ContentionCell(writers, cell, closed, exact)


async def _commits(conn: Connection, session_id: str) -> int:
    """Increments the session's version counts: one per commit since ``n := 0`` (attach
    commits do not raise it)."""
    info = await conn.request("get_session_info", session_id=session_id)
    return int(info["version"]) - 3  # create (1), n := 0 (2), the final read of n (3)


async def reference_cell(run: Run, node: NodeProc, opts: Options) -> Cell:
    """One writer, exclusive session, node A: the same evaluation without sharing."""
    async with open_connection(node.url) as conn:
        created = await conn.request("create_session", client_id="bench-alone")
        session_id = str(created["session_id"])
        await conn.request("evaluate", session_id=session_id, code="n := 0")
        counts = {"conflicts": 0, "acked": 0}
        cell = await measure(
            "shared", "n := n + 1, 1 writer, exclusive", [incrementer(conn, session_id, counts)],
            warmup=opts.warmup, duration=opts.duration,
            probes=[run.cpu_probe([node]), MachineProbe()],
        )
    run.progress.cell(cell)
    return cell


# -- the suite ----------------------------------------------------------------------------------


async def run(opts: Options, progress: Progress) -> Report:
    report = Report(
        suite="shared",
        title="shared sessions (conflict retries, fan-out latency)",
        layout="Everything on 127.0.0.1: redis-server (no persistence), two node processes "
        "(A and B), the load generator (this process, plain WebSocket connections).",
    )
    async with Run(progress) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1,), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        progress("floor: SPUBLISH -> SSUBSCRIBE, serially")
        pubsub = await pubsub_floor(bench.redis_server.port, opts.pubsub_samples)
        nodes = [await bench.start_node("--client-rate", "0", *opts.node_args, name=name)
                 for name in ("node-a", "node-b")]
        fanout = await fanout_phase(nodes, opts, progress)
        reference = await reference_cell(bench, nodes[0], opts)
        cells = []
        for writers in opts.writers:
            progress(f"contention: {writers} shared writers on one session")
            cells.append(await contention_cell(bench, nodes, writers, opts))
        for node in list(nodes):
            await bench.stop_node(node)
        report.notes.extend(bench.notes)
    report.sections = sections(pubsub, fanout, reference, cells, report)
    report.data = {
        "options": opts.__dict__,
        "pubsub_floor": pubsub.as_dict(),
        "fanout": {"other_node": fanout.other.as_dict(), "same_node": fanout.same.as_dict(),
                   "writes": fanout.writes},
        "reference": reference.as_dict(),
        "contention": [c.as_dict() for c in cells],
    }
    if (report.notes or any(c.closed or not c.exact or c.cell.errors for c in cells)
            or fanout.other.count == 0):
        report.failed = True
    return report


def sections(
    pubsub: Latency,
    fanout: FanoutResult,
    reference: Cell,
    cells: list[ContentionCell],
    report: Report,
) -> list[str]:
    floors = report.floors
    echo50 = floors.echo_p50_ms(1) if floors else None
    echo99 = floors.echo_p99_ms(1) if floors else None
    floor50 = pubsub.p50_ms + echo50 / 2 if echo50 is not None else None
    floor99 = pubsub.p99_ms + echo99 / 2 if echo99 is not None else None
    pubsub_table = table(
        ["floor", "samples", "p50 ms", "p99 ms", "max ms"],
        [["SPUBLISH → SSUBSCRIBE (plain connections)", f"{pubsub.count:,}",
          num(pubsub.p50_ms, 3), num(pubsub.p99_ms, 3), num(pubsub.max_ms, 3)],
         ["pub/sub hop + WebSocket one-way (½ echo)", "–", num(floor50, 3), num(floor99, 3),
          "–"]],
    )
    rows = []
    for name, lat in (("commit on A → event at a client of node B", fanout.other),
                      ("commit on A → event at a client of node A", fanout.same)):
        rows.append([name, f"{lat.count:,}", num(lat.p50_ms, 3), num(lat.p99_ms, 3),
                     num(lat.max_ms, 3), ratio(lat.p50_ms, floor50),
                     ratio(lat.p99_ms, floor99)])
    fan = table(["fan-out, one writer", "events", "p50 ms", "p99 ms", "max ms",
                 "p50 ÷ floor p50", "p99 ÷ floor p99"], rows)
    fan_text = (
        f"### Fan-out latency (shared session, {fanout.writes:,} evaluations)\n\n"
        f"{pubsub_table}\n\n{fan}\n\n"
        "From the writer node's stamp (`evaluated.at`, taken when the evaluation ended, just "
        "before the commit's round trip) to the event's arrival at the listening client, on "
        "this machine's clock: the commit's EXEC, the SPUBLISH inside it, the other node's "
        "subscription and ordered feed, its WebSocket writer and the client's reader. The "
        "floor row adds the plain pub/sub hop and half a WebSocket echo round trip (both "
        "measured in this run)."
    )
    crow = [[
        "1 (exclusive, reference)", f"{reference.operations:,}", f"{reference.ops_per_s:,.0f}",
        "–", "–", num(reference.latency.p50_ms), num(reference.latency.p99_ms), "–", "–", "–",
        "–", machine_pct(reference),
    ]]
    for c in cells:
        cell, ops = c.cell, c.cell.operations or 1
        races = float(cell.probes.get("races", 0.0))
        answers = int(cell.probes.get("conflict_answers", 0))
        lat = cell.probes.get("fanout", {})
        crow.append([
            f"{c.writers} shared (A and B)", f"{cell.operations:,}", f"{cell.ops_per_s:,.0f}",
            num(races / ops, 2), num(answers / ops, 3), num(cell.latency.p50_ms),
            num(cell.latency.p99_ms),
            f"{num(lat.get('p50_ms'), 2)} / {num(lat.get('p99_ms'), 2)}",
            f"{int(cell.probes.get('gap_repairs', 0))} / "
            f"{int(cell.probes.get('stream_events', 0))}",
            f"{c.closed}", "yes" if c.exact else "NO", machine_pct(cell),
        ])
    conflict = table(
        ["writers", "successes", "successes/s", "races lost per success",
         "SessionConflict per success", "p50 ms", "p99 ms", "fan-out p50 / p99 ms",
         "gaps filled / events read from the stream", "connections closed", "exact count",
         "machine busy"],
        crow,
    )
    conflict_text = (
        f"### Conflict retries (one shared session, `n := n + 1` in a closed loop)\n\n"
        f"{conflict}\n\n"
        "Races lost: WATCH transactions whose EXEC was aborted by another node's commit and "
        "that the node ran again on the new state (`stui_conflicts`, both nodes). "
        "SessionConflict: requests that lost every one of the node's bounded retries; the "
        "writer sends the same request id again (exactly-once makes that safe). Latency is "
        "from the first attempt to the success. Fan-out: commit on one node to the event at "
        "the writers of the other node, inside the window (the writers' client is this one "
        "process, so its own queueing is in it). Gaps: a feed waited 100 ms for an event that the "
        "channel had not brought and read it from the stream (`stui_fanout_gap_repairs`). Exact "
        "count: `n` at the end equals the acknowledged increments and the commits the "
        "session's version counts."
    )
    return [fan_text, conflict_text]


def write_plots(report: Report, directory: Any) -> list[str]:
    """No charts for this suite (its tables carry everything)."""
    return []
