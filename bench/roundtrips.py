"""Redis round trips per request, from the node's own counter.

Every awaited Redis round trip of a node counts in ``stui_redis_round_trips_total`` on its
``/metrics`` (the health port; a ``--workers`` supervisor sums nothing itself but lists every
worker's samples, labelled by worker, so the probe adds them up). The probe reads the page at
the window's edges; the difference over the requests completed in the window is round trips
per request, the node's background work (heartbeats, sweeper) included.

A node without that counter (before issue 9's request path) gives None: the tables show "–".
"""

from __future__ import annotations

from typing import Any

import trio

from nodes.health import http_get

METRIC = "stui_redis_round_trips_total"
READ_TIMEOUT = 5.0


async def read_metrics(port: int, host: str = "127.0.0.1") -> str:
    """``GET /metrics`` of a health port (plain HTTP, one request per connection)."""
    try:
        status, body = await http_get(host, port, "/metrics", READ_TIMEOUT)
    except (ValueError, IndexError) as exc:
        raise OSError(f"/metrics on port {port} answered no HTTP status") from exc
    if status != 200:
        raise OSError(f"/metrics on port {port} answered {status}")
    return body.decode(errors="replace")


def counter_total(text: str, name: str = METRIC) -> float | None:
    """The sum of every sample of ``name`` (any labels) in a Prometheus text page; None when
    the page has none."""
    total, found = 0.0, False
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None


def by_worker(text: str, name: str) -> dict[str, float]:
    """Samples of ``name`` labelled ``worker="..."`` (a ``--workers`` supervisor's page)."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") and 'worker="' in line:
            worker = line.split('worker="', 1)[1].split('"', 1)[0]
            found[worker] = found.get(worker, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


class RoundTripProbe:
    """Round trips per operation over the window, from the node's ``/metrics``."""

    def __init__(self, health_port: int) -> None:
        self.health_port = health_port
        self._start: float | None = None

    async def _read(self) -> float | None:
        try:
            return counter_total(await read_metrics(self.health_port))
        except (OSError, trio.TooSlowError, ValueError, IndexError):
            return None

    async def begin(self) -> None:
        self._start = await self._read()

    async def end(self, operations: int, seconds: float) -> dict[str, Any]:
        try:
            text = await read_metrics(self.health_port)
        except (OSError, trio.TooSlowError, ValueError, IndexError):
            text = ""
        end = counter_total(text) if text else None
        # Where the connections are, worker by worker (empty for a single node).
        split = {k: int(v) for k, v in by_worker(text, "stui_connections").items()}
        if self._start is None or end is None or not operations:
            return {"round_trips": {"per_op": None, "total": None}, "worker_connections": split}
        used = end - self._start
        return {
            "round_trips": {"per_op": round(used / operations, 3), "total": used},
            "worker_connections": split,
        }
