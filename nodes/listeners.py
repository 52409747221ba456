"""The node's WebSocket listener, optionally sharing its port with sibling processes.

``stui-node --workers N`` (:mod:`nodes.workers`) runs N node processes on one port. Each worker
binds its own listening socket with ``SO_REUSEPORT``, and the kernel spreads incoming
connections over the listening sockets of the group by a hash of the connection's addresses:
each worker accepts from its own queue, so no worker is woken for a connection another one
takes, and long-lived connections end up split about evenly (a shared accept queue would let
whichever worker wakes first take a whole burst of them).

The supervisor reserves the port first with :func:`reserve_port`: a socket bound with
``SO_REUSEPORT`` that never listens. It receives no connections (only listening sockets do),
but it keeps the port ours while every worker is down, and a process that did not set
``SO_REUSEPORT`` cannot bind it.

Without ``reuse_port`` the listener is exactly trio's ``open_tcp_listeners`` (what
``trio_websocket.serve_websocket`` uses), so a single node behaves as before.
"""

from __future__ import annotations

import socket as stdlib_socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import trio
from trio_websocket import WebSocketRequest, WebSocketServer

BACKLOG = 0xFFFF
"""Pending connections per listening socket: as many as the kernel allows (it caps the value
at ``net.core.somaxconn``), as ``trio.open_tcp_listeners`` asks by default."""


async def _addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """Passive TCP addresses of ``host`` (an address or a name; the first family first)."""
    infos = await trio.socket.getaddrinfo(
        host, port, type=stdlib_socket.SOCK_STREAM, flags=stdlib_socket.AI_PASSIVE
    )
    unique: list[tuple[Any, ...]] = []
    for family, kind, proto, _, address in infos:
        entry = (family, kind, proto, address)
        if entry not in unique:
            unique.append(entry)
    if not unique:
        raise OSError(f"{host!r} resolves to no address")
    return unique


def _reusable_socket(family: int, kind: int, proto: int) -> trio.socket.SocketType:
    sock = trio.socket.socket(family, kind, proto)
    try:
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEADDR, 1)
        sock.setsockopt(stdlib_socket.SOL_SOCKET, stdlib_socket.SO_REUSEPORT, 1)
        if family == stdlib_socket.AF_INET6:
            sock.setsockopt(stdlib_socket.IPPROTO_IPV6, stdlib_socket.IPV6_V6ONLY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


async def reserve_port(host: str, port: int) -> tuple[int, list[trio.socket.SocketType]]:
    """Bind (never listen) ``SO_REUSEPORT`` sockets on every address of ``host``; port 0
    picks a free port, the same on every address. Returns (port, sockets): keep the sockets
    open as long as the port must stay reserved, close them after."""
    sockets: list[trio.socket.SocketType] = []
    try:
        for family, kind, proto, address in await _addresses(host, port):
            sock = _reusable_socket(family, kind, proto)
            sockets.append(sock)
            await sock.bind((address[0], port, *address[2:]))
            port = int(sock.getsockname()[1])
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return port, sockets


async def open_listeners(host: str, port: int, *, reuse_port: bool) -> list[trio.SocketListener]:
    """Listening sockets on ``host:port``: trio's own, or ``SO_REUSEPORT`` ones that other
    processes with ``reuse_port`` (the same user) may bind beside."""
    if not reuse_port:
        return await trio.open_tcp_listeners(port, host=host)
    _port, sockets = await reserve_port(host, port)
    try:
        for sock in sockets:
            sock.listen(BACKLOG)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return [trio.SocketListener(sock) for sock in sockets]


async def serve_websocket(
    handler: Callable[[WebSocketRequest], Awaitable[None]],
    host: str,
    port: int,
    *,
    reuse_port: bool,
    ssl_context: ssl.SSLContext | None = None,
    handler_nursery: trio.Nursery,
    max_message_size: int,
    connect_timeout: float,
    disconnect_timeout: float,
    task_status: trio.TaskStatus[WebSocketServer] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``trio_websocket.serve_websocket`` on :func:`open_listeners` (``wss://`` with an
    ``ssl_context``); runs until cancelled, ``task_status.started`` gets the server (its
    ``port`` is the bound port)."""
    tcp = await open_listeners(host, port, reuse_port=reuse_port)
    listeners: list[Any] = list(tcp)
    if ssl_context is not None:
        listeners = [
            trio.SSLListener(listener, ssl_context, https_compatible=False) for listener in tcp
        ]
    server = WebSocketServer(
        handler,
        listeners,
        handler_nursery=handler_nursery,
        max_message_size=max_message_size,
        connect_timeout=connect_timeout,
        disconnect_timeout=disconnect_timeout,
    )
    await server.run(task_status=task_status)
