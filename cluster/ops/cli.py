"""``stui-cluster``: operate a STUI cluster on this machine.

``up`` starts an embedded Redis (unless ``--redis``), N nodes and HAProxy on loopback;
``status``, ``scale``, ``kill-node``, ``down`` act on it through its state dir; ``token``
prints a client's token; ``backup`` and ``restore`` move every session to and from a file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from .. import auth
from ..errors import StuiError
from ..settings import Settings
from ..store import connect
from . import launcher


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui-cluster",
        description="Operate a STUI cluster on loopback: up, status, scale, kill-node, down, "
        "token, backup, restore. Each command has --help.",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STUI_STATE_DIR", launcher.DEFAULT_STATE_DIR)),
        help="where the cluster's layout, logs and Redis data live (env STUI_STATE_DIR, "
        "default %(default)s)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser(
        "up",
        help="start Redis, N nodes and HAProxy",
        description="Start an embedded Redis (AOF everysec, keyspace events) "
        "unless --redis names one, N nodes and HAProxy in front of them. "
        "Without --detach it stays in the foreground and stops all on Ctrl-C.",
    )
    up.add_argument("--nodes", type=int, default=3, help="how many nodes (default %(default)s)")
    up.add_argument(
        "--port",
        type=int,
        default=8765,
        help="load balancer port (default %(default)s; 0 picks a free one)",
    )
    up.add_argument("--redis", help="use this Redis URL instead of an embedded one")
    up.add_argument(
        "--secret",
        default=os.environ.get("STUI_SECRET", ""),
        help="cluster secret for client tokens (env STUI_SECRET; default none)",
    )
    up.add_argument("--detach", action="store_true", help="return once everything is up")

    sub.add_parser(
        "status",
        help="nodes, connections, sessions and Redis",
        description="Show the cluster's nodes (health, connections), sessions, clients and Redis.",
    )
    scale = sub.add_parser(
        "scale",
        help="add nodes or drain some",
        description="Add nodes, or drain the newest ones (they finish "
        "their requests and tell clients to reconnect): no session is lost.",
    )
    scale.add_argument("nodes", type=int, metavar="N")
    kill = sub.add_parser(
        "kill-node",
        help="SIGKILL one node (chaos)",
        description="Kill one node with SIGKILL, as a crash would.",
    )
    kill.add_argument("node_id", metavar="ID")
    sub.add_parser(
        "down",
        help="stop everything 'up' started",
        description="Drain and stop the nodes, then HAProxy and the embedded Redis.",
    )

    token = sub.add_parser(
        "token",
        help="print the authentication token of a client id",
        description="Print hex HMAC-SHA256(secret, CLIENT_ID), the token a "
        "client sends with 'authenticate'.",
    )
    token.add_argument("client_id", metavar="CLIENT_ID")
    token.add_argument("--secret", help="the cluster secret (default: env STUI_SECRET)")

    for name, what in (("backup", "write"), ("restore", "read")):
        cmd = sub.add_parser(
            name,
            help=f"{what} every session, with its heap, as JSON Lines",
            description=f"{name.capitalize()} all sessions to/from FILE "
            "(verified: a damaged file is refused whole).",
        )
        cmd.add_argument("file", type=Path, metavar="FILE")
        cmd.add_argument("--redis", help="Redis URL (default: the running cluster's)")
        if name == "restore":
            cmd.add_argument(
                "--overwrite", action="store_true", help="replace sessions that already exist"
            )
    return p


def _redis_url(args: argparse.Namespace) -> str:
    if getattr(args, "redis", None):
        return str(args.redis)
    try:
        return launcher.ClusterState.load(args.state_dir.resolve()).redis_url
    except FileNotFoundError:
        return Settings.from_env().redis_url


def _progress(done: int, total: int) -> None:
    if done == total or done % 100 == 0:
        print(f"  {done}/{total} sessions", file=sys.stderr, flush=True)


async def _status(state: launcher.ClusterState) -> dict[str, Any]:
    from ..registry import live_nodes

    redis = connect(Settings.from_env({}, redis_url=state.redis_url, redis_timeout=2.0))
    async with redis:
        info = await redis.info("server")
        stats = await redis.info("memory")
        sessions = await redis.zcard("stui:expiry")
        clients = await redis.scard("stui:clients")
        nodes = await live_nodes(redis)
    return {"redis": {**info, **stats}, "sessions": sessions, "clients": clients, "nodes": nodes}


def cmd_status(args: argparse.Namespace) -> int:
    state = launcher.ClusterState.load(args.state_dir.resolve())
    try:
        data = trio.run(_status, state)
    except Exception as exc:  # status must say what it can even when Redis is down
        print(f"redis     {state.redis_url}: UNREACHABLE ({exc.__class__.__name__})")
        data = {"nodes": [], "sessions": "?", "clients": "?", "redis": {}}
    redis = data["redis"]
    if redis:
        print(
            f"redis     {state.redis_url}  v{redis.get('redis_version')}  "
            f"mem {redis.get('used_memory_human')}"
        )
    if state.haproxy_pid:
        lb = "up" if launcher.alive(state.haproxy_pid) else "DOWN"
        print(f"haproxy   ws://127.0.0.1:{state.lb_port}/  {lb}")
    registered = {n.get("node_id"): n for n in data["nodes"]}
    print(f"{'node':<10}{'address':<28}{'pid':>8}  {'health':<10}{'connections':>12}")
    for info in state.nodes:
        health = launcher.health(info) if launcher.alive(info.pid) else None
        status = "dead" if health is None else str(health.get("status"))
        conns = registered.get(info.node_id, {}).get("connections", "-")
        print(f"{info.node_id:<10}{info.url:<28}{info.pid:>8}  {status:<10}{conns:>12}")
    print(f"sessions  {data['sessions']}   clients {data['clients']}")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    state = launcher.up(
        args.nodes,
        state_dir=args.state_dir,
        lb_port=args.port,
        redis_url=args.redis,
        secret=args.secret,
    )
    print("connect to: " + " ".join(state.urls))
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except (FileNotFoundError, KeyError, RuntimeError, StuiError) as exc:
        print(f"stui-cluster {args.command}: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "token":
        secret = args.secret or os.environ.get("STUI_SECRET", "")
        if not secret:
            print(
                "stui-cluster token: no secret (pass --secret or set STUI_SECRET)", file=sys.stderr
            )
            return 2
        print(auth.token_for(secret, args.client_id))
        return 0
    if args.command == "up":
        return cmd_up(args)
    if args.command == "status":
        return cmd_status(args)
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
