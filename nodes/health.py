"""A tiny plain-HTTP responder for ``/healthz`` and ``/metrics`` on a second port.

trio-websocket cannot answer a plain HTTP GET (wsproto answers 400 before our handler runs), and
load balancers and Prometheus speak plain HTTP, so health and metrics get their own port. The
WebSocket port also answers an upgrade request to ``/healthz`` (see ``Node._handle``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson
import trio

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("stui.health")

MAX_REQUEST = 8192


async def serve_health(
    node: Node,
    host: str,
    port: int,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until cancelled; ``task_status.started`` gets the bound port."""

    async def handle(stream: trio.SocketStream) -> None:
        try:
            with trio.move_on_after(5):
                await _answer(node, stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass
        except Exception:
            log.exception("health request failed")
        finally:
            await stream.aclose()

    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    task_status.started(int(bound))
    await trio.serve_listeners(handle, listeners)


async def _answer(node: Node, stream: trio.SocketStream) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_REQUEST:
        chunk = await stream.receive_some(1024)
        if not chunk:
            return
        data += chunk
    request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
    if path in ("/healthz", "/health"):
        healthy, body = await node.health()
        status, content, ctype = (200 if healthy else 503), orjson.dumps(body), "application/json"
    elif path == "/metrics":
        status, content, ctype = 200, node.metrics.render(), "text/plain; version=0.0.4"
    else:
        status, content, ctype = 404, b'{"error": "not found"}', "application/json"
    reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(content)}\r\nConnection: close\r\n\r\n"
    )
    await stream.send_all(head.encode() + content)
