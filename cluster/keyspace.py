"""Expired-key events from every primary of a Redis Cluster, following failovers.

Keyspace events are per server: a key that expires on one shard is announced only by that
shard's primary (replicas announce nothing; measured here, one subscription saw 5 of 12
expiries, one per primary 12 of 12). So a node keeps one subscription per primary, each on a
wire connection of its own (``SUBSCRIBE __keyevent@0__:expired``), and a supervisor that
compares them with the router's primaries every ``interval`` seconds: a subscription whose
primary is no longer one is closed, a new primary gets one, and a subscription that ends (its
primary died) makes the router ask where the primaries are now. A Sentinel or a standalone
Redis has one primary: the node's coredis subscription (``nodes/control.py``) covers it.

``notify-keyspace-events`` is a server setting that ``CONFIG SET`` does not replicate, so a
promoted replica has the events only if its own configuration had them
(:mod:`cluster.ops.redis_topology` starts every node with ``Ex``). Each subscription checks
its server with ``CONFIG GET`` and logs a warning when they are off: the sweeper then cleans
up that shard's expired sessions alone.

Events are hints (a message sent while a subscription is down is lost): the sweeper is what
makes cleanup certain.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from .router import WireRouter
from .topology import Address
from .wire import ReplyError, WireError

log = logging.getLogger("stui.keyspace")

EXPIRED = "__keyevent@0__:expired"


class ExpiredEvents:
    """One ``expired`` subscription per primary of the router; ``on_expired(key)`` per event."""

    def __init__(
        self,
        router: WireRouter,
        on_expired: Callable[[str], Awaitable[None]],
        interval: float = 0.25,
    ) -> None:
        self.router = router
        self.on_expired = on_expired
        self.interval = interval
        self.listening: dict[Address, trio.CancelScope] = {}
        self.received = 0
        self.events_off: set[Address] = set()
        """Primaries whose configuration has no expired-key events (warned about once)."""

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Supervise the subscriptions forever (cancel to stop)."""
        async with trio.open_nursery() as nursery:
            task_status.started()
            while True:
                view = self.router.view
                if view is None:
                    await self.router.recover()
                    view = self.router.view
                wanted = {shard.primary for shard in view.shards} if view else set()
                for address, scope in list(self.listening.items()):
                    if address not in wanted:
                        scope.cancel()
                        del self.listening[address]
                for address in wanted - set(self.listening):
                    scope = trio.CancelScope()
                    self.listening[address] = scope
                    nursery.start_soon(self._listen, address, scope)
                await trio.sleep(self.interval)

    async def _listen(self, address: Address, scope: trio.CancelScope) -> None:
        with scope:
            try:
                await self._subscribe(address)
            except WireError as exc:
                log.info("expired-key subscription lost", extra={"primary": str(address),
                                                                 "error": str(exc)})
            finally:
                if self.listening.get(address) is scope:
                    del self.listening[address]
            await self.router.recover()  # its primary may have failed over

    async def _subscribe(self, address: Address) -> None:
        pool = self.router.pool_at(address)
        connection = await pool.checkout()
        try:
            flags = (await connection.roundtrip([("CONFIG", "GET", "notify-keyspace-events")]))[0]
            value = str(flags[1]) if isinstance(flags, list) and len(flags) > 1 else ""
            events_on = "E" in value and ("x" in value or "A" in value)
            if not events_on and address not in self.events_off:
                self.events_off.add(address)
                log.warning(
                    "a primary has no expired-key events (notify-keyspace-events): the "
                    "sweeper alone cleans up its expired sessions",
                    extra={"primary": str(address)},
                )
            reply = (await connection.roundtrip([("SUBSCRIBE", EXPIRED)]))[0]
            if isinstance(reply, ReplyError):
                raise WireError(f"SUBSCRIBE refused: {reply}")
            while True:
                message = await connection.receive()
                if isinstance(message, list) and len(message) == 3 and message[0] == "message":
                    self.received += 1
                    await self.on_expired(str(message[2]))
        finally:
            connection.broken = True  # a subscribed connection is never reused
            pool.checkin(connection)
