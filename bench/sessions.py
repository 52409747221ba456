"""The ``sessions`` suite (issues 2 and 9): the requests of a node process, beside its floors.

Layout of a run, everything on 127.0.0.1 and stopped at the end::

    redis-server        (cluster/embedded_redis.py, its own process)
    python -m bench.echo  (floor: raw trio-websocket echo, its own process; stopped before the node)
    python -m nodes     (the node under test, its own process, on the same redis-server;
                         with --workers 1,2 once per worker count: ``--workers 2`` is a
                         supervisor and two node processes on one port)
    this process        the load generator (Trio + client/connection.py) and the coredis floor

Pinning (``--pin``, :mod:`bench.pinning`; on by default with taskset and two CPUs): the node
(one worker) and the echo server on one core, this process and redis-server on another, as
issue 9 measures. Cells with more than one worker run unpinned.

Per concurrency level, ``n`` connections are opened once and used for every operation:

- ``ping``: no session, no Redis (issue 9's budget: no round trip);
- ``create_session``: each client its own client id; the id moves to a fresh one every
  ``max_sessions_per_client`` creates, so the per-client limit is never hit and nothing is
  closed inside the window.
- ``restore_session`` / ``update_session_state``: each client on its own session, created
  before the window on the same connection; updates carry ~200 bytes of ``state_data`` and no
  ``expected_version`` (no conflicts: one writer per session).
- ``evaluate``: ``x := x + 1`` in that session, on the connection that created it (so on the
  node that owns it, whose image cache holds it: warm), after an ``x := 0`` before the window.

Beside the latencies, at the window's edges: CPU of each process (``/proc``), Redis's ``INFO
commandstats`` and the node's ``stui_redis_round_trips_total`` (its ``/metrics``), so each
operation gets round trips, commands and node CPU per request (:mod:`bench.summary`).
"""

from __future__ import annotations

import importlib
import itertools
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import coredis
import orjson
import trio

from client.connection import Connection
from cluster.ops.embedded_redis import RedisServer
from cluster.settings import Settings

from . import floors
from .clients import open_clients
from .env import environment
from .load import Cell, Operation, Probe, measure
from .pinning import Pinning
from .probes import CpuProbe, MachineProbe, RedisCommandsProbe
from .procs import ServerProcess, start_redis, stop_redis
from .roundtrips import RoundTripProbe

OPERATIONS = ("ping", "create_session", "restore_session", "update_session_state", "evaluate")
SESSION_OPERATIONS = frozenset({"restore_session", "update_session_state", "evaluate"})
"""Operations that run on a session of their own, created before the window."""
EVALUATE_CODE = "x := x + 1"
SESSION_LIMIT = Settings().max_sessions_per_client
STATE_BYTES = 200
SETUP_TIMEOUT = 60.0
NODE_ARGS = ("--log-level", "WARNING", "--client-rate", "1000000")
"""Flags of the node under test. The per-client rate limit stays on (every request still pays
its token-bucket check in Redis) but so high that the benchmark's clients never hit it."""


@dataclass(frozen=True)
class Options:
    duration: float = 3.0
    warmup: float = 1.0
    clients: tuple[int, ...] = (1, 50, 200)
    redis_tasks: tuple[int, ...] = (1, 50)
    operations: tuple[str, ...] = OPERATIONS
    profile_node: str | None = None
    node_args: tuple[str, ...] = ()
    workers: tuple[int, ...] = (1,)
    pin: str = "auto"
    """``auto``, ``on`` or ``off`` (:meth:`bench.pinning.Pinning.choose`)."""

    @property
    def cell_count(self) -> int:
        floors = len(self.redis_tasks) + len(self.clients)
        return floors + len(self.workers) * len(self.clients) * len(self.operations)


@dataclass
class NodeRun:
    """The cells of one node configuration: ``workers`` processes, pinned or not."""

    workers: int
    pinned: bool
    cells: list[Cell] = field(default_factory=list)

    @property
    def title(self) -> str:
        workers = "1 worker" if self.workers == 1 else f"{self.workers} workers"
        return f"{workers}, {'pinned' if self.pinned else 'unpinned'}"


@dataclass
class SuiteResult:
    environment: dict[str, Any] = field(default_factory=dict)
    floors: list[Cell] = field(default_factory=list)
    runs: list[NodeRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pinning: str = ""

    @property
    def cells(self) -> list[Cell]:
        """Floors first, then every node cell."""
        return [*self.floors, *(cell for run in self.runs for cell in run.cells)]


class Progress:
    """Progress lines on stderr, stamped with the seconds since the run began."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[bench +{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr,
              flush=True)

    def cell(self, cell: Cell) -> None:
        lat = cell.latency
        errors = f", {sum(cell.errors.values())} errors" if cell.errors else ""
        late = ", TIMED OUT" if cell.timed_out else ""
        self(
            f"{cell.group} {cell.operation} x{cell.clients}: {cell.ops_per_s:,.0f} ops/s, "
            f"p50 {lat.p50_ms:.2f} ms, p99 {lat.p99_ms:.2f} ms{errors}{late}"
        )


def state_data(target_bytes: int = STATE_BYTES) -> dict[str, Any]:
    """A UI state of about ``target_bytes`` bytes of JSON (what a client would save)."""
    state: dict[str, Any] = {
        "workspace": {"cursor": [12, 40], "selection": None, "tab": "Transcript"},
        "inspectors": ["a Point", "an OrderedDict"],
        "theme": "dark",
        "notes": "",
    }
    state["notes"] = "n" * max(0, target_bytes - len(orjson.dumps(state)))
    return state


def node_redis_client(url: str) -> coredis.Redis[str]:
    """A coredis client configured exactly as a node configures its own.

    ``cluster.store.connect`` is imported at run time so that ``mypy bench`` does not follow
    into the store, which is type-checked (strictly) on its own.
    """
    store = importlib.import_module("cluster.store")
    client: coredis.Redis[str] = store.connect(Settings.from_env({}, redis_url=url))
    return client


def failure_of(response: Mapping[str, Any]) -> str | None:
    """None for a success response, else its ``error_type``."""
    if response.get("status") == "success":
        return None
    return str(response.get("error_type") or "error")


def ping_workers(connections: Sequence[Connection]) -> list[Operation]:
    def worker(connection: Connection) -> Operation:
        async def ping() -> str | None:
            return failure_of(await connection.call("ping"))

        return ping

    return [worker(c) for c in connections]


def evaluate_workers(
    connections: Sequence[Connection], sessions: Sequence[str], code: str = EVALUATE_CODE
) -> list[Operation]:
    """``code`` in each connection's own session (an error inside the evaluation counts)."""

    def worker(connection: Connection, session_id: str) -> Operation:
        parameters = {"session_id": session_id, "code": code}

        async def evaluate() -> str | None:
            response = await connection.call("evaluate", parameters)
            failure = failure_of(response)
            if failure is None and response["result"].get("has_error"):
                return str(response["result"].get("error_class") or "has_error")
            return failure

        return evaluate

    return [worker(c, s) for c, s in zip(connections, sessions, strict=True)]


async def prepare_evaluations(connections: Sequence[Connection], sessions: Sequence[str]) -> None:
    """``x := 0`` in every session, on its own connection (the image is then cached there)."""

    async def one(connection: Connection, session_id: str) -> None:
        await connection.request("evaluate", session_id=session_id, code="x := 0")

    with trio.fail_after(SETUP_TIMEOUT):
        async with trio.open_nursery() as nursery:
            for connection, session_id in zip(connections, sessions, strict=True):
                nursery.start_soon(one, connection, session_id)


def create_workers(connections: Sequence[Connection], tag: str) -> list[Operation]:
    def worker(index: int, connection: Connection) -> Operation:
        counter = itertools.count()

        async def create() -> str | None:
            client_id = f"bench-{tag}-{index}-{next(counter) // SESSION_LIMIT}"
            return failure_of(await connection.call("create_session", {"client_id": client_id}))

        return create

    return [worker(i, c) for i, c in enumerate(connections)]


def restore_workers(connections: Sequence[Connection], sessions: Sequence[str]) -> list[Operation]:
    def worker(connection: Connection, session_id: str) -> Operation:
        parameters = {"session_id": session_id}

        async def restore() -> str | None:
            return failure_of(await connection.call("restore_session", parameters))

        return restore

    return [worker(c, s) for c, s in zip(connections, sessions, strict=True)]


def update_workers(connections: Sequence[Connection], sessions: Sequence[str]) -> list[Operation]:
    state = state_data()

    def worker(connection: Connection, session_id: str) -> Operation:
        parameters = {"session_id": session_id, "state_data": state}

        async def update() -> str | None:
            return failure_of(await connection.call("update_session_state", parameters))

        return update

    return [worker(c, s) for c, s in zip(connections, sessions, strict=True)]


async def create_sessions(connections: Sequence[Connection], tag: str) -> list[str]:
    """One session per connection (its own client id), created before the window."""
    sessions = [""] * len(connections)

    async def one(index: int, connection: Connection) -> None:
        result = await connection.request("create_session", client_id=f"bench-{tag}-{index}")
        sessions[index] = str(result["session_id"])

    with trio.fail_after(SETUP_TIMEOUT):
        async with trio.open_nursery() as nursery:
            for index, connection in enumerate(connections):
                nursery.start_soon(one, index, connection)
    return sessions


async def run(options: Options, progress: Progress) -> SuiteResult:
    """Start everything, measure the floors then the node(s), stop everything."""
    result = SuiteResult()
    pinning = Pinning.choose(options.pin)
    result.pinning = pinning.describe()
    async with AsyncExitStack() as stack:
        redis_server = RedisServer()
        stack.push_async_callback(stop_redis, redis_server)
        # Pinned before redis-server starts: it inherits the load generator's CPU.
        pinning.pin()
        stack.callback(pinning.release)
        progress("starting redis-server")
        await start_redis(redis_server)
        redis = node_redis_client(redis_server.url)
        await stack.enter_async_context(redis)
        server_info = await redis.info("server")
        result.environment = environment(str(server_info.get("redis_version")))
        result.environment["cpus_usable"] = len(pinning.all_cpus)  # before pinning
        redis_pid = redis_server.process.pid if redis_server.process else None
        pinning.pin(redis_pid)
        commands = RedisCommandsProbe(redis)

        # -- floors ---------------------------------------------------------------------------
        for tasks in options.redis_tasks:
            progress(f"floor: redis GET from {tasks} task(s)")
            cpu = CpuProbe({"client": None, "redis": redis_pid})
            cell = await floors.redis_floor(
                redis, tasks, warmup=options.warmup, duration=options.duration,
                probes=[cpu, commands, MachineProbe()],
            )
            progress.cell(cell)
            result.floors.append(cell)

        echo = ServerProcess("echo", "bench.echo", "--port", "0",
                             prefix=pinning.server_prefix())
        stack.push_async_callback(echo.stop)
        progress("starting the echo server")
        announced = await echo.start()
        echo_url = f"ws://127.0.0.1:{announced['port']}/"
        for clients in options.clients:
            progress(f"floor: websocket echo at {clients} connection(s)")
            cpu = CpuProbe({"client": None, "server": echo.pid})
            cell = await floors.echo_floor(
                echo_url, clients, warmup=options.warmup, duration=options.duration,
                probes=[cpu, MachineProbe()], progress=progress,
            )
            progress.cell(cell)
            result.floors.append(cell)
        await echo.stop()
        echo.remove_log()

        # -- the node, once per worker count ----------------------------------------------------
        for workers in options.workers:
            if workers == 1:
                pinning.pin(redis_pid)
            else:
                pinning.release(redis_pid)
            node_run = NodeRun(workers=workers, pinned=pinning.pinned_now)
            result.runs.append(node_run)
            await _measure_node(node_run, options, redis_server.url, redis_pid, commands,
                                pinning, progress, result.notes)
    progress("done")
    return result


async def _measure_node(
    node_run: NodeRun,
    options: Options,
    redis_url: str,
    redis_pid: int | None,
    commands: RedisCommandsProbe,
    pinning: Pinning,
    progress: Progress,
    notes: list[str],
) -> None:
    node_args = (
        "--port", "0", "--health-port", "0", "--redis-url", redis_url,
        *NODE_ARGS, *options.node_args,
        *(("--workers", str(node_run.workers)) if node_run.workers > 1 else ()),
    )
    prefix = pinning.server_prefix()
    if options.profile_node:
        # cProfile writes its file when the node exits normally (SIGTERM, then drain).
        node = ServerProcess(
            "node", "cProfile", "-o", options.profile_node, "-m", "nodes", *node_args,
            prefix=prefix,
        )
    else:
        node = ServerProcess("node", "nodes", *node_args, prefix=prefix)
    try:
        progress(f"starting the node ({node_run.title})")
        announced = await node.start()
        node_url = f"ws://127.0.0.1:{announced['port']}/"
        processes: dict[str, int | None] = {"client": None, "redis": redis_pid}
        if node_run.workers > 1:
            processes["node-sup"] = node.pid
            for index, worker in enumerate(announced.get("workers", [])):
                processes[f"node-w{index}"] = int(worker["pid"])
        else:
            processes["node"] = node.pid
        node_probes: list[Probe] = [
            CpuProbe(processes), commands, RoundTripProbe(int(announced["health_port"])),
            MachineProbe(),
        ]
        for clients in options.clients:
            node_run.cells.extend(
                await _node_cells(node_url, clients, options, node_probes, progress,
                                  f"w{node_run.workers}")
            )
    finally:
        progress("stopping the node")
        code = await node.stop()
        notes.extend(_node_log_notes(node, code))
        node.remove_log()


async def _node_cells(
    url: str,
    clients: int,
    options: Options,
    probes: Sequence[Probe],
    progress: Progress,
    tag: str = "",
) -> list[Cell]:
    cells = []
    tag = f"{tag}c{clients}"
    progress(f"node: opening {clients} connection(s)")
    async with open_clients(url, clients) as connections:
        sessions: list[str] = []
        if SESSION_OPERATIONS & set(options.operations):
            progress(f"node: creating {clients} session(s) for restore, update and evaluate")
            sessions = await create_sessions(connections, f"{tag}-own")
        if "evaluate" in options.operations:
            await prepare_evaluations(connections, sessions)
        plan: dict[str, Callable[[], list[Operation]]] = {
            "ping": lambda: ping_workers(connections),
            "create_session": lambda: create_workers(connections, f"{tag}-new"),
            "restore_session": lambda: restore_workers(connections, sessions),
            "update_session_state": lambda: update_workers(connections, sessions),
            "evaluate": lambda: evaluate_workers(connections, sessions),
        }
        for operation in options.operations:
            progress(f"node: {operation} x{clients}")
            cell = await measure(
                "node",
                operation,
                plan[operation](),
                warmup=options.warmup,
                duration=options.duration,
                probes=probes,
            )
            progress.cell(cell)
            cells.append(cell)
    return cells


def _node_log_notes(node: ServerProcess, code: int | None) -> list[str]:
    notes = []
    if code not in (0, None):
        notes.append(f"the node exited with code {code} (expected 0 after SIGTERM)")
    log = node.log_tail(lines=100_000)
    errors = [line for line in log.splitlines() if '"level":"error"' in line.replace(" ", "")]
    if errors:
        notes.append(f"the node logged {len(errors)} error line(s); first: {errors[0][:300]}")
    return notes
