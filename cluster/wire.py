"""The lean Redis client of the request path: pipelined RESP over Trio sockets.

Why not coredis here: on this kind of machine a two-round-trip WATCH transaction cost the
calling process 690 µs of CPU through coredis pipelines, 340 µs through coredis's own
connections, and 54 µs through this module (50 concurrent tasks, same run; see
``docs/decisions.md``). coredis keeps everything that is not on the per-request path (pub/sub,
the sweeper, the node registry, backups).

The model is deliberately small:

- :class:`WireConnection` owns one socket and one ``hiredis.Reader``. :meth:`roundtrip` writes
  a batch of commands in one ``send`` and reads exactly that many replies: one network round
  trip, whatever the batch size. Error replies come back as :class:`ReplyError` values in the
  list (as Redis sends them, for example inside EXEC), never raised; except "not here, not
  now" replies (:data:`REDIRECTS`), raised as :class:`WireRedirect`: all of them on a
  router's connections, LOADING (a restarted Redis still reading its data) on every one.
- A connection is used by one task at a time (checked out of :class:`WirePool`), so a WATCH
  belongs to its holder until EXEC, DISCARD or UNWATCH. A holder that leaves without ending its
  WATCH marks the connection, and the next holder's first batch starts with UNWATCH (no extra
  round trip).
- Any failure mid-round-trip (timeout, reset, cancellation) leaves the stream in an unknown
  state: the connection is closed, never reused. No command is ever retried here (a retried
  EXEC could run twice); callers decide what is safe to repeat.
- Every round trip and command is counted (:class:`WireStats`) for the node's metrics and the
  bench's budget columns.
"""

from __future__ import annotations

import math
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import attrs
import hiredis
import trio

Arg = str | bytes | int | float
Command = Sequence[Arg]

ReplyError = hiredis.ReplyError
"""An error reply (``-ERR ...``) as a value."""


class WireError(ConnectionError):
    """Redis could not be reached, or a round trip did not complete (timeout, reset)."""


REDIRECTS = ("MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "LOADING", "MASTERDOWN")
"""Error replies that mean "not here, not now" (a failover or a slot move in progress): the
command was not run, so the caller may run it again once the topology is known again."""

NOT_YET = ("LOADING",)
"""The redirects a single server answers too: it restarted and is still loading its data.
Raised on every connection, or they would reach code that parses replies (an ``HGETALL``
answered ``-LOADING`` is not a hash) and turn a restart into request errors."""


class WireRedirect(WireError):
    """A reply said the command belongs elsewhere or later (:data:`REDIRECTS`); nothing of
    that command ran. Raised only on connections whose pool checks (Sentinel, Cluster)."""

    def __init__(self, reply: str, replies: Sequence[Any] = ()) -> None:
        super().__init__(f"redis answered {reply[:120]}")
        self.reply = reply
        self.kind = reply.split(" ", 1)[0]
        self.replies = list(replies)
        """Every reply of the round trip: the commands without a redirect did run."""


def redirect_in(replies: Sequence[Any]) -> str | None:
    """The first redirecting error reply among ``replies`` (top level), if any."""
    for reply in replies:
        if isinstance(reply, ReplyError):
            text = str(reply)
            if text.startswith(REDIRECTS):
                return text
    return None


_MISSING = object()


@attrs.define
class WireStats:
    """Counters since start: round trips and commands sent (for metrics and the bench)."""

    round_trips: int = 0
    commands: int = 0


@attrs.frozen
class Endpoint:
    """Where a Redis server is and how to log in to it."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        """``redis://[user:password@]host:port/db`` (a password alone: ``redis://:pw@h:p``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("redis", ""):
            raise ValueError(f"not a standalone redis:// URL: {url!r}")
        db_text = parts.path.lstrip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=int(db_text) if db_text else 0,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def login(self) -> list[Command]:
        """Commands a new connection sends first."""
        commands: list[Command] = []
        if self.password is not None:
            if self.username:
                commands.append(("AUTH", self.username, self.password))
            else:
                commands.append(("AUTH", self.password))
        if self.db:
            commands.append(("SELECT", self.db))
        return commands


class Watchdog:
    """Bounds every round trip without a cancel scope per call.

    A round trip in flight registers its connection with a deadline; :meth:`run`, one task for
    all of a node's connections, closes a connection whose deadline passed, which wakes its
    waiting task with an error (:class:`WireError`: "did not answer in time"). A cancel scope
    per round trip cost ~7 µs twice a request, a sizeable share of a request's budget; this
    costs a set insertion. Until :meth:`run` has started (tools, tests without a node) each
    round trip uses ``trio.fail_after`` as before.
    """

    def __init__(self, period: float = 0.1) -> None:
        self.period = period
        self.running = False
        self.active: set[WireConnection] = set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Watch until cancelled (a service: ``await nursery.start(watchdog.run)``)."""
        self.running = True
        task_status.started()
        try:
            while True:
                await trio.sleep(self.period)
                now = trio.current_time()
                for connection in [c for c in self.active if c.deadline <= now]:
                    connection.expire()
        finally:
            self.running = False


class WireConnection:
    """One socket to Redis; used by one task at a time."""

    def __init__(
        self, sock: socket.socket, stats: WireStats, pool: WirePool | None = None
    ) -> None:
        self._sock = sock
        self._reader = hiredis.Reader(encoding="utf-8", notEnoughData=_MISSING)
        self._stats = stats
        self.pool = pool
        """The pool it belongs to (a router checks it back in there)."""
        self.timeout = pool.timeout if pool is not None else 5.0
        self.watchdog = pool.watchdog if pool is not None else None
        self.deadline = math.inf
        self.timed_out = False
        self.check_redirects = pool is not None and pool.check_redirects
        self.broken = False
        self.unwatch_next = False
        """Set by a holder that leaves with a WATCH still active: the next batch (of the next
        holder) begins with UNWATCH. Never set it while the WATCH is still wanted."""

    async def roundtrip(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` in one write, return their replies in order (one round trip).

        Raises :class:`WireError` (and marks the connection broken) if the round trip does not
        complete within ``timeout``; a cancelled round trip also breaks the connection.
        """
        dog = self.watchdog
        if dog is not None and dog.running:
            self.deadline = trio.current_time() + self.timeout
            dog.active.add(self)
            try:
                return await self._roundtrip(commands)
            finally:
                dog.active.discard(self)
                self.deadline = math.inf
        try:
            with trio.fail_after(self.timeout):
                return await self._roundtrip(commands)
        except trio.TooSlowError:
            raise WireError(f"redis did not answer within {self.timeout:g} s") from None

    def expire(self) -> None:
        """The round trip in flight ran past its deadline: end it (see :class:`Watchdog`)."""
        self.timed_out = True
        self.close_now()

    async def _roundtrip(self, commands: Sequence[Command]) -> list[Any]:
        if self.broken:
            raise WireError("connection is closed")
        skip = 0
        if self.unwatch_next:
            commands = [("UNWATCH",), *commands]
            skip = 1
            self.unwatch_next = False
        payload = b"".join([hiredis.pack_command(tuple(c)) for c in commands])  # type: ignore[arg-type]
        self._stats.round_trips += 1
        self._stats.commands += len(commands)
        try:
            await self._send(payload)
            replies: list[Any] = []
            reader = self._reader
            while len(replies) < len(commands):
                reply = reader.gets()
                if reply is _MISSING:
                    reader.feed(await self._receive())
                    continue
                replies.append(reply)
        except BaseException as exc:
            self.broken = True
            if self.timed_out:
                raise WireError(f"redis did not answer within {self.timeout:g} s") from None
            if isinstance(exc, WireError):
                raise
            if isinstance(exc, trio.BrokenResourceError | trio.ClosedResourceError | OSError):
                raise WireError(f"redis connection lost ({exc.__class__.__name__})") from exc
            raise
        redirect = redirect_in(replies)
        if redirect is not None and (self.check_redirects or redirect.startswith(NOT_YET)):
            # The stream is intact: the connection stays usable.
            raise WireRedirect(redirect, replies[skip:])
        return replies[skip:]

    async def receive(self) -> Any:
        """The next reply Redis pushes (a subscribed connection's messages); :class:`WireError`
        when the connection ends."""
        reader = self._reader
        while True:
            reply = reader.gets()
            if reply is not _MISSING:
                return reply
            try:
                data = await self._receive()
            except OSError as exc:
                self.broken = True
                if isinstance(exc, WireError):
                    raise
                raise WireError(f"redis connection lost ({exc.__class__.__name__})") from exc
            except BaseException:
                self.broken = True
                raise
            reader.feed(data)

    async def _send(self, payload: bytes) -> None:
        """Write ``payload`` with plain socket calls; wait only when the kernel's buffer is
        full. (trio's SocketStream pays a scheduler pass per call on top: on this path, with
        two round trips per request, that was a measurable share of a request's CPU.)"""
        view = memoryview(payload)
        while view:
            try:
                sent = self._sock.send(view)
            except BlockingIOError:
                await trio.lowlevel.wait_writable(self._sock)
                continue
            view = view[sent:]

    async def _receive(self) -> bytes:
        """Wait until the socket is readable, then read: a reply is never there the moment a
        request was sent, so trying first would cost a failed system call every time."""
        while True:
            await trio.lowlevel.wait_readable(self._sock)
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                raise WireError("redis closed the connection")
            return data

    async def aclose(self) -> None:
        self.close_now()
        await trio.lowlevel.checkpoint()

    def close_now(self) -> None:
        """Close without waiting (a broken connection: nothing more to say to Redis)."""
        self.broken = True
        if self._sock.fileno() >= 0:
            trio.lowlevel.notify_closing(self._sock)
            self._sock.close()


class WirePool:
    """Connections to one Redis server, checked out one task at a time.

    ``max_connections`` bounds what one node opens (a WATCH holds its connection while an
    evaluation runs); a task waits for a free one at most ``timeout`` seconds.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        timeout: float = 5.0,
        max_connections: int = 256,
        stats: WireStats | None = None,
        check_redirects: bool = False,
        watchdog: Watchdog | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.watchdog = watchdog or Watchdog()
        """Shared by every pool of a node (a router passes its own to the pools it makes)."""
        self.stats = stats or WireStats()
        self.check_redirects = check_redirects
        """Raise :class:`WireRedirect` for MOVED, READONLY... (set by :mod:`cluster.router`;
        a standalone Redis has nowhere else to send us: only :data:`NOT_YET` is raised)."""
        self.closed = False
        self._free: list[WireConnection] = []
        self._slots = trio.Semaphore(max_connections)

    async def _open(self) -> WireConnection:
        try:
            stream = await trio.open_tcp_stream(self.endpoint.host, self.endpoint.port)
        except OSError as exc:
            raise WireError(
                f"cannot connect to redis at {self.endpoint.host}:{self.endpoint.port} ({exc})"
            ) from exc
        connection = WireConnection(_plain_socket(stream), self.stats, self)
        login = self.endpoint.login()
        if login:
            for reply in await connection.roundtrip(login):
                if isinstance(reply, ReplyError):
                    await connection.aclose()
                    raise WireError(f"redis refused the login: {reply}")
        return connection

    async def checkout(self, key: str | None = None) -> WireConnection:
        """A connection for this task alone; give it back with :meth:`checkin`. ``key`` (the
        key the connection's commands are about) matters only to a router.

        Raises :class:`WireError` if none is free (or Redis does not accept a new one) within
        ``timeout``. The fast path (a free connection) costs no cancel scope.
        """
        try:
            self._slots.acquire_nowait()
        except trio.WouldBlock:
            try:
                with trio.fail_after(self.timeout):
                    await self._slots.acquire()
            except trio.TooSlowError:
                raise WireError(f"no free redis connection within {self.timeout:g} s") from None
        if self._free:
            return self._free.pop()
        try:
            with trio.fail_after(self.timeout):
                return await self._open()
        except trio.TooSlowError:
            self._slots.release()
            raise WireError(f"redis did not accept a connection within {self.timeout:g} s")
        except BaseException:
            self._slots.release()
            raise

    def checkin(self, connection: WireConnection) -> None:
        """Return a connection; a broken one (or one of a closed pool) is closed instead."""
        if connection.broken or self.closed:
            connection.close_now()
        else:
            self._free.append(connection)
        self._slots.release()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[WireConnection]:
        """:meth:`checkout` ... :meth:`checkin` as a block."""
        connection = await self.checkout()
        try:
            yield connection
        finally:
            self.checkin(connection)

    async def roundtrip(self, commands: Sequence[Command]) -> list[Any]:
        """One round trip on any free connection (:class:`WireError` after ``timeout``)."""
        async with self.connection() as connection:
            return await connection.roundtrip(commands)

    def endpoint_for(self, key: str | None) -> Endpoint:
        """One server holds every key."""
        return self.endpoint

    async def recover(self) -> None:
        """After a failure: nothing to rediscover for one server (a router asks again where
        the primaries are)."""

    def close(self) -> None:
        """No more checkouts; the free connections close now, those out at their checkin."""
        self.closed = True
        free, self._free = self._free, []
        for connection in free:
            connection.close_now()

    async def aclose(self) -> None:
        self.close()


class Wire(Protocol):
    """What the store needs from its connections: a :class:`WirePool` (one server) or a
    :class:`cluster.router.WireRouter` (Sentinel, Cluster)."""

    stats: WireStats
    watchdog: Watchdog

    def endpoint_for(self, key: str | None) -> Endpoint:
        """Where the primary holding ``key`` is (one server: its endpoint)."""

    async def checkout(self, key: str | None = None) -> WireConnection: ...

    def checkin(self, connection: WireConnection) -> None: ...

    async def roundtrip(self, commands: Sequence[Command]) -> list[Any]: ...

    async def recover(self) -> None: ...

    async def aclose(self) -> None: ...


def _plain_socket(stream: trio.SocketStream) -> socket.socket:
    """The stdlib socket under a connected trio stream (trio connected it: DNS, happy
    eyeballs, TCP_NODELAY), now owned by us alone."""
    wrapped = stream.socket
    family, kind, proto = wrapped.family, wrapped.type, wrapped.proto
    sock = socket.socket(family, kind, proto, fileno=wrapped.detach())
    sock.setblocking(False)
    return sock


def pairs(flat: Sequence[Any] | None) -> dict[str, Any]:
    """A RESP2 ``HGETALL`` reply (``[k1, v1, k2, v2...]``) as a dict."""
    if not flat:
        return {}
    return dict(zip(flat[::2], flat[1::2], strict=True))


def parse_info(text: str) -> dict[str, str]:
    """An ``INFO`` reply as a dict of its ``key:value`` lines."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields[key.strip()] = value.strip()
    return fields
