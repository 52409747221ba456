"""Every command of the wire contract, with the upstream field names and types of its result.

Rules: loopback only, a real redis-server on a free port (``redis`` fixture) and real in-process
nodes on port 0 (``start_node``); no mocks. Each test caps its own waits (``trio.fail_after``)
under the pytest-timeout cap and runs in well under a second, apart from the sliding-expiry
checks, which read PTTLs straight from Redis with redis-cli.

Upstream field sets are the upstream protocol's (``docs/protocol.md``): results must carry at
least those keys, with those types (extensions such as ``version`` are allowed on top).
"""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import trio
from conftest import connect, pttl, redis_keys

from client.connection import RequestFailed
from cluster import keys
from cluster.auth import new_session_id
from cluster.store import expiry_member

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
SESSION_ID_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")

CREATE_FIELDS = {"session_id", "client_id", "created_at", "timeout", "is_active"}
RESTORE_FIELDS = {
    "session_id", "client_id", "created_at", "last_modified", "timeout", "is_active",
    "session_state", "workspace_context", "inspector_state", "object_registry",
}
UPDATE_FIELDS = {"session_id", "last_modified", "session_state", "update_successful"}
CLOSE_FIELDS = {"session_id", "closed"}
INFO_FIELDS = {
    "session_id", "client_id", "created_at", "last_modified", "timeout", "is_active",
    "time_until_expiry", "is_expired",
}
LIST_FIELDS = {"client_id", "session_count", "sessions"}
LIST_ROW_FIELDS = {
    "session_id", "created_at", "last_modified", "timeout", "is_active", "time_until_expiry",
}
STATS_FIELDS = {
    "total_sessions", "active_clients", "max_sessions_per_client", "default_timeout",
    "cleanup_interval",
}


def parse_iso(value: Any) -> datetime:
    """An ISO 8601 UTC timestamp with a ``Z`` suffix, parsed (and close to now)."""
    assert isinstance(value, str), value
    assert ISO_UTC.match(value), value
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert when.tzinfo is not None and when.utcoffset() == UTC.utcoffset(None)
    drift = abs((datetime.now(UTC) - when).total_seconds())
    assert drift < 120, f"{value} is {drift:.0f} s away from now"
    return when


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def assert_envelope(response: dict[str, Any], request_id: str) -> None:
    assert response["id"] == request_id
    assert response["status"] == "success", response
    assert isinstance(response["result"], dict)
    parse_iso(response["timestamp"])


# -- create_session ----------------------------------------------------------------------------


async def test_create_session_fields_and_types(start_node, redis):
    node = await start_node()
    async with connect(node) as client:
        response = await client.call("create_session", {"client_id": "client_001"},
                                     request_id="create-001")
    assert_envelope(response, "create-001")
    result = response["result"]
    assert set(result) >= CREATE_FIELDS
    assert result["client_id"] == "client_001"
    assert isinstance(result["session_id"], str)
    parse_iso(result["created_at"])
    assert is_int(result["timeout"]) and result["timeout"] == 3600
    assert result["is_active"] is True
    # The session really is in Redis, under the documented keys.
    k = keys.SessionKeys(result["session_id"])
    assert redis.command("HGET", k.meta, "client_id") == "client_001"
    assert redis.command("EXISTS", k.state) == "1"
    assert redis.command("EXISTS", k.alive) == "1"
    assert redis.command("ZSCORE", keys.client_sessions("client_001"), result["session_id"])
    assert redis.command(
        "ZSCORE", keys.EXPIRY_INDEX, expiry_member(result["session_id"], "client_001")
    )


async def test_create_session_uses_configured_timeout(start_node):
    node = await start_node(session_timeout=120)
    async with connect(node) as client:
        result = await client.request("create_session", client_id="alice")
    assert result["timeout"] == 120


# -- restore_session ---------------------------------------------------------------------------


async def test_restore_session_fields_and_types(start_node):
    node = await start_node()
    async with connect(node) as client:
        created = await client.request("create_session", client_id="alice")
        response = await client.call("restore_session", {"session_id": created["session_id"]},
                                     request_id="restore-1")
    assert_envelope(response, "restore-1")
    result = response["result"]
    assert set(result) >= RESTORE_FIELDS
    assert result["session_id"] == created["session_id"]
    assert result["client_id"] == "alice"
    assert result["created_at"] == created["created_at"]
    assert parse_iso(result["last_modified"]) >= parse_iso(result["created_at"])
    assert result["timeout"] == 3600 and is_int(result["timeout"])
    assert result["is_active"] is True
    assert result["session_state"] is None  # nothing stored yet
    workspace = result["workspace_context"]
    assert isinstance(workspace, dict) and isinstance(workspace["variables"], list)
    assert all(isinstance(name, str) for name in workspace["variables"])
    inspector = result["inspector_state"]
    assert isinstance(inspector, dict) and "selected_object" in inspector
    assert inspector["selected_object"] is None or isinstance(inspector["selected_object"], str)
    assert isinstance(result["object_registry"], dict)


STATES: list[Any] = [
    {"ui": {"panes": [1, 2, 3], "focus": "editor"}, "ratio": 0.625, "flags": [True, False, None]},
    {"unicode": "héllo wörld ✓ 日本 🎉", "escapes": "tab\there \"quoted\" \\ back"},
    [1, "two", 3.5, {"four": [4]}],
    "just a string",
    12345678901234,
    -0.5,
    True,
    None,
    {},
    [],
]


@pytest.mark.parametrize("state", STATES, ids=[f"state{i}" for i in range(len(STATES))])
async def test_update_then_restore_round_trips_any_json(start_node, state):
    node = await start_node()
    async with connect(node) as client:
        created = await client.request("create_session", client_id="alice")
        sid = created["session_id"]
        updated = await client.request("update_session_state", session_id=sid, state_data=state)
        restored = await client.request("restore_session", session_id=sid)
    assert updated["session_state"] == state
    assert restored["session_state"] == state
    assert restored["version"] == updated["version"] == created["version"] + 1


# -- update_session_state ----------------------------------------------------------------------


async def test_update_session_state_fields_and_types(start_node):
    node = await start_node()
    async with connect(node) as client:
        created = await client.request("create_session", client_id="alice")
        sid = created["session_id"]
        await trio.sleep(0.01)
        response = await client.call(
            "update_session_state", {"session_id": sid, "state_data": {"cursor": 7}},
            request_id="update-1",
        )
        restored = await client.request("restore_session", session_id=sid)
    assert_envelope(response, "update-1")
    result = response["result"]
    assert set(result) >= UPDATE_FIELDS
    assert result["session_id"] == sid
    assert result["update_successful"] is True
    assert result["session_state"] == {"cursor": 7}
    assert parse_iso(result["last_modified"]) > parse_iso(created["created_at"])
    assert restored["last_modified"] == result["last_modified"]
    assert restored["created_at"] == created["created_at"]


async def test_versions_grow_by_one_per_update(start_node):
    node = await start_node()
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        versions = []
        for i in range(5):
            result = await client.request("update_session_state", session_id=sid, state_data=i)
            versions.append(result["version"])
        restored = await client.request("restore_session", session_id=sid)
    assert versions == [2, 3, 4, 5, 6]
    assert restored["version"] == 6 and restored["session_state"] == 4


async def test_expected_version_conflict_carries_current_version_and_state(start_node, redis):
    node = await start_node()
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        first = await client.request(
            "update_session_state", session_id=sid, state_data={"v": "two"}, expected_version=1
        )
        assert first["version"] == 2
        raw_before = redis.command("GET", keys.SessionKeys(sid).state)
        response = await client.call(
            "update_session_state",
            {"session_id": sid, "state_data": {"v": "stale"}, "expected_version": 1},
        )
        assert response["status"] == "error"
        assert response["error_type"] == "SessionConflict"
        assert response["details"]["current_version"] == 2
        assert response["details"]["session_state"] == {"v": "two"}
        assert isinstance(response["error"], str) and response["error"]
        # Nothing was written: the stored record is the one of version 2.
        assert redis.command("GET", keys.SessionKeys(sid).state) == raw_before
        # Merge and retry with the current version: accepted.
        merged = await client.request(
            "update_session_state", session_id=sid, state_data={"v": "merged"},
            expected_version=response["details"]["current_version"],
        )
        restored = await client.request("restore_session", session_id=sid)
    assert merged["version"] == 3
    assert restored["session_state"] == {"v": "merged"} and restored["version"] == 3


async def test_expected_version_lets_exactly_one_racing_writer_win(start_node):
    # Requests on one connection run concurrently: ten writers race for version 1.
    node = await start_node()
    outcomes: list[dict[str, Any]] = []
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]

        async def write(n: int) -> None:
            outcomes.append(await client.call(
                "update_session_state",
                {"session_id": sid, "state_data": {"writer": n}, "expected_version": 1},
            ))

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for n in range(10):
                    nursery.start_soon(write, n)
        restored = await client.request("restore_session", session_id=sid)
    winners = [o for o in outcomes if o["status"] == "success"]
    losers = [o for o in outcomes if o["status"] == "error"]
    assert len(winners) == 1, outcomes
    assert {o["error_type"] for o in losers} == {"SessionConflict"}
    assert all(o["details"]["current_version"] == 2 for o in losers)
    assert all(o["details"]["session_state"] == winners[0]["result"]["session_state"]
               for o in losers)
    assert restored["version"] == 2
    assert restored["session_state"] == winners[0]["result"]["session_state"]


async def test_concurrent_updates_without_expected_version_all_commit(start_node):
    node = await start_node()
    results: list[dict[str, Any]] = []
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]

        async def write(n: int) -> None:
            results.append(
                await client.request("update_session_state", session_id=sid, state_data=n)
            )

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                for n in range(16):
                    nursery.start_soon(write, n)
        restored = await client.request("restore_session", session_id=sid)
    # No commit lost: every writer got its own version.
    assert sorted(r["version"] for r in results) == list(range(2, 18))
    assert restored["version"] == 17
    last = next(r for r in results if r["version"] == 17)
    assert restored["session_state"] == last["session_state"]


# -- close_session -----------------------------------------------------------------------------


async def test_close_session_fields_and_effect(start_node, redis):
    node = await start_node()
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        keep = (await client.request("create_session", client_id="alice"))["session_id"]
        response = await client.call("close_session", {"session_id": sid}, request_id="close-1")
        assert_envelope(response, "close-1")
        assert set(response["result"]) >= CLOSE_FIELDS
        assert response["result"] == {"session_id": sid, "closed": True}
        with pytest.raises(RequestFailed) as missing:
            await client.request("restore_session", session_id=sid)
        assert missing.value.error_type == "SessionNotFound"
        with pytest.raises(RequestFailed) as again:
            await client.request("close_session", session_id=sid)
        assert again.value.error_type == "SessionNotFound"
        listed = await client.request("list_client_sessions", client_id="alice")
        # The other session is untouched.
        assert (await client.request("restore_session", session_id=keep))["session_id"] == keep
    assert [s["session_id"] for s in listed["sessions"]] == [keep]
    assert not [k for k in redis_keys(redis) if sid in k]
    assert redis.command("ZSCORE", keys.EXPIRY_INDEX, expiry_member(sid, "alice")) == ""
    assert redis.command("SISMEMBER", keys.CLIENTS, "alice") == "1"


async def test_closing_the_last_session_forgets_the_client(start_node, redis):
    node = await start_node()
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        assert redis.command("SISMEMBER", keys.CLIENTS, "alice") == "1"
        await client.request("close_session", session_id=sid)
        stats = await client.request("get_session_statistics")
    assert redis.command("SISMEMBER", keys.CLIENTS, "alice") == "0"
    assert redis.command("EXISTS", keys.client_sessions("alice")) == "0"
    assert stats["total_sessions"] == 0 and stats["active_clients"] == 0


# -- get_session_info --------------------------------------------------------------------------


async def test_get_session_info_fields_and_types(start_node):
    node = await start_node(session_timeout=600)
    async with connect(node) as client:
        created = await client.request("create_session", client_id="alice")
        response = await client.call(
            "get_session_info", {"session_id": created["session_id"]}, request_id="info-1"
        )
    assert_envelope(response, "info-1")
    result = response["result"]
    assert set(result) >= INFO_FIELDS
    assert result["session_id"] == created["session_id"]
    assert result["client_id"] == "alice"
    assert result["created_at"] == created["created_at"]
    parse_iso(result["last_modified"])
    assert result["timeout"] == 600
    assert result["is_active"] is True
    assert result["is_expired"] is False
    assert is_number(result["time_until_expiry"])
    assert 590 <= result["time_until_expiry"] <= 600


# -- list_client_sessions ----------------------------------------------------------------------


async def test_list_client_sessions_fields_order_and_scope(start_node):
    node = await start_node()
    async with connect(node) as client:
        mine = []
        for _ in range(3):
            mine.append((await client.request("create_session", client_id="alice"))["session_id"])
            await trio.sleep(0.002)
        await client.request("create_session", client_id="bob")
        response = await client.call("list_client_sessions", {"client_id": "alice"},
                                     request_id="list-1")
        nobody = await client.request("list_client_sessions", client_id="nobody")
    assert_envelope(response, "list-1")
    result = response["result"]
    assert set(result) >= LIST_FIELDS
    assert result["client_id"] == "alice"
    assert is_int(result["session_count"]) and result["session_count"] == 3
    assert [row["session_id"] for row in result["sessions"]] == mine  # oldest first
    for row in result["sessions"]:
        assert set(row) >= LIST_ROW_FIELDS
        parse_iso(row["created_at"])
        parse_iso(row["last_modified"])
        assert row["timeout"] == 3600 and is_int(row["timeout"])
        assert row["is_active"] is True
        assert is_number(row["time_until_expiry"]) and 3590 <= row["time_until_expiry"] <= 3600
    assert nobody == {"client_id": "nobody", "session_count": 0, "sessions": []}


# -- get_session_statistics --------------------------------------------------------------------


async def test_get_session_statistics_fields_and_counts(start_node):
    node = await start_node(max_sessions_per_client=7, session_timeout=900)
    async with connect(node) as client:
        empty = await client.request("get_session_statistics")
        for cid in ("alice", "alice", "bob"):
            await client.request("create_session", client_id=cid)
        response = await client.call("get_session_statistics", request_id="stats-1")
    assert_envelope(response, "stats-1")
    result = response["result"]
    assert set(result) >= STATS_FIELDS
    assert all(is_int(result[name]) for name in STATS_FIELDS)
    assert empty["total_sessions"] == 0 and empty["active_clients"] == 0
    assert result["total_sessions"] == 3
    assert result["active_clients"] == 2
    assert result["max_sessions_per_client"] == 7
    assert result["default_timeout"] == 900
    assert result["cleanup_interval"] == 1  # the fixture's settings


async def test_statistics_defaults_are_the_specs(start_node):
    node = await start_node(cleanup_interval=60)
    async with connect(node) as client:
        result = await client.request("get_session_statistics")
    assert result["max_sessions_per_client"] == 5
    assert result["default_timeout"] == 3600
    assert result["cleanup_interval"] == 60


# -- ping and authenticate ---------------------------------------------------------------------


@pytest.mark.parametrize("parameters", [None, {}, {"ignored": 1}], ids=["absent", "empty", "extra"])
async def test_ping_answers_with_its_id(start_node, parameters):
    node = await start_node()
    async with connect(node) as client:
        response = await client.call("ping", parameters, request_id="ping-" + "x" * 123)
    assert_envelope(response, "ping-" + "x" * 123)
    assert response["result"]["pong"] is True
    assert response["result"]["node_id"] == node.node_id


async def test_ping_with_null_parameters(start_node):
    node = await start_node()
    async with connect(node) as client:
        await client.send_raw('{"id": "p-null", "command": "ping", "parameters": null}')
        response = await client.call("ping", request_id="p-after")
    assert response["status"] == "success"


async def test_authenticate_without_secret_binds_the_client(start_node):
    node = await start_node()
    async with connect(node) as client:
        response = await client.call("authenticate", {"client_id": "alice"}, request_id="auth-1")
        assert_envelope(response, "auth-1")
        result = response["result"]
        assert result["authenticated"] is True
        assert result["client_id"] == "alice"
        assert result["auth_required"] is False
        created = await client.request("create_session", client_id="alice")
        with pytest.raises(RequestFailed) as other:
            await client.request("create_session", client_id="bob")
    assert created["client_id"] == "alice"
    assert other.value.error_type == "PermissionDenied"


async def test_requests_on_one_connection_may_overlap(start_node):
    node = await start_node()
    answers: dict[str, dict[str, Any]] = {}
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]

        async def one(n: int) -> None:
            command = ("ping", "restore_session", "get_session_info")[n % 3]
            params = {} if command == "ping" else {"session_id": sid}
            answers[f"r{n}"] = await client.call(command, params, request_id=f"r{n}")

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                for n in range(12):
                    nursery.start_soon(one, n)
    assert sorted(answers) == sorted(f"r{n}" for n in range(12))
    assert all(a["id"] == rid and a["status"] == "success" for rid, a in answers.items())


# -- session ids -------------------------------------------------------------------------------


def _bits(session_id: str) -> bytes:
    padded = session_id + "=" * (-len(session_id) % 4)
    return base64.urlsafe_b64decode(padded)


async def test_session_ids_are_long_random_and_unique(start_node):
    node = await start_node(max_sessions_per_client=1000)
    async with connect(node) as client:
        ids = []
        for n in range(200):
            created = await client.request("create_session", client_id=f"c{n % 4}")
            ids.append(created["session_id"])
    assert len(set(ids)) == len(ids)
    for sid in ids:
        assert SESSION_ID_ALPHABET.match(sid), sid
        assert len(sid) >= 22  # 22 base64url characters hold 132 bits
        assert len(_bits(sid)) * 8 >= 128
    # Random bits, not a counter or a clock: about half the bits are set, and the ids do not
    # share a prefix.
    ones = sum(bin(byte).count("1") for sid in ids for byte in _bits(sid))
    total = sum(len(_bits(sid)) * 8 for sid in ids)
    assert 0.47 < ones / total < 0.53
    assert len({sid[:4] for sid in ids}) > 190


def test_session_id_generator_never_repeats():
    ids = {new_session_id() for _ in range(50_000)}
    assert len(ids) == 50_000


# -- sliding expiry ----------------------------------------------------------------------------


def _shorten(redis: Any, sid: str, ms: int) -> None:
    """Make the session look as it would ``ms`` before it expires, its data keys' TTL (and the
    meta's ``data_until`` timer that tracks it) as close to running out."""
    k = keys.SessionKeys(sid)
    for key in (k.alive, k.meta, k.state):
        assert redis.command("PEXPIRE", key, str(ms)) == "1"
    redis.command("HSET", k.meta, "data_until", repr(time.time() + ms / 1000))


@pytest.mark.parametrize(
    "command", ["restore_session", "get_session_info", "update_session_state"]
)
async def test_successful_commands_refresh_the_sliding_expiry(start_node, redis, command):
    node = await start_node(session_timeout=120)
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        k = keys.SessionKeys(sid)
        assert 115_000 < pttl(redis, k.alive) <= 120_000
        _shorten(redis, sid, 3_000)
        assert pttl(redis, k.alive) <= 3_000
        params: dict[str, Any] = {"session_id": sid}
        if command == "update_session_state":
            params["state_data"] = {"n": 1}
        await client.request(command, **params)
    # Back up to the session's timeout (not more) for the shadow key; the data keys, whose
    # TTL was about to run out, move to two timeouts plus the grace (refreshed lazily: about
    # once per timeout, never later than the shadow key).
    assert 115_000 < pttl(redis, k.alive) <= 120_000
    assert 300_000 < pttl(redis, k.meta) <= 360_000
    assert 300_000 < pttl(redis, k.state) <= 360_000


@pytest.mark.parametrize("command", ["get_session_info", "update_session_state"])
async def test_data_keys_are_refreshed_lazily_but_outlive_the_shadow_key(
    start_node, redis, command
):
    node = await start_node(session_timeout=120)
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        k = keys.SessionKeys(sid)
        before = pttl(redis, k.meta)
        params: dict[str, Any] = {"session_id": sid}
        if command == "update_session_state":
            params["state_data"] = {"n": 1}
        for _ in range(3):
            await client.request(command, **params)
        # Far from running out: no PEXPIRE of the data keys on these requests ...
        assert before - 5_000 < pttl(redis, k.meta) <= before
        # ... and still longer than the shadow key, which each request moved.
        assert pttl(redis, k.meta) > pttl(redis, k.alive) + 100_000
        assert pttl(redis, k.state) > pttl(redis, k.alive) + 100_000


async def test_time_until_expiry_reflects_the_refreshed_ttl(start_node, redis):
    node = await start_node(session_timeout=120)
    async with connect(node) as client:
        sid = (await client.request("create_session", client_id="alice"))["session_id"]
        _shorten(redis, sid, 3_000)
        listed = await client.request("list_client_sessions", client_id="alice")
        info = await client.request("get_session_info", session_id=sid)
    # list_client_sessions only reads; the next command on the session refreshes it.
    assert listed["sessions"][0]["time_until_expiry"] <= 3
    assert 115 < info["time_until_expiry"] <= 120


async def test_create_session_retried_with_the_same_id_makes_one_session(start_node):
    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        created = await conn.call("create_session", {"client_id": "once"}, request_id="c-1")
    async with connect(second) as conn:
        again = await conn.call("create_session", {"client_id": "once"}, request_id="c-1")
        other = await conn.call("create_session", {"client_id": "once"}, request_id="c-2")
        listed = await conn.request("list_client_sessions", client_id="once")
    assert again["replayed"] is True
    assert again["result"]["session_id"] == created["result"]["session_id"]
    assert other["result"]["session_id"] != created["result"]["session_id"]
    assert listed["session_count"] == 2
