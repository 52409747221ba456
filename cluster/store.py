"""The session store: the only module that reads and writes session data in Redis.

Every state-changing request is one optimistic transaction in two round trips
(:meth:`SessionStore.transaction`):

1. ``WATCH meta alive`` pipelined with every read the commit needs: the meta hash (version,
   epoch, owner, timers) and the response stored for this request id, if any (exactly-once).
2. ``MULTI`` ... ``EXEC``: the new meta (``version + 1``), the changed records, the events, the
   stored response, the liveness key. A concurrent writer makes EXEC answer nil
   (:class:`WatchLost`); the caller runs the request again on the new state.

Reads (restore, info) are one ``MULTI`` that runs ``touch.lua`` (expiry refresh, refusing other
clients' sessions) and reads the records: one consistent snapshot in one round trip.

Expiry costs O(1) keys per request: the liveness key ``alive`` is set with the session's
timeout on every commit (and extended by reads); the data keys carry a longer TTL
(``data_until``, about two timeouts) that is refreshed lazily, once it has less than a timeout
and a grace left, so a session's data never expires before its liveness key. Hash and stream
keys get that TTL the first time a commit writes them (``ttl_keys`` bits in meta); string keys
are written with it. The deadline index (``stui:expiry``) is written at create and moved by the
sweeper when it finds a session still alive (its score is a lower bound of the deadline).

All I/O goes through :mod:`cluster.wire` (one round trip per batch, counted). Cross-session
indexes (a client's sessions, the expiry index) are separate keys written outside a session's
transaction, so the layout also works on Redis Cluster.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
import coredis
import orjson
import trio

from . import clients, keys, sharing
from .auth import new_session_id
from .durability import NOT_ASKED, Durability, DurabilityPolicy, supports_waitaof
from .errors import (
    ContentionExhausted,
    CorruptRecord,
    SessionError,
    SessionNotFound,
    StoreUnavailable,
)
from .integrity import seal, unseal
from .model import (
    Attachment,
    HistoryEntry,
    InspectorState,
    RegistryEntry,
    SessionEvent,
    SessionMeta,
    SessionState,
    SessionSummary,
    WorkspaceRecord,
    from_record,
    to_record,
)
from .redis_auth import effective_url
from .settings import Settings
from .wire import Command, ReplyError, Wire, WireConnection, WireError, pairs, parse_info

T = TypeVar("T")

log = logging.getLogger("stui.store")

DATA_GRACE = 120.0
"""Seconds the data keys outlive the liveness key at least, so cleanup can still read them."""


def data_deadline(now: float, timeout: float) -> float:
    """Until when the data keys live when set or refreshed at ``now``: about two timeouts."""
    return now + 2 * timeout + DATA_GRACE


def data_refresh_due(meta: SessionMeta, now: float) -> bool:
    """Whether the data keys must be refreshed at ``now``: the liveness key (one timeout from
    now) would otherwise come within ``DATA_GRACE`` of outliving them."""
    return meta.data_until < now + meta.timeout + DATA_GRACE

RESERVATION_GRACE = 30.0
"""A client-index entry younger than this may be a create in progress: never pruned."""

QUARANTINE_TTL = 7 * 24 * 3600

CREATE_MEMORY = 3600
"""Seconds a client's create request ids are remembered (idempotent create_session)."""

DONE_LIMIT = 1000
"""Stored responses per ``done`` hash; when full it becomes ``done_prev`` (the one before is
dropped), so between 1,000 and 2,000 recent request ids are remembered for replay."""

HISTORY_LIMIT = 50
"""Evaluations kept in a workspace's history: entry ``seq`` lives in slot ``h<seq % 50>``."""

EVENTS_LIMIT = 1000
"""Events kept per session for replay after a reconnect (approximately; oldest first)."""

TTL_BITS = {
    "heap": 1, "registry": 2, "done": 4, "done_prev": 8, "events": 16, "workspace": 32,
    "attached": 64,
}
"""``SessionMeta.ttl_keys``: hash and stream keys known to carry the data TTL."""

DAMAGED_META = -3
"""``touch.lua``'s answer for a meta record whose timeout is not a number."""

KEEP: Any = object()
"""Marker: a :class:`Commit` field left as it is."""


def connect(settings: Settings) -> coredis.Redis[str]:
    """A coredis client for ``settings.redis_url``: decoded strings, bounded waits, for any
    topology (:func:`cluster.clients.coredis_client`).

    Used off the request path (pub/sub, sweeper, node registry, tools). Retries are off in the
    client: a retried EXEC or INCR could run twice (a retry of ours knows what is safe).
    """
    return clients.coredis_client(effective_url(settings), settings)


def wire_pool(settings: Settings) -> Wire:
    """The request path's connections (:mod:`cluster.wire`) to ``settings.redis_url``: one
    pool for a standalone Redis, a :class:`cluster.router.WireRouter` for Sentinel or Cluster."""
    return clients.wire_for(effective_url(settings), settings)


def _script(name: str) -> str:
    return (Path(__file__).parent / "lua" / name).read_text()


class WatchLost(Exception):
    """Internal: another writer changed the session between the reads and EXEC."""


@attrs.frozen
class ReadSpec:
    """Which records a read (or a commit) also answers, from the same snapshot."""

    state: bool = False
    workspace: bool = False
    registry: bool = False
    inspectors: bool = False
    heap: bool = False
    events_after: int | None = None
    attached: bool = False
    """The presence hash (who is attached to the session)."""


WORKSPACE = ReadSpec(state=True, workspace=True, registry=True, inspectors=True, heap=True)
RESTORE = ReadSpec(state=True, workspace=True, registry=True, inspectors=True)


@attrs.frozen
class Records:
    """Records read by a :class:`ReadSpec`; ``damaged`` names records that failed their check
    (quarantined, left out), so the rest of the session stays usable."""

    state: SessionState | None = None
    workspace: WorkspaceRecord | None = None
    registry: dict[str, RegistryEntry] = attrs.field(factory=dict)
    inspectors: InspectorState | None = None
    objects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    """Heap object records: the evaluator's own format, kept as plain data."""
    events: list[SessionEvent] = attrs.field(factory=list)
    events_truncated: bool = False
    workspace_moves: bool = False
    """``workspace`` was read in the first format: its next write must carry its history."""
    damaged: dict[str, str] = attrs.field(factory=dict)
    attached: dict[str, Attachment] = attrs.field(factory=dict)
    """Presence entries as stored (stale ones included: see :mod:`cluster.sharing`)."""


@attrs.frozen
class Snapshot:
    """One consistent read of a session, taken while refreshing its expiry."""

    meta: SessionMeta
    ttl_ms: int
    records: Records


@attrs.frozen
class Commit:
    """Everything one state-changing request writes, in one transaction."""

    request_id: str | None
    response: Callable[[SessionMeta], dict[str, Any]] | None = None
    state_data: Any = KEEP
    objects: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    deleted_objects: tuple[str, ...] = ()
    workspace: WorkspaceRecord | None = None
    """The workspace record to write (its ``history`` is not: see ``history``)."""
    history: tuple[HistoryEntry, ...] = ()
    """New history entries, each written to its slot."""
    registry: dict[str, RegistryEntry] = attrs.field(factory=dict)
    deleted_registry: tuple[str, ...] = ()
    inspectors: InspectorState | None = None
    events: tuple[SessionEvent, ...] = ()
    """Events to append; their ``seq`` is given by the commit."""
    take_over: bool = False
    """Write a new epoch with this node as owner (fences the previous owner)."""
    new_version: bool = True
    """False for a commit that changes no session data (a takeover alone)."""
    publish: tuple[tuple[str, bytes], ...] = ()
    """(channel, message) pairs published by the same EXEC (sent only if it commits)."""
    version_floor: int = 0
    """The new version is above this too: after a rollback, versions already acknowledged
    are never given again (:mod:`cluster.rollback`)."""
    meta_changes: dict[str, Any] = attrs.field(factory=dict)
    """Other meta fields this commit sets (``shared``, ``shares``)."""
    fanout: bool = False
    """Also SPUBLISH the numbered events on the session's channel (a shared session)."""
    presence: dict[str, bytes] = attrs.field(factory=dict)
    """Presence entries to write (attachment id -> encoded :class:`Attachment`)."""
    presence_removed: tuple[str, ...] = ()
    presence_reset: bool = False
    """Delete every presence entry first (an exclusive attach: everyone else is closed)."""


@attrs.frozen
class Committed:
    """A commit's outcome: the session's meta after it, the stored response, the events'
    first sequence number and the records read inside the commit."""

    meta: SessionMeta
    response: dict[str, Any]
    first_seq: int = 0
    records: Records = attrs.field(factory=Records)
    events: tuple[SessionEvent, ...] = ()
    """The commit's events, numbered."""
    durability: Durability = NOT_ASKED
    """What the commit reached before this answer (``WAIT``; see :mod:`cluster.durability`)."""


class _Plan:
    """Read commands appended to a batch, and how to parse their replies."""

    def __init__(self, k: keys.SessionKeys, spec: ReadSpec) -> None:
        self.k = k
        self.spec = spec

    def commands(self) -> list[Command]:
        k, spec = self.k, self.spec
        out: list[Command] = []
        if spec.state:
            out.append(("GET", k.state))
        if spec.workspace:
            out.append(("HGETALL", k.workspace))
            out.append(("GET", k.legacy_workspace))
        if spec.registry:
            out.append(("HGETALL", k.registry))
        if spec.inspectors:
            out.append(("GET", k.inspectors))
        if spec.heap:
            out.append(("HGETALL", k.heap))
        if spec.events_after is not None:
            out.append(("XRANGE", k.events, f"0-{spec.events_after + 1}", "+"))
        if spec.attached:
            out.append(("HGETALL", k.attached))
        return out

    async def parse(self, store: SessionStore, replies: Sequence[Any]) -> Records:
        k, spec = self.k, self.spec
        it = iter(replies)
        damaged: dict[str, str] = {}
        state = None
        if spec.state:
            state = await store._checked_state(k, next(it))
        workspace = None
        moves = False
        if spec.workspace:
            fields, legacy = pairs(next(it)), next(it)
            workspace = await store._workspace_record(k, fields, legacy, damaged)
            moves = not fields and legacy is not None
        registry: dict[str, RegistryEntry] = {}
        if spec.registry:
            for rid, sound in (await store._unseal_hash(
                k, k.registry, pairs(next(it)), damaged
            )).items():
                name = keys.record_name(k.registry, rid)
                entry = await store._structured(k, name, sound, RegistryEntry, damaged)
                if entry is not None:
                    registry[rid] = entry
        inspectors = None
        if spec.inspectors:
            raw = await store._unseal_one(k, k.inspectors, next(it), damaged)
            inspectors = await store._structured(k, k.inspectors, raw, InspectorState, damaged)
        objects = await store._unseal_hash(k, k.heap, pairs(next(it)), damaged) if (
            spec.heap
        ) else {}
        events: list[SessionEvent] = []
        truncated = False
        if spec.events_after is not None:
            events = stream_events(next(it))
            truncated = bool(events) and events[0].seq > spec.events_after + 1
        attached: dict[str, Attachment] = {}
        if spec.attached:
            attached = sharing.decode_attachments(pairs(next(it)), k.attached)
        return Records(
            state=state,
            workspace=workspace,
            registry=registry,
            inspectors=inspectors,
            objects=objects,
            events=events,
            events_truncated=truncated,
            damaged=damaged,
            workspace_moves=moves,
            attached=attached,
        )


def stream_events(entries: Sequence[Any] | None) -> list[SessionEvent]:
    """An ``XRANGE`` reply of a session's events stream, as events."""
    events: list[SessionEvent] = []
    for _entry_id, flat in entries or []:
        fields = pairs(flat)
        events.append(
            SessionEvent(
                name=fields["event"], data=orjson.loads(fields["data"]), seq=int(fields["seq"])
            )
        )
    return events


class Transaction:
    """A session read under WATCH: ``meta`` and the stored response are known; :meth:`commit`
    writes (round trip 2), :meth:`read` loads more records on the same watched connection."""

    def __init__(
        self,
        store: SessionStore,
        connection: WireConnection,
        k: keys.SessionKeys,
        meta: SessionMeta,
        stored: dict[str, Any] | None,
    ) -> None:
        self._store = store
        self._connection = connection
        self._k = k
        self.meta = meta
        self.stored = stored
        """The response stored for this request id by an earlier execution, if any."""
        self.watching = True
        """Until EXEC has run (whatever its answer), the connection's WATCH is active."""

    async def read(self, spec: ReadSpec) -> Records:
        """More records of the watched session (one round trip; a cold cache load)."""
        plan = _Plan(self._k, spec)
        replies = await self._store._roundtrip(self._connection, plan.commands())
        return await plan.parse(self._store, replies)

    async def commit(self, commit: Commit, reads: ReadSpec | None = None) -> Committed:
        """Write ``commit`` with ``version + 1`` (and read ``reads`` in the same MULTI).

        Raises :class:`WatchLost` if another writer got there first.
        """
        store, k, meta = self._store, self._k, self.meta
        now = max(time.time(), meta.last_modified)
        writes = _Writes(k, meta, now, store.node_id)
        new_meta = writes.meta_after(commit)
        response = commit.response(new_meta) if commit.response else {}
        if response and commit.new_version:
            # Stored with the response: a replay tells the client the same commit id.
            response["commit_id"] = new_meta.commit_id
        events = writes.numbered(commit.events)
        commands = writes.commands(commit, new_meta, response, events)
        plan = _Plan(k, reads) if reads is not None else None
        plan_reads = plan.commands() if plan is not None else []
        commands.extend(plan_reads)
        waits = store.durability.commands()
        waited: Any = None
        replies = await store._roundtrip(
            self._connection, [("MULTI",), *commands, ("EXEC",), *waits]
        )
        self.watching = False  # EXEC ends the WATCH, whether it committed or not
        if waits:
            replies, waited = replies[: -len(waits)], replies[-1]
        results = replies[-1]
        if results is None:
            raise WatchLost()
        if isinstance(results, ReplyError):
            raise SessionError(f"commit of session {k.session_id} refused: {results}")
        failed = [r for r in results[: len(results) - len(plan_reads)]
                  if isinstance(r, ReplyError)]
        if failed:
            # Redis applies the rest of a MULTI around a failed command: say so loudly.
            raise SessionError(f"commit of session {k.session_id} partly failed: {failed[0]}")
        durability = (
            store.durability.outcome(waited, f"commit of session {k.session_id}")
            if waits else NOT_ASKED
        )
        records = Records()
        if plan is not None:
            records = await plan.parse(store, results[len(results) - len(plan_reads):])
        self.meta = new_meta
        return Committed(
            durability=durability,
            meta=new_meta,
            response=response,
            first_seq=meta.event_seq + 1,
            records=records,
            events=events,
        )

    async def confirm(self) -> Durability:
        """The durability of what is stored now, for a replay's answer (see
        :meth:`SessionStore.confirm`)."""
        return await self._store.confirm(self._k.session_id, self.meta.timeout)


class _Writes:
    """The MULTI body of one commit (no I/O): records, bookkeeping, expiry."""

    def __init__(self, k: keys.SessionKeys, meta: SessionMeta, now: float, node_id: str) -> None:
        self.k = k
        self.meta = meta
        self.now = now
        self.node_id = node_id
        timeout = meta.timeout
        self.refresh = data_refresh_due(meta, now)
        self.data_until = data_deadline(now, timeout) if self.refresh else meta.data_until
        self.ttl_keys = meta.ttl_keys
        self.expire: list[str] = []
        self.done_count = meta.done_count
        self.rotate = False
        self.migrate_workspace = False

    def _wrote(self, name: str, key: str, *, emptied: bool = False) -> None:
        bit = TTL_BITS[name]
        if emptied:
            # The key may be gone now; its next write must set the TTL again.
            self.ttl_keys &= ~bit
        elif not self.ttl_keys & bit:
            self.expire.append(key)
            self.ttl_keys |= bit

    def _wrote_hash(self, name: str, key: str, written: bool, removed: bool) -> None:
        """A hash the commit sets fields of (``written``) or only deletes fields from
        (``removed``: it may be empty, so gone, afterwards)."""
        if written:
            self._wrote(name, key)
        elif removed:
            self._wrote(name, key, emptied=True)

    def meta_after(self, commit: Commit) -> SessionMeta:
        meta, k = self.meta, self.k
        if commit.request_id:
            if self.done_count >= DONE_LIMIT:
                self.rotate = True
                done_bit = TTL_BITS["done"]
                self.ttl_keys = (self.ttl_keys & ~TTL_BITS["done_prev"] & ~done_bit) | (
                    TTL_BITS["done_prev"] if self.ttl_keys & done_bit else 0
                )
                self.done_count = 0
            self.done_count += 1
            self._wrote("done", k.done)
        self._wrote_hash("heap", k.heap, bool(commit.objects), bool(commit.deleted_objects))
        self._wrote_hash(
            "registry", k.registry, bool(commit.registry), bool(commit.deleted_registry)
        )
        if commit.events:
            self._wrote("events", k.events)
        if commit.presence_reset:
            self._wrote("attached", k.attached, emptied=True)
        self._wrote_hash(
            "attached", k.attached, bool(commit.presence), bool(commit.presence_removed)
        )
        if commit.workspace is not None or commit.history:
            # The hash's first write is also where a session of the first format moves over.
            self.migrate_workspace = not self.ttl_keys & TTL_BITS["workspace"]
            self._wrote("workspace", k.workspace)
        changes: dict[str, Any] = {
            "last_modified": self.now if commit.new_version else meta.last_modified,
            "event_seq": meta.event_seq + len(commit.events),
            "done_count": self.done_count,
            "ttl_keys": self.ttl_keys,
            "expires_at": self.now + meta.timeout,
            "data_until": self.data_until,
        }
        if commit.new_version:
            changes["version"] = max(meta.version, commit.version_floor) + 1
            changes["commit_id"] = secrets.token_hex(8)
        if commit.take_over:
            changes["epoch"] = meta.epoch + 1
            changes["owner"] = self.node_id
        changes.update(commit.meta_changes)
        return meta.with_changes(**changes)

    def numbered(self, events: Sequence[SessionEvent]) -> tuple[SessionEvent, ...]:
        """``events`` with the ``seq`` this commit gives them (after the session's last)."""
        return tuple(
            attrs.evolve(event, seq=self.meta.event_seq + offset)
            for offset, event in enumerate(events, start=1)
        )

    def commands(
        self,
        commit: Commit,
        new_meta: SessionMeta,
        response: dict[str, Any],
        events: Sequence[SessionEvent],
    ) -> list[Command]:
        """The MULTI body; ``events`` are the commit's, :meth:`numbered`."""
        k = self.k
        pxat = int(self.data_until * 1000)
        out: list[Command] = []
        if self.rotate:
            out.append(("RENAME", k.done, k.done_prev))
        out.append(("HSET", k.meta, *_flat(new_meta.to_fields())))
        if commit.state_data is not KEEP:
            body = {"state_data": commit.state_data, "version": new_meta.version}
            out.append(("SET", k.state, seal(body), "PXAT", pxat))
        if commit.objects:
            out.append(("HSET", k.heap, *_flat_sealed(commit.objects)))
        if commit.deleted_objects:
            out.append(("HDEL", k.heap, *commit.deleted_objects))
        if commit.workspace is not None or commit.history:
            fields: list[str | bytes] = []
            if commit.workspace is not None:
                record = to_record(attrs.evolve(commit.workspace, history=[]))
                fields += ["record", seal(record)]
            for entry in commit.history:
                fields += [f"h{entry.seq % HISTORY_LIMIT}", seal(to_record(entry))]
            out.append(("HSET", k.workspace, *fields))
            if self.migrate_workspace:
                out.append(("DEL", k.legacy_workspace))
        if commit.registry:
            registry = {rid: to_record(entry) for rid, entry in commit.registry.items()}
            out.append(("HSET", k.registry, *_flat_sealed(registry)))
        if commit.deleted_registry:
            out.append(("HDEL", k.registry, *commit.deleted_registry))
        if commit.inspectors is not None:
            out.append(("SET", k.inspectors, seal(to_record(commit.inspectors)), "PXAT", pxat))
        for event in events:
            out.append(
                (
                    "XADD", k.events, "MAXLEN", "~", EVENTS_LIMIT, f"0-{event.seq}",
                    "event", event.name, "data", orjson.dumps(event.data), "seq", event.seq,
                )
            )
        if commit.presence_reset:
            out.append(("DEL", k.attached))
        if commit.presence_removed:
            out.append(("HDEL", k.attached, *commit.presence_removed))
        if commit.presence:
            out.append(("HSET", k.attached, *_flat(commit.presence)))
        if commit.fanout and events:
            out.append(("SPUBLISH", k.fanout, self.fanout_message(events, new_meta)))
        if commit.request_id:
            out.append(("HSET", k.done, commit.request_id, orjson.dumps(response)))
        expire = k.data_keys() if self.refresh else self.expire
        out.extend(("PEXPIREAT", key, pxat) for key in expire)
        out.append(("SET", k.alive, new_meta.owner, "PX", new_meta.timeout * 1000))
        out.extend(("PUBLISH", channel, message) for channel, message in commit.publish)
        return out


    def fanout_message(self, events: Sequence[SessionEvent], new_meta: SessionMeta) -> bytes:
        """What the session's channel carries for one commit: its numbered events, and the
        node and epoch that wrote them."""
        return orjson.dumps(
            {
                "node_id": self.node_id,
                "epoch": new_meta.epoch,
                "events": [
                    {"event": event.name, "data": event.data, "seq": event.seq}
                    for event in events
                ],
            }
        )


def _flat(fields: Mapping[str, T]) -> list[str | T]:
    """A hash's fields as HSET's arguments: field, value, field, value..."""
    return [part for item in fields.items() for part in item]


def _flat_sealed(records: dict[str, dict[str, Any]]) -> list[str | bytes]:
    out: list[str | bytes] = []
    for field, record in records.items():
        out.append(field)
        out.append(seal(record))
    return out


class SessionStore:
    """Sessions in Redis: create, transact, read, close, list, count and clean up.

    Every method raises :class:`StoreUnavailable` when Redis cannot be reached, and the errors of
    :mod:`cluster.errors` for what the client did wrong. ``client_id=None`` means "any client"
    (a connection that has not authenticated holds session ids as capabilities).
    ``redis`` (coredis) serves the off-path users (sweeper, registry, pub/sub); the request
    path uses ``wire``.
    """

    def __init__(
        self,
        redis: coredis.Redis[str],
        settings: Settings,
        node_id: str,
        wire: Wire | None = None,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.node_id = node_id
        self.wire: Wire = wire or wire_pool(settings)
        self.durability = DurabilityPolicy(
            min_replicas=settings.min_replicas,
            wait_ms=settings.replica_wait_ms,
            aof=False,  # WAITAOF only once the server is known to have it (aof_checked)
        )
        self._touch = _Script(_script("touch.lua"))
        self._reserve = _Script(_script("reserve.lua"))

    # -- I/O -------------------------------------------------------------------------------

    async def _roundtrip(
        self, connection: WireConnection, commands: Sequence[Command]
    ) -> list[Any]:
        """One round trip on ``connection``, bounded by ``redis_timeout`` (the wire's)."""
        try:
            return await connection.roundtrip(commands)
        except WireError as exc:
            raise StoreUnavailable(f"session store unavailable ({exc})") from exc

    @asynccontextmanager
    async def _connection(self, key: str | None = None) -> AsyncIterator[WireConnection]:
        """A wire connection for this task (to the primary of ``key``); only failing to get
        one is mapped here (errors of the block's own round trips are mapped by
        :meth:`_roundtrip`)."""
        try:
            connection = await self.wire.checkout(key)
        except WireError as exc:
            raise StoreUnavailable(f"session store unavailable ({exc})") from exc
        try:
            yield connection
        finally:
            self.wire.checkin(connection)

    async def _batch(self, commands: Sequence[Command]) -> list[Any]:
        """One round trip (one per primary the keys live on, with a router)."""
        try:
            return await self.wire.roundtrip(commands)
        except WireError as exc:
            raise StoreUnavailable(f"session store unavailable ({exc})") from exc

    async def confirm(self, session_id: str, timeout: int) -> Durability:
        """The durability of a session's stored state (a replayed answer): a no-op write (the
        liveness key's PEXPIRE) and the policy's WAIT, on a connection of its own (WAIT covers
        only its connection's writes); replication is ordered, so replicas that have the
        no-op have every earlier commit of the session too."""
        if not self.durability.waits:
            return NOT_ASKED
        alive = keys.SessionKeys(session_id).alive
        replies = await self._batch(
            [("PEXPIRE", alive, timeout * 1000), *self.durability.commands()]
        )
        return self.durability.outcome(replies[-1], f"replay on session {session_id}")

    async def recover(self) -> None:
        """After a store failure: find the primaries again (a router; nothing standalone)."""
        await self.wire.recover()

    async def check_server(self) -> str:
        """The Redis version of (one of) the primaries; turns ``WAITAOF`` on when asked for
        and the server has it (else says so: ``aof`` stays false in every answer)."""
        reply = (await self._batch([("INFO", "server")]))[0]
        version = parse_info(str(reply)).get("redis_version", "")
        if self.settings.wait_aof:
            if supports_waitaof(version):
                self.durability = attrs.evolve(self.durability, aof=True)
            else:
                log.warning(
                    "--wait-aof needs Redis 7.2 or newer (WAITAOF); this store runs %s: "
                    "answers say aof: false", version or "an unknown version",
                )
        return version

    async def _eval(self, script: _Script, keys_: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a script by SHA, loading it if Redis lost it (a restart or a flush)."""
        reply = (await self._batch([script.evalsha(keys_, args)]))[0]
        if isinstance(reply, ReplyError) and str(reply).startswith("NOSCRIPT"):
            # A restart, a flush, or a promoted replica: SCRIPT LOAD is not replicated.
            reply = (await self._batch([script.eval(keys_, args)]))[0]
        if isinstance(reply, ReplyError):
            raise SessionError(f"store script failed: {reply}")
        return reply

    async def ping(self) -> bool:
        """Whether Redis answers (for health checks)."""
        try:
            with trio.fail_after(min(self.settings.redis_timeout, 2.0)):
                return bool((await self._batch([("PING",)]))[0] == "PONG")
        except (StoreUnavailable, trio.TooSlowError):
            return False

    # -- record checks ---------------------------------------------------------------------

    async def _quarantine(self, k: keys.SessionKeys, key: str, raw: Any) -> None:
        """Keep a damaged record aside for inspection (best effort: the answer is the same)."""
        try:
            payload = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
            await self._batch(
                [
                    ("HSET", k.quarantine, key, payload, f"{key}@", str(time.time())),
                    ("EXPIRE", k.quarantine, QUARANTINE_TTL),
                ]
            )
        except StoreUnavailable:
            pass

    async def _checked_meta(self, k: keys.SessionKeys, fields: dict[str, str]) -> SessionMeta:
        try:
            return SessionMeta.from_fields(fields, k.meta)
        except CorruptRecord:
            await self._quarantine(k, k.meta, fields)
            raise

    async def _owned_meta(
        self, k: keys.SessionKeys, client_id: str | None, fields: dict[str, str]
    ) -> SessionMeta:
        """The session's checked meta; SessionNotFound if it is gone or another client's.

        Ownership is checked before integrity: another client's damaged session must answer
        exactly as a missing one (and not be quarantined by it)."""
        if not sharing.visible(fields, client_id):  # the owner, or a client it shared with
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

    async def _unseal_hash(
        self, k: keys.SessionKeys, key: str, raw: dict[str, Any], damaged: dict[str, str]
    ) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for field, value in raw.items():
            name = keys.record_name(key, str(field))
            try:
                records[str(field)] = unseal(value, name)
            except CorruptRecord as exc:
                damaged[name] = exc.message
                await self._quarantine(k, name, str(value))
        return records

    async def _structured(
        self,
        k: keys.SessionKeys,
        name: str,
        raw: dict[str, Any] | None,
        cls: type[T],
        damaged: dict[str, str],
    ) -> T | None:
        """A sound record that does not have the shape of ``cls`` is damaged too."""
        if raw is None:
            return None
        try:
            return from_record(raw, cls, name)
        except CorruptRecord as exc:
            damaged[name] = exc.message
            await self._quarantine(k, name, raw)
            return None

    async def _workspace_record(
        self,
        k: keys.SessionKeys,
        fields: dict[str, str],
        legacy: str | None,
        damaged: dict[str, str],
    ) -> WorkspaceRecord | None:
        """The workspace hash (record and history slots), or the first format's string."""
        if not fields:
            raw = await self._unseal_one(k, k.legacy_workspace, legacy, damaged)
            record = await self._structured(k, k.legacy_workspace, raw, WorkspaceRecord, damaged)
            if record is not None:
                for seq, entry in enumerate(record.history):
                    entry.seq = seq
                record.history_next = len(record.history)
            return record
        history: list[HistoryEntry] = []
        record = None
        for field, raw in (await self._unseal_hash(k, k.workspace, fields, damaged)).items():
            name = keys.record_name(k.workspace, field)
            if field == "record":
                record = await self._structured(k, name, raw, WorkspaceRecord, damaged)
            else:
                slot = await self._structured(k, name, raw, HistoryEntry, damaged)
                if slot is not None:
                    history.append(slot)
        if record is None:
            return None
        record.history = sorted(history, key=lambda entry: entry.seq)
        return record

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

    # -- create ----------------------------------------------------------------------------

    async def create(
        self, client_id: str, request_id: str | None = None
    ) -> tuple[SessionMeta, bool, Durability]:
        """Create a session for ``client_id`` within its session limit; (meta, replayed,
        what the write reached: :mod:`cluster.durability`).

        The limit is enforced by an atomic reserve in the client's index (``reserve.lua``); a
        reservation left behind by a node that died before the session was written is pruned
        by the next create that finds the client at its limit. With a ``request_id``, a retry
        of the same create answers the session the first attempt made (and finishes writing
        it if that attempt died half way) instead of making a second one.
        """
        now = time.time()
        index = keys.client_sessions(client_id)
        limit = self.settings.max_sessions_per_client

        async def reserve() -> tuple[int, str]:
            answer = await self._eval(
                self._reserve,
                [index, keys.client_creates(client_id)],
                [new_session_id(), now, limit, request_id or "", CREATE_MEMORY],
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
            fields = pairs((await self._batch([("HGETALL", k.meta)]))[0])
            if fields:
                meta = await self._checked_meta(k, fields)
                return meta, True, await self.confirm(session_id, meta.timeout)
            await self._batch([("ZADD", index, now, session_id)])  # the first attempt died early
        timeout = self.settings.session_timeout
        data_until = data_deadline(now, timeout)
        meta = SessionMeta(
            session_id=session_id,
            client_id=client_id,
            created_at=now,
            last_modified=now,
            timeout=timeout,
            version=1,
            epoch=1,
            owner=self.node_id,
            expires_at=now + timeout,
            data_until=data_until,
            commit_id=secrets.token_hex(8),
        )
        pxat = int(data_until * 1000)
        waits = self.durability.commands()
        replies = await self._batch(
            [
                ("MULTI",),
                ("HSET", k.meta, *_flat(meta.to_fields())),
                ("PEXPIREAT", k.meta, pxat),
                ("SET", k.state, seal({"state_data": None, "version": 1}), "PXAT", pxat),
                ("SET", k.alive, self.node_id, "PX", timeout * 1000),
                ("EXEC",),
                *waits,  # on the session's connection, right after its EXEC
                # Cross-session indexes: other slots on a Redis Cluster, outside the MULTI.
                ("ZADD", keys.EXPIRY_INDEX, now + timeout, expiry_member(session_id, client_id)),
                ("SADD", keys.CLIENTS, client_id),
            ]
        )
        durability = (
            self.durability.outcome(replies[6], f"create of session {session_id}")
            if waits else NOT_ASKED
        )
        return meta, False, durability

    async def _prune_client_index(self, client_id: str) -> int:
        """Drop index entries whose session is gone (expired, or a create that died)."""
        index = keys.client_sessions(client_id)
        flat = (await self._batch([("ZRANGE", index, 0, -1, "WITHSCORES")]))[0]
        entries = list(zip(flat[::2], flat[1::2], strict=True))
        if not entries:
            return 0
        checks = await self._batch(
            [("EXISTS", keys.SessionKeys(sid).alive) for sid, _ in entries]
        )
        stale = [
            str(sid)
            for (sid, score), alive in zip(entries, checks, strict=True)
            if not alive and float(score) < time.time() - RESERVATION_GRACE
        ]
        if stale:
            await self._batch([("ZREM", index, *stale)])
        return len(stale)

    # -- transactions ----------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(
        self,
        session_id: str,
        client_id: str | None,
        request_id: str | None = None,
        *,
        reads: ReadSpec | None = None,
    ) -> AsyncIterator[tuple[Transaction, Records]]:
        """Round trip 1 of a commit: WATCH, the session's meta, the response stored for
        ``request_id`` and ``reads``, on one connection held until the block ends.

        Raises :class:`SessionNotFound` for a missing, expired or other client's session,
        :class:`CorruptRecord` (a ``SessionError``) for a damaged meta record.
        """
        k = keys.SessionKeys(session_id)
        plan = _Plan(k, reads) if reads is not None else None
        commands: list[Command] = [("WATCH", k.meta, k.alive), ("HGETALL", k.meta)]
        if request_id:
            commands += [("HGET", k.done, request_id), ("HGET", k.done_prev, request_id)]
        if plan is not None:
            commands += plan.commands()
        async with self._connection(k.meta) as connection:
            tx: Transaction | None = None
            try:
                replies = await self._roundtrip(connection, commands)
                meta = await self._owned_meta(k, client_id, pairs(replies[1]))
                if meta.expires_at < time.time():
                    # Reads may have extended the session without moving ``expires_at``.
                    ttl = (await self._roundtrip(connection, [("PTTL", k.alive)]))[0]
                    if ttl < 0:
                        raise SessionNotFound(f"session {session_id} not found or expired")
                stored_raw = (replies[2] or replies[3]) if request_id else None
                stored = dict(orjson.loads(stored_raw)) if stored_raw else None
                records = Records()
                if plan is not None:
                    records = await plan.parse(self, replies[4 if request_id else 2:])
                tx = Transaction(self, connection, k, meta, stored)
                yield tx, records
            finally:
                if tx is None or tx.watching:
                    connection.unwatch_next = True  # left without EXEC: the next holder's job

    async def take_over(self, session_id: str, client_id: str | None) -> tuple[SessionMeta, str]:
        """Make this node the session's owner with a new epoch; (meta, previous owner).

        Raising the epoch is what fences the previous owner: any commit it still attempts
        finds another epoch in its transaction and is refused.
        """
        for _ in range(12):
            async with self.transaction(session_id, client_id) as (tx, _records):
                previous = tx.meta.owner
                try:
                    done = await tx.commit(Commit(request_id=None, take_over=True,
                                                  new_version=False))
                except WatchLost:
                    continue
                return done.meta, previous
        raise ContentionExhausted(f"session {session_id} kept changing; try again")

    # -- reads -----------------------------------------------------------------------------

    async def read(
        self, session_id: str, client_id: str | None, spec: ReadSpec | None = None
    ) -> Snapshot:
        """Meta and ``spec``'s records in one MULTI that also refreshes the session's expiry.

        Raises :class:`SessionNotFound` for a missing, expired or other client's session,
        :class:`CorruptRecord` (a ``SessionError``) for a damaged meta or state record.
        """
        k = keys.SessionKeys(session_id)
        plan = _Plan(k, spec or ReadSpec())
        touch = [k.meta, k.alive], [client_id or ""]
        body: list[Command] = [("HGETALL", k.meta), *plan.commands()]
        replies = await self._batch(
            [("MULTI",), self._touch.evalsha(*touch), *body, ("EXEC",)]
        )
        results = replies[-1]
        if results and isinstance(results[0], ReplyError) and str(results[0]).startswith(
            "NOSCRIPT"
        ):
            replies = await self._batch([("MULTI",), self._touch.eval(*touch), *body, ("EXEC",)])
            results = replies[-1]
        if not isinstance(results, list) or isinstance(results[0], ReplyError):
            raise SessionError(f"read of session {session_id} failed: {results}")
        ttl = int(results[0])
        fields = pairs(results[1])
        if ttl == DAMAGED_META:
            await self._quarantine(k, k.meta, fields)
            raise CorruptRecord(f"stored record {k.meta} failed its integrity check")
        if ttl < 0:
            raise SessionNotFound(f"session {session_id} not found or expired")
        meta = await self._checked_meta(k, fields)
        records = await plan.parse(self, results[2:])
        if data_refresh_due(meta, time.time()):
            await self._refresh_data(k, meta)
        return Snapshot(meta=meta, ttl_ms=ttl, records=records)

    async def _refresh_data(self, k: keys.SessionKeys, meta: SessionMeta) -> None:
        """Move the data keys' TTL (and ``data_until``) out by about two timeouts.

        A session that is only read for longer than its timeout gets here; commits do the same
        inside their MULTI. ``data_until`` is a timer field, outside the meta digest, so this
        needs no transaction.
        """
        until = data_deadline(time.time(), meta.timeout)
        pxat = int(until * 1000)
        await self._batch(
            [
                *[("PEXPIREAT", key, pxat) for key in k.data_keys()],
                ("HSET", k.meta, "data_until", repr(until)),
            ]
        )

    # -- close -----------------------------------------------------------------------------

    async def close(self, session_id: str, client_id: str | None) -> set[str]:
        """Delete a session and its index entries; another client's session is not found.
        Answers the ids of the nodes that had connections attached to it (to be told)."""
        k = keys.SessionKeys(session_id)
        owner, alive, attached = await self._batch(
            [("HGET", k.meta, "client_id"), ("EXISTS", k.alive), ("HGETALL", k.attached)]
        )
        if owner is None or not alive or (client_id is not None and owner != client_id):
            raise SessionNotFound(f"session {session_id} not found or expired")
        await self.remove(session_id, str(owner))
        presence = sharing.decode_attachments(pairs(attached), k.attached)
        return {attachment.node_id for attachment in presence.values()}

    async def remove(self, session_id: str, client_id: str, *, if_expired: bool = False) -> bool:
        """Delete everything of a session (idempotent; used by close and cleanup).

        With ``if_expired`` (cleanup), only while its liveness key is gone, checked under WATCH:
        a commit that lands meanwhile keeps the session. True when this call deleted the
        session's data (so racing cleanups count it once).
        """
        k = keys.SessionKeys(session_id)
        async with self._connection(k.meta) as connection:
            if if_expired:
                watched = await self._roundtrip(
                    connection, [("WATCH", k.alive, k.meta), ("EXISTS", k.alive)]
                )
                if watched[1]:
                    connection.unwatch_next = True
                    return False
                replies = await self._roundtrip(
                    connection, [("MULTI",), ("DEL", *k.all_keys()), ("EXEC",)]
                )
                if replies[-1] is None:
                    return False
                deleted = int(replies[-1][0])
            else:
                deleted = int((await self._roundtrip(connection, [("DEL", *k.all_keys())]))[0])
        # The indexes live in other slots (other primaries on a Redis Cluster).
        index = keys.client_sessions(client_id)
        replies = await self._batch(
            [
                ("ZREM", index, session_id),
                ("ZREM", keys.EXPIRY_INDEX, expiry_member(session_id, client_id)),
                ("ZCARD", index),
            ]
        )
        if not replies[2]:
            await self._batch([("SREM", keys.CLIENTS, client_id)])
        return deleted > 0

    # -- small reads -----------------------------------------------------------------------

    async def publish(self, channel: str, message: bytes) -> int:
        """PUBLISH on the request path's connections; how many subscribers heard it."""
        return int((await self._batch([("PUBLISH", channel, message)]))[0])

    async def versions(self, session_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """(version, commit id) of each session that exists, read as stored (a rollback check
        after a failover: :mod:`cluster.rollback`)."""
        replies = await self._batch(
            [("HMGET", keys.SessionKeys(sid).meta, "version", "commit_id") for sid in session_ids]
        )
        found: dict[str, tuple[int, str]] = {}
        for sid, reply in zip(session_ids, replies, strict=True):
            if isinstance(reply, list) and reply[0] is not None and str(reply[0]).isdigit():
                found[sid] = (int(reply[0]), str(reply[1] or ""))
        return found  # (a damaged meta is skipped here: its next read quarantines it)

    async def owner_of(self, session_id: str) -> str | None:
        """The node id that last took ownership of the session (a hint: fencing decides)."""
        owner = (await self._batch([("HGET", keys.SessionKeys(session_id).meta, "owner")]))[0]
        return None if owner is None else str(owner)

    async def events_after(self, session_id: str, seq: int, upto: int | None = None) -> list[
        SessionEvent
    ]:
        """The session's stored events with ``seq < n <= upto`` (the fan-out's gap repair)."""
        k = keys.SessionKeys(session_id)
        end = "+" if upto is None else f"0-{upto}"
        reply = (await self._batch([("XRANGE", k.events, f"0-{seq + 1}", end)]))[0]
        return stream_events(reply)

    async def presence_put(
        self, session_id: str, attachment_id: str, attachment: Attachment
    ) -> None:
        """Record one attachment outside a commit (``create_session``'s creator); the key
        lives as long as the session's data keys."""
        k = keys.SessionKeys(session_id)
        ttl = int(data_deadline(0, self.settings.session_timeout) * 1000)  # (as a duration)
        await self._batch([
            ("HSET", k.attached, attachment_id, sharing.encode_attachment(attachment)),
            ("PEXPIRE", k.attached, ttl),
        ])

    async def presence_drop(self, session_id: str, *attachment_ids: str) -> None:
        """Forget attachments outside a commit (a connection of an exclusive session closed,
        or stale entries found by a reader). Presence is advisory: no WATCH, no event."""
        if attachment_ids:
            await self._batch([("HDEL", keys.SessionKeys(session_id).attached, *attachment_ids)])

    async def expiry_member_of(self, session_id: str) -> tuple[str, str] | None:
        """(session id, client id) of an expired session, if its meta can still be read."""
        k = keys.SessionKeys(session_id)
        owner, alive = await self._batch([("HGET", k.meta, "client_id"), ("EXISTS", k.alive)])
        if owner is None or alive:
            return None
        return session_id, str(owner)

    async def list_client(self, client_id: str) -> list[SessionSummary]:
        """The client's live sessions, oldest first (stale index entries are skipped)."""
        ids = [str(s) for s in (await self._batch(
            [("ZRANGE", keys.client_sessions(client_id), 0, -1)]
        ))[0]]
        if not ids:
            return []
        commands: list[Command] = []
        for sid in ids:
            k = keys.SessionKeys(sid)
            commands += [("HGETALL", k.meta), ("PTTL", k.alive)]
        replies = await self._batch(commands)
        summaries = []
        for i, sid in enumerate(ids):
            fields, ttl = pairs(replies[2 * i]), int(replies[2 * i + 1])
            if ttl < 0 or not fields:
                continue
            k = keys.SessionKeys(sid)
            try:
                meta = SessionMeta.from_fields(fields, k.meta)
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
        sessions, clients = await self._batch(
            [("ZCARD", keys.EXPIRY_INDEX), ("SCARD", keys.CLIENTS)]
        )
        return {"total_sessions": int(sessions), "active_clients": int(clients)}


class _Script:
    """A Lua script called by SHA (EVAL with its source when Redis has lost it)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def evalsha(self, keys_: Sequence[str], args: Sequence[Any]) -> Command:
        return ("EVALSHA", self.sha, len(keys_), *keys_, *args)

    def eval(self, keys_: Sequence[str], args: Sequence[Any]) -> Command:
        return ("EVAL", self.source, len(keys_), *keys_, *args)


def expiry_member(session_id: str, client_id: str) -> str:
    """The expiry index member: the session and its client, so cleanup needs no meta."""
    return f"{session_id} {client_id}"


def parse_expiry_member(member: str) -> tuple[str, str]:
    session_id, _, client_id = member.partition(" ")
    return session_id, client_id


def seconds_until(ttl_ms: int) -> float:
    return max(0.0, ttl_ms / 1000)
