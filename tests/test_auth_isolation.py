"""Authentication and isolation between clients.

Rules: loopback only, a real redis-server on a free port, real in-process nodes on port 0 with
``secret="s3cret"`` unless a test says otherwise; the CLI checks run ``stui-cluster`` as a real
subprocess (10 s cap each). No mocks. Isolation means: a client never learns whether another
client's session exists, so every answer about it must be exactly the answer about a session
that does not exist, with the session id substituted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import RawClient, dump_keys, raw_connect

from cluster import tokens
from cluster.auth import new_session_id, token_for, verify
from cluster.ops import cli

SECRET = "s3cret"
ROOT = Path(__file__).resolve().parent.parent

SESSION_COMMANDS = ["restore_session", "update_session_state", "close_session", "get_session_info"]


def _params(command: str, session_id: str) -> dict[str, Any]:
    params: dict[str, Any] = {"session_id": session_id}
    if command == "update_session_state":
        params["state_data"] = {"from": "intruder"}
    return params


async def login(client: RawClient, client_id: str, secret: str = SECRET) -> dict[str, Any]:
    return await client.call(
        "authenticate", {"client_id": client_id, "token": token_for(secret, client_id)},
        request_id=f"auth-{client_id}",
    )


# -- before authenticating ---------------------------------------------------------------------


async def test_session_commands_need_authentication(start_node, redis):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as owner:
        assert (await login(owner, "bob"))["status"] == "success"
        sid = (await owner.call("create_session", {"client_id": "bob"}))["result"]["session_id"]
    before = dump_keys(redis)
    async with raw_connect(node) as client:
        requests = {
            "create_session": {"client_id": "alice"},
            "list_client_sessions": {"client_id": "bob"},
            "get_session_statistics": {},
            **{command: _params(command, sid) for command in SESSION_COMMANDS},
        }
        for n, (command, params) in enumerate(requests.items()):
            response = await client.call(command, params, request_id=f"u{n}")
            assert response["status"] == "error", response
            assert response["error_type"] == "Unauthorized", response
            assert response["id"] == f"u{n}"
            await client.assert_alive()  # ping needs no authentication
    assert dump_keys(redis) == before


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "",
        token_for(SECRET, "bob"),  # another client's token
        token_for("wrong-secret", "alice"),  # signed with another secret
        token_for(SECRET, "alice").upper(),  # same digits, other case
        token_for(SECRET, "alice")[:-1],  # truncated
    ],
    ids=["garbage", "empty", "other-client", "other-secret", "uppercase", "truncated"],
)
async def test_wrong_token_is_unauthorized_and_leaves_the_connection_anonymous(start_node, token):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        response = await client.call("authenticate", {"client_id": "alice", "token": token})
        assert response["status"] == "error" and response["error_type"] == "Unauthorized"
        after = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        assert after["error_type"] == "Unauthorized"
        await client.assert_alive()


@pytest.mark.parametrize("token", ["á" * 64, "tökén", "\u0000", "日本"], ids=repr)
async def test_non_ascii_token_is_unauthorized_not_an_internal_error(start_node, token):
    # Found by test_fuzz_frames: hmac.compare_digest refuses non-ASCII str arguments.
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        response = await client.call("authenticate", {"client_id": "alice", "token": token})
        await client.assert_alive()
    assert response["error_type"] == "Unauthorized", response
    assert not verify(SECRET, "alice", token)


@pytest.mark.parametrize("token", [None, 12345, ["x"], {"t": 1}, True], ids=repr)
async def test_missing_or_mistyped_token_is_invalid(start_node, token):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        params: dict[str, Any] = {"client_id": "alice"}
        if token is not None:
            params["token"] = token
        response = await client.call("authenticate", params)
        assert response["error_type"] == "InvalidRequest"
        assert "token" in response["error"]
        after = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        assert after["error_type"] == "Unauthorized"


async def test_failed_login_keeps_the_previous_identity(start_node):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        assert (await login(client, "alice"))["status"] == "success"
        bad = await client.call("authenticate", {"client_id": "bob", "token": "nope"})
        assert bad["error_type"] == "Unauthorized"
        still = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        as_bob = await client.call("create_session", {"client_id": "bob"}, request_id="d")
    assert still["status"] == "success"
    assert as_bob["error_type"] == "PermissionDenied"


async def test_denied_client_cannot_authenticate_even_with_a_valid_token(start_node):
    node = await start_node(secret=SECRET, deny_clients=frozenset({"mallory"}))
    async with raw_connect(node) as client:
        response = await login(client, "mallory")
        after = await client.call("create_session", {"client_id": "mallory"}, request_id="c")
    assert response["error_type"] == "PermissionDenied"
    assert after["error_type"] == "Unauthorized"


# -- a valid token -----------------------------------------------------------------------------


async def test_token_for_authenticates(start_node):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as client:
        response = await login(client, "alice")
        assert response["status"] == "success", response
        assert response["result"]["authenticated"] is True
        assert response["result"]["client_id"] == "alice"
        assert response["result"]["auth_required"] is True
        created = await client.call("create_session", {"client_id": "alice"}, request_id="c")
        sid = created["result"]["session_id"]
        order = ["restore_session", "update_session_state", "get_session_info", "close_session"]
        for n, command in enumerate(order):
            answer = await client.call(command, _params(command, sid), request_id=f"s{n}")
            assert answer["status"] == "success", answer
        listed = await client.call("list_client_sessions", {"client_id": "alice"})
        stats = await client.call("get_session_statistics", request_id="st")
    assert listed["result"]["session_count"] == 0  # closed above
    assert stats["status"] == "success"


async def test_the_token_is_valid_on_every_node(start_node):
    node_a = await start_node(secret=SECRET)
    node_b = await start_node(secret=SECRET)
    async with raw_connect(node_a) as a:
        await login(a, "alice")
        sid = (await a.call("create_session", {"client_id": "alice"}))["result"]["session_id"]
    async with raw_connect(node_b) as b:
        assert (await login(b, "alice"))["status"] == "success"
        restored = await b.call("restore_session", {"session_id": sid})
    assert restored["status"] == "success" and restored["result"]["client_id"] == "alice"


def test_token_is_hmac_sha256_hex_of_the_client_id():
    import hashlib
    import hmac

    token = token_for(SECRET, "alice")
    assert token == hmac.new(b"s3cret", b"alice", hashlib.sha256).hexdigest()
    assert len(token) == 64 and int(token, 16) >= 0
    assert verify(SECRET, "alice", token)
    assert not verify(SECRET, "alice2", token)
    assert not verify("other", "alice", token)


# -- isolation between clients -----------------------------------------------------------------


async def test_another_clients_session_answers_exactly_like_a_missing_one(start_node, redis):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as bob, raw_connect(node) as alice:
        await login(bob, "bob")
        await login(alice, "alice")
        created = await bob.call("create_session", {"client_id": "bob"})
        bobs = created["result"]["session_id"]
        stored = await bob.call("update_session_state",
                                {"session_id": bobs, "state_data": {"secret": "plans"}})
        assert stored["status"] == "success"
        before = dump_keys(redis)
        missing = new_session_id()
        for n, command in enumerate(SESSION_COMMANDS):
            theirs = await alice.call(command, _params(command, bobs), request_id=f"t{n}")
            absent = await alice.call(command, _params(command, missing), request_id=f"t{n}")
            assert theirs["error_type"] == absent["error_type"] == "SessionNotFound", theirs
            assert theirs["error"].replace(bobs, "<sid>") == absent["error"].replace(
                missing, "<sid>"
            ), (theirs, absent)
            assert set(theirs) == set(absent)
            assert theirs.get("details") == absent.get("details")
            assert "plans" not in str(theirs)
        assert dump_keys(redis) == before
        # Bob's session is intact and still his.
        restored = await bob.call("restore_session", {"session_id": bobs})
    assert restored["result"]["session_state"] == {"secret": "plans"}
    assert restored["result"]["version"] == 2


async def test_a_client_cannot_list_or_create_for_another(start_node, redis):
    node = await start_node(secret=SECRET)
    async with raw_connect(node) as bob, raw_connect(node) as alice:
        await login(bob, "bob")
        await login(alice, "alice")
        await bob.call("create_session", {"client_id": "bob"})
        before = dump_keys(redis)
        listed = await alice.call("list_client_sessions", {"client_id": "bob"})
        created = await alice.call("create_session", {"client_id": "bob"})
        assert dump_keys(redis) == before
        own = await alice.call("list_client_sessions", {"client_id": "alice"})
    assert listed["error_type"] == "PermissionDenied"
    assert "result" not in listed
    assert created["error_type"] == "PermissionDenied"
    assert own["result"] == {"client_id": "alice", "session_count": 0, "sessions": []}


async def test_isolation_also_holds_for_authenticated_clients_without_a_secret(start_node):
    # No cluster secret: authenticate needs no token, but once bound a connection is still
    # confined to its own client's sessions.
    node = await start_node()
    async with raw_connect(node) as bob, raw_connect(node) as alice:
        created = await bob.call("create_session", {"client_id": "bob"})
        bobs = created["result"]["session_id"]
        bound = await alice.call("authenticate", {"client_id": "alice"})
        assert bound["result"]["auth_required"] is False
        for command in SESSION_COMMANDS:
            answer = await alice.call(command, _params(command, bobs))
            assert answer["error_type"] == "SessionNotFound", answer
        restored = await bob.call("restore_session", {"session_id": bobs})
    assert restored["status"] == "success"


# -- the stui-cluster CLI ----------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=10, cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "STUI_SECRET"}, **(env or {})},
    )


def test_cli_prints_a_jwt_and_on_request_the_legacy_token(tmp_path):
    script = Path(sys.executable).parent / "stui-cluster"
    state = ["--state-dir", str(tmp_path)]  # no secret file there
    by_script = _run(str(script), *state, "token", "alice", "--secret", SECRET)
    by_module = _run(sys.executable, "-m", "cluster.ops.cli", *state, "token", "alice",
                     "--secret", SECRET, "--ttl", "60")
    for run in (by_script, by_module):
        assert run.returncode == 0, run.stderr
        grant = tokens.verify(SECRET, run.stdout.strip(), "alice")
        assert grant.kind == "jwt" and grant.expires_at is not None
    assert tokens.verify(SECRET, by_module.stdout.strip()).expires_at <= time.time() + 61
    legacy = _run(sys.executable, "-m", "cluster.ops.cli", *state, "token", "alice",
                  "--secret", SECRET, "--hmac")
    assert legacy.stdout == token_for(SECRET, "alice") + "\n"


def test_cli_without_a_secret_fails(tmp_path):
    run = _run(sys.executable, "-m", "cluster.ops.cli", "--state-dir", str(tmp_path), "token",
               "alice")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "secret" in run.stderr


def test_cli_finds_the_secret_in_the_state_dir(tmp_path):
    (tmp_path / "secret").write_text("from-the-state-dir\n")
    run = _run(sys.executable, "-m", "cluster.ops.cli", "--state-dir", str(tmp_path), "token",
               "alice", "--session", "a" * 32)
    assert run.returncode == 0, run.stderr
    grant = tokens.verify("from-the-state-dir", run.stdout.strip())
    assert grant.sessions == frozenset({"a" * 32})


def test_cli_in_process(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("STUI_SECRET", raising=False)
    state = ["--state-dir", str(tmp_path)]
    assert cli.main([*state, "token", "bob", "--secret", SECRET, "--hmac"]) == 0
    assert capsys.readouterr().out.strip() == token_for(SECRET, "bob")
    assert cli.main([*state, "token", "bob"]) == 2
    assert "no secret" in capsys.readouterr().err
    monkeypatch.setenv("STUI_SECRET", "from-env")
    assert cli.main([*state, "token", "bob"]) == 0
    assert tokens.verify("from-env", capsys.readouterr().out.strip()).client_id == "bob"
    assert cli.main([*state, "token", "not a client id!"]) == 2
    with pytest.raises(SystemExit):
        cli.main([])
