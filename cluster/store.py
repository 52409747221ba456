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

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import coredis
import orjson
import trio
from coredis.exceptions import ConnectionError as RedisConnectionError
from coredis.exceptions import NoScriptError, RedisError, WatchError
from coredis.tokens import PureToken
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
    SessionTakenOver,
    Unavailable,
)
from .integrity import seal, unseal
from .model import SessionMeta, SessionState, SessionSummary
from .redis_auth import effective_url
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
        effective_url(settings),  # with the password of --redis-password-file, if any
        decode_responses=True,
        retry_policy=coredis.retry.NoRetryPolicy(),
        stream_timeout=settings.redis_timeout,
        connect_timeout=settings.redis_timeout,
        pool_timeout=settings.redis_timeout,
        max_connections=64,
    )
    return client


DAMAGED_META = -3
"""``touch.lua``'s answer for a meta record whose timeout is not a number."""

KEEP: Any = object()
"""Marker: a :class:`Commit` field left as it is."""

CREATE_MEMORY = 3600
"""Seconds a client's create request ids are remembered (idempotent create_session)."""

DONE_LIMIT = 1000
"""Stored responses kept per session for exactly-once replay (oldest dropped first)."""
DONE_SLACK = 100
EVENTS_LIMIT = 1000
"""Events kept per session for replay after a reconnect (approximately; oldest first)."""


class StaleVersion(Exception):
    """Internal: the session moved on since it was read; ``meta`` is the current one."""

    def __init__(self, meta: SessionMeta) -> None:
        super().__init__(f"session at version {meta.version}")
        self.meta = meta


@attrs.frozen
class Commit:
    """Everything one state-changing request writes, in one transaction."""

    request_id: str | None
    response: Callable[[SessionMeta], dict[str, Any]] | None = None
    state_data: Any = KEEP
    objects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    deleted_objects: tuple[str, ...] = ()
    workspace: dict[str, Any] | None = None
    registry: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    deleted_registry: tuple[str, ...] = ()
    inspectors: dict[str, Any] | None = None
    events: tuple[tuple[str, dict[str, Any]], ...] = ()


@attrs.frozen
class Committed:
    """A commit's outcome: the session's meta after it and the stored response."""

    meta: SessionMeta
    response: dict[str, Any]
    replayed: bool
    first_seq: int = 0


@attrs.frozen
class WorkspaceSnapshot:
    """A session's workspace as stored: object records, workspace, registry, inspectors."""

    meta: SessionMeta
    state: SessionState
    objects: dict[str, dict[str, Any]]
    workspace: dict[str, Any] | None
    registry: dict[str, dict[str, Any]]
    inspectors: dict[str, Any] | None
    damaged: dict[str, str]
    ttl_ms: int


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
        self._rate = redis.register_script(_script("ratelimit.lua"))
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

    @staticmethod
    def _touch_keys(k: keys.SessionKeys) -> list[str]:
        """``touch.lua``'s keys: meta, alive, then the other data keys."""
        return [k.meta, k.alive, *[key for key in k.data_keys() if key != k.meta]]

    async def _with_scripts(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run a transaction that calls ``touch.lua`` by its SHA (no SCRIPT EXISTS round trip
        per call); load the script and retry once if Redis lost it (a restart or a flush)."""
        try:
            return await operation()
        except NoScriptError:
            await self.redis.script_load(self._touch.script)
            return await operation()

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

    async def _owned_meta(
        self, k: keys.SessionKeys, client_id: str | None, ttl: int, fields: dict[str, str]
    ) -> SessionMeta:
        """The session's checked meta, read inside a WATCH; SessionNotFound if it is gone,
        expired or another client's. Ownership is checked before integrity: another client's
        damaged session must answer exactly as a missing one (and not be quarantined by it)."""
        if ttl < 0 or not fields or (
            client_id is not None and fields.get("client_id") != client_id
        ):
            raise SessionNotFound(f"session {k.session_id} not found or expired")
        return await self._checked_meta(k, fields)

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

    async def create(
        self, client_id: str, request_id: str | None = None
    ) -> tuple[SessionMeta, bool]:
        """Create a session for ``client_id`` within its session limit; (meta, replayed).

        The limit is enforced by an atomic reserve in the client's index (``reserve.lua``); a
        reservation left behind by a node that died before the session was written is pruned
        by the next create that finds the client at its limit. With a ``request_id``, a retry
        of the same create answers the session the first attempt made (and finishes writing
        it if that attempt died half way) instead of making a second one.
        """
        return await self._call(lambda: self._create(client_id, request_id))

    async def _create(self, client_id: str, request_id: str | None) -> tuple[SessionMeta, bool]:
        now = time.time()
        index = keys.client_sessions(client_id)
        limit = self.settings.max_sessions_per_client

        async def reserve() -> tuple[int, str]:
            answer: Any = await self._reserve(
                keys=[index, keys.client_creates(client_id)],
                args=[new_session_id(), now, limit, request_id or "", CREATE_MEMORY],
            )
            return int(answer[0]), str(answer[1])

        code, session_id = await reserve()
        if code == 0:
            await self._prune_client_index(client_id)
            code, session_id = await reserve()
        if code == 0:
            raise SessionError(
                f"client {client_id!r} has reached its limit of {limit} sessions",
                details={"max_sessions_per_client": limit},
            )
        k = keys.SessionKeys(session_id)
        if code == 2:
            fields = {str(a): str(b) for a, b in (await self.redis.hgetall(k.meta)).items()}
            if fields:
                return await self._checked_meta(k, fields), True
            await self.redis.zadd(index, {session_id: now})  # the first attempt died early
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
        data_ttl = self._data_ttl_ms(timeout)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.meta, meta.to_fields())
            pipe.pexpire(k.meta, data_ttl)
            pipe.set(k.state, seal({"state_data": None, "version": 1}), px=data_ttl)
            pipe.set(k.alive, self.node_id, px=timeout * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.EXPIRY_INDEX, {expiry_member(session_id, client_id): now + timeout})
            pipe.sadd(keys.CLIENTS, [client_id])
        return meta, False

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

    async def take_token(self, client_id: str) -> bool:
        """One request's worth of the client's rate (``client_rate`` per second)."""
        rate, burst = self.settings.client_rate, self.settings.client_burst
        allowed: Any = await self._call(
            lambda: self._rate(
                keys=[keys.client_bucket(client_id)], args=[rate, burst, time.time()]
            )
        )
        return bool(allowed)

    # -- read ------------------------------------------------------------------------------

    async def snapshot(self, session_id: str, client_id: str | None) -> Snapshot:
        """Read meta and state in one transaction that also refreshes the session's expiry.

        Raises :class:`SessionNotFound` for a missing, expired or other client's session,
        :class:`CorruptRecord` (a ``SessionError``) for a damaged record.
        """
        return await self._call(
            lambda: self._with_scripts(lambda: self._snapshot(session_id, client_id))
        )

    async def _snapshot(self, session_id: str, client_id: str | None) -> Snapshot:
        read = await self._load_workspace(session_id, client_id, with_heap=False, full=False)
        return Snapshot(meta=read.meta, state=read.state, ttl_ms=read.ttl_ms)

    # -- workspace -------------------------------------------------------------------------

    async def load_workspace(
        self, session_id: str, client_id: str | None, *, with_heap: bool = True
    ) -> WorkspaceSnapshot:
        """Everything of a session's workspace in one transaction (refreshing its expiry).

        Each record is checked on its own: a damaged one is quarantined and reported in
        ``damaged`` (record name ``key#field`` or ``key`` -> reason) instead of failing the
        whole load, so the rest of the session stays usable.
        """
        return await self._call(
            lambda: self._with_scripts(
                lambda: self._load_workspace(session_id, client_id, with_heap=with_heap)
            )
        )

    async def _load_workspace(
        self, session_id: str, client_id: str | None, *, with_heap: bool, full: bool = True
    ) -> WorkspaceSnapshot:
        """One MULTI: ``touch.lua`` (expiry, ownership), meta and state, and unless ``full``
        is false the workspace records (the heap only ``with_heap``)."""
        k = keys.SessionKeys(session_id)
        touch_keys = self._touch_keys(k)
        async with self.redis.pipeline(transaction=True) as pipe:
            touched: Any = pipe.evalsha(
                self._touch.sha, keys=touch_keys, args=[client_id or "", DATA_GRACE_MS]
            )
            fields_req = pipe.hgetall(k.meta)
            state_req = pipe.get(k.state)
            heap_req = pipe.hgetall(k.heap) if with_heap else None
            workspace_req = pipe.get(k.workspace) if full else None
            registry_req = pipe.hgetall(k.registry) if full else None
            inspectors_req = pipe.get(k.inspectors) if full else None
        ttl = int(await touched)
        fields = {str(a): str(b) for a, b in (await fields_req).items()}
        if ttl == DAMAGED_META:
            await self._quarantine(k, k.meta, fields)
            raise CorruptRecord(f"stored record {k.meta} failed its integrity check")
        if ttl < 0:
            raise SessionNotFound(f"session {session_id} not found or expired")
        meta = await self._checked_meta(k, fields)
        state = await self._checked_state(k, await state_req)
        damaged: dict[str, str] = {}
        raw_heap = await heap_req if heap_req is not None else {}
        raw_registry = await registry_req if registry_req is not None else {}
        objects = await self._unseal_hash(k, k.heap, raw_heap, damaged)
        registry = await self._unseal_hash(k, k.registry, raw_registry, damaged)
        raw_workspace = await workspace_req if workspace_req is not None else None
        raw_inspectors = await inspectors_req if inspectors_req is not None else None
        workspace = await self._unseal_one(k, k.workspace, raw_workspace, damaged)
        inspectors = await self._unseal_one(k, k.inspectors, raw_inspectors, damaged)
        return WorkspaceSnapshot(
            meta=meta,
            state=state,
            objects=objects,
            workspace=workspace,
            registry=registry,
            inspectors=inspectors,
            damaged=damaged,
            ttl_ms=ttl,
        )

    async def _unseal_hash(
        self, k: keys.SessionKeys, key: str, raw: dict[Any, Any], damaged: dict[str, str]
    ) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for field, value in raw.items():
            name = record_name(key, str(field))
            try:
                records[str(field)] = unseal(str(value), name)
            except CorruptRecord as exc:
                damaged[name] = exc.message
                await self._quarantine(k, name, str(value))
        return records

    async def _unseal_one(
        self, k: keys.SessionKeys, key: str, raw: str | None, damaged: dict[str, str]
    ) -> dict[str, Any] | None:
        if raw is None:
            return None
        try:
            return unseal(raw, key)
        except CorruptRecord as exc:
            damaged[key] = exc.message
            await self._quarantine(k, key, raw)
            return None

    async def stored_response(self, session_id: str, request_id: str) -> dict[str, Any] | None:
        """The response stored for ``request_id`` by an earlier execution, if any."""
        raw = await self._call(
            lambda: self.redis.hget(keys.SessionKeys(session_id).done, request_id)
        )
        return None if raw is None else dict(orjson.loads(raw))

    # -- commits ---------------------------------------------------------------------------

    async def update_state(
        self,
        session_id: str,
        client_id: str | None,
        state_data: Any,
        *,
        expected_version: int | None = None,
        request_id: str | None = None,
        epoch: int | None = None,
    ) -> tuple[SessionMeta, SessionState, bool]:
        """Store ``state_data`` as a new version of the session (an optimistic commit).

        With ``expected_version``, a stale version raises :class:`SessionConflict` carrying the
        current version and state; without it, a concurrent commit is retried (last writer
        wins, but no commit is lost: every one gets its own version). The third element is
        True when ``request_id`` had already been committed and nothing was written again.
        """

        def response(meta: SessionMeta) -> dict[str, Any]:
            return {"version": meta.version, "last_modified": meta.last_modified}

        commit = Commit(request_id=request_id, response=response, state_data=state_data)
        try:
            done = await self.commit(
                session_id, client_id, commit, expect_version=expected_version, epoch=epoch
            )
        except StaleVersion:
            # Version and state from one transaction: a commit landing after the stale read
            # must not pair an old version with a newer state (a retry from them would fail).
            k = keys.SessionKeys(session_id)

            async def current() -> tuple[dict[Any, Any], str | None]:
                async with self.redis.pipeline(transaction=True) as pipe:
                    fields_req = pipe.hgetall(k.meta)
                    state_req = pipe.get(k.state)
                return await fields_req, await state_req

            fields, raw_state = await self._call(current)
            if not fields:
                raise SessionNotFound(f"session {session_id} not found or expired")
            now = await self._checked_meta(k, {str(a): str(b) for a, b in fields.items()})
            state = await self._checked_state(k, raw_state)
            raise SessionConflict(
                f"session {session_id} is at version {now.version}, not {expected_version}",
                details={"current_version": now.version, "session_state": state.state_data},
            )
        if done.replayed:
            stored = done.response
            meta = done.meta.with_changes(
                version=stored["version"], last_modified=stored["last_modified"]
            )
            return meta, SessionState(state_data=state_data, version=meta.version), True
        return done.meta, SessionState(state_data=state_data, version=done.meta.version), False

    async def commit(
        self,
        session_id: str,
        client_id: str | None,
        commit: Commit,
        *,
        expect_version: int | None = None,
        epoch: int | None = None,
    ) -> Committed:
        """Apply ``commit`` atomically, or answer the response stored for its request id.

        One WATCH transaction on ``meta``: the reads check that the session exists and belongs
        to ``client_id``, that ``request_id`` was not committed before (exactly-once), that the
        writer still holds ``epoch`` (fencing) and that the version is ``expect_version``
        (optimistic concurrency); then MULTI/EXEC writes everything with ``version + 1``. A
        concurrent commit aborts EXEC and the whole step is retried with jitter.

        Raises :class:`SessionNotFound`, :class:`SessionTakenOver`, :class:`StaleVersion`.
        """

        async def attempt() -> Committed:
            return await self._commit_once(session_id, client_id, commit, expect_version, epoch)

        return await self._call(lambda: self._retry_watch(attempt))

    async def _retry_watch(self, attempt: Callable[[], Awaitable[T]]) -> T:
        try:
            async for tries in AsyncRetrying(
                retry=retry_if_exception_type(WatchError),
                stop=stop_after_attempt(12),
                wait=wait_random_exponential(multiplier=0.002, max=0.1),
                reraise=True,
            ):
                with tries:
                    return await attempt()
        except WatchError:
            # Every attempt lost a race (many concurrent writers): a conflict, not a crash.
            raise SessionConflict(
                "the session kept changing under concurrent writers; try again",
                details={"retries": 12},
            )
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _commit_once(
        self,
        session_id: str,
        client_id: str | None,
        commit: Commit,
        expect_version: int | None,
        epoch: int | None,
    ) -> Committed:
        k = keys.SessionKeys(session_id)
        rid = commit.request_id
        async with self._watch_slots, self.redis.pipeline(transaction=True) as pipe:  # noqa: SIM117
            # EXEC runs when the watch block ends, inside the pipeline's connection.
            async with pipe.watch(k.meta, k.alive):
                async with self.redis.pipeline(transaction=False) as reads:
                    alive_req = reads.pttl(k.alive)
                    fields_req = reads.hgetall(k.meta)
                    done_req = reads.hget(k.done, rid) if rid else None
                    done_count_req = reads.zcard(k.done_order)
                    # The commit calls touch.lua by SHA inside MULTI, where a NOSCRIPT error
                    # would not roll the other writes back: make sure it is loaded first.
                    script_req = reads.script_exists([self._touch.sha])
                ttl = await alive_req
                fields = {str(a): str(b) for a, b in (await fields_req).items()}
                if not all(await script_req):
                    await self.redis.script_load(self._touch.script)
                meta = await self._owned_meta(k, client_id, ttl, fields)
                stored = await done_req if done_req is not None else None
                if stored is not None:
                    return Committed(meta=meta, response=orjson.loads(stored), replayed=True)
                if epoch is not None and meta.epoch != epoch:
                    raise SessionTakenOver(
                        f"session {session_id} was taken over by another connection",
                        details={"epoch": meta.epoch, "owner": meta.owner},
                    )
                if expect_version is not None and meta.version != expect_version:
                    raise StaleVersion(meta)
                now = max(time.time(), meta.last_modified)
                seq = meta.event_seq
                new_meta = meta.with_changes(
                    version=meta.version + 1,
                    last_modified=now,
                    event_seq=seq + len(commit.events),
                )
                response = commit.response(new_meta) if commit.response else {}
                self._queue_writes(pipe, k, meta, new_meta, commit, response)
                if rid:
                    done_count = await done_count_req
                    if done_count >= DONE_LIMIT + DONE_SLACK:
                        oldest = await self.redis.zrange(k.done_order, 0, DONE_SLACK - 1)
                        pipe.hdel(k.done, list(oldest))
                        pipe.zrem(k.done_order, list(oldest))
        return Committed(meta=new_meta, response=response, replayed=False, first_seq=seq + 1)

    def _queue_writes(
        self,
        pipe: Any,
        k: keys.SessionKeys,
        meta: SessionMeta,
        new_meta: SessionMeta,
        commit: Commit,
        response: dict[str, Any],
    ) -> None:
        """Stack the MULTI/EXEC body of a commit (no I/O here)."""
        pipe.hset(k.meta, new_meta.to_fields())
        if commit.state_data is not KEEP:
            pipe.set(k.state, seal({"state_data": commit.state_data, "version": new_meta.version}))
        if commit.objects:
            pipe.hset(k.heap, {oid: seal(rec).decode() for oid, rec in commit.objects.items()})
        if commit.deleted_objects:
            pipe.hdel(k.heap, list(commit.deleted_objects))
        if commit.workspace is not None:
            pipe.set(k.workspace, seal(commit.workspace))
        if commit.registry:
            pipe.hset(k.registry, {rid: seal(e).decode() for rid, e in commit.registry.items()})
        if commit.deleted_registry:
            pipe.hdel(k.registry, list(commit.deleted_registry))
        if commit.inspectors is not None:
            pipe.set(k.inspectors, seal(commit.inspectors))
        for offset, (name, data) in enumerate(commit.events, start=1):
            seq = meta.event_seq + offset
            entry = {"event": name, "data": orjson.dumps(data).decode(), "seq": str(seq)}
            pipe.xadd(
                k.events,
                entry,
                identifier=f"0-{seq}",
                trim_strategy=PureToken.MAXLEN,
                threshold=EVENTS_LIMIT,
                trim_operator=PureToken.APPROXIMATELY,
            )
        if commit.request_id:
            pipe.hset(k.done, {commit.request_id: orjson.dumps(response).decode()})
            pipe.zadd(k.done_order, {commit.request_id: new_meta.version})
        # Sliding expiry of every key in one script call (ten PEXPIREs cost ~120 µs more).
        pipe.evalsha(self._touch.sha, keys=self._touch_keys(k), args=["", DATA_GRACE_MS])

    # -- ownership -------------------------------------------------------------------------

    async def take_over(self, session_id: str, client_id: str | None) -> tuple[SessionMeta, str]:
        """Make this node the session's owner with a new epoch; return it and the old owner.

        Raising the epoch is what fences the previous owner: any commit it still attempts
        checks the epoch in its transaction and fails.
        """

        async def attempt() -> tuple[SessionMeta, str]:
            k = keys.SessionKeys(session_id)
            async with self._watch_slots, self.redis.pipeline(transaction=True) as pipe:  # noqa: SIM117
                async with pipe.watch(k.meta, k.alive):
                    async with self.redis.pipeline(transaction=False) as reads:
                        alive_req = reads.pttl(k.alive)
                        fields_req = reads.hgetall(k.meta)
                    ttl = await alive_req
                    fields = {str(a): str(b) for a, b in (await fields_req).items()}
                    meta = await self._owned_meta(k, client_id, ttl, fields)
                    new_meta = meta.with_changes(epoch=meta.epoch + 1, owner=self.node_id)
                    pipe.hset(k.meta, new_meta.to_fields())
            return new_meta, meta.owner

        return await self._call(lambda: self._retry_watch(attempt))

    async def events_since(
        self, session_id: str, last_seq: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Events after ``last_seq``, in order, and whether some were already trimmed away."""

        async def read() -> tuple[list[dict[str, Any]], bool]:
            k = keys.SessionKeys(session_id)
            entries = await self.redis.xrange(k.events, f"0-{last_seq + 1}", "+")
            events = []
            for entry in entries:
                fields = {str(a): str(b) for a, b in entry.field_values.items()}
                events.append(
                    {
                        "event": fields["event"],
                        "data": orjson.loads(fields["data"]),
                        "seq": int(fields["seq"]),
                    }
                )
            first = events[0]["seq"] if events else None
            truncated = first is not None and first > last_seq + 1
            return events, truncated

        return await self._call(read)

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

    async def remove(self, session_id: str, client_id: str) -> bool:
        """Delete everything of a session (idempotent; used by close and cleanup).

        True when this call deleted the session's data (so racing cleanups count it once).
        """
        k = keys.SessionKeys(session_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            deleted = pipe.delete(list(k.all_keys()))
        index = keys.client_sessions(client_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(index, [session_id])
            pipe.zrem(keys.EXPIRY_INDEX, [expiry_member(session_id, client_id)])
            left = pipe.zcard(index)
        if not await left:
            await self.redis.srem(keys.CLIENTS, [client_id])
        return bool(await deleted)

    async def owner_of(self, session_id: str) -> str | None:
        """The node id that last took ownership of the session (a hint: fencing decides)."""
        owner = await self._call(
            lambda: self.redis.hget(keys.SessionKeys(session_id).meta, "owner")
        )
        return None if owner is None else str(owner)

    async def expiry_member_of(self, session_id: str) -> tuple[str, str] | None:
        """(session id, client id) of an expired session, if its meta can still be read."""
        k = keys.SessionKeys(session_id)

        async def read() -> tuple[Any, int]:
            async with self.redis.pipeline(transaction=False) as pipe:
                owner_req = pipe.hget(k.meta, "client_id")
                alive_req = pipe.exists([k.alive])
            return await owner_req, await alive_req

        owner, alive = await self._call(read)
        if owner is None or alive:
            return None
        return session_id, str(owner)

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


def record_name(key: str, field: str) -> str:
    """How a record inside a hash is named in errors and in the quarantine: ``key#field``."""
    return f"{key}#{field}"


def expiry_member(session_id: str, client_id: str) -> str:
    """The expiry index member: the session and its client, so cleanup needs no meta."""
    return f"{session_id} {client_id}"


def parse_expiry_member(member: str) -> tuple[str, str]:
    session_id, _, client_id = member.partition(" ")
    return session_id, client_id


def seconds_until(ttl_ms: int) -> float:
    return max(0.0, ttl_ms / 1000)
