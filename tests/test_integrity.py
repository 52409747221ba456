"""Damaged records: refused, quarantined, and never served as good data.

Rules: loopback only, a real redis-server on a free port, real in-process nodes on port 0; no
mocks. Records are damaged the way an operator or a torn write would: one byte of the sealed
``stui:{sid}:state`` string changed with SET, a ``meta`` field changed with HSET, a key deleted.
Reads and writes go over a plain socket (``conftest.redis_call``) so the bytes are exact. Each
test runs in well under a second.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
from conftest import RawClient, raw_connect, redis_call

from cluster import keys
from cluster.integrity import seal
from nodes.node import Node


@attrs.define
class Case:
    node: Node
    client: RawClient
    other: RawClient
    sid: str
    spare: str
    redis: Any

    @property
    def k(self) -> keys.SessionKeys:
        return keys.SessionKeys(self.sid)


@pytest.fixture
async def case(start_node, redis) -> AsyncIterator[Case]:
    """Two sessions of alice, each with a state; two connections."""
    node = await start_node()
    async with raw_connect(node) as client, raw_connect(node) as other:
        ids = []
        for n in range(2):
            created = await client.call("create_session", {"client_id": "alice"},
                                        request_id=f"c{n}")
            sid = created["result"]["session_id"]
            stored = await client.call(
                "update_session_state",
                {"session_id": sid, "state_data": {"keep": [1, 2, 3], "n": n}}, request_id=f"u{n}"
            )
            assert stored["status"] == "success", stored
            ids.append(sid)
        yield Case(node, client, other, ids[0], ids[1], redis)


def get_raw(case: Case, key: str) -> bytes:
    raw = redis_call(case.redis, "GET", key)
    assert isinstance(raw, bytes)
    return raw


def set_raw(case: Case, key: str, value: bytes) -> None:
    # Keep the TTL, as a corrupted write would.
    assert redis_call(case.redis, "SET", key, value, "KEEPTTL") == b"OK"


async def assert_corrupt_answer(case: Case, command: str, record: str) -> dict[str, Any]:
    response = await case.client.call(command, {"session_id": case.sid}, request_id="x")
    assert response["status"] == "error", response
    assert response["error_type"] == "SessionError", response
    assert record in response["error"], response
    assert "keep" not in json.dumps(response)  # nothing of the damaged data is served
    return response


async def assert_everything_else_works(case: Case) -> None:
    await case.client.assert_alive()
    spare = await case.client.call("restore_session", {"session_id": case.spare})
    assert spare["status"] == "success"
    assert spare["result"]["session_state"] == {"keep": [1, 2, 3], "n": 1}
    other = await case.other.call("create_session", {"client_id": "carol"})
    sid = other["result"]["session_id"]
    updated = await case.other.call("update_session_state", {"session_id": sid, "state_data": 5})
    restored = await case.other.call("restore_session", {"session_id": sid})
    assert updated["status"] == "success" and restored["result"]["session_state"] == 5


# -- a damaged state record --------------------------------------------------------------------


async def test_one_changed_byte_in_the_state_is_refused_and_quarantined(case):
    raw = get_raw(case, case.k.state)
    assert b'"keep":[1,2,3]' in raw
    damaged = raw.replace(b'"keep":[1,2,3]', b'"keep":[1,2,4]')
    assert len(damaged) == len(raw) and sum(a != b for a, b in zip(raw, damaged, strict=True)) == 1
    set_raw(case, case.k.state, damaged)

    response = await assert_corrupt_answer(case, "restore_session", case.k.state)
    assert "integrity" in response["error"]
    quarantined = redis_call(case.redis, "HGET", case.k.quarantine, case.k.state)
    assert quarantined == damaged
    assert float(redis_call(case.redis, "HGET", case.k.quarantine, case.k.state + "@")) > 0
    assert 0 < int(redis_call(case.redis, "TTL", case.k.quarantine)) <= 7 * 24 * 3600
    # The damaged record is kept in place too (nothing is silently repaired by a read).
    assert get_raw(case, case.k.state) == damaged
    # Asking again answers the same.
    await assert_corrupt_answer(case, "restore_session", case.k.state)
    await assert_everything_else_works(case)


async def test_get_session_info_does_not_need_the_state(case):
    # get_session_info reads the meta record only: a damaged state does not stop it, while
    # restore_session, which serves the state, still refuses it.
    raw = get_raw(case, case.k.state)
    set_raw(case, case.k.state, raw.replace(b'"n":0', b'"n":9'))
    info = await case.client.call("get_session_info", {"session_id": case.sid}, request_id="i")
    assert info["status"] == "success", info
    assert info["result"]["session_id"] == case.sid
    await assert_corrupt_answer(case, "restore_session", case.k.state)
    await assert_everything_else_works(case)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda raw: raw[: len(raw) // 2], "unreadable"),
        (lambda raw: b"", "unreadable"),
        (lambda raw: b"[1, 2, 3]", "unreadable"),
        (lambda raw: raw.replace(b'"schema":1', b'"schema":99'), "schema"),
        (lambda raw: seal({"state_data": {"forged": True}}), "malformed"),
        (lambda raw: seal({"version": 3}), "malformed"),
        (lambda raw: raw.replace(b'"digest":"', b'"digest":"0'), "integrity"),
    ],
    ids=["truncated", "empty", "not-an-envelope", "unknown-schema", "no-version", "no-state",
         "bad-digest"],
)
async def test_damaged_state_variants(case, damage, reason):
    damaged = damage(get_raw(case, case.k.state))
    set_raw(case, case.k.state, damaged)
    response = await assert_corrupt_answer(case, "restore_session", case.k.state)
    assert reason in response["error"]
    assert redis_call(case.redis, "HGET", case.k.quarantine, case.k.state) == damaged
    await assert_everything_else_works(case)


async def test_missing_state_record_is_damage_not_absence(case):
    redis_call(case.redis, "DEL", case.k.state)
    response = await assert_corrupt_answer(case, "restore_session", case.k.state)
    assert "missing" in response["error"]
    await assert_everything_else_works(case)


async def test_update_over_a_damaged_state_replaces_it(case):
    # update_session_state stores a whole new state and does not read the old one: a damaged
    # state record is overwritten by a sound one, and the session is usable again.
    raw = get_raw(case, case.k.state)
    set_raw(case, case.k.state, raw.replace(b'"n":0', b'"n":7'))
    updated = await case.client.call(
        "update_session_state", {"session_id": case.sid, "state_data": {"fresh": 1}}
    )
    assert updated["status"] == "success", updated
    assert updated["result"]["version"] == 3
    restored = await case.client.call("restore_session", {"session_id": case.sid})
    assert restored["result"]["session_state"] == {"fresh": 1}
    assert restored["result"]["version"] == 3
    await assert_everything_else_works(case)


async def test_conflict_over_a_damaged_state_is_a_session_error(case):
    # A stale expected_version makes the store read the current state for the conflict's
    # details; a damaged one is refused rather than sent as the "current state".
    raw = get_raw(case, case.k.state)
    set_raw(case, case.k.state, raw.replace(b'"n":0', b'"n":7'))
    response = await case.client.call(
        "update_session_state",
        {"session_id": case.sid, "state_data": {"fresh": 1}, "expected_version": 1},
    )
    assert response["error_type"] == "SessionError", response
    assert case.k.state in response["error"]
    assert "details" not in response or "session_state" not in response["details"]
    await assert_everything_else_works(case)


async def test_close_works_on_a_damaged_session_and_keeps_the_quarantine(case):
    set_raw(case, case.k.state, b"garbage")
    await assert_corrupt_answer(case, "restore_session", case.k.state)
    closed = await case.client.call("close_session", {"session_id": case.sid})
    assert closed["result"] == {"session_id": case.sid, "closed": True}
    for key in case.k.all_keys():
        assert redis_call(case.redis, "EXISTS", key) == 0, key
    assert redis_call(case.redis, "HGET", case.k.quarantine, case.k.state) == b"garbage"
    await assert_everything_else_works(case)


# -- a damaged meta record ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", "99"), ("created_at", "0"), ("client_id", "mallory"), ("epoch", "x"),
     ("digest", "0" * 64), ("extra", "field")],
)
async def test_damaged_meta_is_refused_and_quarantined(case, field, value):
    redis_call(case.redis, "HSET", case.k.meta, field, value)
    response = await assert_corrupt_answer(case, "restore_session", case.k.meta)
    assert "integrity" in response["error"]
    quarantined = json.loads(redis_call(case.redis, "HGET", case.k.quarantine, case.k.meta))
    assert quarantined[field] == value
    assert quarantined["session_id"] == case.sid
    await assert_corrupt_answer(case, "get_session_info", case.k.meta)
    updated = await case.client.call(
        "update_session_state", {"session_id": case.sid, "state_data": 1}, request_id="u"
    )
    assert updated["error_type"] == "SessionError" and case.k.meta in updated["error"]
    await assert_everything_else_works(case)


async def test_list_skips_a_session_whose_meta_is_damaged(case):
    redis_call(case.redis, "HSET", case.k.meta, "version", "42")
    listed = await case.client.call("list_client_sessions", {"client_id": "alice"})
    assert [s["session_id"] for s in listed["result"]["sessions"]] == [case.spare]
    assert listed["result"]["session_count"] == 1
    assert redis_call(case.redis, "HEXISTS", case.k.quarantine, case.k.meta) == 1
    await assert_everything_else_works(case)


async def test_list_still_shows_a_session_whose_state_is_damaged(case):
    set_raw(case, case.k.state, b"garbage")
    listed = await case.client.call("list_client_sessions", {"client_id": "alice"})
    assert sorted(s["session_id"] for s in listed["result"]["sessions"]) == sorted(
        [case.sid, case.spare]
    )


async def test_non_numeric_timeout_in_meta_is_a_session_error(case):
    redis_call(case.redis, "HSET", case.k.meta, "timeout", "abc")
    await assert_corrupt_answer(case, "restore_session", case.k.meta)
    await assert_corrupt_answer(case, "get_session_info", case.k.meta)
    assert redis_call(case.redis, "HEXISTS", case.k.quarantine, case.k.meta) == 1


async def test_another_clients_damaged_session_is_still_not_found(start_node, redis):
    node = await start_node()
    async with raw_connect(node) as bob, raw_connect(node) as alice:
        created = await bob.call("create_session", {"client_id": "bob"})
        sid = created["result"]["session_id"]
        redis_call(redis, "HSET", keys.SessionKeys(sid).meta, "version", "99")
        await alice.call("authenticate", {"client_id": "alice"})
        for command in ("restore_session", "get_session_info", "close_session",
                        "update_session_state"):
            params: dict[str, Any] = {"session_id": sid, "state_data": 1}
            response = await alice.call(command, params)
            assert response["error_type"] == "SessionNotFound", (command, response)
        assert redis_call(redis, "EXISTS", keys.SessionKeys(sid).quarantine) == 0
