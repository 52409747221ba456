"""One client's WebSocket connection: read frames, run requests, write responses and events.

Requests on one connection run concurrently (an evaluation may still run while a ``ping`` is
answered), each as a task in the connection's nursery, bounded by ``max_in_flight``. Everything
sent goes through one bounded channel to one writer task, so frames never interleave and a slow
reader pushes back on its own connection only.

A handler's exception never escapes: :class:`StuiError` becomes its error response, anything
else is logged and answered as ``Error``. One bad connection can't take the node down
(``notes/websocket-on-trio.md``, thing 1).
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from cluster.errors import RateLimited, StuiError, Unavailable
from cluster.tokens import Grant

from . import protocol
from .dispatch import Call, commands
from .token_watch import TokenWatch

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("stui.connection")

SEND_BUFFER = 256
CLOSE_TOO_SLOW = 4008


class Connection:
    """One connection: its authenticated client id, its in-flight requests, its writer.

    Which sessions it holds lives in the service's :class:`~nodes.ownership.Attachments`.
    """

    def __init__(self, node: Node, ws: WebSocketConnection, remote: str) -> None:
        self.node = node
        self.service = node.service
        self.ws = ws
        self.remote = remote
        self.authenticated: str | None = None  # authenticated client id
        self.grant: Grant | None = None  # what its token allows (expiry, sessions)
        self.token_watch = TokenWatch(self)  # warns, then closes, when the token expires
        self.known_client: str | None = None  # the client this connection has acted for
        self.in_flight = 0
        self._idle = trio.Event()
        self._idle.set()
        self._send, self._outbox = trio.open_memory_channel[str](SEND_BUFFER)
        self._closing = False
        self._flushed = trio.Event()  # the writer has sent everything queued and stopped

    # -- the peer the session layer sees (nodes.ownership.Peer) ----------------------------

    @property
    def client_id(self) -> str | None:
        """The authenticated client id (``None``: session ids act as capabilities)."""
        return self.authenticated

    def authenticate(self, grant: Grant) -> None:
        """Act for ``grant.client_id`` from now on, within what its token allows."""
        self.authenticated = grant.client_id
        self.grant = grant
        self.identify(grant.client_id)
        self.token_watch.watch(grant)

    def identify(self, client_id: str) -> None:
        """The client this connection acts for (counted once as a connect)."""
        if self.known_client is None:
            self.known_client = client_id
            self.node.registry.count("connects", client_id)

    async def taken_over(self, session_id: str, epoch: int) -> None:
        """Another connection resumed ``session_id``: say so, and close this (stale) one."""
        self.send_nowait(
            protocol.event("session_taken_over", {"session_id": session_id, "epoch": epoch})
        )
        # Let the writer flush the notice before the close frame.
        await trio.sleep(0.05)
        await self.close(4001, "session taken over")

    async def overwhelmed(self) -> None:
        """Events came faster than this connection took them and one could not be queued:
        close it (4008) rather than leave a hole in what it saw; the client reconnects and
        replays the session's events from ``last_seq``."""
        await self.close(CLOSE_TOO_SLOW, "too slow for the session's events: replay them")

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        """Queue a frame; dropped if the connection is already gone."""
        try:
            await self._send.send(protocol.encode(message))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    def send_nowait(self, message: dict[str, Any]) -> bool:
        """Queue an event from outside the connection's tasks; False if the queue is full."""
        try:
            self._send.send_nowait(protocol.encode(message))
            return True
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            return False

    async def _writer(self) -> None:
        try:
            async with self._outbox:
                async for frame in self._outbox:
                    try:
                        await self.ws.send_message(frame)
                    except ConnectionClosed:
                        # Keep draining the queue so requests in flight can finish their
                        # commits; their responses have nowhere to go.
                        continue
        finally:
            self._flushed.set()

    # -- serving ---------------------------------------------------------------------------

    async def serve(self) -> None:
        """Read frames until the peer closes or the node closes us."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._writer)
                self.token_watch.attach(nursery)
                try:
                    await self._read_loop(nursery)
                finally:
                    self.token_watch.stop()
                    # Requests already running finish (their commits are atomic anyway);
                    # nothing new is read. Then the writer ends with the channel.
                    await self._idle.wait()
                    await self._send.aclose()
        except ConnectionClosed:
            pass
        finally:
            self.service.attachments.forget(self)
            if self.known_client is not None:
                self.node.registry.count("disconnects", self.known_client)

    async def _read_loop(self, nursery: trio.Nursery) -> None:
        settings = self.node.settings
        idle = settings.idle_timeout or math.inf
        while not self._closing:
            try:
                if idle == math.inf:  # no idle limit: no cancel scope per frame (~7 µs)
                    frame = await self.ws.get_message()
                else:
                    with trio.fail_after(idle):
                        frame = await self.ws.get_message()
            except ConnectionClosed:
                return
            except trio.TooSlowError:
                await self.close(4000, f"idle for {settings.idle_timeout:g} s")
                return
            received = time.perf_counter()
            try:
                request = protocol.decode(frame, settings.max_frame_bytes)
            except protocol.BadFrame as exc:
                self.node.metrics.bad_frames.inc()
                await self.send(protocol.error(exc.request_id, exc))
                continue
            if self.in_flight >= settings.max_in_flight:
                self.node.metrics.rate_limited.inc()
                refusal = RateLimited(
                    f"too many requests in flight on this connection "
                    f"(limit {settings.max_in_flight})"
                )
                await self.send(protocol.error(request.id, refusal))
                continue
            self._started()
            nursery.start_soon(self._run, request, received)

    def _started(self) -> None:
        self.in_flight += 1
        self.node.metrics.in_flight.inc()
        self._idle = trio.Event() if self.in_flight == 1 else self._idle

    def _finished(self) -> None:
        self.in_flight -= 1
        self.node.metrics.in_flight.dec()
        if self.in_flight == 0:
            self._idle.set()

    async def _run(self, request: protocol.Request, received: float) -> None:
        outcome = "success"
        try:
            if self.node.draining and request.command not in ("ping",):
                raise Unavailable("node is draining: reconnect to another node")
            if request.command != "ping":
                self._check_rate()
            result = await commands.dispatch(Call(self.service, self, request))
            response = protocol.success(request.id, result)
        except StuiError as exc:
            outcome = exc.error_type
            response = protocol.error(request.id, exc)
        except Exception:
            outcome = "Error"
            log.exception(
                "request failed", extra={"command": request.command, "request_id": request.id}
            )
            response = protocol.error(request.id, StuiError("internal error"))
        try:
            await self.send(response)
        finally:
            command = request.command if commands.knows(request.command) else "unknown"
            self.node.metrics.answered(command, outcome, time.perf_counter() - received)
            self._finished()

    def _check_rate(self) -> None:
        """The client's request rate: this node's bucket, reconciled cluster-wide in the
        background (:mod:`cluster.ratelimit`)."""
        client = self.client_id or self.known_client
        if client is None:
            return
        if not self.service.admit(client):
            self.node.metrics.rate_limited.inc()
            raise RateLimited(
                f"client {client!r} is over its rate of {self.node.settings.client_rate:g} "
                "requests per second",
                details={"rate": self.node.settings.client_rate},
            )

    async def drain(self, timeout: float) -> None:
        """Tell the client we are going, let requests in flight finish, then close."""
        self._closing = True
        self.send_nowait(protocol.event("server_draining", {"node_id": self.node.node_id}))
        with trio.move_on_after(timeout):
            await self._idle.wait()
        # Flush what is queued (the notice, the last responses) before the close frame.
        await self._send.aclose()
        with trio.move_on_after(2):
            await self._flushed.wait()
        with trio.move_on_after(2):
            await self.ws.aclose(code=1001, reason="server draining")

    async def close(self, code: int, reason: str) -> None:
        self._closing = True
        with trio.move_on_after(2):
            await self.ws.aclose(code=code, reason=reason)
