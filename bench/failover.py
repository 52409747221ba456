"""The ``failover`` suite: restore after a node dies, conflicts under contention, expiry cleanup.

1. **Kill.** Three node processes; K sessions, each held by a ``SessionClient``
   (``client/session.py``) whose URL list starts at a different node, so the sessions are
   spread over the three. One node gets SIGKILL; every session it held is measured from the
   kill to its first successful request (``update_session_state``, sent right after the kill)
   answered by another node: the client notices the close, reconnects to the next URL itself,
   restores (a takeover) and retries the request with the same id. The dead node is replaced
   and the round repeated, killing another one, so the sample grows past one node's share.
2. **Conflicts.** N writers update one session with ``expected_version``; on
   ``SessionConflict`` a writer takes ``details.current_version`` and tries again. They share
   one connection (requests on a connection run concurrently): N connections would each take
   the session over on their first write and close the others (single owner by design, see
   ``nodes/ownership.py``), which measures takeovers, not version conflicts.
3. **Expiry cleanup.** Sessions with a 1 s timeout on a fresh node; the bench polls Redis every
   25 ms until each session's keys and its index entries (``stui:expiry``, the client index)
   are gone, and compares that with its deadline (creation + the ``alive`` key's PTTL). Once
   with keyspace events (the node enables them itself), once on a Redis that refuses CONFIG to
   the node (``ACL SETUSER default -config``, as on managed Redis: the node logs that it could
   not enable them) and has them off, so the sweeper alone cleans up every
   ``--cleanup-interval`` seconds.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from client.connection import Connection, open_connection
from client.session import SessionClient, open_session
from cluster import keys
from cluster.settings import Settings

from .common import (
    MachineProbe,
    NodeProc,
    Progress,
    Report,
    Run,
    failure_of,
    machine_pct,
    machine_text,
    num,
    ratio,
    table,
)
from .load import Cell, Probe, measure
from .probes import RedisCommandsProbe
from .sessions import state_data
from .stats import Latency

NODES = 3
POLL = 0.025
EXPIRY_TIMEOUT = 1
KILL_WAIT = 30.0
"""Seconds the affected sessions may take to answer after a kill before they count as lost."""


@dataclass(frozen=True)
class Options:
    sessions: int = 50
    rounds: int = 3
    writers: tuple[int, ...] = (2, 8, 16)
    warmup: float = 0.5
    duration: float = 4.0
    expiry_sessions: int = 50
    cleanup_interval: int = Settings().cleanup_interval
    floor_warmup: float = 0.5
    floor_duration: float = 2.0
    node_args: tuple[str, ...] = ()


def options(args: argparse.Namespace) -> Options:
    if args.quick:
        base = Options(sessions=9, rounds=1, writers=(4,), warmup=0.2, duration=1.0,
                       expiry_sessions=10, cleanup_interval=2, floor_warmup=0.2,
                       floor_duration=0.8)
    else:
        base = Options()
    return Options(
        sessions=args.sizes[0] if args.sizes else base.sessions,
        rounds=base.rounds,
        writers=tuple(args.clients) if args.clients else base.writers,
        warmup=args.warmup if args.warmup is not None else base.warmup,
        duration=args.duration if args.duration is not None else base.duration,
        expiry_sessions=base.expiry_sessions,
        cleanup_interval=args.cleanup_interval or base.cleanup_interval,
        floor_warmup=base.floor_warmup,
        floor_duration=base.floor_duration,
        node_args=tuple(args.node_arg),
    )


def cap(opts: Options) -> float:
    kill = opts.rounds * (15 + opts.sessions * 0.1 + KILL_WAIT)
    conflicts = len(opts.writers) * (opts.warmup + opts.duration + 25)
    expiry = 2 * (15 + EXPIRY_TIMEOUT) + opts.cleanup_interval + 30
    return 90 + kill + conflicts + expiry


# -- 1. kill -----------------------------------------------------------------------------------


@dataclass
class Affected:
    """One session of the killed node: when its client saw what, relative to the kill."""

    session_id: str
    lost_at: float | None = None  # the client saw the connection drop ("reconnecting")
    restored_at: float | None = None  # the session was restored elsewhere ("restored")
    answered_at: float | None = None  # the first request after the kill was answered
    node_id: str | None = None
    error: str | None = None


@dataclass
class KillRound:
    victim: str
    held: int
    affected: list[Affected] = field(default_factory=list)
    others_ms: list[float] = field(default_factory=list)
    probes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "victim": self.victim,
            "sessions_on_victim": self.held,
            "affected": [a.__dict__ for a in self.affected],
            "unaffected_request_ms": [round(x, 2) for x in self.others_ms],
            "probes": self.probes,
        }


class Tracked:
    """A SessionClient and the timestamps of its state changes (``on_state``)."""

    def __init__(self) -> None:
        self.client: SessionClient | None = None
        self.states: list[tuple[str, float]] = []

    def on_state(self, state: str, info: dict[str, Any]) -> None:
        self.states.append((state, time.perf_counter()))

    def first(self, state: str, after: float) -> float | None:
        for name, at in self.states:
            if name == state and at >= after:
                return at
        return None


@asynccontextmanager
async def session_clients(
    nodes: list[NodeProc], count: int, tag: str
) -> AsyncIterator[list[Tracked]]:
    """``count`` SessionClients, client ``i`` starting at node ``i % len(nodes)``."""
    urls = [n.url for n in nodes]
    async with AsyncExitStack() as stack:
        tracked = []
        for index in range(count):
            start = index % len(urls)
            rotated = urls[start:] + urls[:start]
            entry = Tracked()
            entry.client = await stack.enter_async_context(
                open_session(
                    rotated, f"bench-{tag}-{index}", on_state=entry.on_state,
                    reconnect_timeout=KILL_WAIT, request_timeout=KILL_WAIT,
                )
            )
            tracked.append(entry)
        yield tracked


async def kill_round(run: Run, nodes: list[NodeProc], victim: NodeProc, opts: Options,
                     number: int) -> KillRound:
    progress = run.progress
    progress(f"kill round {number}: {opts.sessions} sessions over {len(nodes)} nodes")
    state = state_data()
    async with session_clients(nodes, opts.sessions, f"kill{number}") as tracked:
        clients = [t.client for t in tracked if t.client is not None]
        # One write each first: every session has state, every client a warm connection.
        async with trio.open_nursery() as nursery:
            for client in clients:
                nursery.start_soon(client.update_state, state)
        on_victim = [t for t in tracked if t.client and t.client.node_id == victim.node_id]
        others = [t for t in tracked if t.client and t.client.node_id != victim.node_id]
        result = KillRound(victim=victim.node_id, held=len(on_victim))
        progress(f"SIGKILL {victim.node_id} (holding {len(on_victim)} of {len(tracked)})")
        probes: list[Probe] = [run.cpu_probe([n for n in nodes if n is not victim]), MachineProbe()]
        for probe in probes:
            await probe.begin()
        killed_at = time.perf_counter()
        run.kill_node(victim)

        async def first_request(entry: Tracked) -> None:
            assert entry.client is not None
            affected = Affected(session_id=str(entry.client.session_id))
            result.affected.append(affected)
            try:
                await entry.client.update_state(state)
                affected.answered_at = (time.perf_counter() - killed_at) * 1000
                affected.node_id = entry.client.node_id
            except Exception as exc:  # SessionLost, RequestFailed, TooSlowError: reported
                affected.error = f"{type(exc).__name__}: {exc}"[:200]
            lost = entry.first("reconnecting", killed_at)
            restored = entry.first("restored", killed_at)
            affected.lost_at = (lost - killed_at) * 1000 if lost else None
            affected.restored_at = (restored - killed_at) * 1000 if restored else None

        async def other_request(entry: Tracked) -> None:
            assert entry.client is not None
            started = time.perf_counter()
            try:
                await entry.client.update_state(state)
                result.others_ms.append((time.perf_counter() - started) * 1000)
            except Exception:
                result.others_ms.append(float("nan"))

        with trio.move_on_after(KILL_WAIT + 5):
            async with trio.open_nursery() as nursery:
                for entry in on_victim:
                    nursery.start_soon(first_request, entry)
                for entry in others:
                    nursery.start_soon(other_request, entry)
        seconds = time.perf_counter() - killed_at
        for probe in probes:
            result.probes.update(await probe.end(len(tracked), seconds))
        done = [a for a in result.affected if a.answered_at is not None]
        wrong = [a for a in done if a.node_id == victim.node_id]
        if wrong:
            run.notes.append(f"{len(wrong)} session(s) answered by the killed node?")
        progress(
            f"{len(done)}/{len(on_victim)} affected sessions answered elsewhere; p50 "
            f"{num(_ms([a.answered_at for a in done if a.answered_at is not None]).p50_ms)} ms"
        )
        for client in clients:
            await client.close()
    return result


# -- 2. conflicts ------------------------------------------------------------------------------


@dataclass
class ConflictCell:
    writers: int
    cell: Cell
    conflicts: int
    other_errors: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "writers": self.writers,
            "conflicts": self.conflicts,
            "other_errors": self.other_errors,
            **self.cell.as_dict(),
        }


async def conflict_cell(run: Run, node: NodeProc, writers: int, opts: Options) -> ConflictCell:
    state = state_data()
    counts = {"conflicts": 0}
    other: dict[str, int] = {}
    async with open_connection(node.url) as connection:
        created = await connection.request("create_session", client_id=f"bench-conflict-{writers}")
        session_id = str(created["session_id"])
        version = int(created["version"])

        def writer(connection: Connection) -> Any:
            known = {"version": version}

            async def update() -> str | None:
                while True:
                    response = await connection.call(
                        "update_session_state",
                        {"session_id": session_id, "state_data": state,
                         "expected_version": known["version"]},
                    )
                    failure = failure_of(response)
                    if failure is None:
                        known["version"] = int(response["result"]["version"])
                        return None
                    if failure != "SessionConflict":
                        other[failure] = other.get(failure, 0) + 1
                        return failure
                    counts["conflicts"] += 1
                    known["version"] = int(response["details"]["current_version"])

            return update

        workers = [writer(connection) for _ in range(writers)]
        commands = RedisCommandsProbe(run.redis)

        class ConflictWindow:
            """Conflicts counted inside the window only."""

            async def begin(self) -> None:
                counts["at_begin"] = counts["conflicts"]

            async def end(self, operations: int, seconds: float) -> dict[str, Any]:
                return {"conflicts": counts["conflicts"] - counts.get("at_begin", 0)}

        cell = await measure("conflicts", f"update x{writers} on one session", workers,
                             warmup=opts.warmup, duration=opts.duration,
                             probes=[commands, ConflictWindow(), run.cpu_probe([node]),
                                     MachineProbe()])
    run.progress.cell(cell)
    return ConflictCell(writers=writers, cell=cell, conflicts=int(cell.probes["conflicts"]),
                        other_errors=other)


# -- 3. expiry ---------------------------------------------------------------------------------


@dataclass
class Expiring:
    session_id: str
    client_id: str
    deadline: float  # time.time() when its alive key is due to expire
    alive_gone: float | None = None
    all_gone: float | None = None


@dataclass
class ExpiryResult:
    events: bool
    node_said: str
    sessions: list[Expiring]
    waited: float
    lease_ttl_after_stop_ms: int | None = None

    def delays(self, attribute: str) -> list[float]:
        out = []
        for s in self.sessions:
            at = getattr(s, attribute)
            if at is not None:
                out.append(at - s.deadline)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "keyspace_events": self.events,
            "node_log": self.node_said,
            "waited_s": round(self.waited, 2),
            "sessions": [s.__dict__ for s in self.sessions],
            "sweeper_lease_pttl_after_graceful_stop_ms": self.lease_ttl_after_stop_ms,
        }


async def expiry_phase(run: Run, opts: Options, *, events: bool) -> ExpiryResult:
    progress = run.progress
    redis = run.redis
    await redis.flushall()
    if not events:
        await redis.config_set({"notify-keyspace-events": ""})
        # As a managed Redis: CONFIG refused (to every client of the default user, this one too).
        await redis.acl_setuser("default", "-config")
    node = await run.start_node(
        "--session-timeout", str(EXPIRY_TIMEOUT),
        "--cleanup-interval", str(opts.cleanup_interval),
        *opts.node_args,
        name="node-expiry-events" if events else "node-expiry-sweeper",
    )
    said = run.log_lines(node, "keyspaceeventsunavailable")
    node_said = "could not enable keyspace events (logged)" if said else "enabled keyspace events"
    progress(f"expiry: {opts.expiry_sessions} sessions of {EXPIRY_TIMEOUT} s; node {node_said}")
    sessions: list[Expiring] = []
    async with open_connection(node.url) as connection:
        for index in range(opts.expiry_sessions):
            client_id = f"bench-expiry-{index}"
            created = await connection.request("create_session", client_id=client_id)
            session_id = str(created["session_id"])
            ttl = await redis.pttl(keys.SessionKeys(session_id).alive)
            sessions.append(Expiring(session_id, client_id, time.time() + ttl / 1000))
    limit = EXPIRY_TIMEOUT + 10 + (0 if events else opts.cleanup_interval + 5)
    started = time.time()
    pending = list(sessions)
    while pending and time.time() - started < limit:
        async with redis.pipeline(transaction=False) as pipe:
            checks = []
            for s in pending:
                k = keys.SessionKeys(s.session_id)
                checks.append(
                    (
                        pipe.exists([k.alive]),
                        pipe.exists(list(k.all_keys())),
                        pipe.zscore(keys.EXPIRY_INDEX, f"{s.session_id} {s.client_id}"),
                        pipe.zscore(keys.client_sessions(s.client_id), s.session_id),
                    )
                )
        now = time.time()
        still = []
        for s, (alive_req, keys_req, expiry_req, index_req) in zip(pending, checks, strict=True):
            alive, left = await alive_req, await keys_req
            in_expiry, in_index = await expiry_req, await index_req
            if not alive and s.alive_gone is None:
                s.alive_gone = now
            if left == 0 and in_expiry is None and in_index is None:
                s.all_gone = now
            else:
                still.append(s)
        pending = still
        await trio.sleep(POLL)
    waited = time.time() - started
    await run.stop_node(node)
    lease_ttl: int | None = None
    if events:
        lease_ttl = int(await redis.pttl(keys.SWEEPER_LEASE))
    gone = len(sessions) - len(pending)
    progress(f"expiry: {gone}/{len(sessions)} cleaned up within {waited:.1f} s")
    return ExpiryResult(events=events, node_said=node_said, sessions=sessions, waited=waited,
                        lease_ttl_after_stop_ms=lease_ttl)


# -- the suite ---------------------------------------------------------------------------------


async def run(opts: Options, progress: Progress) -> Report:
    report = Report(
        suite="failover",
        title="failover (restore after a kill, conflicts, expiry cleanup)",
        layout=f"Everything on 127.0.0.1: redis-server (no persistence, `hz 50`), {NODES} node "
        "processes for the kill rounds (no load balancer: each client fails over across the "
        "node URLs itself), the load generator (this process; `client/session.py` "
        "SessionClients for the kill rounds).",
    )
    rounds: list[KillRound] = []
    conflicts: list[ConflictCell] = []
    expiry: list[ExpiryResult] = []
    async with Run(progress) as bench:
        await bench.start_redis()
        report.environment = bench.environment
        report.floors = await bench.measure_floors(
            (1,), warmup=opts.floor_warmup, duration=opts.floor_duration
        )
        nodes = [await bench.start_node(*opts.node_args, name=f"node-{i + 1}")
                 for i in range(NODES)]
        for number in range(1, opts.rounds + 1):
            victim = nodes[(number - 1) % NODES]
            rounds.append(await kill_round(bench, nodes, victim, opts, number))
            await bench.stop_node(victim)
            replacement = await bench.start_node(*opts.node_args, name=f"node-{NODES + number}")
            nodes[nodes.index(victim)] = replacement
        for writers in opts.writers:
            progress(f"conflicts: {writers} writers on one session")
            conflicts.append(await conflict_cell(bench, nodes[0], writers, opts))
        for node in list(nodes):
            await bench.stop_node(node)
        expiry.append(await expiry_phase(bench, opts, events=True))
        expiry.append(await expiry_phase(bench, opts, events=False))
        report.notes.extend(bench.notes)
    report.sections = sections(rounds, conflicts, expiry, opts, report)
    report.data = {
        "options": opts.__dict__,
        "kill_rounds": [r.as_dict() for r in rounds],
        "conflicts": [c.as_dict() for c in conflicts],
        "expiry": [e.as_dict() for e in expiry],
    }
    lost = [a for r in rounds for a in r.affected if a.answered_at is None]
    uncleaned = [s for e in expiry for s in e.sessions if s.all_gone is None]
    if lost or uncleaned or report.notes or any(c.other_errors for c in conflicts):
        report.failed = True
    return report


def _ms(values: list[float]) -> Latency:
    return Latency.of([v / 1000 for v in values])


def sections(
    rounds: list[KillRound],
    conflicts: list[ConflictCell],
    expiry: list[ExpiryResult],
    opts: Options,
    report: Report,
) -> list[str]:
    floors = report.floors
    get = floors.get_p50_ms if floors else None
    affected = [a for r in rounds for a in r.affected]
    answered = [a.answered_at for a in affected if a.answered_at is not None]
    lost = [a.lost_at for a in affected if a.lost_at is not None]
    restored = [a.restored_at for a in affected if a.restored_at is not None]
    others = [x for r in rounds for x in r.others_ms if x == x]
    rows = []
    for name, values in (
        ("kill → client sees the close", lost),
        ("kill → session restored on another node", restored),
        ("kill → first request answered by another node", answered),
        ("(same moment) request of a session on a surviving node", others),
    ):
        lat = _ms(values)
        rows.append([name, f"{lat.count}", num(lat.p50_ms), num(lat.p99_ms), num(lat.max_ms),
                     ratio(lat.p50_ms, get, 0)])
    failed = [a for a in affected if a.answered_at is None]
    kill = table(["per affected session", "sessions", "p50 ms", "p99 ms", "max ms",
                  "p50 ÷ GET p50"], rows)
    held = ", ".join(f"{r.victim}: {r.held}" for r in rounds)
    busy = "; ".join(machine_text(r.probes) for r in rounds)
    kill_text = (
        f"### Restore after SIGKILL of one of {NODES} nodes\n\n{kill}\n\n"
        f"{len(rounds)} round(s) of {opts.sessions} sessions; sessions on the killed node per "
        f"round: {held}. Not answered within {KILL_WAIT:g} s: {len(failed)}"
        + (f" (first: {failed[0].error})" if failed else "")
        + ". The request is `update_session_state`, sent at the kill; it is retried by the "
        "client with the same id once the session is restored (exactly-once). Machine busy "
        f"from the kill to the last answer, per round: {busy}."
    )
    crow = []
    for c in conflicts:
        cell = c.cell
        redis = cell.probes.get("redis", {}).get("commands", {})
        ops = cell.operations or 1
        watch = redis.get("watch", {}).get("per_op")
        per_success = c.conflicts / ops
        crow.append(
            [
                f"{c.writers}",
                f"{cell.operations:,}",
                f"{cell.ops_per_s:,.0f}",
                f"{c.conflicts:,}",
                num(per_success, 2),
                num(watch, 2),
                num(max(0.0, watch - 1 - per_success) if watch is not None else None, 2),
                num(cell.latency.p50_ms),
                num(cell.latency.p99_ms),
                ", ".join(f"{n} {e}" for e, n in c.other_errors.items()) or "0",
                machine_pct(cell),
            ]
        )
    conflict = table(
        ["writers (one connection)", "successes", "successes/s", "SessionConflict",
         "conflicts per success", "WATCH per success", "node-internal retries per success",
         "p50 to success ms", "p99 to success ms", "other errors", "machine busy"],
        crow,
    )
    conflict_text = (
        f"### Conflict retries under contention (one session)\n\n{conflict}\n\n"
        "Each writer: `update_session_state` with `expected_version`; on `SessionConflict` it "
        "retries with `details.current_version`. Latency is from the first attempt to the "
        "success. Every attempt, successful or not, is one WATCH transaction in the node "
        "(`INFO commandstats`); node-internal retries = WATCH per success − 1 − conflicts per "
        "success: commits whose EXEC was aborted by a concurrent commit and retried by the node "
        "itself (jittered back-off) before it answered."
    )
    erows = []
    for e in expiry:
        gone, alive = _ms([d * 1000 for d in e.delays("all_gone")]), _ms(
            [d * 1000 for d in e.delays("alive_gone")]
        )
        not_gone = sum(1 for s in e.sessions if s.all_gone is None)
        erows.append(
            [
                "on" if e.events else "off (CONFIG refused)",
                e.node_said,
                f"{len(e.sessions)}",
                num(alive.p50_ms, 0),
                num(gone.p50_ms, 0),
                num(gone.p99_ms, 0),
                num(gone.max_ms, 0),
                f"{not_gone} (waited {e.waited:.0f} s)",
            ]
        )
    expiry_table = table(
        ["keyspace events", "node", "sessions", "alive key gone, p50 ms after deadline",
         "all gone p50 ms", "all gone p99 ms", "all gone max ms", "not cleaned"],
        erows,
    )
    lease = next((e.lease_ttl_after_stop_ms for e in expiry if e.lease_ttl_after_stop_ms), None)
    expiry_text = (
        f"### Cleanup after expiry (sessions of {EXPIRY_TIMEOUT} s)\n\n{expiry_table}\n\n"
        "Deadline: the time of creation + PTTL of `stui:{sid}:alive`. \"All gone\": no key of "
        "the session left (`meta`, `state`, `heap`, ... `alive`), and no entry in "
        "`stui:expiry` nor in the client's index; polled every "
        f"{POLL * 1000:.0f} ms. Without events the sweeper runs every "
        f"{opts.cleanup_interval} s (`--cleanup-interval`, default "
        f"{Settings().cleanup_interval} s)."
        + (
            f" After the first node stopped gracefully its sweeper lease still had "
            f"{lease / 1000:.0f} s to live (`stui:sweeper`, PTTL read after the stop)."
            if lease and lease > 0 else ""
        )
    )
    return [kill_text, conflict_text, expiry_text]

