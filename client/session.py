"""``SessionClient``: one session that survives node deaths, for tests, chaos, bench and the TUI.

It connects to the first answering URL of a list (nodes or load balancers), creates or resumes
its session, and on any connection loss reconnects by itself with jittered back-off (tenacity),
failing over across the URLs. A request in flight when the connection dropped is sent again
with the *same* request id, so the server's exactly-once storage answers it (``replayed``)
rather than running it twice. Events missed while away are fetched with ``last_seq`` on
restore and delivered once, in order. The application sees the connection state through
``on_state`` and :attr:`SessionClient.state`.
"""

from __future__ import annotations

import itertools
import secrets
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
from trio_websocket import ConnectionClosed, HandshakeError

from .connection import Connection, RequestFailed, open_connection

CONNECTING, CONNECTED, RECONNECTING, RESTORED, FAILED = (
    "connecting", "connected", "reconnecting", "restored", "failed",
)
_LOST = (ConnectionClosed, HandshakeError, OSError, trio.BrokenResourceError, trio.TooSlowError)
# Error types after which the request may go to another node and be retried with the same id.
_RETRY_ELSEWHERE = {"Unavailable"}


class SessionLost(Exception):
    """The session cannot be continued: expired, taken over by another client, or no node
    answered within ``reconnect_timeout``."""


class SessionClient:
    """A resilient session. Use ``async with open_session(...) as client``."""

    def __init__(
        self,
        urls: Sequence[str],
        client_id: str,
        *,
        token: str | None = None,
        session_id: str | None = None,
        on_state: Callable[[str, dict[str, Any]], None] | None = None,
        reconnect_timeout: float = 30.0,
        request_timeout: float = 30.0,
    ) -> None:
        if not urls:
            raise ValueError("at least one URL is needed")
        self.urls = list(urls)
        self.client_id = client_id
        self.token = token
        self.session_id = session_id
        self.on_state = on_state
        self.reconnect_timeout = reconnect_timeout
        self.request_timeout = request_timeout
        self.state = CONNECTING
        self.url: str | None = None
        self.node_id: str | None = None
        self.last_seq = 0
        self.restore_result: dict[str, Any] = {}
        self.reconnects = 0
        self._conn: Connection | None = None
        self._conn_scope: trio.CancelScope | None = None
        self._connected = trio.Event()
        self._prefix = secrets.token_hex(6)
        self._ids = itertools.count(1)
        self._next_url = 0
        self._nursery: trio.Nursery | None = None
        self._events_in, self.events = trio.open_memory_channel[dict[str, Any]](10_000)
        self._lost: BaseException | None = None

    # -- state -----------------------------------------------------------------------------

    def _set_state(self, state: str, **info: Any) -> None:
        self.state = state
        if self.on_state is not None:
            self.on_state(state, {"url": self.url, "node_id": self.node_id, **info})

    def new_request_id(self) -> str:
        return f"{self._prefix}-{next(self._ids)}"

    # -- connection management -------------------------------------------------------------

    async def _run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Keep one connection up; reconnect (with failover) whenever it drops."""
        first = True
        while True:
            try:
                await self._connect_with_retries(first)
            except SessionLost as exc:
                self._lost = exc
                self._set_state(FAILED, error=str(exc))
                self._connected.set()  # wake waiters: they will see _lost
                if first:
                    task_status.started()
                return
            if first:
                first = False
                task_status.started()
            assert self._conn is not None
            await self._conn.closed.wait()
            self._connected = trio.Event()
            self.reconnects += 1
            self._set_state(RECONNECTING)

    async def _connect_with_retries(self, first: bool) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((*_LOST, _Retry)),
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            stop=stop_after_delay(self.reconnect_timeout),
            reraise=True,
        ):
            with attempt:
                await self._connect_once(first)
                return
        raise SessionLost("no node answered")  # pragma: no cover - tenacity reraises

    async def _connect_once(self, first: bool) -> None:
        url = self.urls[self._next_url % len(self.urls)]
        self._next_url += 1
        assert self._nursery is not None
        try:
            conn = await self._nursery.start(self._hold_connection, url)
        except _LOST:
            raise
        try:
            await self._open_session(conn, first)
        except RequestFailed as exc:
            if exc.error_type == "SessionNotFound":
                raise SessionLost(f"session {self.session_id} expired or was closed") from exc
            if exc.error_type in ("Unauthorized", "PermissionDenied", "SessionError"):
                raise SessionLost(str(exc)) from exc
            raise _Retry(str(exc)) from exc
        except BaseException:
            if self._conn_scope is not None:
                self._conn_scope.cancel()
            raise

    async def _hold_connection(self, url: str, *, task_status: trio.TaskStatus[Connection]) -> None:
        with trio.CancelScope() as scope:
            self._conn_scope = scope
            async with open_connection(url, connect_timeout=5, disconnect_timeout=2) as conn:
                self._conn = conn
                self.url = url
                task_status.started(conn)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._pump_events, conn)
                    await conn.closed.wait()
                    nursery.cancel_scope.cancel()

    async def _pump_events(self, conn: Connection) -> None:
        async for message in conn.events:
            if conn is not self._conn:
                continue  # an old connection's news (e.g. its own taken-over notice)
            self._deliver(message)
            name = message.get("event")
            if name == "server_draining":
                # Reconnect elsewhere now; requests in flight there still finish.
                self._nursery_start(self._close_soon, conn)
            elif name in ("session_taken_over", "session_expired"):
                self._lost = SessionLost(f"{name}: the session is no longer ours")

    def _nursery_start(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._nursery is not None:
            self._nursery.start_soon(fn, *args)

    async def _close_soon(self, conn: Connection) -> None:
        await trio.sleep(0.05)
        await conn.ws.aclose()

    def _deliver(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if isinstance(seq, int):
            if seq <= self.last_seq:
                return  # already delivered (replayed on restore)
            self.last_seq = seq
        try:
            self._events_in.send_nowait(message)
        except trio.WouldBlock:
            pass

    async def _open_session(self, conn: Connection, first: bool) -> None:
        if self.token is not None:
            await conn.request("authenticate", client_id=self.client_id, token=self.token)
        ping = await conn.request("ping")
        self.node_id = str(ping.get("node_id"))
        if self.session_id is None:
            created = await conn.request("create_session", client_id=self.client_id)
            self.session_id = str(created["session_id"])
            self.restore_result = created
            self._connected.set()
            self._set_state(CONNECTED)
            return
        restored = await conn.request(
            "restore_session", session_id=self.session_id, last_seq=self.last_seq
        )
        self.restore_result = restored
        for event in restored.get("missed_events") or []:
            self._deliver(event)
        self._connected.set()
        self._set_state(CONNECTED if first else RESTORED, missed=len(restored.get("missed_events") or []))

    # -- requests --------------------------------------------------------------------------

    async def request(self, command: str, **parameters: Any) -> dict[str, Any]:
        """Send a request about this session (``session_id`` added), surviving failovers."""
        parameters.setdefault("session_id", self.session_id)
        return await self.call(command, parameters)

    async def call(self, command: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request; retried with the same id across reconnects until answered."""
        request_id = self.new_request_id()
        with trio.fail_after(self.request_timeout):
            while True:
                await self._connected.wait()
                if self._lost is not None:
                    raise self._lost
                conn = self._conn
                assert conn is not None
                try:
                    response = await conn.call(command, parameters, request_id=request_id)
                except _LOST:
                    await self._wait_reconnect(conn)
                    continue
                if response.get("status") == "success":
                    result: dict[str, Any] = response["result"]
                    if response.get("replayed"):
                        result = {**result, "replayed": True}
                    return result
                if response.get("error_type") in _RETRY_ELSEWHERE:
                    await self._close_soon(conn)
                    await self._wait_reconnect(conn)
                    continue
                raise RequestFailed(response)

    async def _wait_reconnect(self, old: Connection) -> None:
        await old.closed.wait()
        while self._conn is old and self._lost is None:
            await trio.sleep(0.01)

    async def evaluate(self, code: str) -> dict[str, Any]:
        return await self.request("evaluate", code=code)

    async def update_state(self, state_data: Any, **extra: Any) -> dict[str, Any]:
        return await self.request("update_session_state", state_data=state_data, **extra)

    async def close(self) -> None:
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()


class _Retry(Exception):
    """A transient refusal (draining node, store outage): try the next URL."""


@asynccontextmanager
async def open_session(
    urls: Sequence[str], client_id: str, **kwargs: Any
) -> AsyncIterator[SessionClient]:
    """Connect, create or resume the session, and keep it alive until the block ends."""
    client = SessionClient(urls, client_id, **kwargs)
    async with trio.open_nursery() as nursery:
        client._nursery = nursery
        await nursery.start(client._run)
        if client._lost is not None:
            nursery.cancel_scope.cancel()
            raise client._lost
        try:
            yield client
        finally:
            nursery.cancel_scope.cancel()
