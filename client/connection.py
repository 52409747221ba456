"""One WebSocket connection to one node, with request/response matching by id."""

from __future__ import annotations

import itertools
import logging
import secrets
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import orjson
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

log = logging.getLogger("stui.client")


class RequestFailed(Exception):
    """An error response: ``error_type`` and ``response`` are the server's."""

    def __init__(self, response: dict[str, Any]) -> None:
        super().__init__(f"{response.get('error_type')}: {response.get('error')}")
        self.response = response
        self.error_type: str = str(response.get("error_type"))
        self.details: dict[str, Any] = response.get("details") or {}


class Connection:
    """Send requests and await their responses; events land in :attr:`events`.

    :attr:`closed` is set once the connection is gone (closed by either side, or broken);
    requests waiting for an answer then raise ``ConnectionClosed``, and so does any request
    sent after that.
    """

    def __init__(self, ws: WebSocketConnection, url: str) -> None:
        self.ws = ws
        self.url = url
        self._waiting: dict[str, trio.MemorySendChannel[dict[str, Any]]] = {}
        self._counter = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._events_in, self.events = trio.open_memory_channel[dict[str, Any]](1000)
        self.closed = trio.Event()

    @property
    def in_flight(self) -> int:
        """Requests sent on this connection and not answered yet."""
        return len(self._waiting)

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"

    def _push_event(self, message: dict[str, Any]) -> None:
        try:
            self._events_in.send_nowait(message)
        except (trio.WouldBlock, trio.ClosedResourceError):
            pass  # an application that never reads events loses the newest news

    async def _reader(self) -> None:
        try:
            while True:
                raw = await self.ws.get_message()
                try:
                    message = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    log.warning("ignoring a frame that is not JSON from %s", self.url)
                    continue
                if not isinstance(message, dict):
                    continue
                request_id = message.get("id")
                if "event" in message and request_id is None:
                    self._push_event(message)
                    continue
                waiter = self._waiting.pop(str(request_id), None) if request_id else None
                if waiter is not None:
                    waiter.send_nowait(message)
                elif request_id is None:
                    # An error about a frame whose id could not be read: hand it to events.
                    self._push_event({"event": "error", "data": message})
        except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            self.closed.set()
            for waiter in self._waiting.values():
                waiter.close()
            self._waiting.clear()

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send_message(frame)

    async def call(
        self,
        command: str,
        parameters: dict[str, Any] | None = None,
        *,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one request and return the whole response (success or error).

        Raises ``ConnectionClosed`` when the connection is (or gets) closed before the answer.
        """
        if self.closed.is_set():
            raise ConnectionClosed(None)
        request_id = request_id or self.new_id()
        send, receive = trio.open_memory_channel[dict[str, Any]](1)
        self._waiting[request_id] = send
        frame: dict[str, Any] = {"id": request_id, "command": command}
        if parameters is not None:
            frame["parameters"] = parameters
        try:
            await self.ws.send_message(orjson.dumps(frame).decode())
            try:
                return await receive.receive()
            except trio.EndOfChannel:
                raise ConnectionClosed(None) from None
        finally:
            if self._waiting.get(request_id) is send:
                del self._waiting[request_id]

    async def request(
        self, command: str, request_id: str | None = None, **parameters: Any
    ) -> dict[str, Any]:
        """Send one request; return its ``result`` or raise :class:`RequestFailed`."""
        response = await self.call(command, parameters, request_id=request_id)
        if response.get("status") != "success":
            raise RequestFailed(response)
        result: dict[str, Any] = response["result"]
        return result

    async def next_event(self, name: str | None = None, timeout: float = 10) -> dict[str, Any]:
        """The next pushed event (named ``name`` if given), within ``timeout`` seconds."""
        with trio.fail_after(timeout):
            while True:
                event = await self.events.receive()
                if name is None or event.get("event") == name:
                    return event

    async def aclose(self) -> None:
        """Close the WebSocket (the reader then sets :attr:`closed`)."""
        try:
            await self.ws.aclose()
        except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass


def unwrap(exc: BaseException) -> BaseException:
    """The one exception inside (nested) exception groups of one, else ``exc`` itself.

    Trio nurseries wrap everything in groups; a context manager that runs a nursery around
    its caller's block uses this to let the caller's own exception out as it was raised.
    Cancellations next to a single real error are dropped: the error is what matters.
    """
    while isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, trio.Cancelled)]
        if len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
        elif len(inner) == 1:
            exc = inner[0]
        else:
            return exc
    return exc


@asynccontextmanager
async def open_connection(
    url: str, *, ca: str | None = None, **kwargs: Any
) -> AsyncIterator[Connection]:
    """Connect to a node at ``ws://host:port/`` or ``wss://host:port/``; closes on exit.

    For ``wss://`` the server's certificate is verified (hostname included) against ``ca``
    (a PEM file) or, without it, the system's trusted CAs. An exception raised in the
    ``async with`` block comes out as it was raised (not wrapped in an exception group).
    """
    if url.startswith("wss://"):
        if "ssl_context" not in kwargs:
            kwargs["ssl_context"] = tls_context(ca)
        await check_tls(url, kwargs["ssl_context"], kwargs.get("connect_timeout", 60))
    with ungrouped():
        async with open_websocket_url(url, **kwargs) as ws, trio.open_nursery() as nursery:
            connection = Connection(ws, url)
            nursery.start_soon(connection._reader)
            try:
                yield connection
            finally:
                nursery.cancel_scope.cancel()


def tls_context(ca: str | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies certificates and host names (``ca``: a PEM file of
    trusted CAs, e.g. the one ``stui-cluster up --tls`` writes; default: the system's)."""
    return ssl.create_default_context(cafile=ca)


async def check_tls(url: str, context: ssl.SSLContext, timeout: float) -> None:
    """One TLS handshake with ``url``'s server, to fail fast with the real reason.

    trio-websocket turns a certificate failure during its handshake into a wait for the
    connect timeout with no cause attached; this raises ``ssl.SSLCertVerificationError``
    (an ``OSError``, so clients retry or report it like any connection failure) at once.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 443
    with trio.fail_after(timeout):
        stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=context)
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            if isinstance(exc.__cause__, ssl.SSLError):
                raise exc.__cause__ from None
            raise
        finally:
            await trio.aclose_forcefully(stream)


@contextmanager
def ungrouped() -> Iterator[None]:
    """Re-raise the single exception of (nested) exception groups of one as itself, so callers
    catch ``ConnectionClosed`` or ``SessionLost``, not a group around it."""
    try:
        yield
    except BaseExceptionGroup as group:
        inner = unwrap(group)
        if inner is group:
            raise
        raise inner from None
