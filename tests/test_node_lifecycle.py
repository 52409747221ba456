"""A node's life: health and metrics, draining on SIGTERM, and dying on SIGKILL.

Rules: loopback only, a real redis-server on a free port; real ``python -m nodes`` processes
(``node_process``) for signals, each stopped by the fixture after the test, and in-process nodes
for the rest. The health port is a free port picked by the test (``--health-port 0`` means "no
health port"). A request is held "in flight" by pausing Redis (``CLIENT PAUSE``), never by
sleeping in the product. Every wait is capped: a drain must end within ``drain_timeout`` + 3 s,
each test within ~5 s.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from contextlib import AsyncExitStack
from typing import Any

import orjson
import pytest
import trio
from conftest import connect, raw_connect, redis_call
from trio_websocket import ConnectionClosed, ConnectionRejected, HandshakeError, open_websocket_url

from cluster import keys
from cluster.integrity import unseal
from cluster.ops.embedded_redis import free_port
from nodes import cli as node_cli


async def http_get(port: int, path: str, raw: bytes | None = None) -> tuple[int, dict[str, str],
                                                                            bytes]:
    """A plain HTTP/1.1 GET; (status, headers, body)."""
    with trio.fail_after(5):
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        async with stream:
            request = raw or f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
            await stream.send_all(request)
            data = b""
            while chunk := await stream.receive_some(65536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert int(headers["content-length"]) == len(body)
    return status, headers, body


async def ws_rejection(url: str) -> ConnectionRejected:
    with pytest.raises(ConnectionRejected) as rejected:
        with trio.fail_after(5):
            async with open_websocket_url(url):
                pass
    return rejected.value


async def wait_for_status(port: int, status: int, timeout: float = 5) -> dict[str, Any]:
    with trio.fail_after(timeout):
        while True:
            code, _, body = await http_get(port, "/healthz")
            if code == status:
                return dict(json.loads(body))
            await trio.sleep(0.05)


# -- health and metrics ------------------------------------------------------------------------


async def test_websocket_healthz_is_answered_by_a_rejection_with_a_json_body(start_node, redis):
    node = await start_node()
    for path in ("/healthz", "/health", "/healthz?probe=lb"):
        rejected = await ws_rejection(f"ws://127.0.0.1:{node.port}{path}")
        assert rejected.status_code == 200
        body = json.loads(rejected.body)
        assert body["status"] == "ok" and body["redis"] == "ok"
        assert body["node_id"] == node.node_id and body["draining"] is False
    redis.stop()
    try:
        rejected = await ws_rejection(f"ws://127.0.0.1:{node.port}/healthz")
    finally:
        redis.start()
    assert rejected.status_code == 503
    body = json.loads(rejected.body)
    assert body["redis"] == "unreachable" and body["status"] == "degraded"


async def test_websocket_metrics_path(start_node):
    node = await start_node()
    async with connect(node) as client:
        await client.request("ping")
    rejected = await ws_rejection(f"ws://127.0.0.1:{node.port}/metrics")
    assert rejected.status_code == 200
    assert b'stui_requests_total{command="ping",outcome="success"} 1.0' in rejected.body


async def test_process_health_port_answers_plain_http(node_process, redis):
    proc = node_process("--health-port", str(free_port()))
    assert proc.health_port > 0
    status, headers, body = await http_get(proc.health_port, "/healthz")
    assert status == 200
    assert headers["content-type"] == "application/json"
    health = json.loads(body)
    assert health["redis"] == "ok" and health["status"] == "ok"
    assert health["node_id"] == proc.node_id
    redis.stop()
    try:
        down = await wait_for_status(proc.health_port, 503)
    finally:
        redis.start()
    assert down["redis"] == "unreachable" and down["status"] == "degraded"
    back = await wait_for_status(proc.health_port, 200)
    assert back["redis"] == "ok"
    # Metrics, in Prometheus text format, counting what the node answered.
    async with connect(proc.url) as client:
        await client.request("ping")
        await client.call("nope")
    status, headers, text = await http_get(proc.health_port, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert b"# TYPE stui_requests_total counter" in text
    assert b'stui_requests_total{command="ping",outcome="success"} 1.0' in text
    assert b'stui_requests_total{command="unknown",outcome="InvalidRequest"} 1.0' in text


async def test_health_port_in_process(start_node):
    port = free_port()
    node = await start_node(health_port=port)
    assert node.health_port == port
    for path in ("/healthz", "/health", "/healthz?x=1"):
        status, _, body = await http_get(port, path)
        assert status == 200 and json.loads(body)["redis"] == "ok"
    status, _, body = await http_get(port, "/nope")
    assert status == 404 and json.loads(body) == {"error": "not found"}
    status, _, _ = await http_get(port, "", raw=b"HELLO\r\n\r\n")
    assert status == 404
    status, _, text = await http_get(port, "/metrics")
    assert status == 200 and b"stui_connections" in text
    # A peer that connects and leaves without a request does not hurt the server.
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(b"GET /hea")
    await stream.aclose()
    status, _, _ = await http_get(port, "/healthz")
    assert status == 200


# -- connection limits and control messages ---------------------------------------------------


async def test_node_refuses_connections_over_its_cap(start_node):
    node = await start_node(max_connections=2)
    async with raw_connect(node) as first, raw_connect(node) as second:
        rejected = await ws_rejection(f"ws://127.0.0.1:{node.port}/")
        await first.assert_alive()
        await second.assert_alive()
    assert rejected.status_code == 503
    assert b"connection limit" in rejected.body
    # Health is still answered at the cap (it is not a connection).
    async with raw_connect(node) as again:
        await again.assert_alive()


async def test_a_silent_connection_is_closed_after_the_idle_timeout(start_node):
    node = await start_node(idle_timeout=0.3)
    async with raw_connect(node) as client:
        await client.assert_alive()
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(3):
            await client.receive()
    assert closed.value.reason.code == 4000


async def test_malformed_control_messages_are_ignored(start_node, redis, caplog):
    node = await start_node()
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        channel = keys.node_channel(node.node_id)
        for junk in ("not json", '{"type": "taken_over"}', '{"type": "taken_over", '
                     '"session_id": "x", "epoch": "NaN"}', '{"type": "unknown"}'):
            assert int(redis.command("PUBLISH", channel, junk)) == 1
        await trio.sleep(0.2)
        info = await client.request("get_session_info", session_id=sid)
    assert info["session_id"] == sid
    ignored = [r for r in caplog.records if r.getMessage() == "ignored a malformed control message"]
    assert len(ignored) >= 3


async def test_a_non_object_control_message_does_not_kill_the_node(start_node, redis):
    node = await start_node()
    async with connect(node) as client:
        assert int(redis.command("PUBLISH", keys.node_channel(node.node_id), "[]")) == 1
        await trio.sleep(0.2)
        pong = await client.request("ping")
    assert pong["pong"] is True


# -- draining ----------------------------------------------------------------------------------


async def test_sigterm_drains_a_real_node(node_process, redis):
    proc = node_process("--drain-timeout", "5")
    answers: dict[str, dict[str, Any]] = {}
    async with connect(proc.url) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        redis.command("CLIENT", "PAUSE", "1500", "ALL")  # the next commit waits in Redis

        async def in_flight() -> None:
            answers["update"] = await client.call(
                "update_session_state", {"session_id": sid, "state_data": {"saved": True}}
            )

        async with trio.open_nursery() as nursery:
            nursery.start_soon(in_flight)
            await trio.sleep(0.3)
            signalled = time.monotonic()
            proc.signal(signal.SIGTERM)
            event = await client.next_event("server_draining", timeout=5)
        with trio.fail_after(5):
            await client.closed.wait()
    code = await trio.to_thread.run_sync(proc.wait, 10)
    took = time.monotonic() - signalled
    assert event["data"]["node_id"] == proc.node_id
    assert "id" not in event and "timestamp" in event
    assert answers["update"]["status"] == "success", answers
    assert answers["update"]["result"]["version"] == 2
    assert code == 0
    assert took < 5 + 3
    stored = unseal(redis_call(redis, "GET", keys.SessionKeys(sid).state), "state")
    assert stored == {"state_data": {"saved": True}, "version": 2}


async def test_draining_node_refuses_new_work_but_finishes_old(start_node, redis):
    node = await start_node(drain_timeout=5)
    async with raw_connect(node) as client:
        created = await client.call("create_session", {"client_id": "alice"})
        sid = created["result"]["session_id"]
        redis.command("CLIENT", "PAUSE", "700", "ALL")
        await client.send(orjson.dumps(
            {"id": "slow", "command": "update_session_state",
             "parameters": {"session_id": sid, "state_data": {"saved": 1}}}
        ).decode())
        await trio.sleep(0.2)
        node.drain()
        await trio.sleep(0.05)
        # A request that arrives once the node is draining is refused at once.
        await client.send(orjson.dumps(
            {"id": "late", "command": "get_session_info", "parameters": {"session_id": sid}}
        ).decode())
        answers: dict[str, dict[str, Any]] = {}
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(5):
            while True:
                answer = await client.receive()
                answers[answer["id"]] = answer
    # server_draining comes too, unless the in-flight request ended first and the close raced
    # the event out (test_drain_flushes_what_it_owes_before_closing).
    assert [e["event"] for e in client.events] in (["server_draining"], [])
    assert all(e["data"]["node_id"] == node.node_id for e in client.events)
    late = answers["late"]
    assert late["error_type"] == "Unavailable" and "draining" in late["error"]
    assert closed.value.reason.code == 1001
    # The request in flight ran to its end: its commit is in Redis. (Whether its response
    # reaches the client is test_drain_flushes_what_it_owes_before_closing.)
    stored = unseal(redis_call(redis, "GET", keys.SessionKeys(sid).state), "state")
    assert stored == {"state_data": {"saved": 1}, "version": 2}
    assert set(answers) <= {"late", "slow"}
    assert answers.get("slow", {"status": "success"})["status"] == "success", answers
    with pytest.raises((OSError, HandshakeError)):
        async with open_websocket_url(f"ws://127.0.0.1:{node.port}/"):
            pass


async def test_drain_flushes_what_it_owes_before_closing(start_node, redis):
    node = await start_node(drain_timeout=5)
    seen: dict[str, list[dict[str, Any]]] = {}
    async with AsyncExitStack() as stack:
        idle = [await stack.enter_async_context(raw_connect(node)) for _ in range(12)]
        busy = [await stack.enter_async_context(raw_connect(node)) for _ in range(12)]
        for client in idle:
            await client.assert_alive()
        redis.command("CLIENT", "PAUSE", "400", "ALL")
        for n, client in enumerate(busy):
            await client.send(orjson.dumps({"id": f"b{n}", "command": "get_session_statistics"})
                              .decode())
        await trio.sleep(0.1)
        node.drain()

        async def read_all(name: str, client: Any) -> None:
            seen[name] = []
            with trio.fail_after(5):
                try:
                    while True:
                        seen[name].append(json.loads(await client.ws.get_message()))
                except ConnectionClosed:
                    pass

        async with trio.open_nursery() as nursery:
            for n, client in enumerate(idle):
                nursery.start_soon(read_all, f"i{n}", client)
            for n, client in enumerate(busy):
                nursery.start_soon(read_all, f"b{n}", client)
    no_event = [name for name, got in seen.items()
                if not any(m.get("event") == "server_draining" for m in got)]
    no_answer = [name for name, got in seen.items()
                 if name.startswith("b") and not any(m.get("id") == name for m in got)]
    assert no_event == [] and no_answer == [], (no_event, no_answer)


# -- dying -------------------------------------------------------------------------------------


async def test_sigkill_mid_session_loses_nothing_committed(node_process):
    node_a = node_process()
    node_b = node_process()
    async with connect(node_a.url) as on_a:
        sid = (await on_a.request("create_session", client_id="alice"))["session_id"]
        await on_a.request("update_session_state", session_id=sid, state_data={"draft": 1})
        last = await on_a.request("update_session_state", session_id=sid,
                                  state_data={"draft": 2, "text": "héllo"})
        node_a.kill()  # SIGKILL: no drain, no goodbye
        with trio.fail_after(5):
            await on_a.closed.wait()
    async with connect(node_b.url) as on_b:
        restored = await on_b.request("restore_session", session_id=sid)
        updated = await on_b.request("update_session_state", session_id=sid,
                                     state_data={"draft": 3}, expected_version=3)
    assert node_a.process.returncode == -signal.SIGKILL
    assert last["version"] == 3
    assert restored["session_state"] == {"draft": 2, "text": "héllo"}
    assert restored["version"] == 3
    assert updated["version"] == 4


# -- the stui-node entry point, in this process ------------------------------------------------


def test_stui_node_main_serves_until_sigterm(redis, capsys):
    """``nodes.cli.main`` runs a node, prints its ports as one JSON line, and exits 0 on
    SIGTERM (sent to this very process once the node accepts connections)."""
    port = free_port()
    stop = threading.Event()

    def terminate_when_serving() -> None:
        deadline = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    pass
            except OSError:
                time.sleep(0.02)
                continue
            os.kill(os.getpid(), signal.SIGTERM)
            return

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    killer = threading.Thread(target=terminate_when_serving, daemon=True)
    killer.start()
    try:
        code = node_cli.main(["--port", str(port), "--redis", redis.url, "--node-id", "cli-node",
                              "--log-level", "INFO", "--drain-timeout", "1"])
    finally:
        stop.set()
        killer.join(5)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    captured = capsys.readouterr()
    assert code == 0
    announced = json.loads(captured.out.splitlines()[0])
    assert announced == {"node_id": "cli-node", "port": port, "health_port": 0}
    logs = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "node serving" and entry["node_id"] == "cli-node"
               and entry["port"] == port for entry in logs), logs
    assert any(entry["msg"] == "node stopped" for entry in logs)
    assert all(entry["ts"].endswith("Z") and entry["level"] in {"info", "warning", "error"}
               for entry in logs)
