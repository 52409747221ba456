"""The operator's tools: `stui-cluster up/status/scale/kill-node/down`, backup and restore, and
the compose file wired like the launcher.

Rules: everything on loopback with free ports, a temporary state dir per test, every process
the test started is stopped by `down` in a finally block.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import trio
import yaml
from conftest import cluster_cli

from client.connection import open_connection
from cluster import redis_auth, tokens
from cluster.ops import launcher, processes
from cluster.ops.embedded_redis import RedisServer

ROOT = Path(__file__).resolve().parent.parent


async def _login(conn, client_id: str, secret: str) -> None:
    if secret:
        await conn.request("authenticate", token=tokens.issue(secret, client_id, ttl=300))


async def _work(url: str, count: int, secret: str) -> list[str]:
    async with open_connection(url) as conn:
        ids = []
        for i in range(count):
            await _login(conn, f"ops-{i}", secret)
            sid = (await conn.request("create_session", client_id=f"ops-{i}"))["session_id"]
            await conn.request("update_session_state", session_id=sid, state_data={"i": i})
            await conn.request("evaluate", session_id=sid, code=f"v := {i} * 10")
            ids.append(sid)
        return ids


async def _read(url: str, sid: str, client_id: str, secret: str) -> tuple[object, str]:
    async with open_connection(url) as conn:
        await _login(conn, client_id, secret)
        restored = await conn.request("restore_session", session_id=sid)
        value = await conn.request("evaluate", session_id=sid, code="v")
        return restored["session_state"], value["result"]


def test_up_status_scale_kill_down(state_dir: Path):
    up = cluster_cli("up", "--nodes", "2", "--port", "0", "--detach", state=state_dir)
    assert up.returncode == 0, up.stderr
    state = launcher.ClusterState.load(state_dir)
    assert len(state.nodes) == 2
    url = state.urls[0]
    ids = trio.run(_work, url, 3, state.secret)

    status = cluster_cli("status", state=state_dir)
    assert status.returncode == 0, status.stderr
    assert "node-1" in status.stdout and "node-2" in status.stdout
    assert "sessions  3" in status.stdout

    scaled = cluster_cli("scale", "3", state=state_dir)
    assert scaled.returncode == 0, scaled.stderr
    assert len((launcher.ClusterState.load(state_dir)).nodes) == 3

    killed = cluster_cli("kill-node", "node-1", state=state_dir)
    assert killed.returncode == 0 and "killed node-1" in killed.stdout
    # Through the balancer (or the surviving nodes), the sessions are intact.
    survivors = [n.url for n in launcher.ClusterState.load(state_dir).nodes[1:]]
    for index, sid in enumerate(ids):
        read = trio.run(_read, survivors[0], sid, f"ops-{index}", state.secret)
        assert read == ({"i": index}, str(index * 10))

    down = cluster_cli("down", state=state_dir)
    assert down.returncode == 0, down.stderr
    assert not (state_dir / "cluster.json").exists()
    for info in state.nodes:
        assert not processes.alive(info.pid)


def test_a_node_with_workers_counts_as_one_and_dies_as_one(state_dir: Path):
    """``up --workers 2``: each node is a supervisor and two worker processes on one port;
    status adds up its workers' connections; kill-node takes the whole node down (its
    workers too: a crash, not a drain); sessions continue on the other node."""
    up = cluster_cli(
        "up", "--nodes", "2", "--workers", "2", "--port", "0", "--detach", state=state_dir
    )
    assert up.returncode == 0, up.stderr
    state = launcher.ClusterState.load(state_dir)
    assert state.workers == 2
    ids = trio.run(_work, state.nodes[0].url, 2, state.secret)
    report = orjson.loads(cluster_cli("status", "--json", state=state_dir).stdout)
    node_1 = next(n for n in report["nodes"] if n["node_id"] == "node-1")
    assert node_1["workers"] == 2 and node_1["health"] == "ok"
    group = state.nodes[0].pid
    members = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True)
    assert len(members.stdout.split()) == 3  # the supervisor and its two workers
    killed = cluster_cli("kill-node", "node-1", state=state_dir)
    assert killed.returncode == 0, killed.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # every process of the node's group dies
        left = subprocess.run(["ps", "-o", "stat=", "-g", str(group)], capture_output=True,
                              text=True).stdout.split()
        if all(stat.startswith("Z") for stat in left):
            break
        time.sleep(0.05)
    assert all(stat.startswith("Z") for stat in left), left
    for index, sid in enumerate(ids):
        read = trio.run(_read, state.nodes[1].url, sid, f"ops-{index}", state.secret)
        assert read == ({"i": index}, str(index * 10))


def test_scale_down_drains_without_losing_sessions(state_dir: Path):
    state = launcher.up(3, state_dir=state_dir)
    ids = trio.run(_work, state.nodes[2].url, 2, state.secret)
    state = launcher.scale(state_dir, 1)
    assert len(state.nodes) == 1
    for index, sid in enumerate(ids):
        read = trio.run(_read, state.nodes[0].url, sid, f"ops-{index}", state.secret)
        assert read == ({"i": index}, str(index * 10))


def test_backup_and_restore_round_trip_and_refuse_damage(state_dir: Path, tmp_path: Path):
    state = launcher.up(1, state_dir=state_dir)
    url = state.nodes[0].url
    ids = trio.run(_work, url, 3, state.secret)
    backup_file = tmp_path / "sessions.jsonl"
    made = cluster_cli("backup", str(backup_file), state=state_dir)
    assert made.returncode == 0, made.stderr
    assert "backed up 3 sessions" in made.stdout

    launcher.redis_server(launcher.ClusterState.load(state_dir)).command("FLUSHALL")
    restored = cluster_cli("restore", str(backup_file), state=state_dir)
    assert restored.returncode == 0, restored.stderr
    assert "restored 3 sessions" in restored.stdout
    for index, sid in enumerate(ids):
        read = trio.run(_read, url, sid, f"ops-{index}", state.secret)
        assert read == ({"i": index}, str(index * 10))

    # One changed character inside a sealed record: the file is refused whole, by the
    # footer's checksum, and (with the footer recomputed) by the record's own digest.
    lines = backup_file.read_bytes().splitlines()
    session = orjson.loads(lines[1])
    assert '"i":' in session["state"]
    session["state"] = re.sub(r'"i":(\d)', '"i":9\\1', session["state"])
    lines[1] = orjson.dumps(session, option=orjson.OPT_SORT_KEYS)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"\n".join(lines) + b"\n")
    refused = cluster_cli("restore", str(damaged), "--overwrite", state=state_dir)
    assert refused.returncode == 1
    assert "checksum" in refused.stderr

    footer = orjson.loads(lines[-1])
    footer["sha256"] = hashlib.sha256(b"".join(lines[1:-1])).hexdigest()
    lines[-1] = orjson.dumps(footer)
    damaged.write_bytes(b"\n".join(lines) + b"\n")
    refused = cluster_cli("restore", str(damaged), "--overwrite", state=state_dir)
    assert refused.returncode == 1
    assert "integrity" in refused.stderr


def test_every_command_has_help():
    commands = [
        ["-m", "cluster", *args, "--help"]
        for args in ([], ["up"], ["status"], ["sessions"], ["logs"], ["scale"], ["kill-node"],
                     ["down"], ["token"], ["backup"], ["restore"])
    ]
    modules = ["nodes", "cluster.ops.demo", "cluster.ops.chaos", "cluster.ops.fuzz", "client.tui"]
    commands += [["-m", module, "--help"] for module in modules]
    # All at once: each is a Python start-up, mostly waiting on imports.
    running = [
        subprocess.Popen([sys.executable, *command], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=ROOT)
        for command in commands
    ]
    shown = {}
    for command, process in zip(commands, running, strict=True):
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0 and "usage:" in out, (command, err)
        assert "examples:" in out, command
        shown[command[1]] = out
        if command[1] == "cluster":
            assert "stui-cluster " in out, command
    assert "--redis-url" in shown["nodes"] and "STUI_REDIS_URL" in shown["nodes"]


def test_compose_is_wired_like_the_launcher():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "node", "haproxy", "redis-exporter", "prometheus",
                             "grafana", "redis-replica-1", "redis-replica-2", "sentinel-1",
                             "sentinel-2", "sentinel-3"}
    for monitoring in ("redis-exporter", "prometheus", "grafana"):
        assert services[monitoring]["profiles"] == ["monitoring"]
    for sentinel_part in ("redis-replica-1", "redis-replica-2", "sentinel-1", "sentinel-2",
                          "sentinel-3"):
        assert services[sentinel_part]["profiles"] == ["sentinel"]
    redis_cmd = " ".join(services["redis"]["command"].split())
    assert "--appendonly yes" in redis_cmd and "--appendfsync everysec" in redis_cmd
    assert "--notify-keyspace-events Ex" in redis_cmd
    assert "--requirepass ${STUI_REDIS_ADMIN_PASSWORD:?" in redis_cmd
    # The nodes' Redis user is exactly the launcher's (cluster/redis_auth.py).
    placeholder = "${STUI_REDIS_PASSWORD:?set STUI_REDIS_PASSWORD}"
    assert "--" + redis_auth.node_acl(placeholder) in redis_cmd
    assert services["redis"]["healthcheck"]["test"][-1] == "ping"
    assert "REDISCLI_AUTH" in services["redis"]["environment"]
    # The Sentinel profile: replicas configured like the primary (AOF, keyspace events, the
    # same users), logging in to it as the admin user; sentinels watching it, quorum 2.
    for replica in ("redis-replica-1", "redis-replica-2"):
        replica_cmd = " ".join(services[replica]["command"].split())
        assert "--replicaof redis 6379 --masteruser default" in replica_cmd
        assert "--masterauth ${STUI_REDIS_ADMIN_PASSWORD:?" in replica_cmd
        assert "--notify-keyspace-events Ex" in replica_cmd and "--appendonly yes" in replica_cmd
        assert "--" + redis_auth.node_acl(placeholder) in replica_cmd
    script = services["sentinel-1"]["command"][0].replace("$$", "$").split("&&")
    conf = Path(f"/tmp/stui-compose-sentinel-{os.getpid()}.conf")
    subprocess.run(["sh", "-c", script[0].replace("/tmp/sentinel.conf", str(conf))],
                   env={**os.environ, "STUI_REDIS_ADMIN_PASSWORD": "pw"}, check=True)
    written = conf.read_text().splitlines()
    conf.unlink()
    assert "sentinel monitor stui redis 6379 2" in written
    assert "sentinel down-after-milliseconds stui 2000" in written
    assert "sentinel auth-pass stui pw" in written and "port 26379" in written
    assert "redis-server /tmp/sentinel.conf --sentinel" in script[1]
    node = services["node"]
    assert node["environment"]["STUI_REDIS_URL"] == "${STUI_REDIS_URL:-redis://stui@redis:6379/0}"
    assert "STUI_SECRET" not in node["environment"]  # a file, from the compose secret
    command = node["command"]
    assert command[command.index("--secret-file") + 1] == "/run/secrets/stui_secret"
    assert command[command.index("--redis-password-file") + 1] == "/run/secrets/redis_password"
    assert set(node["secrets"]) == {"stui_secret", "redis_password"}
    assert compose["secrets"]["stui_secret"] == {"environment": "STUI_SECRET"}
    assert node["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "--health-port" in command and "8766" in command
    assert "8766/healthz" in " ".join(node["healthcheck"]["test"])
    assert node["stop_signal"] == "SIGTERM"
    haproxy_cfg = (ROOT / "deploy" / "haproxy.cfg").read_text()
    launcher_cfg = launcher.HAPROXY_TEMPLATE
    for directive in (
        "balance leastconn",
        "option redispatch",
        "retries 2",
        "timeout tunnel 1h",
        "option httpchk GET /healthz",
        "inter 1s fastinter 250ms fall 2 rise 2 on-marked-down shutdown-sessions",
    ):
        assert directive in haproxy_cfg and directive in launcher_cfg, directive
    assert "check port 8766" in haproxy_cfg
    assert any("haproxy.cfg" in volume for volume in services["haproxy"]["volumes"])
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["stui-nodes"]["dns_sd_configs"][0]["port"] == 8766
    assert jobs["redis"]["static_configs"][0]["targets"] == ["redis-exporter:9121"]


async def test_the_dashboard_plots_what_nodes_export(start_node):
    """Every ``stui_*`` series a dashboard panel queries is one a real node exports (a
    renamed metric would otherwise leave an empty panel), and the panels cover the issue's
    list: request rate, latency percentiles, sessions, connections, conflicts, takeovers and
    Redis health."""
    import urllib.request

    node = await start_node(health_port=0)
    async with open_connection(f"ws://127.0.0.1:{node.port}/") as conn:
        await conn.request("ping")  # labelled series appear once observed
    url = f"http://127.0.0.1:{node.health_port}/metrics"
    text = await trio.to_thread.run_sync(lambda: urllib.request.urlopen(url).read().decode())
    exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines()
                if line and not line.startswith("#")}
    dashboard = orjson.loads((ROOT / "deploy/grafana/dashboards/stui.json").read_bytes())
    datasource = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yaml").read_text())
    uid = datasource["datasources"][0]["uid"]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert all(p["datasource"]["uid"] == uid for p in dashboard["panels"])
    used = set(re.findall(r"\b(stui_[a-z_]+)", " ".join(exprs)))
    assert used and used <= exported, used - exported
    for wanted in ("stui_requests_total", "stui_request_seconds_bucket", "stui_connections",
                   "stui_conflicts_total", "stui_handoffs_total"):
        assert wanted in used, wanted
    assert "histogram_quantile(0.99" in " ".join(exprs)
    assert any("redis_up" in e for e in exprs) and any('key="stui:expiry"' in e for e in exprs)


def test_embedded_redis_is_never_6379_and_has_keyspace_events():
    server = RedisServer().start()
    try:
        assert server.port != 6379
        flags = server.command("CONFIG", "GET", "notify-keyspace-events").split()[-1]
        assert "E" in flags and "x" in flags
    finally:
        server.stop()
