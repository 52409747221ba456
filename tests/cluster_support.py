"""Helpers for the cluster-semantics tests (handoff, fencing, conflicts, expiry, exactly-once,
replay): polling with deadlines, a counter that uses the evaluator when it imports, metrics of
a node process, and :class:`RedisGate`, a TCP proxy between one node and Redis that can hold a
node "between read and commit" or "after commit, before the answer".

Not a test module (no ``test_`` prefix). Loopback only, free ports only.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from client.connection import Connection
from cluster import keys
from nodes.health import http_get as health_get

# -- the evaluator: used once it imports (another engineer is finishing it) -----------------


def _evaluator_available() -> bool:
    """``nodes.smalltalk`` imports and offers what the node calls (docs/helpers contract)."""
    try:
        from nodes.smalltalk import Image

        image = Image.new()
        outcome = image.evaluate("n := 0. n := n + 1")
        encoded = image.bindings()["n"]
        image.summarize(encoded)
        image.dump_workspace()
        return outcome.print_string == "1"
    except Exception:
        return False


EVALUATOR = _evaluator_available()
"""True when the evaluator works: counters are then ``n := n + 1`` evaluations."""


class Counter:
    """One session counter, incremented by one request per increment.

    With the evaluator: ``n := n + 1`` (the answer's ``result`` is the new ``n``). Without it:
    ``update_session_state`` without ``expected_version``; every commit raises the session's
    ``version`` by exactly one, so ``n = version - 1`` counts executions on the server side
    (a request executed twice would show as two versions).
    """

    evaluator = EVALUATOR

    @classmethod
    def mode(cls) -> str:
        return "evaluate n := n + 1" if cls.evaluator else "update_session_state (n = version-1)"

    @classmethod
    async def setup(cls, conn: Connection, sid: str) -> int:
        """Prepare the session; return the version the counter starts from."""
        if cls.evaluator:
            done = await conn.request("evaluate", session_id=sid, code="n := 0")
            return int(done["version"])
        return 1

    @classmethod
    def command(cls, sid: str, tag: Any = None) -> tuple[str, dict[str, Any]]:
        if cls.evaluator:
            return "evaluate", {"session_id": sid, "code": "n := n + 1"}
        return "update_session_state", {"session_id": sid, "state_data": {"inc": tag}}

    @classmethod
    def value(cls, result: dict[str, Any]) -> int:
        """The counter's value right after the request that answered ``result``."""
        if cls.evaluator:
            return int(result["result"])
        return int(result["version"]) - 1

    @classmethod
    def marker(cls, sid: str) -> bytes:
        """A key written only by the commit of an increment (for :class:`RedisGate`)."""
        k = keys.SessionKeys(sid)
        return (k.workspace if cls.evaluator else k.state).encode()

    @classmethod
    async def read(cls, conn: Connection, sid: str) -> int:
        """The stored value (``restore_session`` takes the session over: read at the end)."""
        if cls.evaluator:
            restored = await conn.request("restore_session", session_id=sid)
            return int(restored["workspace_context"]["bindings"]["n"]["print_string"])
        info = await conn.request("get_session_info", session_id=sid)
        return int(info["version"]) - 1


# -- polling ---------------------------------------------------------------------------------


async def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll ``predicate`` (sync or async) until truthy; the seconds it took. Fails at timeout."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await trio.sleep(interval)


async def eventually(check: Callable[[], Awaitable[None]], timeout: float, what: str) -> None:
    """Run ``check`` until it stops raising AssertionError; re-raise the last one at timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await trio.sleep(0.1)


# -- metrics of a node process (its health port) --------------------------------------------


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    return await health_get("127.0.0.1", port, path)


async def metric(port: int, name: str, **labels: str) -> float:
    """One sample of a node's ``/metrics`` (0 when absent)."""
    _, body = await http_get(port, "/metrics")
    want = {k: v for k, v in labels.items()}
    for line in body.decode().splitlines():
        if line.startswith("#"):
            continue
        match = re.match(r"^([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)$", line)
        if not match or match.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(got.get(k) == v for k, v in want.items()):
            return float(match.group(3))
    return 0.0


# -- RedisGate: a TCP proxy between one node and Redis ---------------------------------------


class _Pair:
    def __init__(self) -> None:
        self.hold_requests = False
        self.hold_replies = False
        self.subscriber = False
        self.scope: trio.CancelScope | None = None


class RedisGate:
    """A loopback TCP proxy to Redis for one node (``--redis-url`` = :attr:`url`).

    ``arm(marker, mode)``: the first client->Redis chunk containing ``marker`` (e.g. a key
    only a commit writes) triggers the gate on that connection, and :attr:`triggered` is set.

    - ``mode="request"``: that chunk and everything after it on that connection wait for
      :meth:`release`: the node is held *between its reads and its EXEC*.
    - ``mode="reply"``: the chunk goes to Redis (the commit lands), and Redis's answers on that
      connection wait for :meth:`release`: the node is held *after its commit, before it
      knows*. Killing the node then loses the answer, never the commit.

    Other connections (heartbeats, pub/sub, other sessions) pass untouched.
    :meth:`cut_subscribers` closes the node's pub/sub connections (messages published until
    it resubscribes are lost, as on a real network cut).
    """

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.port = 0
        self.triggered = trio.Event()
        self._released = trio.Event()
        self._marker: bytes | None = None
        self._mode = "request"
        self._pairs: set[_Pair] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def serve(self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = int(listeners[0].socket.getsockname()[1])
        task_status.started(self.port)
        await trio.serve_listeners(self._handle, listeners)

    def arm(self, marker: bytes, mode: str = "request") -> None:
        assert mode in ("request", "reply")
        self._marker, self._mode = marker, mode
        self.triggered = trio.Event()
        self._released = trio.Event()

    def release(self) -> None:
        self._marker = None
        self._released.set()

    def cut_subscribers(self) -> int:
        """Close every pub/sub connection through the gate; how many were cut."""
        cut = [p for p in self._pairs if p.subscriber and p.scope is not None]
        for pair in cut:
            assert pair.scope is not None
            pair.scope.cancel()
        return len(cut)

    async def _handle(self, downstream: trio.SocketStream) -> None:
        pair = _Pair()
        try:
            upstream = await trio.open_tcp_stream("127.0.0.1", self.redis_port)
        except OSError:
            await downstream.aclose()
            return
        self._pairs.add(pair)
        try:
            await self._pump(pair, downstream, upstream)
        finally:
            self._pairs.discard(pair)

    async def _pump(
        self, pair: _Pair, downstream: trio.SocketStream, upstream: trio.SocketStream
    ) -> None:
        async with downstream, upstream, trio.open_nursery() as nursery:
            pair.scope = nursery.cancel_scope

            async def to_redis() -> None:
                tail = b""
                while chunk := await downstream.receive_some(65536):
                    if b"SUBSCRIBE" in chunk.upper():
                        pair.subscriber = True
                    marker = self._marker
                    if marker is not None and not pair.hold_requests and not pair.hold_replies \
                            and marker in tail + chunk:
                        self.triggered.set()
                        if self._mode == "request":
                            pair.hold_requests = True
                        else:
                            pair.hold_replies = True  # before sending: the answer is held
                    if pair.hold_requests:
                        await self._released.wait()
                    await upstream.send_all(chunk)
                    tail = chunk[-256:]
                nursery.cancel_scope.cancel()

            async def to_node() -> None:
                while chunk := await upstream.receive_some(65536):
                    if pair.hold_replies:
                        await self._released.wait()
                    await downstream.send_all(chunk)
                nursery.cancel_scope.cancel()

            async def pump(fn: Callable[[], Awaitable[None]]) -> None:
                try:
                    await fn()
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    nursery.cancel_scope.cancel()

            nursery.start_soon(pump, to_redis)
            nursery.start_soon(pump, to_node)
