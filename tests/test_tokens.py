"""JWT tokens: expiry (on authenticate, on a later command, and on a live connection), the
allowed-sessions claim, the legacy HMAC token and the setting that turns it off, and a client
that refreshes its token by itself.

Rules: loopback only, a real redis-server on a free port, real in-process nodes on port 0 with
``secret="s3cret"``; tokens are made with :mod:`cluster.tokens` (PyJWT) or forged by hand
(header and payload base64, signed with another key or not at all). No mocks.
"""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
import trio
from conftest import dump_keys, raw_connect, url_of
from trio_websocket import ConnectionClosed

from client.connection import RequestFailed, open_connection
from client.credentials import minter
from client.session import open_session
from cluster import tokens
from cluster.auth import new_session_id, token_for

SECRET = "s3cret-for-the-token-tests-0123456789abcdef"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _auth(client, token, client_id="alice"):
    params = {"token": token}
    if client_id is not None:
        params["client_id"] = client_id
    return await client.call("authenticate", params, request_id="auth")


async def test_unauthenticated_commands_are_refused_with_a_reason(start_node, redis):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        refused = await client.call("create_session", {"client_id": "alice"})
        await client.assert_alive()
    assert refused["error_type"] == "Unauthorized"
    assert refused["details"] == {"reason": "missing"}
    assert dump_keys(redis) == {}


async def test_a_jwt_authenticates_and_names_the_client(start_node):
    node = await start_node(secret=SECRET)
    token = tokens.issue(SECRET, "alice", ttl=600)
    async with raw_connect(node) as client:
        answer = await _auth(client, token, client_id=None)  # sub names the client
        created = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        other = await client.call("create_session", {"client_id": "bob"}, request_id="d")
    assert answer["status"] == "success", answer
    assert answer["result"]["client_id"] == "alice"
    assert answer["result"]["expires_at"].endswith("Z")
    assert created["status"] == "success"
    assert other["error_type"] == "PermissionDenied"


async def test_an_expired_token_is_refused_with_its_reason(start_node, redis):
    node = await start_node(secret=SECRET)
    expired = tokens.issue(SECRET, "alice", ttl=60, now=time.time() - 3600)
    async with raw_connect(node) as client:
        answer = await _auth(client, expired)
        after = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        await client.assert_alive()
    assert answer["error_type"] == "Unauthorized"
    assert answer["details"] == {"reason": "expired"}
    assert "expired" in answer["error"]
    assert after["details"] == {"reason": "missing"}
    assert dump_keys(redis) == {}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: tokens.issue("another-secret", "alice", ttl=600), "bad_signature"),
        (lambda: tokens.issue(SECRET, "bob", ttl=600), "wrong_client"),
        (lambda: _b64({"alg": "none", "typ": "JWT"}) + "."
         + _b64({"sub": "alice", "exp": time.time() + 600}) + ".", "malformed"),
        (lambda: jwt.encode({"sub": "alice"}, SECRET, algorithm="HS256"), "malformed"),  # no exp
        (lambda: jwt.encode({"sub": "al ice!", "exp": time.time() + 600}, SECRET,
                            algorithm="HS256"), "malformed"),
        (lambda: jwt.encode({"sub": "alice", "exp": time.time() + 600, "sessions": "all"},
                            SECRET, algorithm="HS256"), "malformed"),
        (lambda: jwt.encode({"sub": "alice", "exp": time.time() + 600, "nbf": time.time() + 900},
                            SECRET, algorithm="HS256"), "not_yet_valid"),
        (lambda: "a.b.c", "malformed"),
        (lambda: "not-a-token", "invalid"),
    ],
    ids=["other-secret", "other-client", "alg-none", "no-exp", "bad-sub", "bad-sessions",
         "not-yet-valid", "garbage-jwt", "garbage-hmac"],
)
async def test_bad_tokens_are_refused_with_a_reason(start_node, make, reason):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        answer = await _auth(client, make())
        after = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        await client.assert_alive()
    assert answer["error_type"] == "Unauthorized", answer
    assert answer["details"]["reason"] == reason, answer
    assert after["error_type"] == "Unauthorized"


async def test_the_legacy_hmac_token_works_unless_turned_off(start_node):
    on = await start_node(secret=SECRET)
    off = await start_node(secret=SECRET, allow_hmac_tokens=False)
    legacy = token_for(SECRET, "alice")
    async with raw_connect(on) as a, raw_connect(off) as b:
        accepted = await _auth(a, legacy)
        refused = await _auth(b, legacy)
        jwt_on_off = await _auth(b, tokens.issue(SECRET, "alice", ttl=600))
    assert accepted["status"] == "success" and "expires_at" not in accepted["result"]
    assert refused["error_type"] == "Unauthorized"
    assert refused["details"] == {"reason": "hmac_disabled"}
    assert jwt_on_off["status"] == "success"


async def test_a_token_limited_to_sessions_opens_only_those(start_node, redis):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as owner:
        await _auth(owner, tokens.issue(SECRET, "alice", ttl=600))
        first = (await owner.call("create_session", {"client_id": "alice"},
                                  request_id="c1"))["result"]["session_id"]
        second = (await owner.call("create_session", {"client_id": "alice"},
                                   request_id="c2"))["result"]["session_id"]
    limited = tokens.issue(SECRET, "alice", ttl=600, sessions=[first])
    async with raw_connect(node) as client:
        answer = await _auth(client, limited)
        ok = await client.call("restore_session", {"session_id": first}, request_id="r1")
        before = dump_keys(redis)
        denied = await client.call("update_session_state",
                                   {"session_id": second, "state_data": 1}, request_id="u")
        create = await client.call("create_session", {"client_id": "alice"}, request_id="c3")
        assert dump_keys(redis) == before
        listed = await client.call("list_client_sessions", {"client_id": "alice"},
                                   request_id="l")
    assert answer["result"]["sessions"] == [first]
    assert ok["status"] == "success"
    assert denied["error_type"] == "PermissionDenied"
    assert create["error_type"] == "PermissionDenied"
    assert [s["session_id"] for s in listed["result"]["sessions"]] == [first]


async def test_a_connection_is_told_before_its_token_expires_and_then_closed(start_node):
    node = await start_node(secret=SECRET)
    token = tokens.issue(SECRET, "alice", ttl=3)
    async with raw_connect(node) as client:
        assert (await _auth(client, token))["status"] == "success"
        sid = (await client.call("create_session", {"client_id": "alice"},
                                 request_id="c"))["result"]["session_id"]
        with trio.fail_after(10):
            expiring = json.loads(await client.ws.get_message())
            expired = json.loads(await client.ws.get_message())
            with pytest.raises(ConnectionClosed) as closed:
                await client.ws.get_message()
    assert expiring["event"] == "token_expiring"
    assert 0 < expiring["data"]["seconds_left"] <= 1
    assert expired["event"] == "token_expired"
    assert closed.value.reason.code == 4003
    # The session itself is intact: a new token opens it again.
    async with raw_connect(node) as client:
        await _auth(client, tokens.issue(SECRET, "alice", ttl=600))
        restored = await client.call("restore_session", {"session_id": sid}, request_id="r")
    assert restored["status"] == "success"


async def test_authenticating_again_before_the_expiry_keeps_the_connection(start_node):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        await _auth(client, tokens.issue(SECRET, "alice", ttl=2))
        with trio.fail_after(5):
            warned = json.loads(await client.ws.get_message())
        assert warned["event"] == "token_expiring"
        renewed = await _auth(client, tokens.issue(SECRET, "alice", ttl=600))
        await trio.sleep(2.5)  # past the first token's expiry
        created = await client.call("create_session", {"client_id": "alice"}, request_id="c")
    assert renewed["status"] == "success"
    assert created["status"] == "success", created
    assert client.events == []  # no token_expired


async def test_a_session_client_with_a_minter_refreshes_its_token(start_node):
    node = await start_node(secret=SECRET)
    mint = minter(SECRET, "alice", ttl=2)
    async with open_session([url_of(node)], "alice", token=mint, ping_interval=None) as client:
        await client.update_state({"n": 1})
        await trio.sleep(4.5)  # two token lifetimes: refreshed on token_expiring each time
        done = await client.update_state({"n": 2})
        assert client.reconnects == 0
    assert done["update_successful"] is True


async def test_a_static_expired_token_ends_the_session_client_with_a_reason(start_node):
    node = await start_node(secret=SECRET)
    stale = tokens.issue(SECRET, "alice", ttl=60, now=time.time() - 3600)
    from client.session import SessionLost

    with pytest.raises(SessionLost) as lost:
        async with open_session([url_of(node)], "alice", token=stale, reconnect_timeout=3):
            pass
    assert lost.value.reason == "refused"
    assert "expired" in str(lost.value)


async def test_an_unknown_session_in_the_claim_is_still_not_found(start_node):
    node = await start_node(secret=SECRET)
    missing = new_session_id()
    async with open_connection(url_of(node)) as conn:
        await conn.request("authenticate", token=tokens.issue(SECRET, "alice", ttl=60,
                                                              sessions=[missing]))
        with pytest.raises(RequestFailed) as failed:
            await conn.request("get_session_info", session_id=missing)
    assert failed.value.error_type == "SessionNotFound"


def test_issue_refuses_what_it_cannot_sign():
    with pytest.raises(ValueError):
        tokens.issue("", "alice")
    with pytest.raises(ValueError):
        tokens.issue(SECRET, "not valid!")
    grant = tokens.verify(SECRET, tokens.issue(SECRET, "alice", ttl=60))
    assert grant.client_id == "alice" and grant.kind == "jwt" and grant.sessions is None
    assert not grant.expired() and grant.expired(time.time() + 61)
