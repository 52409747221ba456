"""``stui-node --workers N``: a supervisor process and N node processes on one port.

A node is one Python process, and one process is one core (the GIL; ``docs/performance.md``,
scaling). To use every core of a host without a load balancer in front of each process, the
supervisor starts N workers, each a full node (:class:`nodes.node.Node`, its own Redis
client, its own id ``<id>-w<k>`` in the node registry), all listening on the same port with
``SO_REUSEPORT`` (:mod:`nodes.listeners`): the kernel spreads connections over them.

Task tree of the supervisor (structured concurrency; nothing outlives :meth:`Supervisor.run`)::

    Supervisor.run            reserves the port (a bound socket that never listens)
    ├── one task per worker   start it, read its announcement, wait for its exit;
    │                         restart it with back-off unless the supervisor is draining
    └── health responder      the aggregated /healthz and /metrics (nodes/workers_health.py)

Workers (``python -m nodes --supervised --reuse-port ...``) get the supervisor's settings
through ``STUI_*`` variables, share its stderr (JSON logs, each line with the worker's id)
and read its pipe on their stdin: if the supervisor dies, even by SIGKILL, the pipe closes
and they drain by themselves instead of serving on as orphans. A worker that exits (crash,
SIGKILL, out of memory) is restarted with its old id after a back-off that doubles from
0.5 s up to 10 s and starts over once a worker has run for a minute; every exit is logged.

SIGTERM (or SIGINT) to the supervisor: SIGTERM to every worker (each drains: tells its
clients ``server_draining``, finishes requests in flight, exits 0), no restarts, wait for
all of them (bounded: ``drain_timeout`` + 10 s, then SIGKILL), exit 0 if every worker
exited 0. To crash the whole node (chaos), SIGKILL its process group: the workers are in
the supervisor's group.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import attrs
import orjson
import trio

from cluster.settings import Settings

from .listeners import reserve_port

log = logging.getLogger("stui.workers")

START_TIMEOUT = 30.0
"""Seconds a worker may take to announce its ports (imports, Redis client, listener)."""
BACKOFF_FIRST = 0.5
BACKOFF_MAX = 10.0
STABLE_AFTER = 60.0
"""A worker that ran this long before dying is restarted after the first back-off again."""
STOP_GRACE = 10.0
"""Seconds past ``drain_timeout`` that draining workers get before SIGKILL."""


class WorkerStartFailed(RuntimeError):
    """A worker exited or stayed silent before announcing its ports."""


def worker_count(text: str | None) -> int:
    """``--workers``: a positive number, or ``auto`` (one per CPU this process may use)."""
    value = (text or "1").strip().lower()
    if value == "auto":
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)
    count = int(value)
    if count < 1:
        raise ValueError(f"--workers must be at least 1 (or auto), not {count}")
    return count


def settings_env(settings: Settings) -> dict[str, str]:
    """Every setting as its ``STUI_*`` variable, so a worker resolves to the same settings
    (through the environment: a secret in argv would show in ``ps``)."""
    env: dict[str, str] = {}
    for field in attrs.fields(Settings):
        value = getattr(settings, field.name)
        if isinstance(value, bool):
            text = "1" if value else "0"
        elif isinstance(value, frozenset):
            text = ",".join(sorted(value))
        else:
            text = str(value)
        env["STUI_" + field.name.upper()] = text
    return env


@attrs.define
class WorkerSlot:
    """One worker position: its id stays, its process changes with every restart."""

    index: int
    node_id: str
    process: trio.Process | None = None
    pid: int = 0
    health_port: int = 0
    serving: bool = False
    starts: int = 0
    served: bool = False
    """Whether the current (or last) process announced itself."""
    failed_drain: bool = False

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def facts(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "pid": self.pid,
            "health_port": self.health_port,
            "serving": self.serving,
            "restarts": self.restarts,
        }


class Supervisor:
    """Start N workers on one port, keep them running, drain them all on request."""

    def __init__(
        self,
        settings: Settings,
        workers: int,
        *,
        python: str = sys.executable,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.node_id = settings.node_id or f"node-{os.urandom(4).hex()}"
        self.slots = [WorkerSlot(k, f"{self.node_id}-w{k}") for k in range(workers)]
        self.python = python
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.port = 0
        self.health_port = 0
        self.draining = False
        self._drain_requested = trio.Event()

    def drain(self) -> None:
        """Ask every worker to drain, then stop (idempotent; safe from a signal task)."""
        self._drain_requested.set()

    def announcement(self) -> dict[str, Any]:
        """The start-up line: ``stui-node``'s fields, plus one entry per worker."""
        return {
            "node_id": self.node_id,
            "port": self.port,
            "health_port": self.health_port,
            "pid": os.getpid(),
            "workers": [slot.facts() for slot in self.slots],
        }

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> int:
        """Serve until :meth:`drain`; the exit code (0: every worker drained and exited 0)."""
        from .workers_health import serve_supervisor_health

        self.port, reserved = await reserve_port(self.settings.host, self.settings.port)
        try:
            async with trio.open_nursery() as nursery:
                async with trio.open_nursery() as starting:
                    for slot in self.slots:
                        starting.start_soon(partial(nursery.start, self._keep_running, slot))
                if self.settings.health_port >= 0:
                    self.health_port = await nursery.start(
                        partial(serve_supervisor_health, self, self.settings.host,
                                self.settings.health_port)
                    )
                log.info("workers serving", extra={"port": self.port, "workers": len(self.slots)})
                task_status.started(self.port)
                await self._drain_requested.wait()
                await self._drain_workers()
                nursery.cancel_scope.cancel()
        finally:
            for sock in reserved:
                sock.close()
        failed = [slot.node_id for slot in self.slots if slot.failed_drain]
        if failed:
            log.error("workers did not drain cleanly", extra={"workers": failed})
        log.info("workers stopped")
        return 1 if failed else 0

    async def _drain_workers(self) -> None:
        self.draining = True
        log.info("draining workers", extra={"workers": len(self.slots)})
        for slot in self.slots:
            if slot.process is not None and slot.process.returncode is None:
                slot.process.send_signal(signal.SIGTERM)
        with trio.move_on_after(self.settings.drain_timeout + STOP_GRACE):
            while any(slot.process is not None for slot in self.slots):
                await trio.sleep(0.05)
        for slot in self.slots:
            if slot.process is not None:
                slot.failed_drain = True
                log.error("worker did not drain in time; killed", extra={"worker": slot.node_id})

    def command(self, slot: WorkerSlot) -> list[str]:
        return [
            self.python, "-m", "nodes", "--supervised", "--reuse-port",
            "--node-id", slot.node_id, "--port", str(self.port), "--health-port", "0",
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        return {**self.base_env, **settings_env(self.settings), "STUI_WORKERS": "1"}

    async def _keep_running(
        self, slot: WorkerSlot, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the slot's worker; restart it with back-off whenever it exits, until drained.

        The first start is reported through ``task_status`` (a failure there fails the
        supervisor's start-up: a worker that cannot start once will not start later either);
        later failures are logged and retried.
        """
        delay = BACKOFF_FIRST
        first = True
        while not self.draining:
            began = trio.current_time()
            try:
                code = await self._run_once(slot, task_status if first else None)
            except WorkerStartFailed as exc:
                if first:
                    raise
                code = None
                log.error("worker did not start", extra={"worker": slot.node_id,
                                                          "error": str(exc)[-2000:]})
            first = False
            if self.draining:
                if slot.served and code not in (0, None):
                    slot.failed_drain = True
                    log.error("worker exited with an error while draining",
                              extra={"worker": slot.node_id, "exit": _exit_text(code)})
                return
            if trio.current_time() - began >= STABLE_AFTER:
                delay = BACKOFF_FIRST
            log.warning(
                "worker exited; restarting it",
                extra={"worker": slot.node_id, "pid": slot.pid, "exit": _exit_text(code),
                       "restart_in_s": delay, "restarts": slot.restarts},
            )
            with trio.move_on_after(delay):
                await self._drain_requested.wait()
            delay = min(delay * 2, BACKOFF_MAX)

    async def _run_once(
        self, slot: WorkerSlot, task_status: trio.TaskStatus[None] | None
    ) -> int | None:
        """Start the worker, read its announcement, wait for it to exit; its exit code.

        Whatever happens (cancellation included), the process is gone on return: killed if
        it still runs, and waited for.
        """
        process = await trio.lowlevel.open_process(
            self.command(slot),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            env=self.environment(),
        )
        slot.process = process
        slot.starts += 1
        slot.pid = process.pid
        slot.served = False
        try:
            assert process.stdout is not None
            with trio.move_on_after(START_TIMEOUT):
                line = await _read_line(process.stdout)
            if not line:
                if self.draining:
                    return await process.wait()
                raise WorkerStartFailed(
                    f"{slot.node_id} (pid {process.pid}) did not announce its port within "
                    f"{START_TIMEOUT:.0f} s (its log lines are on this process's stderr)"
                )
            announced = orjson.loads(line)
            slot.health_port = int(announced.get("health_port") or 0)
            slot.serving = slot.served = True
            log.info("worker serving", extra={"worker": slot.node_id, "pid": process.pid,
                                              "health_port": slot.health_port})
            if task_status is not None:
                task_status.started()
            while await process.stdout.receive_some(4096):
                pass  # a worker prints nothing after its announcement; never let a pipe fill
            return await process.wait()
        finally:
            slot.serving = False
            with trio.CancelScope(shield=True):
                if process.returncode is None:
                    process.kill()
                await process.wait()
                if process.stdin is not None:
                    await process.stdin.aclose()
                if process.stdout is not None:
                    await process.stdout.aclose()
            slot.process = None


async def _read_line(stream: trio.abc.ReceiveStream) -> bytes:
    """Bytes up to the first newline (empty if the stream ends first)."""
    buffer = b""
    while b"\n" not in buffer:
        chunk = await stream.receive_some(4096)
        if not chunk:
            return b""
        buffer += chunk
    return buffer.split(b"\n", 1)[0]


def _exit_text(code: int | None) -> str:
    if code is None:
        return "did not start"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


async def supervise(settings: Settings, workers: int) -> int:
    """``stui-node --workers N``: run the supervisor until SIGTERM/SIGINT; its exit code.

    The signal receiver stays open until every worker is gone: a second signal (Ctrl-C
    twice) changes nothing instead of killing the supervisor in the middle of the drain.
    """
    from cluster import logs

    supervisor = Supervisor(settings, workers)
    logs.configure(settings.log_level, supervisor.node_id)
    codes: list[int] = []

    async def run(*, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        codes.append(await supervisor.run(task_status=task_status))

    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain_on_signals, signals, supervisor.drain)
            async with trio.open_nursery() as serving:
                await serving.start(run)
                print(orjson.dumps(supervisor.announcement()).decode(), flush=True)
            nursery.cancel_scope.cancel()
    return codes[0] if codes else 1


async def drain_on_signals(signals: Any, drain: Callable[[], None]) -> None:
    """Call ``drain`` on every signal from ``signals`` (trio.open_signal_receiver)."""
    async for _ in signals:
        drain()
