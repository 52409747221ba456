"""A tiny plain-HTTP responder for ``/healthz`` and ``/metrics`` on a second port.

trio-websocket cannot answer a plain HTTP GET (wsproto answers 400 before our handler runs), and
load balancers and Prometheus speak plain HTTP, so health and metrics get their own port. The
WebSocket port also answers an upgrade request to ``/healthz`` (see ``Node._handle``). A node
and a ``--workers`` supervisor (:mod:`nodes.workers_health`) answer the same two paths, each
with its own facts, through :func:`serve_http`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
import trio

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("stui.health")

MAX_REQUEST = 8192
METRICS_TYPE = "text/plain; version=0.0.4"

Health = Callable[[], Awaitable[tuple[bool, dict[str, object]]]]
Metrics = Callable[[], Awaitable[bytes]]


async def serve_http(
    health: Health,
    metrics: Metrics,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``/healthz`` (200 or 503 with ``health()``'s JSON body) and ``/metrics`` until
    cancelled; one request per connection, bounded in time. ``task_status.started`` gets the
    bound port."""

    async def handle(stream: trio.SocketStream) -> None:
        try:
            with trio.move_on_after(5):
                await _answer(health, metrics, stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        except Exception:
            log.exception("health request failed")
        finally:
            await stream.aclose()

    listeners = await trio.open_tcp_listeners(port, host=host)
    task_status.started(int(listeners[0].socket.getsockname()[1]))
    await trio.serve_listeners(handle, listeners)


async def serve_health(
    node: Node,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """A node's health port (see :func:`serve_http`)."""

    async def metrics() -> bytes:
        return node.metrics.render()

    await serve_http(node.health, metrics, host, port, task_status=task_status)


async def _answer(health: Health, metrics: Metrics, stream: trio.SocketStream) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
        chunk = await stream.receive_some(1024)
        if not chunk:
            return
        data += chunk
    parts = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
    if path in ("/healthz", "/health"):
        healthy, body = await health()
        status, content, ctype = (200 if healthy else 503), orjson.dumps(body), "application/json"
    elif path == "/metrics":
        status, content, ctype = 200, await metrics(), METRICS_TYPE
    else:
        status, content, ctype = 404, b'{"error": "not found"}', "application/json"
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(content)}\r\nConnection: close\r\n\r\n"
    )
    await stream.send_all(head.encode() + content)


async def http_get(host: str, port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """GET ``path`` of a health port: (status, body). The client side of :func:`serve_http`,
    for supervisors, the bench and tests."""
    with trio.fail_after(timeout):
        stream = await trio.open_tcp_stream(host, port)
        async with stream:
            await stream.send_all(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while chunk := await stream.receive_some(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body
