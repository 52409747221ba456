"""``SessionClient``: one session that survives node deaths, for tests, chaos, bench and the TUI.

It connects to the first answering URL of a list (nodes or load balancers), creates or resumes
its session, and on any connection loss reconnects by itself with jittered back-off (tenacity),
failing over across the URLs. A request in flight when the connection dropped is sent again
with the *same* request id, so the server's exactly-once storage answers it (``replayed``)
rather than running it twice. Events missed while away are fetched with ``last_seq`` on
restore and delivered once, in order. The application sees the connection state through
``on_state`` and :attr:`SessionClient.state`.

States: ``connecting`` (first connection), ``connected`` (session created or resumed on the
first connection), ``reconnecting`` (the connection dropped; requests wait), ``restored`` (the
session is resumed on a new connection), ``failed`` (the session is lost: expired, closed,
taken over, or no node answered within ``reconnect_timeout``), ``closed`` (after
:meth:`SessionClient.close_session`). ``failed`` and ``closed`` are final.

A frozen node (alive, not answering) is found by WebSocket pings every ``ping_interval``
seconds: one unanswered for ``ping_timeout`` seconds counts as a lost connection.

The store failing over (a Redis primary dying, promoted replicas) is not a lost connection: the
node tells us (``store_failing_over`` event, or ``Unavailable`` with ``details.reason``
``store_failing_over``/``not_replicated`` once its own wait ran out) and the state becomes
``store_failing_over``; requests are sent again with the same id on the same connection until
answered (bounded by ``request_timeout``), and the state returns to what it was.

Rollbacks: the client remembers the last acknowledged ``(version, commit_id)`` of its session
and a journal of its recent state-changing requests. A ``session_rolled_back`` event from the
node, or a restore that finds the session older than what was acknowledged (sent as
``acked_version``), is delivered as a ``session_rolled_back`` event and kept in
:attr:`SessionClient.rolled_back`; :meth:`SessionClient.resend_lost` sends the lost requests
again with their own ids (the store has forgotten them with the rollback, so they run once).

Shared sessions (issue 11): ``attach="shared"`` joins the session beside its other connections
(closing none) on every connect and reconnect; ``attach=None`` leaves it to the server (the
owner attaches exclusively, a client the session was shared with attaches shared). A
revoked grant (``share_revoked`` naming this client) ends the session for this client
(``SessionLost`` with reason ``revoked``).
"""

from __future__ import annotations

import itertools
import logging
import random
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)
from trio_websocket import ConnectionClosed, ConnectionTimeout, HandshakeError

from .connection import Connection, RequestFailed, open_connection, ungrouped, unwrap

log = logging.getLogger("stui.client")

CONNECTING, CONNECTED, RECONNECTING, RESTORED, FAILED, CLOSED = (
    "connecting", "connected", "reconnecting", "restored", "failed", "closed",
)
STORE_FAILING_OVER = "store_failing_over"
"""The node is up but its store is failing over: requests wait (not a final state)."""
STATES = (CONNECTING, CONNECTED, RECONNECTING, RESTORED, FAILED, CLOSED, STORE_FAILING_OVER)
_STORE_REASONS = {"store_failing_over", "not_replicated"}
JOURNAL = 256
"""State-changing requests remembered for :meth:`SessionClient.resend_lost`."""
FINAL_STATES = (FAILED, CLOSED)

# Exceptions that mean "this connection is gone (or never came up)": try again elsewhere.
_LOST = (ConnectionClosed, HandshakeError, OSError, trio.BrokenResourceError, trio.TooSlowError)
# Error types after which the request may go to another node and be retried with the same id.
_RETRY_ELSEWHERE = {"Unavailable"}


def _lost_races(response: dict[str, Any]) -> bool:
    """A ``SessionConflict`` from internal retries (not a stale ``expected_version``, which
    carries ``current_version`` for the application to merge)."""
    details = response.get("details") or {}
    return response.get("error_type") == "SessionConflict" and "current_version" not in details
# Error types that end the session when restoring it.
_FATAL_ON_RESTORE = {"Unauthorized", "PermissionDenied", "SessionError"}


class SessionLost(Exception):
    """The session cannot be continued: expired, closed, taken over by another client, or no
    node answered within ``reconnect_timeout``.

    ``reason`` says which: ``not_found`` (expired or closed; the server no longer has it),
    ``expired``, ``taken_over``, ``closed`` (by this client, or a shared session by its
    owner), ``refused`` (authentication or
    permission), ``revoked`` (the owner of a shared session revoked this client's share) or
    ``unreachable`` (no node answered in time: the session may still exist).
    """

    def __init__(self, message: str, reason: str = "not_found") -> None:
        super().__init__(message)
        self.reason = reason


def _describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, or of its cause when it says nothing itself."""
    if isinstance(exc, ConnectionTimeout):
        return "ConnectionTimeout: the WebSocket handshake did not finish in time"
    cause: BaseException | None = exc
    while cause is not None and not str(cause):
        cause = cause.__cause__ or cause.__context__
    if cause is None or isinstance(cause, trio.Cancelled):
        return type(exc).__name__
    return f"{type(cause).__name__}: {cause}"


def _store_failing(response: dict[str, Any]) -> bool:
    """An ``Unavailable`` that says the store (not the node) is failing over."""
    details = response.get("details") or {}
    return response.get("error_type") == "Unavailable" and details.get("reason") in _STORE_REASONS


class _Retry(Exception):
    """A transient refusal (draining node, store outage): try the next URL."""


class SessionClient:
    """A resilient session. Use ``async with open_session(...) as client``.

    Public attributes: :attr:`state`, :attr:`session_id`, :attr:`node_id` (of the node now
    serving), :attr:`url`, :attr:`last_seq` (newest event delivered), :attr:`reconnects`,
    :attr:`restore_result` (the last ``create_session``/``restore_session`` result) and
    :attr:`events` (a Trio receive channel of pushed events).
    """

    def __init__(
        self,
        urls: Sequence[str],
        client_id: str,
        *,
        token: str | Callable[[], str] | None = None,
        ca: str | None = None,
        session_id: str | None = None,
        last_seq: int = 0,
        on_state: Callable[[str, dict[str, Any]], None] | None = None,
        reconnect_timeout: float = 30.0,
        request_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        ping_interval: float | None = 5.0,
        ping_timeout: float = 5.0,
        attach: str | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one URL is needed")
        self.urls = list(urls)
        self.client_id = client_id
        self.token = token
        self.ca = ca
        self.session_id = session_id
        self.on_state = on_state
        self.reconnect_timeout = reconnect_timeout
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.attach = attach
        """``exclusive``, ``shared`` or None (the server's default for this client)."""
        self.state = CONNECTING
        self.url: str | None = None
        self.node_id: str | None = None
        self.last_seq = last_seq
        self._held_back: list[dict[str, Any]] | None = None
        """While a restore is answered: the live events that came before its answer."""
        self.restore_result: dict[str, Any] = {}
        self.reconnects = 0
        self._conn: Connection | None = None  # the newest connection (maybe not restored yet)
        self._ready: Connection | None = None  # the connection requests go to, once restored
        self._scopes: dict[Connection, trio.CancelScope] = {}
        self._changed = trio.Event()
        self._prefix = secrets.token_hex(6)
        self._create_id = f"{self._prefix}-create"
        self._ids = itertools.count(1)
        self._next_url = 0
        self._nursery: trio.Nursery | None = None
        self._events_in, self.events = trio.open_memory_channel[dict[str, Any]](10_000)
        self._lost: SessionLost | None = None
        self._state_before_store: str | None = None
        self.acked: tuple[int, str] | None = None
        """The last acknowledged (version, commit id) of the session."""
        self.journal: deque[tuple[int, str, str, dict[str, Any]]] = deque(maxlen=JOURNAL)
        """(version, request id, command, parameters) of recent acknowledged writes."""
        self.rolled_back: dict[str, Any] | None = None
        """The last ``session_rolled_back`` notice not yet handled by :meth:`resend_lost`."""

    @property
    def lost(self) -> SessionLost | None:
        """Why the session is over (``failed`` or ``closed``), else None."""
        return self._lost

    # -- state -----------------------------------------------------------------------------

    def _set_state(self, state: str, **info: Any) -> None:
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state, {"url": self.url, "node_id": self.node_id, **info})
            except Exception:  # the application's callback must not take the client down
                log.exception("on_state callback failed")

    def _notify(self) -> None:
        """Wake every task waiting for the ready connection to change."""
        self._changed.set()
        self._changed = trio.Event()

    def _fail(self, exc: SessionLost, state: str = FAILED) -> None:
        """The session is over: final state, wake waiters (they raise ``exc``), hang up."""
        if self._lost is not None:
            return
        self._lost = exc
        self._ready = None
        self._set_state(state, error=str(exc), reason=exc.reason)
        self._notify()
        if self._conn is not None:
            self._drop(self._conn)

    def _drop(self, conn: Connection) -> None:
        """Close ``conn`` now (its holder task closes the socket; ``conn.closed`` follows)."""
        scope = self._scopes.get(conn)
        if scope is not None:
            scope.cancel()

    def new_request_id(self) -> str:
        return f"{self._prefix}-{next(self._ids)}"

    def sent(self, request_id: object) -> bool:
        """Whether ``request_id`` is one of this client's (an ``evaluated`` event of its own,
        as opposed to one of another connection of a shared session)."""
        return isinstance(request_id, str) and request_id.startswith(f"{self._prefix}-")

    # -- connection management -------------------------------------------------------------

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Keep one connection up; reconnect (with failover) whenever it drops."""
        first = True
        self._set_state(CONNECTING)
        while True:
            try:
                await self._connect_with_retries(first)
            except SessionLost as exc:
                self._fail(exc)
            if first:
                first = False
                task_status.started()
            if self._lost is not None:
                return
            conn = self._conn
            assert conn is not None
            await conn.closed.wait()
            if self._ready is conn:
                self._ready = None
                self._notify()
            if self._lost is not None:
                return
            self.reconnects += 1
            self._set_state(RECONNECTING)

    async def _connect_with_retries(self, first: bool) -> None:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type((*_LOST, _Retry)),
                wait=wait_random_exponential(multiplier=0.05, max=1.0),
                stop=stop_after_delay(self.reconnect_timeout),
                reraise=True,
            ):
                with attempt:
                    await self._connect_once(first)
        except (*_LOST, _Retry) as exc:
            raise SessionLost(
                f"no node answered within {self.reconnect_timeout:g} s ({_describe(exc)})",
                "unreachable",
            ) from exc

    async def _connect_once(self, first: bool) -> None:
        if self._lost is not None:
            raise self._lost
        url = self.urls[self._next_url % len(self.urls)]
        self._next_url += 1
        assert self._nursery is not None
        conn: Connection = await self._nursery.start(self._hold_connection, url)
        try:
            with trio.fail_after(self.request_timeout):
                await self._open_session(conn, first)
        except RequestFailed as exc:
            self._drop(conn)
            if exc.error_type == "SessionNotFound":
                raise SessionLost(f"session {self.session_id} expired or was closed") from exc
            if exc.error_type in _FATAL_ON_RESTORE:
                raise SessionLost(str(exc), "refused") from exc
            raise _Retry(str(exc)) from exc
        except BaseException:
            self._drop(conn)
            raise

    async def _hold_connection(self, url: str, *, task_status: trio.TaskStatus[Connection]) -> None:
        """Open a connection to ``url`` and keep it until it closes (or is dropped)."""
        scope = trio.CancelScope()
        started = False
        try:
            with scope:
                async with open_connection(
                    url, ca=self.ca, connect_timeout=self.connect_timeout, disconnect_timeout=2
                ) as conn:
                    self._scopes[conn] = scope
                    self._conn = conn
                    self.url = url
                    started = True
                    task_status.started(conn)
                    try:
                        async with trio.open_nursery() as nursery:
                            nursery.start_soon(self._pump_events, conn)
                            if self.ping_interval:
                                nursery.start_soon(self._keepalive, conn)
                            await conn.closed.wait()
                            nursery.cancel_scope.cancel()
                    finally:
                        del self._scopes[conn]
        except BaseExceptionGroup as group:
            inner = unwrap(group)
            if not started and isinstance(inner, Exception):
                raise inner from None
            if not isinstance(inner, Exception):
                raise
            log.debug("connection to %s ended: %r", url, inner)
        except Exception as exc:
            if not started:
                raise
            # After start-up, the end of a connection is news for _run (conn.closed), not an
            # error: never let it take the application's nursery down.
            log.debug("connection to %s ended: %r", url, exc)

    async def _keepalive(self, conn: Connection) -> None:
        """Ping the node; one that does not answer in time is as good as gone."""
        assert self.ping_interval
        while True:
            await trio.sleep(self.ping_interval)
            with trio.move_on_after(self.ping_timeout) as timer:
                try:
                    await conn.ws.ping()
                except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                    return
            if timer.cancelled_caught:
                log.info("%s did not answer a ping in %g s: reconnecting", conn.url,
                         self.ping_timeout)
                self._drop(conn)
                return

    async def _pump_events(self, conn: Connection) -> None:
        async for message in conn.events:
            if conn is not self._conn:
                continue  # an old connection's news (e.g. its own taken-over notice)
            name = message.get("event")
            data = message.get("data") or {}
            if name == "server_draining":
                self._deliver(message)
                # New requests wait for the next node; those in flight here still finish.
                if self._ready is conn:
                    self._ready = None
                    self._notify()
                self._nursery_start(self._close_when_idle, conn)
            elif name == "store_failing_over":
                self._deliver(message)
                self._store_failing(data)
            elif name == "session_rolled_back" and data.get("session_id") in (
                None, self.session_id
            ):
                self._note_rollback(data)
            elif name == "token_expiring" and callable(self.token):
                self._deliver(message)
                self._nursery_start(self._reauthenticate, conn)
            elif name == "share_revoked" and data.get("session_id") == self.session_id and (
                data.get("client_id") == self.client_id
            ):
                self._deliver(message)
                self._fail(SessionLost(
                    f"the owner of session {self.session_id} revoked its share", "revoked"))
            elif name in ("session_taken_over", "session_expired", "session_closed") and (
                data.get("session_id") in (None, self.session_id)
            ):
                self._deliver(message)
                if name == "session_taken_over":
                    lost = SessionLost(
                        f"session {self.session_id} was taken over by another connection",
                        "taken_over",
                    )
                elif name == "session_closed":
                    lost = SessionLost(f"session {self.session_id} was closed by its owner",
                                       "closed")
                else:
                    lost = SessionLost(f"session {self.session_id} expired", "expired")
                self._fail(lost)
            else:
                self._deliver(message)

    def _nursery_start(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(fn, *args)

    async def _close_when_idle(self, conn: Connection, limit: float = 10.0) -> None:
        """Close a draining node's connection once its requests are answered (bounded)."""
        with trio.move_on_after(limit):
            while conn.in_flight and not conn.closed.is_set():
                await trio.sleep(0.01)
        await conn.aclose()

    def _deliver(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if isinstance(seq, int):
            if self._held_back is not None:
                self._held_back.append(message)
                return
            if seq <= self.last_seq:
                return  # already delivered (replayed on restore)
            self.last_seq = seq
        try:
            self._events_in.send_nowait(message)
        except (trio.WouldBlock, trio.ClosedResourceError):
            log.warning("event channel full: dropped %s", message.get("event"))

    def _current_token(self) -> str | None:
        """The token to present now: a callable token (e.g. :func:`client.credentials.minter`)
        makes a fresh one each time, so reconnects and refreshes never use an expired one."""
        return self.token() if callable(self.token) else self.token

    async def _reauthenticate(self, conn: Connection) -> None:
        """The node warned that the token is about to expire: present a fresh one on the same
        connection (if that fails, the node closes it at the expiry and we reconnect)."""
        try:
            await conn.request("authenticate", client_id=self.client_id,
                               token=self._current_token())
        except (RequestFailed, ConnectionClosed, trio.BrokenResourceError,
                trio.ClosedResourceError, OSError) as exc:
            log.warning("could not refresh the token on %s: %r", conn.url, exc)

    async def _open_session(self, conn: Connection, first: bool) -> None:
        token = self._current_token()
        if token is not None:
            await conn.request("authenticate", client_id=self.client_id, token=token)
        elif self.attach == "shared":
            # Without a secret a session id is a capability, but a shared attachment names
            # who is there (presence, others' evaluations): say which client this is.
            await conn.request("authenticate", client_id=self.client_id)
        ping = await conn.request("ping")
        self.node_id = str(ping.get("node_id"))
        if self.session_id is None:
            # One id for every attempt: a create whose answer was lost is answered (replayed)
            # on the retry instead of making a second session.
            created = await conn.request(
                "create_session", request_id=self._create_id, client_id=self.client_id,
                **self._attach_parameter(),
            )
            self.session_id = str(created["session_id"])
            self.restore_result = created
            self._ready = conn
            self._notify()
            self._set_state(CONNECTED, created=True)
            return
        acked: dict[str, Any] = {}
        if self.acked is not None:  # the node then finds a rollback by it (and skips past it)
            acked = {"acked_version": self.acked[0], "acked_commit_id": self.acked[1]}
        # The node attaches the connection before it answers, so the session's live events
        # may come first: they wait, or the missed ones would be dropped as repeats. (If the
        # restore fails they go too: the next restore's missed events have them.)
        self._held_back = []
        try:
            restored = await conn.request(
                "restore_session", session_id=self.session_id, last_seq=self.last_seq,
                **self._attach_parameter(), **acked,
            )
        finally:
            held_back, self._held_back = self._held_back, None
        self.restore_result = restored
        self._check_restored(restored)
        missed = restored.get("missed_events") or []
        for event in [*missed, *held_back]:
            self._deliver(event)
        if isinstance(restored.get("last_seq"), int) and restored["last_seq"] < self.last_seq:
            log.warning("the session's event sequence went back (%s < %s)",
                        restored["last_seq"], self.last_seq)
        self._ready = conn
        self._notify()
        self._set_state(
            CONNECTED if first else RESTORED,
            created=False,
            missed=len(missed),
            truncated=bool(restored.get("missed_events_truncated")),
        )

    def _attach_parameter(self) -> dict[str, str]:
        return {} if self.attach is None else {"attach": self.attach}

    async def _ready_connection(self) -> Connection:
        """The restored connection, waiting through reconnects; raises SessionLost."""
        while True:
            if self._lost is not None:
                raise self._lost
            conn = self._ready
            if conn is not None and not conn.closed.is_set():
                return conn
            await self._changed.wait()

    # -- requests --------------------------------------------------------------------------

    async def request(self, command: str, **parameters: Any) -> dict[str, Any]:
        """Send a request about this session (``session_id`` added), surviving failovers.

        ``SessionNotFound`` about this very session means it is gone (expired or closed): the
        client then fails and raises :class:`SessionLost`.
        """
        parameters.setdefault("session_id", self.session_id)
        try:
            return await self.call(command, parameters)
        except RequestFailed as exc:
            if (
                exc.error_type == "SessionNotFound"
                and parameters.get("session_id") == self.session_id
                and command != "close_session"
            ):
                lost = SessionLost(f"session {self.session_id} expired or was closed")
                self._fail(lost)
                raise lost from exc
            raise

    async def call(
        self, command: str, parameters: dict[str, Any] | None = None,
        *, request_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one request; retried with the same id across reconnects until answered.

        Returns the ``result`` (with ``replayed: True`` when the server answered a stored
        response); raises :class:`RequestFailed` on an error response, :class:`SessionLost`
        when the session is over, ``trio.TooSlowError`` after ``request_timeout`` seconds.
        """
        request_id = request_id or self.new_request_id()
        with trio.fail_after(self.request_timeout):
            while True:
                conn = await self._ready_connection()
                try:
                    response = await conn.call(command, parameters, request_id=request_id)
                except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError,
                        OSError):
                    await self._forget(conn)
                    continue
                if response.get("status") == "success":
                    result: dict[str, Any] = response["result"]
                    if response.get("replayed"):
                        result = {**result, "replayed": True}
                    self._store_recovered()
                    self._acknowledged(request_id, command, parameters or {}, result)
                    return result
                if _store_failing(response):
                    # The node is fine, its store is failing over: same connection, same id.
                    self._store_failing(response.get("details") or {})
                    await trio.sleep(random.uniform(0.1, 0.3))
                    continue
                if response.get("error_type") in _RETRY_ELSEWHERE:
                    await self._forget(conn)
                    continue
                if _lost_races(response):
                    # The server gave up racing other writers; one of its attempts may still
                    # have committed. The same id again answers that commit or runs it once.
                    await trio.sleep(random.uniform(0.005, 0.05))
                    continue
                raise RequestFailed(response)

    # -- the store failing over, rollbacks --------------------------------------------------

    def _store_failing(self, info: dict[str, Any]) -> None:
        if self.state == STORE_FAILING_OVER or self.state in FINAL_STATES:
            return
        self._state_before_store = self.state
        self._set_state(STORE_FAILING_OVER, error=info.get("error"),
                        reason=info.get("reason", "store_failing_over"))

    def _store_recovered(self) -> None:
        if self.state == STORE_FAILING_OVER:
            self._set_state(self._state_before_store or CONNECTED, store_recovered=True)
            self._state_before_store = None

    def _acknowledged(
        self, request_id: str, command: str, parameters: dict[str, Any], result: dict[str, Any]
    ) -> None:
        """Remember a state-changing answer (it carries ``durability``) for rollbacks."""
        if "durability" not in result or not isinstance(result.get("version"), int):
            return
        version, commit_id = int(result["version"]), str(result.get("commit_id") or "")
        if self.acked is None or version >= self.acked[0]:
            self.acked = (version, commit_id)
        self.journal.append((version, request_id, command, dict(parameters)))

    def _check_restored(self, restored: dict[str, Any]) -> None:
        """A restore that finds the session older than acknowledged (or rewritten)."""
        if self.acked is None or not isinstance(restored.get("version"), int):
            return
        version, commit_id = int(restored["version"]), str(restored.get("commit_id") or "")
        acked_version, acked_id = self.acked
        if version < acked_version or (
            version == acked_version and acked_id and commit_id and commit_id != acked_id
        ):
            self._note_rollback({
                "session_id": self.session_id,
                "kind": "rolled_back" if version < acked_version else "diverged",
                "acknowledged_version": acked_version,
                "acknowledged_commit_id": acked_id,
                "stored_version": version,
                "stored_commit_id": commit_id,
            })

    def _note_rollback(self, data: dict[str, Any]) -> None:
        """Keep (once) and deliver a rollback notice."""
        key = ("acknowledged_version", "stored_version", "stored_commit_id")
        if self.rolled_back is not None and all(
            self.rolled_back.get(k) == data.get(k) for k in key
        ):
            return
        self.rolled_back = dict(data)
        self._deliver({"event": "session_rolled_back", "data": dict(data)})

    def lost_requests(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        """Journal entries the last rollback notice says the store no longer has: those
        acknowledged above the stored version, up to the acknowledged one (every entry up to
        it when the history diverged: the ones the store still has answer ``replayed``)."""
        notice = self.rolled_back
        if notice is None:
            return []
        acknowledged = int(notice.get("acknowledged_version", 0))
        stored = 0 if notice.get("kind") == "diverged" else int(notice.get("stored_version", 0))
        return [entry for entry in self.journal if stored < entry[0] <= acknowledged]

    async def resend_lost(self) -> list[dict[str, Any]]:
        """Send the lost requests again, in their order, with their own request ids (a request
        the store still has is answered ``replayed`` and changes nothing); their results."""
        lost = self.lost_requests()
        self.rolled_back = None
        self.acked = None  # the answers below set it again
        results = []
        for _version, request_id, command, parameters in lost:
            results.append(await self.call(command, parameters, request_id=request_id))
        return results

    async def _forget(self, conn: Connection) -> None:
        """``conn`` failed a request: make sure it is closed, so the next one is used."""
        if self._ready is conn:
            self._ready = None
            self._notify()
        with trio.move_on_after(1.0):
            await conn.aclose()
            await conn.closed.wait()
        if not conn.closed.is_set():
            self._drop(conn)

    async def evaluate(self, code: str) -> dict[str, Any]:
        """Evaluate Smalltalk in the session's workspace (see ``evaluate`` in the protocol)."""
        return await self.request("evaluate", code=code)

    async def update_state(self, state_data: Any, **extra: Any) -> dict[str, Any]:
        """Store the application's own state (``update_session_state``)."""
        return await self.request("update_session_state", state_data=state_data, **extra)

    async def close_session(self) -> dict[str, Any]:
        """Close (delete) the session on the cluster; the client is then ``closed``."""
        try:
            result = await self.request("close_session")
        except RequestFailed as exc:
            if exc.error_type != "SessionNotFound":
                raise
            # A retry of a close that had already worked, or a session gone anyway.
            result = {"session_id": self.session_id, "closed": True}
        self._fail(SessionLost(f"session {self.session_id} was closed", "closed"), CLOSED)
        return result

    async def close(self) -> None:
        """Stop the client (connection and background tasks); the session stays on the
        cluster and can be resumed later with its ``session_id``."""
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()


@asynccontextmanager
async def open_session(
    urls: Sequence[str], client_id: str, **kwargs: Any
) -> AsyncIterator[SessionClient]:
    """Connect, create or resume the session, and keep it alive until the block ends.

    Raises :class:`SessionLost` when the session cannot be created or resumed. Exceptions
    raised inside the block come out as they were raised (not wrapped in exception groups).
    """
    client = SessionClient(urls, client_id, **kwargs)
    try:
        with ungrouped():
            async with trio.open_nursery() as nursery:
                client._nursery = nursery
                await nursery.start(client._run)
                if client._lost is not None:
                    raise client._lost
                try:
                    yield client
                finally:
                    nursery.cancel_scope.cancel()
    finally:
        client._events_in.close()
