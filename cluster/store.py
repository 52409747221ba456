"""The session store: the only module that reads and writes session data in Redis.

Reads take one round trip: a MULTI/EXEC that runs the sliding-expiry script (which refuses
expired sessions and other clients' sessions) and reads the records, so what is read is one
consistent snapshot. Writes are optimistic WATCH transactions on the session's ``meta`` hash:
read, check ``version`` (and, for fencing, ``epoch``), then MULTI/EXEC; a concurrent commit makes
EXEC fail and the write is retried (bounded, with jitter). Concurrent WATCH transactions are
capped below the connection pool size, because each holds one pooled connection while its reads
need another (``notes/redis-on-trio.md``, gotcha 2).

Cross-session indexes (the client index, the expiry index) are separate keys written outside a
session's transaction, so the layout also works on Redis Cluster; each is repaired by the reader
that finds it stale (see :meth:`SessionStore.create` and :mod:`cluster.expiry`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import coredis
import orjson
import trio
from coredis.exceptions import ConnectionError as RedisConnectionError
from coredis.exceptions import RedisError, WatchError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from . import keys
from .auth import new_session_id
from .errors import (
    CorruptRecord,
    SessionConflict,
    SessionError,
    SessionNotFound,
    Unavailable,
)
from .integrity import seal, unseal
from .model import SessionMeta, SessionState, SessionSummary
from .settings import Settings

T = TypeVar("T")

DATA_GRACE_MS = 120_000
"""Data keys outlive the ``alive`` shadow key by this much, so cleanup can still read them."""

RESERVATION_GRACE = 30.0
"""A client-index entry younger than this may be a create in progress: never pruned."""

QUARANTINE_TTL = 7 * 24 * 3600

_REDIS_DOWN = (RedisConnectionError, TimeoutError, OSError, trio.TooSlowError)


def _script(name: str) -> str:
    return (Path(__file__).parent / "lua" / name).read_text()


def connect(settings: Settings) -> coredis.Redis[str]:
    """A coredis client for ``settings.redis_url``: decoded strings, bounded waits.

    Retries are off in the client: a retried EXEC or INCR could run twice (gotcha 3). The
    store retries what it knows to be safe, with tenacity.
    """
    client: coredis.Redis[str] = coredis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        retry_policy=coredis.retry.NoRetryPolicy(),
        stream_timeout=settings.redis_timeout,
        connect_timeout=settings.redis_timeout,
        pool_timeout=settings.redis_timeout,
        max_connections=64,
    )
    return client


@attrs.frozen
class Snapshot:
    """One consistent read of a session, taken while refreshing its expiry."""

    meta: SessionMeta
    state: SessionState
    ttl_ms: int


class SessionStore:
    """Sessions in Redis: create, read, update, close, list, count and clean up.

    Every method raises :class:`Unavailable` when Redis cannot be reached, and the errors of
    :mod:`cluster.errors` for what the client did wrong. ``client_id=None`` means "any client"
    (a connection that has not authenticated holds session ids as capabilities).
    """

    def __init__(self, redis: coredis.Redis[str], settings: Settings, node_id: str) -> None:
        self.redis = redis
        self.settings = settings
        self.node_id = node_id
        self._touch = redis.register_script(_script("touch.lua"))
        self._reserve = redis.register_script(_script("reserve.lua"))
        # Below max_connections (64): each WATCH holds a connection, its reads need another.
        self._watch_slots = trio.CapacityLimiter(24)

    # -- helpers ---------------------------------------------------------------------------

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one store operation, mapping outages to :class:`Unavailable`."""
        try:
            with trio.fail_after(self.settings.redis_timeout * 2):
                return await operation()
        except _REDIS_DOWN as exc:
            raise Unavailable(f"session store unavailable ({exc.__class__.__name__})") from exc

    async def ping(self) -> bool:
        """Whether Redis answers (for health checks)."""
        try:
            with trio.fail_after(min(self.settings.redis_timeout, 2.0)):
                return bool(await self.redis.ping())
        except (*_REDIS_DOWN, RedisError):
            return False

    async def _quarantine(self, k: keys.SessionKeys, key: str, raw: Any) -> None:
        """Keep a damaged record aside for inspection (best effort: the answer is the same)."""
        try:
            payload = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(k.quarantine, {key: payload, f"{key}@": str(time.time())})
                pipe.expire(k.quarantine, QUARANTINE_TTL)
        except (*_REDIS_DOWN, RedisError):
            pass

    def _meta(self, k: keys.SessionKeys, fields: dict[str, str]) -> SessionMeta:
        return SessionMeta.from_fields(fields, k.meta)

    async def _checked_meta(self, k: keys.SessionKeys, fields: dict[str, str]) -> SessionMeta:
        try:
            return self._meta(k, fields)
        except CorruptRecord:
            await self._quarantine(k, k.meta, fields)
            raise

    async def _checked_state(self, k: keys.SessionKeys, raw: str | None) -> SessionState:
        if raw is None:
            exc = CorruptRecord(f"stored record {k.state} is missing")
            await self._quarantine(k, k.state, "")
            raise exc
        try:
            body = unseal(raw, k.state)
            return SessionState(state_data=body["state_data"], version=int(body["version"]))
        except CorruptRecord:
            await self._quarantine(k, k.state, raw)
            raise
        except (KeyError, TypeError, ValueError):
            await self._quarantine(k, k.state, raw)
            raise CorruptRecord(f"stored record {k.state} is malformed")

    def _data_ttl_ms(self, timeout: int) -> int:
        return timeout * 1000 + DATA_GRACE_MS

    # -- create ----------------------------------------------------------------------------

    async def create(self, client_id: str) -> SessionMeta:
        """Create a session for ``client_id`` within its session limit.

        The limit is enforced by an atomic reserve in the client's index (``reserve.lua``); a
        reservation left behind by a node that died before the session was written is pruned
        by the next create that finds the client at its limit.
        """
        return await self._call(lambda: self._create(client_id))

    async def _create(self, client_id: str) -> SessionMeta:
        session_id = new_session_id()
        now = time.time()
        index = keys.client_sessions(client_id)
        limit = self.settings.max_sessions_per_client
        reserved = await self._reserve(keys=[index], args=[session_id, now, limit])
        if not reserved:
            await self._prune_client_index(client_id)
            reserved = await self._reserve(keys=[index], args=[session_id, now, limit])
        if not reserved:
            raise SessionError(
                f"client {client_id!r} has reached its limit of {limit} sessions",
                details={"max_sessions_per_client": limit},
            )
        timeout = self.settings.session_timeout
        meta = SessionMeta(
            session_id=session_id,
            client_id=client_id,
            created_at=now,
            last_modified=now,
            timeout=timeout,
            version=1,
            epoch=1,
            owner=self.node_id,
        )
        k = keys.SessionKeys(session_id)
        data_ttl = self._data_ttl_ms(timeout)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.meta, meta.to_fields())
            pipe.pexpire(k.meta, data_ttl)
            pipe.set(k.state, seal({"state_data": None, "version": 1}), px=data_ttl)
            pipe.set(k.alive, self.node_id, px=timeout * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.EXPIRY_INDEX, {expiry_member(session_id, client_id): now + timeout})
            pipe.sadd(keys.CLIENTS, [client_id])
        return meta

    async def _prune_client_index(self, client_id: str) -> int:
        """Drop index entries whose session is gone (expired, or a create that died)."""
        index = keys.client_sessions(client_id)
        entries = await self.redis.zrange(index, 0, -1, withscores=True)
        if not entries:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            checks = [pipe.exists([keys.SessionKeys(str(sid)).alive]) for sid, _ in entries]
        stale = [
            str(sid)
            for (sid, score), check in zip(entries, checks, strict=True)
            if not await check and float(score) < time.time() - RESERVATION_GRACE
        ]
        if stale:
            await self.redis.zrem(index, stale)
        return len(stale)

    # -- read ------------------------------------------------------------------------------

    async def snapshot(self, session_id: str, client_id: str | None) -> Snapshot:
        """Read meta and state in one transaction that also refreshes the session's expiry.

        Raises :class:`SessionNotFound` for a missing, expired or other client's session,
        :class:`CorruptRecord` (a ``SessionError``) for a damaged record.
        """
        return await self._call(lambda: self._snapshot(session_id, client_id))

    async def _snapshot(self, session_id: str, client_id: str | None) -> Snapshot:
        k = keys.SessionKeys(session_id)
        touch_keys = [k.meta, k.alive, *[key for key in k.data_keys() if key != k.meta]]
        async with self.redis.pipeline(transaction=True) as pipe:
            touched = self._touch(
                keys=touch_keys, args=[client_id or "", DATA_GRACE_MS], client=pipe
            )
            fields_req = pipe.hgetall(k.meta)
            state_req = pipe.get(k.state)
        ttl = int(await touched)
        if ttl < 0:
            raise SessionNotFound(f"session {session_id} not found or expired")
        fields = {str(a): str(b) for a, b in (await fields_req).items()}
        meta = await self._checked_meta(k, fields)
        state = await self._checked_state(k, await state_req)
        return Snapshot(meta=meta, state=state, ttl_ms=ttl)

    # -- update ----------------------------------------------------------------------------

    async def update_state(
        self,
        session_id: str,
        client_id: str | None,
        state_data: Any,
        *,
        expected_version: int | None = None,
    ) -> tuple[SessionMeta, SessionState]:
        """Store ``state_data`` as a new version of the session (an optimistic commit).

        With ``expected_version``, a stale version raises :class:`SessionConflict` carrying the
        current version and state; without it, a concurrent commit is retried (last writer
        wins, but no commit is lost: every one gets its own version).
        """

        async def attempt() -> tuple[SessionMeta, SessionState]:
            return await self._update_state(session_id, client_id, state_data, expected_version)

        return await self._call(lambda: self._retry_watch(attempt))

    async def _retry_watch(self, attempt: Callable[[], Awaitable[T]]) -> T:
        async for tries in AsyncRetrying(
            retry=retry_if_exception_type(WatchError),
            stop=stop_after_attempt(12),
            wait=wait_random_exponential(multiplier=0.002, max=0.1),
            reraise=True,
        ):
            with tries:
                return await attempt()
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _update_state(
        self,
        session_id: str,
        client_id: str | None,
        state_data: Any,
        expected_version: int | None,
    ) -> tuple[SessionMeta, SessionState]:
        k = keys.SessionKeys(session_id)
        async with self._watch_slots, self.redis.pipeline(transaction=True) as pipe:
            async with pipe.watch(k.meta, k.alive):
                async with self.redis.pipeline(transaction=False) as reads:
                    alive_req = reads.pttl(k.alive)
                    fields_req = reads.hgetall(k.meta)
                ttl = await alive_req
                fields = {str(a): str(b) for a, b in (await fields_req).items()}
                if ttl < 0 or not fields:
                    raise SessionNotFound(f"session {session_id} not found or expired")
                meta = await self._checked_meta(k, fields)
                if client_id is not None and meta.client_id != client_id:
                    raise SessionNotFound(f"session {session_id} not found or expired")
                if expected_version is not None and expected_version != meta.version:
                    current = await self._checked_state(k, await self.redis.get(k.state))
                    raise SessionConflict(
                        f"session {session_id} is at version {meta.version}, "
                        f"not {expected_version}",
                        details={
                            "current_version": meta.version,
                            "session_state": current.state_data,
                        },
                    )
                now = max(time.time(), meta.last_modified)
                new_meta = meta.with_changes(version=meta.version + 1, last_modified=now)
                state = SessionState(state_data=state_data, version=new_meta.version)
                data_ttl = self._data_ttl_ms(meta.timeout)
                pipe.hset(k.meta, new_meta.to_fields())
                pipe.set(k.state, seal({"state_data": state_data, "version": state.version}))
                for key in k.data_keys():
                    pipe.pexpire(key, data_ttl)
                pipe.pexpire(k.alive, meta.timeout * 1000)
        return new_meta, state

    # -- close -----------------------------------------------------------------------------

    async def close(self, session_id: str, client_id: str | None) -> None:
        """Delete a session and its index entries; another client's session is not found."""
        await self._call(lambda: self._close(session_id, client_id))

    async def _close(self, session_id: str, client_id: str | None) -> None:
        k = keys.SessionKeys(session_id)
        owner = await self.redis.hget(k.meta, "client_id")
        alive = await self.redis.exists([k.alive])
        if owner is None or not alive or (client_id is not None and owner != client_id):
            raise SessionNotFound(f"session {session_id} not found or expired")
        await self.remove(session_id, str(owner))

    async def remove(self, session_id: str, client_id: str) -> None:
        """Delete everything of a session (idempotent; used by close and cleanup)."""
        k = keys.SessionKeys(session_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(list(k.all_keys()))
        index = keys.client_sessions(client_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(index, [session_id])
            pipe.zrem(keys.EXPIRY_INDEX, [expiry_member(session_id, client_id)])
            left = pipe.zcard(index)
        if not await left:
            await self.redis.srem(keys.CLIENTS, [client_id])

    # -- listing and statistics ------------------------------------------------------------

    async def list_client(self, client_id: str) -> list[SessionSummary]:
        """The client's live sessions, oldest first (stale index entries are skipped)."""
        return await self._call(lambda: self._list_client(client_id))

    async def _list_client(self, client_id: str) -> list[SessionSummary]:
        ids = [str(sid) for sid in await self.redis.zrange(keys.client_sessions(client_id), 0, -1)]
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            reads = [
                (pipe.hgetall(keys.SessionKeys(sid).meta), pipe.pttl(keys.SessionKeys(sid).alive))
                for sid in ids
            ]
        summaries = []
        for sid, (fields_req, ttl_req) in zip(ids, reads, strict=True):
            ttl = await ttl_req
            fields = {str(a): str(b) for a, b in (await fields_req).items()}
            if ttl < 0 or not fields:
                continue
            k = keys.SessionKeys(sid)
            try:
                meta = self._meta(k, fields)
            except CorruptRecord:
                await self._quarantine(k, k.meta, fields)
                continue
            if meta.client_id != client_id:
                continue
            summaries.append(
                SessionSummary(
                    session_id=sid,
                    created_at=meta.created_at,
                    last_modified=meta.last_modified,
                    timeout=meta.timeout,
                    time_until_expiry=ttl / 1000,
                )
            )
        return summaries

    async def statistics(self) -> dict[str, int]:
        """Cluster-wide counts: sessions known to the expiry index and clients with sessions."""

        async def read() -> dict[str, int]:
            async with self.redis.pipeline(transaction=False) as pipe:
                sessions = pipe.zcard(keys.EXPIRY_INDEX)
                clients = pipe.scard(keys.CLIENTS)
            return {"total_sessions": await sessions, "active_clients": await clients}

        return await self._call(read)


def expiry_member(session_id: str, client_id: str) -> str:
    """The expiry index member: the session and its client, so cleanup needs no meta."""
    return f"{session_id} {client_id}"


def parse_expiry_member(member: str) -> tuple[str, str]:
    session_id, _, client_id = member.partition(" ")
    return session_id, client_id


def seconds_until(ttl_ms: int) -> float:
    return max(0.0, math.floor(ttl_ms) / 1000)
