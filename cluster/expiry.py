"""Expiry cleanup: one sweeper at a time over the deadline index, the ground truth.

Sessions expire by Redis TTL (the ``alive`` shadow key expires first; data keys live a little
longer). What TTL cannot clean is the cross-session indexes, so every node runs a
:class:`Sweeper`, but only the holder of a lease sweeps: no herd of nodes all scanning every
minute. Each pass takes the due members of ``stui:expiry``; a session whose ``alive`` key still
exists was refreshed (sliding expiry) and is rescheduled at its real deadline, the others are
removed with :meth:`SessionStore.remove`, which is idempotent.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import trio
from coredis.exceptions import RedisError
from coredis.tokens import PureToken

from . import keys
from .store import SessionStore, parse_expiry_member

if TYPE_CHECKING:
    pass

log = logging.getLogger("stui.expiry")

BATCH = 500

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class EvictionCounter(Protocol):
    @property
    def evictions(self) -> _Inc: ...


class _Inc(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class Sweeper:
    """Sweeps expired sessions every ``cleanup_interval`` seconds while it holds the lease."""

    def __init__(self, store: SessionStore, holder: str, metrics: EvictionCounter | None = None):
        self.store = store
        self.holder = holder
        self.metrics = metrics
        self.interval = store.settings.cleanup_interval
        self.epoch = 0
        self._lease = store.redis.register_script(
            (Path(__file__).parent / "lua" / "lease.lua").read_text()
        )

    async def run(self) -> None:
        """Loop forever (cancel to stop); a failed pass is logged and retried next time."""
        while True:
            try:
                if await self.acquire_lease():
                    await self.sweep()
            except (RedisError, OSError, TimeoutError, trio.TooSlowError) as exc:
                log.warning("sweep failed", extra={"error": repr(exc)})
            await trio.sleep(self.interval)

    async def acquire_lease(self) -> bool:
        """Take or keep the sweeper lease (valid a little longer than one interval)."""
        ttl_ms = int(self.interval * 1000 * 2) + 1000
        epoch: Any = await self._lease(
            keys=[keys.SWEEPER_LEASE, keys.SWEEPER_EPOCH], args=[self.holder, ttl_ms]
        )
        self.epoch = int(epoch)
        return self.epoch > 0

    async def holds_lease(self) -> bool:
        """Whether the lease is still ours at our epoch (checked between batches: a sweeper
        paused past its lease stops instead of racing the next one)."""
        return bool(await self.store.redis.get(keys.SWEEPER_LEASE) == self._lease_value)

    @property
    def _lease_value(self) -> str:
        return f"{self.holder} {self.epoch}"

    async def release_lease(self) -> None:
        """Give the lease up (a draining node), so another node sweeps without waiting."""
        if not self.epoch:
            return
        try:
            await self.store.redis.eval(
                _RELEASE, keys=[keys.SWEEPER_LEASE], args=[self._lease_value]
            )
        except (RedisError, OSError, TimeoutError) as exc:
            log.info("sweeper lease not released", extra={"error": repr(exc)})

    async def sweep(self, now: float | None = None) -> int:
        """One pass over due sessions; how many were removed."""
        redis = self.store.redis
        now = time.time() if now is None else now
        removed = 0
        while True:
            due = await redis.zrange(
                keys.EXPIRY_INDEX, "-inf", now, sortby=PureToken.BYSCORE, offset=0, count=BATCH
            )
            if not due:
                return removed
            async with redis.pipeline(transaction=False) as pipe:
                ttls = [
                    pipe.pttl(keys.SessionKeys(parse_expiry_member(str(m))[0]).alive) for m in due
                ]
            rescheduled: dict[str | bytes, int | float] = {}
            for member, ttl_req in zip(due, ttls, strict=True):
                ttl = await ttl_req
                session_id, client_id = parse_expiry_member(str(member))
                if ttl >= 0:
                    rescheduled[str(member)] = now + ttl / 1000
                elif await self.store.remove(session_id, client_id, if_expired=True):
                    removed += 1
                    if self.metrics is not None:
                        self.metrics.evictions.inc()
            if rescheduled:
                await redis.zadd(keys.EXPIRY_INDEX, rescheduled)
            if len(due) < BATCH or (self.epoch and not await self.holds_lease()):
                if removed:
                    log.info("expired sessions cleaned", extra={"count": removed})
                return removed
