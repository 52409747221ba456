"""The supervisor's health port: one ``/healthz`` and one ``/metrics`` for all its workers.

With ``--workers N`` the port a load balancer checks belongs to the supervisor, whose
workers come and go (a restarted worker picks a new health port). So the supervisor answers
on ``--health-port`` for them, asking each serving worker's own health port (announced in
its start-up line) at request time:

- ``/healthz``: 200 while the supervisor is not draining and at least one worker answers
  healthy (the port still serves: the kernel sends new connections to the listening
  workers); ``status`` is ``ok`` when every worker is healthy, ``degraded`` when only some
  are, ``draining`` or ``down`` with 503. The body lists every worker.
- ``/metrics``: every worker's metrics in one Prometheus text page, each sample labelled
  ``worker="<id>-w<k>"``, plus the supervisor's ``stui_workers_serving`` and
  ``stui_worker_restarts``. Counters of a restarted worker start from zero again (as for any
  restarted process; Prometheus's ``rate`` handles resets).

Plain HTTP through :func:`nodes.health.serve_http`: one request per connection, bounded in
time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson
import trio
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from .health import http_get, serve_http

if TYPE_CHECKING:
    from .workers import Supervisor, WorkerSlot

log = logging.getLogger("stui.workers")

WORKER_TIMEOUT = 2.0
"""Seconds the supervisor waits for one worker's health port."""


async def serve_supervisor_health(
    supervisor: Supervisor,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; ``task_status.started`` gets the bound port."""

    async def healthz() -> tuple[bool, dict[str, Any]]:
        return await health(supervisor)

    async def merged() -> bytes:
        return await metrics(supervisor)

    await serve_http(healthz, merged, host, port, task_status=task_status)


def _local(host: str) -> str:
    """Where to reach a worker's health port bound on ``host`` (a wildcard: loopback)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


async def _ask_workers(supervisor: Supervisor, path: str) -> dict[str, tuple[int, bytes] | None]:
    """``path`` of every serving worker, concurrently; None for a worker that did not answer."""
    answers: dict[str, tuple[int, bytes] | None] = {}
    host = _local(supervisor.settings.host)

    async def ask(slot: WorkerSlot) -> None:
        answers[slot.node_id] = None
        if not (slot.serving and slot.health_port):
            return
        try:
            answers[slot.node_id] = await http_get(host, slot.health_port, path, WORKER_TIMEOUT)
        except (OSError, trio.TooSlowError, ValueError, IndexError) as exc:
            log.info("worker health not read", extra={"worker": slot.node_id, "error": repr(exc)})

    async with trio.open_nursery() as nursery:
        for slot in supervisor.slots:
            nursery.start_soon(ask, slot)
    return answers


async def health(supervisor: Supervisor) -> tuple[bool, dict[str, Any]]:
    """(healthy, body): see the module's docstring."""
    answers = await _ask_workers(supervisor, "/healthz")
    workers: list[dict[str, Any]] = []
    healthy = 0
    connections = 0
    for slot in supervisor.slots:
        entry = slot.facts()
        answer = answers.get(slot.node_id)
        if answer is None:
            entry["status"] = "restarting" if not slot.serving else "unreachable"
        else:
            code, body = answer
            try:
                reported: dict[str, Any] = dict(orjson.loads(body))
            except orjson.JSONDecodeError:
                reported = {}
            entry["status"] = str(reported.get("status", "unreachable"))
            entry["redis"] = reported.get("redis")
            connections += int(reported.get("connections") or 0)
            healthy += code == 200
        workers.append(entry)
    if supervisor.draining:
        status = "draining"
    elif healthy == len(workers):
        status = "ok"
    elif healthy:
        status = "degraded"
    else:
        status = "down"
    ok = healthy > 0 and not supervisor.draining
    return ok, {
        "status": status,
        "node_id": supervisor.node_id,
        "redis": "ok" if healthy else "unknown",
        "connections": connections,
        "draining": supervisor.draining,
        "workers": workers,
    }


class _Merged:
    """A collector yielding already-built families (for ``generate_latest``)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def metrics(supervisor: Supervisor) -> bytes:
    """Every worker's metrics, labelled by worker, and the supervisor's own."""
    answers = await _ask_workers(supervisor, "/metrics")
    families: dict[str, Metric] = {}
    for worker, answer in answers.items():
        if answer is None or answer[0] != 200:
            continue
        for family in text_string_to_metric_families(answer[1].decode()):
            merged = families.get(family.name)
            if merged is None:
                merged = families[family.name] = Metric(
                    family.name, family.documentation, family.type, family.unit
                )
            for sample in family.samples:
                merged.add_sample(sample.name, {**sample.labels, "worker": worker}, sample.value)
    serving = Metric("stui_workers_serving", "worker processes serving now", "gauge")
    serving.add_sample("stui_workers_serving", {}, sum(s.serving for s in supervisor.slots))
    restarts = Metric("stui_worker_restarts", "times each worker was started again", "counter")
    for slot in supervisor.slots:
        restarts.add_sample("stui_worker_restarts_total", {"worker": slot.node_id}, slot.restarts)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged([*families.values(), serving, restarts]))
    return generate_latest(registry)
