"""Secure by default, end to end: the launcher's secret and Redis ACL, TLS through HAProxy with
a verified certificate, a node refused by Redis without its password, the loopback-only rule,
and the operator's commands (``status --json``, ``sessions --json``, ``logs``).

Rules: loopback only, free ports, a temporary state dir per test (everything it started is
stopped by ``down`` in a finally block), real redis-server, real node processes, real HAProxy
(the TLS test needs it: scripts/test installs it). No mocks.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trio
from conftest import cluster_cli

from client.connection import RequestFailed, open_connection, tls_context
from client.credentials import minter
from client.session import open_session
from cluster import redis_auth, tokens
from cluster.ops import launcher
from cluster.ops.embedded_redis import RedisServer, free_port
from cluster.ops.secrets_files import write_private
from cluster.settings import Settings
from nodes.exposure import restrict

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    """The ops CLI without STUI_SECRET from this environment (the state dir's secret counts)."""
    env = {k: v for k, v in os.environ.items() if k != "STUI_SECRET"}
    return cluster_cli(*args, state=state, env=env)


def _mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def _use(url: str, client_id: str, token: str | None, **kw) -> dict:
    async with open_connection(url, **kw) as conn:
        if token is not None:
            await conn.request("authenticate", token=token)
        sid = (await conn.request("create_session", client_id=client_id))["session_id"]
        await conn.request("evaluate", session_id=sid, code="answer := 42")
        return await conn.request("restore_session", session_id=sid)


def test_up_is_secure_by_default(state_dir: Path):
    up = cli("up", "--nodes", "2", "--port", "0", "--detach", state=state_dir)
    assert up.returncode == 0, up.stderr
    state = launcher.ClusterState.load(state_dir)
    secret = (state_dir / "secret").read_text().strip()
    assert len(secret) >= 32
    for private in ("secret", "redis-node.password", "redis-admin.password", "redis/users.acl",
                    "haproxy.cfg"):
        assert _mode(state_dir / private) == 0o600, private
    assert _mode(state_dir) == 0o700
    assert secret not in (state_dir / "cluster.json").read_text()
    node_password = (state_dir / "redis-node.password").read_text().strip()
    for info in state.nodes:  # no secret on any command line
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().decode()
        assert secret not in cmdline and node_password not in cmdline
    url = state.urls[0]

    async def refused() -> RequestFailed:
        async with open_connection(url) as conn:
            with pytest.raises(RequestFailed) as failed:
                await conn.request("create_session", client_id="alice")
            return failed.value

    refusal = trio.run(refused)
    assert refusal.error_type == "Unauthorized" and refusal.details == {"reason": "missing"}

    token = cli("token", "alice", "--ttl", "300", state=state_dir)
    assert token.returncode == 0, token.stderr
    grant = tokens.verify(secret, token.stdout.strip())
    assert grant.client_id == "alice" and grant.expires_at is not None
    restored = trio.run(_use, url, "alice", token.stdout.strip())
    assert restored["workspace_context"]["bindings"]["answer"]["print_string"] == "42"

    # Redis: no password, no entry; the nodes' user may not run what nodes never send.
    with socket.create_connection(("127.0.0.1", state.redis_port), timeout=5) as sock:
        sock.sendall(b"GET stui:clients\r\n")
        assert sock.recv(200).startswith(b"-NOAUTH")
    out = subprocess.run(
        ["redis-cli", "-p", str(state.redis_port), "--user", "stui", "--pass", node_password,
         "--no-auth-warning", "FLUSHALL"], capture_output=True, text=True,
    )
    assert "NOPERM" in out.stdout + out.stderr

    # down and up again: the same secret, so the token still works.
    assert cli("down", state=state_dir).returncode == 0
    assert (state_dir / "secret").read_text().strip() == secret
    again = launcher.up(1, state_dir=state_dir, lb_port=0)
    trio.run(_use, again.nodes[0].url, "alice", token.stdout.strip())


def test_status_sessions_and_logs(state_dir: Path):
    state = launcher.up(2, state_dir=state_dir, lb_port=0)
    mint = minter(state.secret, "carol")

    async def hold_and_look() -> tuple[dict, list, str]:
        async with open_session([state.nodes[1].url], "carol", token=mint,
                                ping_interval=None) as client:
            await client.update_state({"x": 1})
            await trio.sleep(1.5)  # nodes publish held sessions every second
            status = await trio.to_thread.run_sync(
                lambda: cli("status", "--json", state=state_dir))
            listed = await trio.to_thread.run_sync(
                lambda: cli("sessions", "--client", "carol", "--json", state=state_dir))
            table = await trio.to_thread.run_sync(lambda: cli("sessions", state=state_dir))
            assert status.returncode == listed.returncode == table.returncode == 0
            return json.loads(status.stdout), json.loads(listed.stdout), table.stdout + str(
                client.session_id)

    status, sessions, table = trio.run(hold_and_look)
    assert status["auth"] == "token" and status["tls"] is False
    assert status["redis"]["reachable"] is True and status["redis"]["embedded"] is True
    assert "***" not in status["redis"]["url"] and "@" in status["redis"]["url"]
    assert [n["node_id"] for n in status["nodes"]] == ["node-1", "node-2"]
    assert all(n["health"] == "ok" and n["alive"] for n in status["nodes"])
    assert status["nodes"][1]["connections"] == 1 and status["nodes"][1]["sessions_held"] == 1
    assert status["sessions"] == 1 and status["clients"] == 1
    assert status["urls"] == state.urls
    [row] = sessions
    assert row["client_id"] == "carol" and row["owner"] == "node-2" and row["owner_alive"]
    assert row["attached"] == {"node-2": 1} and row["connections"] == 1
    assert 0 <= row["age"] < 30 and 3500 < row["expires_in"] <= 3600
    assert row["session_id"] in table and "node-2:1" in table
    # The table and the JSON say the same things.
    text = cli("status", state=state_dir).stdout
    assert "node-1" in text and "sessions  1   clients 1" in text and "tokens required" in text

    logs = cli("logs", "node-1", "--lines", "20", state=state_dir)
    assert logs.returncode == 0 and "stui.node: node serving" in logs.stdout
    raw = cli("logs", "node-1", "--raw", state=state_dir)
    assert any(line.startswith("{") and json.loads(line).get("msg") == "node serving"
               for line in raw.stdout.splitlines())
    missing = cli("logs", "node-9", state=state_dir)
    assert missing.returncode == 1 and "no node 'node-9'" in missing.stderr

    follow = subprocess.Popen(
        [sys.executable, "-m", "cluster", "--state-dir", str(state_dir), "logs", "node-2",
         "--follow", "--lines", "1", "--raw"], stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert follow.stdout is not None
        first = follow.stdout.readline()  # the last line so far: it is reading the file now
        assert first.strip()
        launcher.scale(state_dir, 1)  # node-2 drains and logs it, after the follower started
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "node stopped" not in (
            state_dir / "node-2.log").read_text():
            time.sleep(0.1)
        time.sleep(1.0)  # the follower polls every 0.25 s
    finally:
        follow.terminate()
        rest, _ = follow.communicate(timeout=10)
    followed = [json.loads(line)["msg"] for line in rest.splitlines() if line.startswith("{")]
    assert "node stopped" in followed, rest[-2000:]


@pytest.mark.skipif(not Path("/usr/sbin/haproxy").exists(), reason="HAProxy not installed")
def test_tls_end_to_end_through_haproxy_with_a_verified_certificate(state_dir: Path):
    state = launcher.up(2, state_dir=state_dir, lb_port=0, tls=True)
    assert state.haproxy_pid, "the test needs HAProxy in front"
    ca = state.ca_file
    assert ca is not None and _mode(state.tls_files.key) == 0o600
    lb = state.urls[0]
    assert lb.startswith("wss://127.0.0.1:")
    port = lb.rsplit(":", 1)[1].strip("/")
    token = tokens.issue(state.secret, "dora", ttl=300)
    for url in (lb, f"wss://localhost:{port}/"):  # the certificate names the IP and the name
        restored = trio.run(lambda url=url: _use(url, "dora", token, ca=ca))
        assert restored["client_id"] == "dora"

    async def with_ca() -> dict:
        async with open_session([lb], "dora", token=minter(state.secret, "dora"), ca=ca,
                                ping_interval=None) as client:
            return await client.evaluate("3 + 4")

    assert trio.run(with_ca)["result"] == "7"

    async def without_ca() -> BaseException:
        try:
            async with open_connection(lb, connect_timeout=5):
                pass
        except BaseException as exc:
            return exc
        raise AssertionError("a client without the CA connected")

    refused = trio.run(without_ca)
    assert isinstance(refused, ssl.SSLCertVerificationError), repr(refused)

    # The client's context checks the host name: the same CA, another name, is refused.
    context = tls_context(ca)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError, match=r"match"):
        context.wrap_socket(raw, server_hostname="other.example")
    # HAProxy verifies the nodes too, and the nodes serve wss themselves.
    config = (state_dir / "haproxy.cfg").read_text()
    assert "ssl crt" in config and "ssl verify required ca-file" in config
    direct = trio.run(lambda: _use(state.nodes[0].url, "dora", token, ca=ca))
    assert state.nodes[0].url.startswith("wss://")
    assert direct["client_id"] == "dora"
    status = json.loads(cli("status", "--json", state=state_dir).stdout)
    assert status["tls"] is True and status["ca_file"] == ca


def _node(
    logs: Path, redis_url: str, *flags: str
) -> tuple[subprocess.Popen[bytes], int, Path, int]:
    """A node process logging to ``logs``: (process, health port, log file, WebSocket port)."""
    health = free_port()
    log = logs / f"node-{health}.log"
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "nodes", "--port", "0", "--health-port", str(health),
         "--redis-url", redis_url, *flags],
        stdout=subprocess.PIPE, stderr=handle, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("STUI_")},
    )
    handle.close()
    assert process.stdout is not None
    announced = json.loads(process.stdout.readline())  # printed once the node listens
    return process, health, log, int(announced["port"])


def _health(port: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return dict(json.loads(r.read()))
        except urllib.error.HTTPError as exc:
            body = dict(json.loads(exc.read()))
            if body.get("redis") != "unreachable" or time.monotonic() > deadline:
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_redis_refuses_a_node_without_the_password(tmp_path: Path):
    admin, node_password = redis_auth.new_password(), redis_auth.new_password()
    acl = tmp_path / "users.acl"
    write_private(acl, redis_auth.admin_acl(admin) + "\n" + redis_auth.node_acl(node_password))
    server = RedisServer(acl_file=acl, password=admin, data_dir=tmp_path / "redis").start()
    password_file = tmp_path / "redis.password"
    write_private(password_file, node_password)
    base = f"redis://stui@127.0.0.1:{server.port}/0"
    procs = []
    try:
        without, port, log, _ = _node(tmp_path, f"redis://127.0.0.1:{server.port}/0")
        procs.append(without)
        body = _health(port)
        assert body["redis"] == "unauthorized" and body["status"] == "degraded"
        time.sleep(0.3)
        assert "Redis refused the node's credentials" in log.read_text()
        wrong_file = tmp_path / "wrong.password"
        write_private(wrong_file, "not-it")
        wrong, port, _, _ = _node(tmp_path, base, "--redis-password-file", str(wrong_file))
        procs.append(wrong)
        assert _health(port)["redis"] == "unauthorized"

        secret_file = tmp_path / "secret"
        write_private(secret_file, "s" * 40)
        good, port, log, node_port = _node(
            tmp_path, base, "--redis-password-file", str(password_file),
            "--secret-file", str(secret_file), "--cleanup-interval", "1",
            "--session-timeout", "3",
        )
        procs.append(good)
        assert _health(port)["status"] == "ok"
        assert node_password not in log.read_text()
        for refused in (without, wrong):  # they keep trying: stop them before counting
            refused.terminate()
            refused.wait(10)
        server.command("ACL", "LOG", "RESET")
        trio.run(_workload, f"ws://127.0.0.1:{node_port}/", "s" * 40)
        denied = server.command("ACL", "LOG")
        assert denied == "", f"Redis denied the node's user something:\n{denied}"
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        server.cleanup()


async def _workload(url: str, secret: str) -> None:
    """What nodes do with Redis: create, update, evaluate (transcript events), inspect,
    shared attach, grants and fan-out, restore with missed events, take over, list,
    statistics, close, and an expiry."""
    async with open_connection(url) as a, open_connection(url) as b:
        for conn in (a, b):
            await conn.request("authenticate", token=tokens.issue(secret, "erin", ttl=60))
        sid = (await a.request("create_session", client_id="erin"))["session_id"]
        await a.request("update_session_state", session_id=sid, state_data={"k": 1},
                        expected_version=1)
        done = await a.request("evaluate", session_id=sid,
                               code="x := 3. Transcript show: 'hi'. x")
        await a.request("inspect", session_id=sid, object_id=done["object_id"])
        # Shared sessions: presence, grants, SPUBLISH in the commit, SSUBSCRIBE by the node.
        await b.request("restore_session", session_id=sid, attach="shared")
        await a.request("share_session", session_id=sid, client_id="frank", rights="read")
        await b.request("evaluate", session_id=sid, code="x + 1")
        await a.request("list_attached", session_id=sid)
        await a.request("revoke_share", session_id=sid, client_id="frank")
        await b.request("restore_session", session_id=sid, last_seq=0,
                        attach="exclusive")  # takeover
        await b.request("get_session_info", session_id=sid)
        await b.request("list_client_sessions", client_id="erin")
        await b.request("get_session_statistics")
        await b.request("close_session", session_id=sid)
        short = (await b.request("create_session", client_id="erin"))["session_id"]
    await trio.sleep(4.5)  # heartbeats, attachments, sweeps, and the expiry of ``short``
    async with open_connection(url) as c:
        await c.request("authenticate", token=tokens.issue(secret, "erin", ttl=60))
        with pytest.raises(RequestFailed) as gone:
            await c.request("get_session_info", session_id=short)
    assert gone.value.error_type == "SessionNotFound"


def test_a_node_without_a_secret_serves_loopback_only(tmp_path: Path):
    settings = Settings.from_env({}, host="0.0.0.0")
    restricted, notes = restrict(settings)
    assert restricted.host == "127.0.0.1" and "loopback" in notes[0]
    insecure, notes = restrict(Settings.from_env({}, host="0.0.0.0", insecure=True))
    assert insecure.host == "0.0.0.0" and "WITHOUT authentication" in notes[0]
    secured, notes = restrict(Settings.from_env({}, host="0.0.0.0", secret="x" * 40))
    assert secured.host == "0.0.0.0"
    assert any("no TLS" in note for note in notes)
    _, notes = restrict(Settings.from_env({}, secret="short"))
    assert any("shorter than 32 bytes" in note for note in notes)

    server = RedisServer(data_dir=tmp_path / "redis").start()
    try:
        process, port, log, _ = _node(tmp_path, server.url, "--host", "0.0.0.0")
        try:
            assert _health(port)["status"] == "ok"
            time.sleep(0.3)
            text = log.read_text()
            assert "serving on loopback (127.0.0.1) only instead of 0.0.0.0" in text
            serving = next(json.loads(line) for line in text.splitlines()
                           if '"node serving"' in line)
            assert serving["host"] == "127.0.0.1"
            node_port = serving["port"]
            assert trio.run(_use, f"ws://127.0.0.1:{node_port}/", "frank", None)
        finally:
            process.terminate()
            process.wait(10)
    finally:
        server.cleanup()
