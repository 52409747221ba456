"""The client library (``client.session``): failover, exactly-once retries, states, events.

Real redis-server, real in-process nodes; network faults come from :class:`FaultyProxy`, a TCP
proxy in front of a node that can lose the node's answers, freeze, or cut the connection at a
chosen moment (the moment is found by reading Redis, not by sleeping). No mocks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from conftest import connect, redis_call, url_of

from client.connection import RequestFailed
from client.session import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    FAILED,
    RECONNECTING,
    RESTORED,
    SessionClient,
    SessionLost,
    open_session,
)
from cluster import keys
from cluster.ops.embedded_redis import RedisServer, free_port


class FaultyProxy:
    """A TCP proxy to a node. ``lose_answers()`` drops what the node sends (requests still
    get through and run), ``freeze()`` drops both ways (a node that hangs), ``sever()`` cuts
    every open connection at once. New connections after ``sever`` work normally."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.drop_down = False
        self.drop_up = False
        self._scopes: list[trio.CancelScope] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        task_status.started()
        await trio.serve_listeners(self._handle, listeners)

    async def _handle(self, downstream: trio.SocketStream) -> None:
        upstream = await trio.open_tcp_stream("127.0.0.1", self.target_port)
        with trio.CancelScope() as scope:
            self._scopes.append(scope)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._pump, downstream, upstream, "up", scope)
                nursery.start_soon(self._pump, upstream, downstream, "down", scope)
        for stream in (downstream, upstream):
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def _pump(
        self, source: trio.SocketStream, sink: trio.SocketStream, way: str, scope: trio.CancelScope
    ) -> None:
        try:
            while data := await source.receive_some(65536):
                if (self.drop_up if way == "up" else self.drop_down):
                    continue
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        scope.cancel()

    def lose_answers(self) -> None:
        self.drop_down = True

    def freeze(self) -> None:
        self.drop_up = self.drop_down = True

    def sever(self) -> None:
        self.drop_up = self.drop_down = False
        for scope in self._scopes:
            scope.cancel()
        self._scopes.clear()


async def proxied_pair(start_node: Any, nursery: trio.Nursery) -> tuple[FaultyProxy, Any]:
    """node-a behind a :class:`FaultyProxy` (the test picks its faults) and node-b beside it:
    (the proxy, node-b)."""
    a = await start_node(node_id="node-a")
    b = await start_node(node_id="node-b")
    proxy = FaultyProxy(a.port)
    await nursery.start(proxy.run)
    return proxy, b


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.01)


def meta_version(redis: RedisServer, session_id: str) -> int:
    raw = redis_call(redis, "HGET", keys.SessionKeys(session_id).meta, "version")
    return int(raw) if raw is not None else -1


def event_count(redis: RedisServer, session_id: str) -> int:
    return int(redis_call(redis, "XLEN", keys.SessionKeys(session_id).events))


def drain_events(client: SessionClient) -> list[dict[str, Any]]:
    events = []
    while True:
        try:
            events.append(client.events.receive_nowait())
        except (trio.WouldBlock, trio.EndOfChannel):
            return events


def evaluator_ready() -> bool:
    try:
        from nodes.smalltalk import Image  # noqa: F401
    except ImportError:
        return False
    return True


needs_evaluator = pytest.mark.skipif(
    not evaluator_ready(), reason="the Smalltalk evaluator (nodes.smalltalk) is not there yet"
)


class States:
    """An ``on_state`` callback that records (state, node_id, info)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []

    def __call__(self, state: str, info: dict[str, Any]) -> None:
        self.seen.append((state, info.get("node_id"), info))

    @property
    def names(self) -> list[str]:
        return [state for state, _, _ in self.seen]


# -- failover -----------------------------------------------------------------------------------


async def test_failover_when_a_node_drains_keeps_the_session(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    b = await start_node(node_id="node-b")
    states = States()
    with trio.fail_after(15):
        async with open_session([url_of(a), url_of(b)], "failover", on_state=states) as client:
            assert client.node_id == "node-a" and client.state == CONNECTED
            first = await client.update_state({"step": 1})
            a.drain()
            second = await client.update_state({"step": 2})
            assert client.node_id == "node-b"
            assert client.state == RESTORED and client.reconnects == 1
            assert second["version"] == first["version"] + 1
            info = await client.request("get_session_info")
            assert info["version"] == second["version"]
            assert client.restore_result["session_state"] == {"step": 1}
    assert states.names == [CONNECTING, CONNECTED, RECONNECTING, RESTORED]
    assert [node for _, node, _ in states.seen][1:] == ["node-a", "node-a", "node-b"]
    assert states.seen[1][2]["created"] is True
    assert states.seen[3][2]["missed"] == 0


async def test_a_dead_first_url_fails_over_to_the_next(start_node: Any) -> None:
    b = await start_node(node_id="node-b")
    dead = f"ws://127.0.0.1:{free_port()}/"
    states = States()
    with trio.fail_after(10):
        async with open_session([dead, url_of(b)], "dead-first", on_state=states) as client:
            assert client.node_id == "node-b" and client.url == url_of(b)
            await client.update_state({"ok": True})
    assert states.names == [CONNECTING, CONNECTED]


async def test_frozen_node_is_detected_by_pings(start_node: Any, nursery: trio.Nursery) -> None:
    proxy, b = await proxied_pair(start_node, nursery)
    states = States()
    with trio.fail_after(15):
        async with open_session(
            [proxy.url, url_of(b)], "frozen", on_state=states, ping_interval=0.2, ping_timeout=0.3
        ) as client:
            await client.update_state({"before": True})
            proxy.freeze()  # node-a keeps its socket open but never answers again
            await wait_for(lambda: client.state == RESTORED, timeout=5)
            assert client.node_id == "node-b"
            assert (await client.update_state({"after": True}))["session_state"] == {"after": True}
    assert states.names == [CONNECTING, CONNECTED, RECONNECTING, RESTORED]


# -- exactly once -------------------------------------------------------------------------------


async def test_a_lost_answer_is_retried_with_the_same_id_and_replayed(
    start_node: Any, redis: RedisServer, nursery: trio.Nursery
) -> None:
    """The node commits, its answer is lost with the connection: the client sends the same
    request id to the next node, which answers the stored response (``replayed``)."""
    proxy, b = await proxied_pair(start_node, nursery)
    with trio.fail_after(15):
        async with open_session([proxy.url, url_of(b)], "exactly-once") as client:
            first = await client.update_state({"counter": 1})
            session_id = str(client.session_id)
            assert meta_version(redis, session_id) == first["version"]
            proxy.lose_answers()
            answers: list[dict[str, Any]] = []

            async def second_update() -> None:
                answers.append(await client.update_state({"counter": 2}))

            async with trio.open_nursery() as inner:
                inner.start_soon(second_update)
                # node-a committed the update; its answer went nowhere. Now the line dies.
                await wait_for(lambda: meta_version(redis, session_id) == first["version"] + 1)
                proxy.sever()
            (answer,) = answers
            assert answer["replayed"] is True
            assert answer["version"] == first["version"] + 1
            assert answer["session_state"] == {"counter": 2}
            assert client.node_id == "node-b"
            # Executed once: the version moved by one, not two.
            info = await client.request("get_session_info")
            assert info["version"] == first["version"] + 1
            assert meta_version(redis, session_id) == first["version"] + 1


@needs_evaluator
async def test_a_lost_evaluation_answer_does_not_evaluate_twice(
    start_node: Any, redis: RedisServer, nursery: trio.Nursery
) -> None:
    proxy, b = await proxied_pair(start_node, nursery)
    with trio.fail_after(20):
        async with open_session([proxy.url, url_of(b)], "exactly-once-eval") as client:
            await client.evaluate("n := 0")
            session_id = str(client.session_id)
            version = meta_version(redis, session_id)
            proxy.lose_answers()
            answers: list[dict[str, Any]] = []

            async def increment() -> None:
                answers.append(await client.evaluate("n := n + 1"))

            async with trio.open_nursery() as inner:
                inner.start_soon(increment)
                await wait_for(lambda: meta_version(redis, session_id) > version)
                proxy.sever()
            (answer,) = answers
            assert answer["replayed"] is True and answer["result"] == "1", answer
            assert (await client.evaluate("n"))["result"] == "1"


# -- events -------------------------------------------------------------------------------------


@needs_evaluator
async def test_missed_events_are_delivered_once_and_in_order(
    start_node: Any, redis: RedisServer, nursery: trio.Nursery
) -> None:
    proxy, b = await proxied_pair(start_node, nursery)
    with trio.fail_after(20):
        async with open_session([proxy.url, url_of(b)], "missed-events") as client:
            live = await client.evaluate("Transcript show: 'live'. 0")
            assert live["transcript"] == "live"
            (event,) = drain_events(client)
            assert event["event"] == "transcript" and event["seq"] == client.last_seq
            base = client.last_seq
            session_id = str(client.session_id)
            proxy.lose_answers()
            answers: list[dict[str, Any]] = []

            async def evaluate(code: str) -> None:
                answers.append(await client.evaluate(code))

            async with trio.open_nursery() as inner:
                for i in (1, 2, 3):
                    # one at a time, so the session's event order is the order we chose
                    inner.start_soon(evaluate, f"Transcript show: 'e{i}'. {i}")
                    await wait_for(lambda i=i: event_count(redis, session_id) == 1 + i)
                proxy.sever()
            assert client.node_id == "node-b"
            assert sorted(a["result"] for a in answers) == ["1", "2", "3"]
            assert all(a.get("replayed") for a in answers), answers
            events = [e for e in drain_events(client) if e["event"] == "transcript"]
            assert [e["seq"] for e in events] == [base + 1, base + 2, base + 3]
            assert [e["data"]["text"] for e in events] == ["e1", "e2", "e3"]
            assert client.last_seq == base + 3
            # Another failover (back through the proxy to node-a): nothing is delivered twice.
            b.drain()
            await wait_for(lambda: client.node_id == "node-a" and client.state == RESTORED)
            fresh = await client.evaluate("Transcript show: 'after'. 4")
            assert fresh["result"] == "4"
            later = [e for e in drain_events(client) if e["event"] == "transcript"]
            assert [(e["seq"], e["data"]["text"]) for e in later] == [(base + 4, "after")]


async def test_live_events_before_the_restore_answer_do_not_hide_missed_ones(
    start_node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared session's live events can reach a restoring connection before the restore
    answer (the node attached it, then answers): the answer's missed events still come
    first, and nothing is dropped as a repeat (chaos found a jump of 186 events here)."""
    a = await start_node(node_id="node-a")
    attached = trio.Event()
    restore = a.service.restore

    async def slow_restore(*args: Any, **kwargs: Any) -> Any:
        answer = await restore(*args, **kwargs)
        attached.set()
        await trio.sleep(0.5)  # the other writer's events go out to the new holder meanwhile
        return answer

    with trio.fail_after(20):
        async with connect(a) as writer:
            await writer.request("authenticate", client_id="alice")
            sid = (await writer.request("create_session", client_id="alice",
                                        attach="shared"))["session_id"]
            for i in range(3):
                await writer.request("evaluate", session_id=sid, code=f"n := {i}")
            monkeypatch.setattr(a.service, "restore", slow_restore)

            async def write_while_restoring() -> None:
                await attached.wait()
                for i in range(3, 6):
                    await writer.request("evaluate", session_id=sid, code=f"n := {i}")

            async with trio.open_nursery() as nursery:
                nursery.start_soon(write_while_restoring)
                async with open_session([url_of(a)], "alice", session_id=sid,
                                        attach="shared") as reader:
                    await wait_for(lambda: reader.last_seq >= 12)
                    seqs = [e["seq"] for e in drain_events(reader) if "seq" in e]
    # Two events per evaluation (evaluated, variables): six evaluations, none missing.
    assert seqs == list(range(1, seqs[-1] + 1)), seqs
    assert seqs[-1] >= 12


# -- the end of a session -----------------------------------------------------------------------


async def test_session_lost_after_close_session(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    states = States()
    with trio.fail_after(10):
        async with open_session([url_of(a)], "closer", on_state=states) as client:
            session_id = client.session_id
            await client.update_state({"x": 1})
            closed = await client.close_session()
            assert closed == {"session_id": session_id, "closed": True}
            assert client.state == CLOSED
            with pytest.raises(SessionLost) as lost:
                await client.update_state({"x": 2})
            assert lost.value.reason == "closed"
        assert states.names[-1] == CLOSED
        # The session is gone for everybody: resuming it fails at once.
        with pytest.raises(SessionLost) as lost:
            async with open_session([url_of(a)], "closer", session_id=session_id):
                pass
        assert lost.value.reason == "not_found"


@pytest.mark.parametrize("closer_on", ["the same node", "another node"])
async def test_a_session_closed_elsewhere_is_lost_at_once(start_node: Any, closer_on: str) -> None:
    a = await start_node(node_id="node-a")
    b = a if closer_on == "the same node" else await start_node(node_id="node-b")
    states = States()
    with trio.fail_after(10):
        async with open_session([url_of(a)], "closed-elsewhere", on_state=states) as client:
            await client.update_state({"x": 0})
            async with connect(b) as other:
                await other.request("close_session", session_id=client.session_id)
            # Told by a session_closed event (a hint: had it been missed, the next request
            # would have failed with SessionNotFound, reason "not_found").
            await wait_for(lambda: client.state == FAILED)
            assert client.lost is not None and client.lost.reason == "closed"
            with pytest.raises(SessionLost):
                await client.update_state({"x": 1})
            with pytest.raises(SessionLost):
                await client.request("get_session_info")
    assert states.names == [CONNECTING, CONNECTED, FAILED]


async def test_taken_over_by_another_client_fails_the_first(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    first_states = States()
    with trio.fail_after(10):
        async with open_session([url_of(a)], "owner", on_state=first_states) as first:
            await first.update_state({"who": "first"})
            async with open_session([url_of(a)], "owner", session_id=first.session_id) as second:
                await wait_for(lambda: first.state == FAILED)
                assert first.lost is not None and first.lost.reason == "taken_over"
                with pytest.raises(SessionLost):
                    await first.update_state({"who": "first again"})
                assert (await second.update_state({"who": "second"}))["version"] > 0
    assert first_states.names == [CONNECTING, CONNECTED, FAILED]


async def test_no_node_answering_is_session_lost() -> None:
    nowhere = f"ws://127.0.0.1:{free_port()}/"
    with trio.fail_after(10), pytest.raises(SessionLost) as lost:
        async with open_session([nowhere], "nobody", reconnect_timeout=0.5):
            pass
    assert lost.value.reason == "unreachable"
    assert "no node answered" in str(lost.value)


async def test_every_node_gone_fails_after_reconnect_timeout(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    b = await start_node(node_id="node-b")
    states = States()
    with trio.fail_after(15):
        async with open_session(
            [url_of(a), url_of(b)], "alone", on_state=states, reconnect_timeout=1.0
        ) as client:
            await client.update_state({"x": 1})
            a.drain()
            b.drain()
            with pytest.raises(SessionLost) as lost:
                await client.update_state({"x": 2})
            assert lost.value.reason == "unreachable"
    assert states.names[-1] == FAILED
    assert RECONNECTING in states.names


# -- API details --------------------------------------------------------------------------------


async def test_errors_in_the_block_come_out_unwrapped(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    with trio.fail_after(10):
        with pytest.raises(KeyError):
            async with open_session([url_of(a)], "unwrapped"):
                raise KeyError("mine")
        with pytest.raises(RequestFailed) as failed:
            async with open_session([url_of(a)], "unwrapped") as client:
                await client.request("no_such_command")
        assert failed.value.error_type == "InvalidRequest"


async def test_a_stopped_client_resumes_its_session_by_id(start_node: Any) -> None:
    a = await start_node(node_id="node-a")
    with trio.fail_after(10):
        async with open_session([url_of(a)], "resumer") as client:
            session_id = client.session_id
            await client.update_state({"x": 1})
        async with open_session(
            [url_of(a)], "resumer", session_id=session_id, last_seq=0
        ) as again:
            assert again.state == CONNECTED
            assert again.restore_result["session_state"] == {"x": 1}
            assert again.session_id == session_id
