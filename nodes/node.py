"""A node: the WebSocket server, its connections, and the background tasks it owns.

Task tree (structured concurrency; every task has one owner)::

    Node.run                       enters the Redis client once, in the root task
    ├── background nursery         sweeper, health port
    └── connection nursery         one task per connection (Connection.serve)
        └── listener nursery       serve_websocket; cancelled first when draining

Shutdown (SIGTERM -> :meth:`Node.drain`): stop accepting, send ``server_draining`` to every
client, let requests in flight finish (bounded by ``drain_timeout``), close the connections,
then cancel the background tasks and leave. The process then exits 0.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
from functools import partial
from typing import Any

import orjson
import trio
from trio_websocket import WebSocketRequest

from cluster.errors import StuiError
from cluster.expiry import Sweeper
from cluster.keyspace import ExpiredEvents
from cluster.ratelimit import RateSync
from cluster.redis_auth import UNAUTHORIZED_HINT, probe, redact
from cluster.registry import NodeRegistry
from cluster.rollback import ReplicationWatch, ShardLoss
from cluster.router import WireRouter
from cluster.settings import Settings
from cluster.store import SessionStore, connect, wire_pool
from cluster.topology import CLUSTER
from cluster.wire import WireError

from . import handlers as handlers  # registers the commands
from . import tls
from .connection import Connection
from .control import enable_keyspace_events, listen, on_expired_key
from .exposure import restrict
from .health import serve_health
from .held_sessions import HeldSessions
from .listeners import serve_websocket
from .metrics import NodeMetrics
from .service import SessionService
from .workspace import ImageCache

log = logging.getLogger("stui.node")

HARD_FRAME_FACTOR = 4
"""Frames up to this many times the limit are read and refused; larger ones close (1009)."""


GC_FREEZE_INTERVAL = 5.0


async def _freeze_gc_periodically(images: ImageCache) -> None:
    """Move long-lived objects (connections, cached heaps) out of the collector's sight.

    At 10,000 connections a full collection froze a process for 620-750 ms; freezing every
    few seconds cut those pauses under 0.5 ms (``notes/websocket-on-trio.md``). Frozen objects
    that die are still freed by reference counting, but cycles among them are not, and a
    dropped Smalltalk image is full of cycles: after drops, unfreeze and collect once.
    """
    seen_drops = images.drops
    while True:
        await trio.sleep(GC_FREEZE_INTERVAL)
        if images.drops != seen_drops:
            seen_drops = images.drops
            gc.unfreeze()
            gc.collect()
        gc.freeze()


class Node:
    """One stateless node. Construct, then ``await nursery.start(node.run)``."""

    def __init__(self, settings: Settings) -> None:
        settings, self.exposure_notes = restrict(settings)  # loopback only without a secret
        self.settings = settings
        self.node_id = settings.node_id or f"node-{secrets.token_hex(4)}"
        self.redis = connect(settings)
        self.wire = wire_pool(settings)
        self.store = SessionStore(self.redis, settings, self.node_id, self.wire)
        self.metrics = NodeMetrics()
        self.metrics.watch_wire(self.wire.stats)
        # Sentinel or Cluster: the router, who watches replication for lost writes, and (for
        # a cluster) one expired-key subscription per primary. None for a standalone Redis.
        self.router = self.wire if isinstance(self.wire, WireRouter) else None
        self.replication = ReplicationWatch(self.router) if self.router else None
        self.expired_events = (
            ExpiredEvents(self.router, partial(on_expired_key, self))
            if self.router is not None and self.router.topology.kind == CLUSTER
            else None
        )
        self.connections: set[Connection] = set()
        self.draining = False
        self.port = 0
        self.health_port = 0
        self.registry = NodeRegistry(self.redis, self.node_id)
        self.held = HeldSessions(self.registry)  # sessions held here, for operators
        self.sweeper = Sweeper(self.store, self.node_id, self.metrics)
        self.service = SessionService(
            settings,
            self.node_id,
            self.store,
            self.registry,
            self.metrics,
            self.spawn,
            connection_count=lambda: self.connection_count,
        )
        self.service.attachments.watchers.append(self.held.changed)
        self.metrics.watch_cache(self.service.images)
        self.metrics.watch_fanout(self.service.fanout)
        self.metrics.watch_pacing(self.service.pacing)
        self.metrics.watch_store(self.store_state)
        self.server_version = ""
        self._store_down_since: float | None = None
        self._drain_requested = trio.Event()
        self._stopped = trio.Event()
        self._background: trio.Nursery

    @property
    def images(self) -> ImageCache:
        return self.service.images

    @property
    def connection_count(self) -> int:
        return len(self.connections)

    def spawn(self, fn: Any, *args: Any) -> None:
        """Run a fire-and-forget task owned by the node (not by the request that asked).

        Dropped once the node has stopped its background tasks (shutdown).
        """
        try:
            self._background.start_soon(fn, *args)
        except RuntimeError:
            log.debug("task dropped at shutdown", extra={"task": getattr(fn, "__name__", "?")})

    # -- health ----------------------------------------------------------------------------

    async def health(self) -> tuple[bool, dict[str, Any]]:
        if self.router is None:
            redis_state = await probe(self.redis)  # ok, unreachable or unauthorized
        else:
            redis_state = await self._probe_primaries()
        healthy = redis_state in ("ok", "partial", "failing_over") and not self.draining
        return healthy, {
            "status": "ok" if healthy else ("draining" if self.draining else "degraded"),
            "node_id": self.node_id,
            "redis": redis_state,
            "store": self.store_state(),
            "connections": self.connection_count,
            "draining": self.draining,
        }

    async def _probe_primaries(self) -> str:
        """A Sentinel or Cluster store's health: ``ok`` (every primary answers), ``partial``
        (some do: a shard failing over), ``failing_over`` (none does, for less than
        ``failover_wait``: requests are waiting it out, another node would not do better, so
        the load balancer must not drop this one), then ``unreachable``; ``unauthorized``."""
        router = self.router
        assert router is not None
        if router.view is None:
            await router.recover()
        answers: list[str] = []

        async def ping(address: Any) -> None:
            try:
                with trio.fail_after(1.0):
                    reply = (await router.pool_at(address).roundtrip([("PING",)]))[0]
                answers.append("ok" if reply == "PONG" else str(reply))
            except (WireError, trio.TooSlowError) as exc:
                answers.append(str(exc))

        async with trio.open_nursery() as nursery:
            for shard in router.view.shards if router.view else ():
                nursery.start_soon(ping, shard.primary)
        up = answers.count("ok")
        if answers and up == len(answers):
            self._store_down_since = None
            return "ok"
        if up:
            self._store_down_since = None
            return "partial"
        if any(word in answer.upper() for answer in answers
               for word in ("NOAUTH", "WRONGPASS", "NOPERM")):
            return "unauthorized"
        now = trio.current_time()
        if self._store_down_since is None:
            self._store_down_since = now
        if now - self._store_down_since < self.settings.failover_wait:
            return "failing_over"
        return "unreachable"

    def store_state(self) -> dict[str, Any]:
        """The store as this node sees it: topology, primaries (and their slots), replicas'
        lag, failovers that lost writes, the durability it waits for."""
        state: dict[str, Any] = {"topology": "standalone", "generation": 1, "shards": []}
        if self.router is not None:
            state = self.router.describe()
        if self.replication is not None:
            state["replication"] = self.replication.describe()
            state["losses"] = [loss.to_wire() for loss in self.replication.losses]
        state["min_replicas"] = self.store.durability.min_replicas
        state["wait_aof"] = self.store.durability.aof
        state["rollbacks_detected"] = self.service.rollbacks.detected
        return state

    async def _after_failover(self, losses: list[ShardLoss]) -> None:
        """Primaries changed (or writes were lost): check the sessions held here."""
        try:
            found = await self.service.verify_held()
        except StuiError as exc:
            log.info("rollback check after a failover failed", extra={"error": repr(exc)})
            return
        if losses or found:
            log.warning("after a failover", extra={"shards_with_lost_writes": len(losses),
                                                   "sessions_rolled_back": found})

    # -- lifecycle -------------------------------------------------------------------------

    def drain(self) -> None:
        """Ask the node to drain and stop (idempotent; safe from a signal handler task)."""
        self._drain_requested.set()

    async def run(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        async with self.redis:
            redis_state = await probe(self.redis)
            if redis_state != "ok":
                message = (
                    UNAUTHORIZED_HINT
                    if redis_state == "unauthorized"
                    else "redis is not reachable yet"
                )
                log.error(message, extra={"redis": redact(self.settings.redis_url)})
            try:
                self.server_version = await self.store.check_server()
            except StuiError as exc:
                log.warning("could not read the store's version", extra={"error": repr(exc)})
            async with trio.open_nursery() as background:
                self._background = background
                await enable_keyspace_events(self)
                await background.start(listen, self)
                await background.start(self.service.fanout.run)  # shared sessions' events
                if self.expired_events is not None:
                    await background.start(self.expired_events.run)
                if self.replication is not None:
                    background.start_soon(self.replication.run, self._after_failover)
                if self.settings.health_port >= 0:
                    self.health_port = await background.start(
                        partial(serve_health, self, self.settings.host, self.settings.health_port)
                    )
                background.start_soon(self.sweeper.run)
                background.start_soon(self.registry.run, self._registry_fields)
                await background.start(RateSync(self.service.buckets, self.wire).run)
                await background.start(self.wire.watchdog.run)
                background.start_soon(self.held.run, self.service.attachments.by_session)
                background.start_soon(_freeze_gc_periodically, self.images)
                async with trio.open_nursery() as connections:
                    async with trio.open_nursery() as listener:
                        server = await listener.start(
                            partial(
                                serve_websocket,
                                self._handle,
                                self.settings.host,
                                self.settings.port,
                                reuse_port=self.settings.reuse_port,
                                ssl_context=tls.server_context(self.settings),
                                handler_nursery=connections,
                                max_message_size=self.settings.max_frame_bytes * HARD_FRAME_FACTOR,
                                connect_timeout=10,
                                disconnect_timeout=5,
                            )
                        )
                        self.port = server.port
                        log.info(
                            "node serving",
                            extra={
                                "port": self.port,
                                "health_port": self.health_port,
                                "host": self.settings.host,
                                "scheme": tls.scheme(self.settings),
                            },
                        )
                        for note in self.exposure_notes:
                            log.warning(note)
                        task_status.started(self.port)
                        await self._drain_requested.wait()
                        self.draining = True
                        listener.cancel_scope.cancel()
                    await self.registry.deregister()
                    await self.held.clear()
                    await self.sweeper.release_lease()
                    await self._drain_connections()
                    connections.cancel_scope.cancel()
                background.cancel_scope.cancel()
        await self.wire.aclose()
        log.info("node stopped")
        self._stopped.set()

    def _registry_fields(self) -> dict[str, Any]:
        return {
            "address": f"{tls.scheme(self.settings)}://{self.settings.host}:{self.port}/",
            "health": f"http://{self.settings.host}:{self.health_port}/healthz"
            if self.health_port
            else "",
            "connections": self.connection_count,
            "cached_sessions": len(self.images),
            "draining": int(self.draining),
            "pid": os.getpid(),
            "incarnation": self.service.incarnation,  # presence entries of this process
        }

    async def _drain_connections(self) -> None:
        log.info("node draining", extra={"connections": self.connection_count})
        async with trio.open_nursery() as nursery:
            for connection in list(self.connections):
                nursery.start_soon(connection.drain, self.settings.drain_timeout)

    async def _handle(self, request: WebSocketRequest) -> None:
        """Serve one connection; never lets an exception escape (it would kill the server)."""
        try:
            path = request.path.split("?", 1)[0]
            if path in ("/healthz", "/health"):
                healthy, body = await self.health()
                await request.reject(200 if healthy else 503, body=orjson.dumps(body))
                return
            if path == "/metrics":
                await request.reject(200, body=self.metrics.render())
                return
            if self.draining:
                await request.reject(503, body=b"draining")
                return
            if self.connection_count >= self.settings.max_connections:
                self.metrics.rate_limited.inc()
                await request.reject(503, body=b"node at its connection limit")
                return
            ws = await request.accept()
        except Exception as exc:  # a peer that resets during the handshake, or worse
            log.info("handshake failed", extra={"error": repr(exc)})
            return
        remote = getattr(ws.remote, "address", "?")
        connection = Connection(self, ws, f"{remote}")
        self.connections.add(connection)
        self.metrics.connections.inc()
        self.metrics.connections_total.inc()
        try:
            await connection.serve()
        except Exception:
            log.exception("connection failed", extra={"remote": connection.remote})
        finally:
            self.connections.discard(connection)
            self.metrics.connections.dec()
