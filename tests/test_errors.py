"""Every error case of the wire contract: the error response, and what it leaves behind.

Rules: loopback only, a real redis-server on a free port and real in-process nodes on port 0;
no mocks. Frames go through :class:`conftest.RawClient` (a bare WebSocket) so each test sees
exactly what the node sent. After every error the same connection must answer a ``ping`` as the
very next message (so exactly one response was sent), and every ``stui:*`` key in Redis must be
byte-for-byte what it was (``DUMP`` before and after). Waits are capped by ``trio.fail_after``
(5 s per message); the whole module runs in a few seconds.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio
from conftest import RawClient, dump_keys, raw_connect
from trio_websocket import ConnectionClosed

from cluster import keys
from cluster.auth import new_session_id
from nodes.node import Node

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
SESSION_COMMANDS = ["restore_session", "update_session_state", "close_session", "get_session_info"]
SPEC_COMMANDS = {
    "create_session", "restore_session", "update_session_state", "close_session",
    "get_session_info", "list_client_sessions", "get_session_statistics", "ping", "authenticate",
}


@attrs.define
class World:
    node: Node
    client: RawClient
    session_id: str
    redis: Any


@pytest.fixture
async def world(start_node, redis) -> AsyncIterator[World]:
    """A node, a connection, and one session of ``alice`` with some state stored."""
    node = await start_node()
    async with raw_connect(node) as client:
        created = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        sid = created["result"]["session_id"]
        updated = await client.call(
            "update_session_state", {"session_id": sid, "state_data": {"keep": [1, 2, 3]}},
            request_id="u",
        )
        assert updated["status"] == "success", updated
        yield World(node, client, sid, redis)


def assert_error(
    response: dict[str, Any], error_type: str, request_id: str | None, fragment: str = ""
) -> None:
    assert response["status"] == "error", response
    assert response["error_type"] == error_type, response
    assert response["id"] == request_id, response
    assert isinstance(response["error"], str) and response["error"], response
    assert fragment.lower() in response["error"].lower(), response
    assert ISO_UTC.match(response["timestamp"]), response
    assert "result" not in response


async def expect_error(
    w: World,
    command: str,
    params: Any,
    error_type: str,
    fragment: str = "",
    *,
    request_id: str = "bad-1",
) -> dict[str, Any]:
    """Send one request, check its error, then that nothing else came and nothing changed."""
    before = dump_keys(w.redis)
    response = await w.client.call(command, params, request_id=request_id)
    assert_error(response, error_type, request_id, fragment)
    await w.client.assert_alive()
    assert dump_keys(w.redis) == before
    return response


async def expect_frame_error(w: World, frame: str | bytes, request_id: str | None,
                             fragment: str = "") -> dict[str, Any]:
    before = dump_keys(w.redis)
    response = await w.client.ask(frame)
    assert_error(response, "InvalidRequest", request_id, fragment)
    await w.client.assert_alive()
    assert dump_keys(w.redis) == before
    return response


# -- client ids --------------------------------------------------------------------------------

WRONG_TYPES: list[Any] = [5, 1.5, True, False, [], ["alice"], {}, {"id": "alice"}]
BAD_CLIENT_IDS = [
    "", " ", "-leading-dash", "_leading", ".dot", "has space", "a" * 129, "ümlaut", "a{b}",
    "a}b", "a/b", "line\nbreak", "nul\x00byte", "zero\u200bwidth", "tab\t",
]


@pytest.mark.parametrize("command", ["create_session", "list_client_sessions", "authenticate"])
async def test_missing_client_id(world, command):
    await expect_error(world, command, {}, "InvalidRequest", "client_id")
    await expect_error(world, command, {"client_id": None}, "InvalidRequest", "client_id")


@pytest.mark.parametrize("command", ["create_session", "list_client_sessions", "authenticate"])
async def test_client_id_of_the_wrong_type(world, command):
    for value in WRONG_TYPES:
        await expect_error(world, command, {"client_id": value}, "InvalidRequest", "client_id")


@pytest.mark.parametrize("command", ["create_session", "list_client_sessions", "authenticate"])
async def test_malformed_client_id(world, command):
    for value in BAD_CLIENT_IDS:
        await expect_error(world, command, {"client_id": value}, "InvalidRequest", "client_id")


async def test_longest_client_id_is_accepted(world):
    longest = "a" + "b.c:d@e-f_" * 12 + "x" * 7
    assert len(longest) == 128
    response = await world.client.call("create_session", {"client_id": longest})
    assert response["status"] == "success", response
    assert response["result"]["client_id"] == longest


# -- the per-client limit ----------------------------------------------------------------------


async def test_session_limit_exceeded(start_node, redis):
    node = await start_node(max_sessions_per_client=2)
    async with raw_connect(node) as client:
        w = World(node, client, "", redis)
        for n in range(2):
            ok = await client.call("create_session", {"client_id": "alice"}, request_id=f"c{n}")
            assert ok["status"] == "success"
        response = await expect_error(w, "create_session", {"client_id": "alice"},
                                      "SessionError", "limit")
        assert response["details"]["max_sessions_per_client"] == 2
        # Another client is not affected.
        other = await client.call("create_session", {"client_id": "bob"})
        assert other["status"] == "success"
    assert redis.command("ZCARD", keys.client_sessions("alice")) == "2"


# -- allow and deny lists ----------------------------------------------------------------------


async def test_deny_list(start_node, redis):
    node = await start_node(deny_clients=frozenset({"mallory"}))
    async with raw_connect(node) as client:
        w = World(node, client, "", redis)
        await expect_error(w, "create_session", {"client_id": "mallory"}, "PermissionDenied",
                           "mallory")
        await expect_error(w, "authenticate", {"client_id": "mallory"}, "PermissionDenied")
        ok = await client.call("create_session", {"client_id": "alice"})
    assert ok["status"] == "success"
    assert redis.command("EXISTS", keys.client_sessions("mallory")) == "0"


async def test_allow_list(start_node, redis):
    node = await start_node(allow_clients=frozenset({"alice", "mallory"}),
                            deny_clients=frozenset({"mallory"}))
    async with raw_connect(node) as client:
        w = World(node, client, "", redis)
        await expect_error(w, "create_session", {"client_id": "bob"}, "PermissionDenied", "bob")
        await expect_error(w, "authenticate", {"client_id": "bob"}, "PermissionDenied")
        # Deny wins over allow.
        await expect_error(w, "create_session", {"client_id": "mallory"}, "PermissionDenied")
        ok = await client.call("create_session", {"client_id": "alice"})
    assert ok["status"] == "success"


# -- session ids: missing, wrong, unknown, expired ---------------------------------------------


def _params(command: str, session_id: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"session_id": session_id}
    if command == "update_session_state":
        params["state_data"] = {"x": 1}
    return params


@pytest.mark.parametrize("command", SESSION_COMMANDS)
async def test_missing_session_id(world, command):
    params = _params(command, None)
    await expect_error(world, command, params, "InvalidRequest", "session_id")
    del params["session_id"]
    await expect_error(world, command, params, "InvalidRequest", "session_id")


@pytest.mark.parametrize("command", SESSION_COMMANDS)
async def test_session_id_of_the_wrong_type(world, command):
    for value in [5, 1.5, True, [], {}]:
        await expect_error(world, command, _params(command, value), "InvalidRequest",
                           "session_id")


MALFORMED_SESSION_IDS = [
    "", "short", "x" * 65, "has space in it but is long enough", "../../../etc/passwd",
    "{abcdefghijklmnopqrstuvwxyz}", "a" * 10_000,
]


@pytest.mark.parametrize("command", SESSION_COMMANDS)
async def test_malformed_session_id_is_not_found(world, command):
    for value in MALFORMED_SESSION_IDS:
        response = await expect_error(world, command, _params(command, value), "SessionNotFound")
        assert len(response["error"]) < 200  # a huge id is not echoed back in full


@pytest.mark.parametrize("command", SESSION_COMMANDS)
async def test_unknown_session_is_not_found(world, command):
    missing = new_session_id()
    await expect_error(world, command, _params(command, missing), "SessionNotFound", missing)


async def test_expired_session_is_not_found(start_node, redis):
    node = await start_node(session_timeout=1)
    async with raw_connect(node) as client:
        created = await client.call("create_session", {"client_id": "alice"})
        sid = created["result"]["session_id"]
        await trio.sleep(1.5)
        w = World(node, client, sid, redis)
        for command in SESSION_COMMANDS:
            await expect_error(w, command, _params(command, sid), "SessionNotFound", sid)
    # The connection that held the session was told (spec event ``session_expired``).
    assert [e["data"]["session_id"] for e in client.events if e["event"] == "session_expired"] \
        == [sid]


# -- state_data and expected_version -----------------------------------------------------------


async def test_missing_state_data(world):
    await expect_error(world, "update_session_state", {"session_id": world.session_id},
                       "InvalidRequest", "state_data")


async def test_expected_version_of_the_wrong_type(world):
    for value in ["1", 1.5, True, [], {}]:
        params = {"session_id": world.session_id, "state_data": 1, "expected_version": value}
        await expect_error(world, "update_session_state", params, "InvalidRequest",
                           "expected_version")


async def test_state_data_too_large(start_node, redis):
    node = await start_node(max_state_bytes=100)
    async with raw_connect(node) as client:
        sid = (await client.call("create_session", {"client_id": "a"}))["result"]["session_id"]
        w = World(node, client, sid, redis)
        exact = "x" * 98  # 100 bytes of JSON with its quotes
        ok = await client.call("update_session_state", {"session_id": sid, "state_data": exact})
        assert ok["status"] == "success", ok
        await expect_error(w, "update_session_state",
                           {"session_id": sid, "state_data": exact + "x"},
                           "InvalidRequest", "bytes")
        await expect_error(w, "update_session_state",
                           {"session_id": sid, "state_data": {"k": ["é" * 60]}},
                           "InvalidRequest", "bytes")
        restored = await client.call("restore_session", {"session_id": sid})
    assert restored["result"]["session_state"] == exact


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


async def test_state_data_too_deep(world):
    sid = world.session_id
    ok = await world.client.call("update_session_state",
                                 {"session_id": sid, "state_data": nested(32)})
    assert ok["status"] == "success", ok
    await expect_error(world, "update_session_state", {"session_id": sid, "state_data": nested(33)},
                       "InvalidRequest", "deeper")
    deep_dict: Any = 1
    for _ in range(40):
        deep_dict = {"k": deep_dict}
    await expect_error(world, "update_session_state", {"session_id": sid, "state_data": deep_dict},
                       "InvalidRequest", "deeper")
    # A hostile nesting (1000 levels, still valid JSON) is refused without recursion trouble.
    frame = ('{"id": "deep", "command": "update_session_state", "parameters": {"session_id": "'
             + sid + '", "state_data": ' + "[" * 1000 + "]" * 1000 + "}}")
    before = dump_keys(world.redis)
    assert_error(await world.client.ask(frame), "InvalidRequest", "deep", "deeper")
    await world.client.assert_alive()
    assert dump_keys(world.redis) == before


async def test_last_seq_out_of_range_is_invalid(world):
    # Found by probing what test_fuzz_frames hinted at: a negative or enormous last_seq made
    # XRANGE fail inside Redis ("Invalid stream ID") and the client got an internal "Error".
    for value in [-2, -5, -(2**63), 2**64 - 1, 2**63]:
        await expect_error(world, "restore_session",
                           {"session_id": world.session_id, "last_seq": value},
                           "InvalidRequest", "last_seq")
    for value in ["3", 1.5, True, []]:
        await expect_error(world, "restore_session",
                           {"session_id": world.session_id, "last_seq": value},
                           "InvalidRequest", "last_seq")
    ok = await world.client.call("restore_session",
                                 {"session_id": world.session_id, "last_seq": 0})
    assert ok["status"] == "success" and ok["result"]["missed_events"] == []


# -- commands and frames -----------------------------------------------------------------------


async def test_unknown_command(world):
    for command in ["nope", "CREATE_SESSION", "create_session ", "evaluate!", "__init__",
                    "x" * 500]:
        response = await expect_error(world, command, {"client_id": "alice"}, "InvalidRequest",
                                      "unknown command")
        assert set(response["details"]["commands"]) >= SPEC_COMMANDS
        assert len(response["error"]) < 200


async def test_binary_frames(world):
    await expect_frame_error(world, b"\x00\x01\xff", None, "binary")
    await expect_frame_error(world, b'{"id": "b", "command": "ping"}', None, "binary")


async def test_invalid_json(world):
    for frame in ["{", "nope", "{'id': 'x'}", "", '{"id": "x",}', "\x00",
                  '{"id": "x", "command": "ping"} trailing', "NaN"]:
        await expect_frame_error(world, frame, None, "JSON")


async def test_non_object_json(world):
    for frame in ["[]", '[{"id": "x", "command": "ping"}]', "5", "1.5", '"create_session"',
                  "null", "true"]:
        await expect_frame_error(world, frame, None, "object")


async def test_missing_or_bad_id_is_answered_with_null_id(world):
    for frame in [
        '{"command": "ping"}', '{"id": "", "command": "ping"}', '{"id": 5, "command": "ping"}',
        '{"id": null, "command": "ping"}', '{"id": ["x"], "command": "ping"}',
        '{"id": {"a": 1}, "command": "ping"}', '{"id": true, "command": "ping"}',
        json.dumps({"id": "x" * 129, "command": "ping"}),
    ]:
        await expect_frame_error(world, frame, None, "'id'")


async def test_longest_id_is_echoed(world):
    rid = "é" * 128
    response = await world.client.call("ping", request_id=rid)
    assert response["id"] == rid and response["status"] == "success"


async def test_bad_command_field_echoes_the_id(world):
    for command in [None, "", 5, [], {}, True]:
        frame: dict[str, Any] = {"id": "cmd-1"}
        if command is not None:
            frame["command"] = command
        await expect_frame_error(world, json.dumps(frame), "cmd-1", "command")


async def test_parameters_not_an_object_echoes_the_id(world):
    for parameters in [[], ["client_id"], "client_id=alice", 5, True]:
        frame = json.dumps({"id": "par-1", "command": "create_session", "parameters": parameters})
        await expect_frame_error(world, frame, "par-1", "parameters")


async def test_frame_over_the_size_limit(start_node, redis):
    node = await start_node(max_frame_bytes=1024)
    async with raw_connect(node) as client:
        w = World(node, client, "", redis)

        def ping(pad: str) -> str:
            return json.dumps({"id": "big", "command": "ping", "parameters": {"pad": pad}},
                              ensure_ascii=False)

        fits = ping("x" * (1024 - len(ping(""))))
        assert len(fits.encode()) == 1024
        ok = await client.ask(fits)
        assert ok["id"] == "big" and ok["status"] == "success"
        # One byte over: refused, with a null id although the id could have been read.
        await expect_frame_error(w, ping("x" * (1025 - len(ping("")))), None, "limit")
        # Counted in bytes, not characters: 600 two-byte characters are over 1024 bytes.
        multibyte = ping("é" * 600)
        assert len(multibyte) < 1024 < len(multibyte.encode())
        await expect_frame_error(w, multibyte, None, "limit")
        await expect_frame_error(w, ping("x" * 3000), None, "limit")


async def test_frame_far_over_the_limit_closes_the_connection(start_node):
    # Frames over 4x the limit are not even read: the WebSocket closes with 1009 (message too
    # big). This is a deliberate hard cap beyond the spec's "error response" for big frames.
    node = await start_node(max_frame_bytes=1024)
    async with raw_connect(node) as client:
        await client.send(json.dumps({"id": "huge", "command": "ping", "p": "x" * 5000}))
        with pytest.raises(ConnectionClosed) as closed:
            await client.receive()
    assert closed.value.reason.code == 1009
    async with raw_connect(node) as again:  # the node itself is fine
        await again.assert_alive()


# -- limits on one connection, and outages -----------------------------------------------------


async def test_too_many_requests_in_flight_is_rate_limited(start_node, redis):
    node = await start_node(max_in_flight=1)
    async with raw_connect(node) as client:
        sid = (await client.call("create_session", {"client_id": "a"}))["result"]["session_id"]
        redis.command("CLIENT", "PAUSE", "600", "ALL")  # the next store call waits in Redis
        await client.send(json.dumps(
            {"id": "slow", "command": "get_session_info", "parameters": {"session_id": sid}}
        ))
        await trio.sleep(0.1)
        await client.send(json.dumps({"id": "second", "command": "ping"}))
        refused = await client.receive()
        assert_error(refused, "RateLimited", "second", "in flight")
        slow = await client.receive()
        assert slow["id"] == "slow" and slow["status"] == "success", slow
        await client.assert_alive()
    assert b"stui_rate_limited_total 1.0" in node.metrics.render()


async def test_store_outage_is_unavailable_and_recovers(start_node, redis):
    # Requests wait out a store failure for --failover-wait (nodes/failover.py), then answer
    # Unavailable: a short bound here.
    node = await start_node(redis_timeout=1.0, failover_wait=0.3)
    async with raw_connect(node) as client:
        created = await client.call("create_session", {"client_id": "alice"})
        sid = created["result"]["session_id"]
        redis.stop()
        try:
            with trio.fail_after(5):
                for n, command in enumerate(["create_session", "get_session_info",
                                             "list_client_sessions", "get_session_statistics"]):
                    params = {"client_id": "alice", "session_id": sid}
                    response = await client.call(command, params, request_id=f"down-{n}")
                    assert_error(response, "Unavailable", f"down-{n}", "unavailable")
                    if command != "get_session_statistics":  # (the registry's, not the store's)
                        assert response["details"]["reason"] == "store_failing_over", response
                        assert response["details"]["in_doubt"] is True
                # The connection still answers (one response per request, no hang).
                pong = await client.call("ping", request_id="ping-down")
                assert pong["id"] == "ping-down" and pong["status"] in ("success", "error")
                async with raw_connect(node) as anonymous:
                    await anonymous.assert_alive()  # ping itself needs no store
        finally:
            redis.start()
        # Redis came back empty (no persistence in tests): the node serves again, the old
        # session is simply gone.
        with trio.fail_after(5):
            while True:
                again = await client.call("create_session", {"client_id": "alice"})
                if again["status"] == "success":
                    break
                await trio.sleep(0.1)
        new_sid = again["result"]["session_id"]
        info = await client.call("get_session_info", {"session_id": new_sid})
        gone = await client.call("restore_session", {"session_id": sid})
    assert info["status"] == "success", info
    assert_error(gone, "SessionNotFound", "r")


async def test_ping_needs_no_store_even_after_acting_for_a_client(start_node, redis):
    # The per-client rate check (a token bucket in Redis) must not make ping depend on Redis.
    node = await start_node(redis_timeout=1.0)
    async with raw_connect(node) as client:
        await client.call("create_session", {"client_id": "alice"})
        redis.stop()
        try:
            pong = await client.call("ping", request_id="ping-down")
        finally:
            redis.start()
    assert pong["status"] == "success", pong


def test_redis_cli_dump_helper_sees_changes(redis):
    # The helper the tests above rely on must notice a one-byte change.
    redis.command("SET", "stui:probe", "abc")
    before = dump_keys(redis)
    redis.command("SET", "stui:probe", "abd")
    assert dump_keys(redis) != before
