"""Live fan-out of shared sessions' events: every attached connection, on every node, in one
order.

A commit on a shared session (``SessionMeta.shared``) publishes its numbered events with
``SPUBLISH`` on the session's sharded channel (``stui:{sid}:fan``) inside its own MULTI, so the
channel carries commits in commit order. Each node subscribes (``SSUBSCRIBE``) to the channel
of every shared session it holds an attachment to, and only while it does.

Pub/sub is at most once (a message sent while the subscription is down is lost), and a node's
own commits are known to it before the channel echoes them, so each session gets a
:class:`Feed` here: events are delivered to local connections strictly in ``seq`` order,
whatever brought them (the node's own commit, the channel, or the stream). An event that
arrives after a gap waits; a gap still open after :data:`GAP_WAIT` is filled from the session's
events stream (``XRANGE``), which holds every event (the replay source, as for ``last_seq``).
After every (re)subscription the feed also reads the stream from where it stands, so nothing
published before the subscription was active is missed. Each connection's attachment remembers
the newest ``seq`` it was sent, so no path sends it an event twice; a connection whose queue
is full when an event is due is closed rather than skipped (a hole in what it saw would go
unnoticed): its client reconnects and replays from the stream.

The subscription is one RESP connection of its own per primary that holds a followed session's
channel (coredis 6.9 offers sharded pub/sub only on its cluster client): one on a standalone
Redis or under Sentinel, one per shard in use on a Redis Cluster. Each has a keep-alive PING
and reconnects by itself; :meth:`Fanout.run` looks up where each channel lives again every
second and whenever the followed sessions change, so subscriptions follow failovers (a new
primary) and the set of shards in use.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import hiredis
import orjson
import trio

from cluster import keys
from cluster.errors import StuiError
from cluster.model import SessionEvent
from cluster.store import SessionStore
from cluster.wire import Endpoint, WireError

from .ownership import Attachments
from .protocol import event

log = logging.getLogger("stui.fanout")

GAP_WAIT = 0.1
"""Seconds an out-of-order event waits for the ones before it before the stream is read."""

KEEPALIVE = 5.0
"""Seconds between PINGs on the subscription (a silent connection is found within two)."""

_PREFIX = keys.PREFIX + ":{"
_SUFFIX = "}:fan"
_MISSING = object()


def session_of(channel: str) -> str | None:
    """The session id of a fan-out channel name (``stui:{sid}:fan``)."""
    if channel.startswith(_PREFIX) and channel.endswith(_SUFFIX):
        return channel[len(_PREFIX) : -len(_SUFFIX)]
    return None


class Feed:
    """One session's events on this node: the next ``seq`` to deliver, and what came early."""

    def __init__(self, session_id: str, next_seq: int) -> None:
        self.session_id = session_id
        self.next_seq = next_seq
        self.pending: dict[int, SessionEvent] = {}
        self.repairing = False
        self._moved = trio.Event()

    def moved(self) -> None:
        self._moved.set()
        self._moved = trio.Event()

    async def wait_moved(self) -> None:
        await self._moved.wait()


class Fanout:
    """The node's feeds and its subscription to their channels."""

    def __init__(
        self,
        attachments: Attachments,
        store: SessionStore,
        locate: Callable[[str], Endpoint],
        spawn: Callable[..., None],
        on_event: Callable[[str, SessionEvent], None],
        *,
        timeout: float = 5.0,
    ) -> None:
        self.attachments = attachments
        self.store = store
        self.locate = locate
        """Session id -> the primary that holds its channel (its shard's, on a Cluster)."""
        self.spawn = spawn
        self.on_event = on_event
        self.timeout = timeout
        self.feeds: dict[str, Feed] = {}
        self.subscribed: set[str] = set()
        """Sessions whose channel the current subscription has confirmed."""
        self.received = 0
        self.repairs = 0
        self.from_stream = 0
        """Events read from the stream (gap repairs and catch-ups after a subscription)."""
        self.overwhelmed = 0
        """Connections closed because their queue could not take their session's events."""
        self._wanted = trio.Event()  # the supervisor's (run)
        self._signals: dict[Endpoint, trio.Event] = {}  # each subscription's writer's
        attachments.watchers.append(self._holders_changed)

    # -- feeds -----------------------------------------------------------------------------

    def following(self, session_id: str) -> bool:
        return session_id in self.feeds

    def follow(self, session_id: str) -> Feed:
        """A feed for ``session_id`` (made if missing) and a subscription to its channel.

        A new feed starts after the oldest event a local holder was sent, so whatever they
        have not seen comes from the stream once the subscription is confirmed.
        """
        feed = self.feeds.get(session_id)
        if feed is None:
            seen = [held.seen for _peer, held in self.attachments.attached(session_id)]
            feed = Feed(session_id, (min(seen) if seen else 0) + 1)
            self.feeds[session_id] = feed
            self._want()
        return feed

    def unfollow(self, session_id: str) -> None:
        feed = self.feeds.pop(session_id, None)
        if feed is not None:
            feed.moved()
            self._want()

    def _want(self) -> None:
        """The followed sessions changed: wake the supervisor and every subscription."""
        self._wanted.set()
        for signal in self._signals.values():
            signal.set()

    def _holders_changed(self, session_id: str) -> None:
        if session_id in self.feeds and session_id not in self.attachments:
            self.unfollow(session_id)  # no local connection left: stop listening

    def offer(self, session_id: str, events: Sequence[SessionEvent]) -> None:
        """Events of ``session_id`` from any source; delivered once, in order."""
        feed = self.feeds.get(session_id)
        if feed is None:
            return
        for session_event in events:
            if session_event.seq >= feed.next_seq:
                feed.pending[session_event.seq] = session_event
        self._flush(feed)

    def _flush(self, feed: Feed) -> None:
        moved = False
        while feed.next_seq in feed.pending:
            session_event = feed.pending.pop(feed.next_seq)
            feed.next_seq += 1
            moved = True
            self.send(feed.session_id, session_event)
            self.on_event(feed.session_id, session_event)
        if moved:
            feed.moved()
        if feed.pending and not feed.repairing:
            feed.repairing = True
            self.spawn(self._repair_later, feed)

    def send(self, session_id: str, session_event: SessionEvent) -> None:
        """One event to every local connection attached to the session that has not had it."""
        message = event(session_event.name, session_event.data, seq=session_event.seq)
        for peer, held in self.attachments.attached(session_id):
            if session_event.seq > held.seen and not held.overwhelmed:
                if peer.send_nowait(message):
                    held.seen = session_event.seq
                    continue
                # Its queue is full (a burst, e.g. after a pause): a dropped event would leave
                # a hole in what it saw. Close it instead; its client reconnects and replays
                # from the stream (restore_session with last_seq).
                held.overwhelmed = True
                self.overwhelmed += 1
                log.warning("connection too slow for its session's events: closed",
                            extra={"session_id": session_id, "seq": session_event.seq})
                self.spawn(peer.overwhelmed)

    async def delivered(self, session_id: str, seq: int) -> None:
        """Wait (at most :data:`GAP_WAIT`, then read the stream) until events up to ``seq``
        were delivered: a writer sees its own events before its answer."""
        feed = self.feeds.get(session_id)
        if feed is None or feed.next_seq > seq:
            return
        with trio.move_on_after(GAP_WAIT):
            while feed.next_seq <= seq and self.feeds.get(session_id) is feed:
                await feed.wait_moved()
        if feed.next_seq <= seq and self.feeds.get(session_id) is feed:
            await self._repair(feed, upto=seq)

    async def _repair_later(self, feed: Feed) -> None:
        try:
            await trio.sleep(GAP_WAIT)
            if feed.pending and self.feeds.get(feed.session_id) is feed:
                await self._repair(feed)
        finally:
            feed.repairing = False
        if feed.pending and self.feeds.get(feed.session_id) is feed:
            feed.repairing = True
            self.spawn(self._repair_later, feed)

    async def _repair(self, feed: Feed, upto: int | None = None) -> None:
        """Fill ``feed``'s gap from the stream; skip what the stream no longer has."""
        if feed.pending:
            upto = min(feed.pending) - 1 if upto is None else max(upto, min(feed.pending) - 1)
        if not await self._read_stream(feed, upto, "fan-out gap not repaired"):
            return
        self.repairs += 1
        if feed.pending and feed.next_seq < min(feed.pending):
            # Older events are gone from the capped stream (or never were): go on without.
            log.warning("fan-out skipped events no longer stored",
                        extra={"session_id": feed.session_id, "from": feed.next_seq,
                               "to": min(feed.pending) - 1})
            feed.next_seq = min(feed.pending)
            self._flush(feed)

    async def _catch_up(self, session_id: str) -> None:
        """After a subscription is confirmed: whatever the stream has past the feed."""
        feed = self.feeds.get(session_id)
        if feed is not None:
            await self._read_stream(feed, None, "fan-out catch-up failed")

    async def _read_stream(self, feed: Feed, upto: int | None, failure: str) -> bool:
        """Offer ``feed`` the stream's events past its next ``seq`` (up to ``upto``); False,
        logged as ``failure``, when the stream could not be read."""
        try:
            events = await self.store.events_after(feed.session_id, feed.next_seq - 1, upto)
        except StuiError as exc:
            log.info(failure, extra={"error": repr(exc)})
            return False
        self.from_stream += len(events)
        self.offer(feed.session_id, events)
        return True

    # -- the channel's messages ------------------------------------------------------------

    def on_message(self, channel: str, payload: Any) -> None:
        session_id = session_of(str(channel))
        if session_id is None or session_id not in self.feeds:
            return
        try:
            message = orjson.loads(payload)
            events = [
                SessionEvent(name=str(e["event"]), data=dict(e["data"]), seq=int(e["seq"]))
                for e in message["events"]
            ]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("ignored a malformed fan-out message", extra={"channel": channel})
            return
        self.received += 1
        self.offer(session_id, events)

    # -- the subscription ------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Keep one subscription per primary that holds a followed session's channel (cancel
        to stop)."""
        task_status.started()
        running: dict[Endpoint, trio.CancelScope] = {}
        async with trio.open_nursery() as nursery:
            while True:
                needed = set(self._by_endpoint())
                for endpoint in needed - running.keys():
                    running[endpoint] = await nursery.start(self._keep, endpoint)
                for endpoint in running.keys() - needed:
                    running.pop(endpoint).cancel()
                with trio.move_on_after(1.0):  # primaries move in failovers: look again
                    await self._wanted.wait()
                self._wanted = trio.Event()

    def _by_endpoint(self) -> dict[Endpoint, set[str]]:
        """The followed sessions, by the primary holding their channel (none while the
        store's primaries are not known yet)."""
        placed: dict[Endpoint, set[str]] = {}
        for session_id in self.feeds:
            try:
                endpoint = self.locate(session_id)
            except (WireError, StuiError):
                continue
            placed.setdefault(endpoint, set()).add(session_id)
        return placed

    async def _keep(
        self,
        endpoint: Endpoint,
        *,
        task_status: trio.TaskStatus[trio.CancelScope] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """One primary's subscription, reconnecting with a short back-off until cancelled."""
        with trio.CancelScope() as scope:
            task_status.started(scope)
            delay = 0.05
            while True:
                confirmed: set[str] = set()
                try:
                    await self._subscription(endpoint, confirmed)
                except* _LOST as group:  # (a nursery groups them; a Cancelled beside them stays)
                    log.info(
                        "fan-out subscription lost; resubscribing",
                        extra={"error": repr(group), "redis": f"{endpoint.host}:{endpoint.port}"},
                    )
                finally:
                    self.subscribed.difference_update(confirmed)
                    self._signals.pop(endpoint, None)
                await trio.sleep(delay)
                delay = min(delay * 2, 0.5)

    async def _subscription(self, endpoint: Endpoint, confirmed: set[str]) -> None:
        with trio.fail_after(self.timeout):
            stream = await trio.open_tcp_stream(endpoint.host, endpoint.port)
        async with stream:
            reader = hiredis.Reader(encoding="utf-8", notEnoughData=_MISSING)
            connection = _Connection(stream, reader, self.timeout)
            for reply in await connection.ask(endpoint.login()):
                if isinstance(reply, hiredis.ReplyError):
                    raise _Refused(f"redis refused the login: {reply}")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read, connection, confirmed)
                await self._write(connection, endpoint, confirmed)

    async def _write(
        self, connection: _Connection, endpoint: Endpoint, confirmed: set[str]
    ) -> None:
        """Send SSUBSCRIBE/SUNSUBSCRIBE as this primary's followed sessions change, and
        keep-alive PINGs."""
        asked: set[str] = set()
        while True:
            signal = self._signals[endpoint] = trio.Event()
            wanted = self._by_endpoint().get(endpoint, set())
            add, drop = sorted(wanted - asked), sorted(asked - wanted)
            commands: list[tuple[str, ...]] = []
            if add:
                commands.append(("SSUBSCRIBE", *[keys.SessionKeys(s).fanout for s in add]))
            if drop:
                commands.append(("SUNSUBSCRIBE", *[keys.SessionKeys(s).fanout for s in drop]))
                self.subscribed.difference_update(drop)
                confirmed.difference_update(drop)
            if not commands:
                commands.append(("PING",))
                if time.monotonic() - connection.last_reply > 2 * KEEPALIVE + self.timeout:
                    raise trio.TooSlowError("the fan-out subscription stopped answering")
            asked = wanted
            await connection.send(commands)
            with trio.move_on_after(KEEPALIVE):
                await signal.wait()

    async def _read(self, connection: _Connection, confirmed: set[str]) -> None:
        while True:
            reply = await connection.receive()
            if isinstance(reply, hiredis.ReplyError):
                raise _Refused(str(reply))
            if not isinstance(reply, list) or not reply:
                continue
            kind = str(reply[0]).lower()
            if kind == "smessage" and len(reply) >= 3:
                self.on_message(str(reply[1]), reply[2])
            elif kind == "ssubscribe" and len(reply) >= 2:
                session_id = session_of(str(reply[1]))
                if session_id is not None and session_id in self.feeds:
                    self.subscribed.add(session_id)
                    confirmed.add(session_id)
                    self.spawn(self._catch_up, session_id)


class _Refused(Exception):
    """Redis answered the subscription with an error."""


_LOST = (OSError, trio.BrokenResourceError, trio.ClosedResourceError, trio.TooSlowError,
         hiredis.ProtocolError, _Refused)


class _Connection:
    """One RESP connection in subscribe mode: commands out, replies and pushes in."""

    def __init__(self, stream: trio.SocketStream, reader: Any, timeout: float) -> None:
        self.stream = stream
        self.reader = reader
        self.timeout = timeout
        self.last_reply = time.monotonic()

    async def send(self, commands: Sequence[Sequence[Any]]) -> None:
        payload = b"".join(hiredis.pack_command(tuple(c)) for c in commands)
        with trio.fail_after(self.timeout):
            await self.stream.send_all(payload)

    async def ask(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Commands answered one reply each (before subscribing)."""
        if not commands:
            return []
        await self.send(commands)
        with trio.fail_after(self.timeout):
            return [await self.receive() for _ in commands]

    async def receive(self, timeout: float = math.inf) -> Any:
        while True:
            reply = self.reader.gets()
            if reply is not _MISSING:
                self.last_reply = time.monotonic()
                return reply
            with trio.fail_after(timeout):
                data = await self.stream.receive_some(65536)
            if not data:
                raise trio.BrokenResourceError("redis closed the fan-out subscription")
            self.reader.feed(data)
