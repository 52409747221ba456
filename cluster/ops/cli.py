"""``stui-cluster``: operate a STUI cluster on this machine.

``up`` starts an embedded Redis (unless ``--redis``), N nodes and HAProxy on loopback, secure
by default (a generated secret, Redis ACL users, ``--tls`` for wss); ``status``, ``sessions``,
``logs``, ``scale``, ``kill-node``, ``down`` act on it through its state dir; ``token`` prints a
client's token; ``backup`` and ``restore`` move every session to and from a file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from .. import auth, tokens
from ..errors import StuiError
from ..redis_auth import redact
from ..settings import Settings
from ..store import connect
from . import launcher, logview, processes
from .store_status import describe_lines, store_facts

EXAMPLES = {
    "up": "stui-cluster up --nodes 3 --detach        # then: stui --url <the printed URL>\n"
    "  stui-cluster up --tls --detach              # wss://, clients use --ca <state>/tls/ca.pem\n"
    "  stui-cluster up --redis-topology sentinel --detach   # 1 primary, 2 replicas, 3 sentinels\n"
    "  stui-cluster up --redis-topology cluster --detach    # 3 primaries, 3 replicas",
    "status": "stui-cluster status\n  stui-cluster status --json | jq '.nodes[].health'",
    "sessions": "stui-cluster sessions\n  stui-cluster sessions --client alice --json",
    "logs": "stui-cluster logs node-1 --lines 50\n  stui-cluster logs node-2 --follow",
    "scale": "stui-cluster scale 5       # add two nodes to three\n"
    "  stui-cluster scale 2       # drain the newest: no session is lost",
    "kill-node": "stui-cluster kill-node node-2",
    "down": "stui-cluster down",
    "token": "stui-cluster token alice                   # a JWT for 24 h\n"
    "  stui-cluster token alice --ttl 600 --session SID\n"
    "  stui-cluster token alice --hmac            # the legacy token (never expires)",
    "backup": "stui-cluster backup sessions.jsonl",
    "restore": "stui-cluster restore sessions.jsonl --overwrite",
}


def _sub(
    sub: Any, name: str, help: str, description: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="examples:\n  " + EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui-cluster",
        description="Operate a STUI cluster on loopback: up, status, sessions, logs, scale, "
        "kill-node, down, token, backup, restore. Each command has --help.",
        epilog="examples:\n  stui-cluster up --detach && stui-cluster status\n"
        "  stui-cluster --state-dir /tmp/c2 up --nodes 2 --port 0 --detach",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STUI_STATE_DIR", launcher.DEFAULT_STATE_DIR)),
        help="where the cluster's layout, secrets, logs and Redis data live (env "
        "STUI_STATE_DIR, default %(default)s)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = _sub(
        sub, "up", "start Redis, N nodes and HAProxy",
        "Start an embedded Redis (AOF everysec, keyspace events, ACL users with generated "
        "passwords) unless --redis names one, N nodes that require tokens (the secret is "
        "generated in the state dir, mode 0600) and HAProxy in front of them. Without --detach "
        "it stays in the foreground and stops all on Ctrl-C.",
    )
    up.add_argument("--nodes", type=int, default=3, help="how many nodes (default %(default)s)")
    up.add_argument(
        "--port",
        type=int,
        default=8765,
        help="load balancer port (default %(default)s; 0 picks a free one)",
    )
    up.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes per node (default: one per core of this host, shared by the "
        "nodes)",
    )
    up.add_argument("--redis", help="use this Redis URL instead of an embedded one "
                    "(redis://, redis+sentinel://h:p,.../NAME, redis+cluster://h:p,...)")
    up.add_argument(
        "--redis-topology", choices=("standalone", "sentinel", "cluster"), default="standalone",
        help="the embedded Redis: one server, Sentinel (1 primary, 2 replicas, 3 sentinels) or "
        "Redis Cluster (3 primaries, 3 replicas); all with AOF and ACL users (default "
        "%(default)s)",
    )
    up.add_argument(
        "--secret",
        default=os.environ.get("STUI_SECRET", ""),
        help="cluster secret (env STUI_SECRET; default: the state dir's, generated once)",
    )
    up.add_argument(
        "--insecure", action="store_true",
        help="no secret: nodes accept any client id (they listen on loopback only)",
    )
    up.add_argument(
        "--tls", action="store_true",
        help="serve wss://: a local CA and certificates in <state>/tls (clients: --ca)",
    )
    up.add_argument("--detach", action="store_true", help="return once everything is up")

    status = _sub(
        sub, "status", "nodes, connections, sessions and Redis",
        "Show the cluster's Redis (its topology, the primaries and each replica's lag), load "
        "balancer, nodes (health, connections, sessions held) and session counts. --json "
        "prints the same facts as one JSON object.",
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")

    sessions = _sub(
        sub, "sessions", "list sessions: client, node, age, expiry, connections",
        "List the live sessions: client, the node that owns it (and whether that node is "
        "alive), age, time until expiry, version, and the connections attached to it on "
        "each node (published by the nodes every second).",
    )
    sessions.add_argument("--client", metavar="ID", help="only this client's sessions")
    sessions.add_argument("--json", action="store_true", help="machine-readable output")

    logs = _sub(
        sub, "logs", "show a node's log",
        "Show the log of a node (NODE: its id, as in 'status'), or of the embedded Redis "
        "('redis') or HAProxy's config ('haproxy'). Node logs are JSON lines, shown as "
        "'time level logger message fields'; --raw shows them as stored.",
    )
    logs.add_argument("node", metavar="NODE")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument(
        "--lines", "-n", type=int, default=100, help="last lines to show (default %(default)s)"
    )
    logs.add_argument("--raw", action="store_true", help="print lines as stored")

    scale = _sub(
        sub, "scale", "add nodes or drain some",
        "Add nodes, or drain the newest ones (they finish their requests and tell clients to "
        "reconnect): no session is lost.",
    )
    scale.add_argument("nodes", type=int, metavar="N")
    kill = _sub(
        sub, "kill-node", "SIGKILL one node (chaos)",
        "Kill one node with SIGKILL, as a crash would.",
    )
    kill.add_argument("node_id", metavar="ID")
    _sub(
        sub, "down", "stop everything 'up' started",
        "Drain and stop the nodes, then HAProxy and the embedded Redis. The secret and the "
        "Redis data stay in the state dir for the next 'up'.",
    )

    token = _sub(
        sub, "token", "print a client's token",
        "Print a token for CLIENT_ID: a JWT (HS256: sub = CLIENT_ID, exp, optional sessions) "
        "signed with the cluster secret (--secret, env STUI_SECRET, or the state dir's), or "
        "with --hmac the legacy hex HMAC-SHA256(secret, CLIENT_ID), which never expires.",
    )
    token.add_argument("client_id", metavar="CLIENT_ID")
    token.add_argument("--secret", help="the cluster secret (default: env STUI_SECRET, state dir)")
    token.add_argument(
        "--ttl", type=float, default=tokens.DEFAULT_TTL,
        help="seconds the token is valid (default %(default)g)",
    )
    token.add_argument(
        "--session", action="append", metavar="SID", dest="sessions",
        help="limit the token to this session (repeatable; such a token creates none)",
    )
    token.add_argument("--hmac", action="store_true", help="the legacy HMAC token instead")

    for name, what in (("backup", "write"), ("restore", "read")):
        cmd = _sub(
            sub, name, f"{what} every session, with its heap, as JSON Lines",
            f"{name.capitalize()} all sessions to/from FILE (verified: a damaged file is "
            "refused whole).",
        )
        cmd.add_argument("file", type=Path, metavar="FILE")
        cmd.add_argument("--redis", help="Redis URL (default: the running cluster's)")
        if name == "restore":
            cmd.add_argument(
                "--overwrite", action="store_true", help="replace sessions that already exist"
            )
    return p


def _state(args: argparse.Namespace) -> launcher.ClusterState:
    return launcher.ClusterState.load(args.state_dir.resolve())


def _redis_url(args: argparse.Namespace) -> str:
    if getattr(args, "redis", None):
        return str(args.redis)
    try:
        return _state(args).admin_redis_url
    except FileNotFoundError:
        return Settings.from_env().redis_url


def _find_secret(args: argparse.Namespace) -> str:
    if args.secret:
        return str(args.secret)
    if os.environ.get("STUI_SECRET"):
        return os.environ["STUI_SECRET"]
    path = args.state_dir / "secret"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def _progress(done: int, total: int) -> None:
    if done == total or done % 100 == 0:
        print(f"  {done}/{total} sessions", file=sys.stderr, flush=True)


async def _with_redis(url: str, work: Callable[[Any], Any]) -> Any:
    redis = connect(Settings.from_env({}, redis_url=url, redis_timeout=2.0))
    async with redis:
        return await work(redis)


# -- status ------------------------------------------------------------------------------------


async def _status_facts(redis: Any) -> dict[str, Any]:
    from .. import keys
    from ..registry import attached_sessions, live_nodes

    info = await redis.info("server")
    memory = await redis.info("memory")
    sessions = await redis.zcard(keys.EXPIRY_INDEX)
    clients = await redis.scard(keys.CLIENTS)
    nodes = await live_nodes(redis)
    held = await attached_sessions(redis, [str(n.get("node_id")) for n in nodes])
    return {
        "version": info.get("redis_version"),
        "used_memory": memory.get("used_memory"),
        "used_memory_human": memory.get("used_memory_human"),
        "sessions": sessions,
        "clients": clients,
        "registered": {str(n.get("node_id")): n for n in nodes},
        "held": held,
    }


def _worker_of(name: str, node_id: str) -> bool:
    """Whether ``name`` is one of ``node_id``'s workers (they run as ``<id>-w<k>``:
    :mod:`nodes.workers`)."""
    return name.startswith(f"{node_id}-w")


def _registered_entry(registered: dict[str, Any], node_id: str) -> dict[str, Any]:
    """A node's registry entry; a node with workers registers as ``<id>-w<k>``: their
    connections add up."""
    if node_id in registered:
        return dict(registered[node_id])
    workers = [e for k, e in registered.items() if _worker_of(k, node_id)]
    if not workers:
        return {}
    return {
        "connections": sum(int(e.get("connections", 0)) for e in workers),
        "draining": "1" if all(e.get("draining") == "1" for e in workers) else "0",
        "workers": len(workers),
    }


def _held_count(held: dict[str, Any], node_id: str) -> int | None:
    """Sessions held by a node's connections (summed over its workers, if any)."""
    mine = [v for k, v in held.items() if k == node_id or _worker_of(k, node_id)]
    return sum(len(v) for v in mine) if mine else None


def status_report(state: launcher.ClusterState) -> dict[str, Any]:
    """Every fact ``status`` shows, as one JSON-able object (the table is made from it)."""
    try:
        facts: dict[str, Any] | None = trio.run(_with_redis, state.admin_redis_url, _status_facts)
        error = None
    except Exception as exc:  # status must say what it can even when Redis is down
        facts, error = None, exc.__class__.__name__
    try:
        store: dict[str, Any] = trio.run(store_facts, state.admin_redis_url)
    except Exception as exc:
        store = {"topology": state.redis_topology, "error": repr(exc), "shards": []}
    registered = (facts or {}).get("registered", {})
    held = (facts or {}).get("held", {})
    nodes = []
    for info in state.nodes:
        running = processes.alive(info.pid)
        health = launcher.health(info) if running else None
        entry = _registered_entry(registered, info.node_id)
        nodes.append({
            "node_id": info.node_id,
            "url": info.url,
            "pid": info.pid,
            "alive": running,
            "health": "dead" if health is None else str(health.get("status")),
            "redis": None if health is None else health.get("redis"),
            "connections": int(entry["connections"]) if "connections" in entry else None,
            "sessions_held": _held_count(held, info.node_id),
            "draining": entry.get("draining") == "1",
            "workers": int(entry.get("workers", 1)),
        })  # fmt: skip
    return {
        "state_dir": state.state_dir,
        "auth": "token" if state.secret_file else "none",
        "tls": state.tls,
        "ca_file": state.ca_file,
        "urls": state.urls,
        "store": store,
        "redis": {
            "url": redact(state.redis_url),
            "reachable": facts is not None,
            "error": error,
            "embedded": bool(state.redis_pid),
            "pid": state.redis_pid or None,
            "version": (facts or {}).get("version"),
            "used_memory": (facts or {}).get("used_memory"),
            "used_memory_human": (facts or {}).get("used_memory_human"),
        },
        "haproxy": {
            "url": state.urls[0] if state.haproxy_pid else None,
            "pid": state.haproxy_pid or None,
            "alive": processes.alive(state.haproxy_pid) if state.haproxy_pid else False,
        },
        "nodes": nodes,
        "sessions": (facts or {}).get("sessions"),
        "clients": (facts or {}).get("clients"),
    }


def cmd_status(args: argparse.Namespace) -> int:
    report = status_report(_state(args))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    redis = report["redis"]
    if redis["reachable"]:
        print(f"redis     {redis['url']}  v{redis['version']}  mem {redis['used_memory_human']}")
    else:
        print(f"redis     {redis['url']}: UNREACHABLE ({redis['error']})")
    for line in describe_lines(report["store"]):
        print(line)
    print(f"auth      {'tokens required' if report['auth'] == 'token' else 'NONE (insecure)'}"
          f"{'   tls: ca ' + str(report['ca_file']) if report['tls'] else ''}")
    lb = report["haproxy"]
    if lb["pid"]:
        print(f"haproxy   {lb['url']}  {'up' if lb['alive'] else 'DOWN'}")
    print(f"{'node':<10}{'address':<28}{'pid':>8}  {'health':<10}{'connections':>12}"
          f"{'sessions':>10}")
    for node in report["nodes"]:
        conns = "-" if node["connections"] is None else node["connections"]
        held = "-" if node["sessions_held"] is None else node["sessions_held"]
        print(f"{node['node_id']:<10}{node['url']:<28}{node['pid']:>8}  {node['health']:<10}"
              f"{conns:>12}{held:>10}")
    sessions = "?" if report["sessions"] is None else report["sessions"]
    clients = "?" if report["clients"] is None else report["clients"]
    print(f"sessions  {sessions}   clients {clients}")
    return 0


# -- sessions ----------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def cmd_sessions(args: argparse.Namespace) -> int:
    from .. import inventory

    rows = trio.run(_with_redis, _redis_url(args), lambda r: inventory.sessions(r, args.client))
    now = time.time()
    if args.json:
        print(json.dumps([row.as_json(now) for row in rows], indent=2))
        return 0
    print(f"{'session':<34}{'client':<20}{'node':<12}{'age':>7}{'expires':>9}{'ver':>6}"
          f"{'conns':>7}")
    for row in rows:
        owner = (row.owner or "-") + ("" if row.owner_alive or not row.owner else " (dead)")
        where = ",".join(f"{n}:{c}" for n, c in sorted(row.attached.items()))
        print(f"{row.session_id:<34}{row.client_id[:19]:<20}{owner[:11]:<12}"
              f"{_duration(now - row.created_at):>7}{_duration(row.expires_in):>9}"
              f"{row.version:>6}{row.connections:>7}" + (f"  {where}" if where else "")
              + ("  DAMAGED meta" if row.damaged else ""))
    print(f"{len(rows)} sessions")
    return 0


# -- the rest ----------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    state = launcher.up(
        args.nodes,
        state_dir=args.state_dir,
        lb_port=args.port,
        redis_url=args.redis,
        secret=args.secret,
        insecure=args.insecure,
        tls=args.tls,
        workers=args.workers,
        redis_topology=args.redis_topology,
    )
    print("connect to: " + " ".join(state.urls))
    client = f"stui --state-dir {state.state_dir} --url {state.urls[0]}"
    print(f"terminal client: {client}" + (f" --ca {state.ca_file}" if state.ca_file else ""))
    if args.detach:
        print(f"stop with: stui-cluster --state-dir {args.state_dir} down")
        return 0
    print("running; Ctrl-C stops everything", flush=True)
    stop = {"now": False}

    def request_stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stop["now"]:
        time.sleep(0.2)
    launcher.down(args.state_dir)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    secret = _find_secret(args)
    if not secret:
        print(
            "stui-cluster token: no secret (pass --secret, set STUI_SECRET, or run 'up' "
            "with this --state-dir)",
            file=sys.stderr,
        )
        return 2
    if args.hmac:
        print(auth.token_for(secret, args.client_id))
        return 0
    try:
        print(tokens.issue(secret, args.client_id, ttl=args.ttl, sessions=args.sessions))
    except ValueError as exc:
        print(f"stui-cluster token: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, KeyError, RuntimeError, StuiError) as exc:
        print(f"stui-cluster {args.command}: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "token":
        return cmd_token(args)
    if args.command == "up":
        return cmd_up(args)
    if args.command == "status":
        return cmd_status(args)
    if args.command == "sessions":
        return cmd_sessions(args)
    if args.command == "logs":
        return logview.show(_state(args), args.node, lines=args.lines, follow=args.follow,
                            raw=args.raw)
    if args.command == "scale":
        state = launcher.scale(args.state_dir, args.nodes)
        print(f"{len(state.nodes)} nodes")
        return 0
    if args.command == "kill-node":
        info = launcher.kill_node(args.state_dir, args.node_id)
        print(f"killed {info.node_id} (pid {info.pid})")
        return 0
    if args.command == "down":
        launcher.down(args.state_dir)
        return 0
    if args.command in ("backup", "restore"):
        return trio.run(_backup_or_restore, args)
    return 2  # pragma: no cover - argparse enforces the choices


async def _backup_or_restore(args: argparse.Namespace) -> int:
    from . import backup

    redis = connect(Settings.from_env({}, redis_url=_redis_url(args)))
    async with redis:
        if args.command == "backup":
            count = await backup.backup(redis, args.file, _progress)
            print(f"backed up {count} sessions to {args.file}")
        else:
            restored, skipped = await backup.restore(
                redis, args.file, overwrite=args.overwrite, progress=_progress
            )
            print(f"restored {restored} sessions from {args.file} ({skipped} already present)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
