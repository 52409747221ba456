"""``stui-node``: run one node until SIGTERM or SIGINT, then drain and exit 0.

``--workers N`` (N > 1, or ``auto``: one per usable CPU) runs a supervisor instead, which
starts N node processes on the same port and keeps them running (:mod:`nodes.workers`).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
from collections.abc import Sequence
from functools import partial

import trio

from cluster import logs
from cluster.settings import Settings

from .gc_tuning import tune_gc
from .node import Node
from .workers import WorkerStartFailed, drain_on_signals, supervise, worker_count


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui-node",
        description="Run one stateless STUI Cluster node: a WebSocket server whose sessions "
        "live in Redis. Serves until SIGTERM/SIGINT, then drains (tells clients "
        "server_draining, finishes requests in flight) and exits 0. Without a secret it "
        "listens on loopback only (--insecure to override). Prints one JSON line on stdout "
        "once it listens: node_id, port, health_port (and, with --workers, pid and one entry "
        "per worker).",
        epilog="examples:\n"
        "  stui-node --port 8765 --redis-url redis://127.0.0.1:6380/0\n"
        "  stui-node --workers 2 --port 8765 --health-port 8766 --redis-url redis://127.0.0.1:6380/0\n"
        "  stui-node --host 0.0.0.0 --secret-file /run/secrets/stui --tls-cert node.pem \\\n"
        "      --tls-key node.key --redis-url redis://stui@redis:6379/0 \\\n"
        "      --redis-password-file /run/secrets/redis --health-port 8766",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    Settings.add_arguments(p)
    p.add_argument("--redis", dest="redis_url", help="alias of --redis-url")
    p.add_argument(
        "--workers",
        metavar="N",
        default=None,
        help="node processes sharing the port (SO_REUSEPORT), under a supervisor that restarts "
        "a dead one and drains them all on SIGTERM; 'auto': one per usable CPU. The workers' "
        "ids are <node-id>-w<k>; --health-port serves /healthz and /metrics for all of them "
        "(env STUI_WORKERS, default 1: this process is the node)",
    )
    p.add_argument(
        "--supervised",
        action="store_true",
        help="internal, set by the supervisor on its workers: drain when stdin closes (the "
        "supervisor is gone)",
    )
    return p


async def serve(settings: Settings, *, supervised: bool = False) -> None:
    """Run one node until a signal (or, supervised, the end of stdin); then it drains.

    The signal receiver stays open until the node has stopped, so a second SIGTERM/SIGINT
    during the drain changes nothing instead of killing the process halfway.
    """
    node = Node(settings)
    logs.configure(settings.log_level, node.node_id)
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as watchers:
            watchers.start_soon(drain_on_signals, signals, node.drain)
            if supervised:
                watchers.start_soon(_drain_when_stdin_closes, node)
            async with trio.open_nursery() as serving:
                await serving.start(node.run)
                # What start-up built (modules, grammar, settings, the Redis client) lives as
                # long as the process: out of the collector's sight, full collections stay
                # short. Later objects are frozen by the node itself, every few seconds.
                gc.collect()
                gc.freeze()
                # Announce the bound ports on stdout (one JSON line) for launchers and tests.
                announcement = {
                    "node_id": node.node_id,
                    "port": node.port,
                    "health_port": node.health_port,
                }
                print(json.dumps(announcement), flush=True)
            watchers.cancel_scope.cancel()


async def _drain_when_stdin_closes(node: Node) -> None:
    """A worker's stdin is its supervisor's pipe: end of file means the supervisor died."""
    stream = trio.lowlevel.FdStream(os.dup(sys.stdin.fileno()))
    async with stream:
        while await stream.receive_some(4096):
            pass
    node.drain()


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    settings = Settings.from_args(args)
    tune_gc()
    try:
        workers = worker_count(args.workers or os.environ.get("STUI_WORKERS"))
    except ValueError as exc:
        p.error(str(exc))
    if workers > 1:
        try:
            return trio.run(supervise, settings, workers)
        except (WorkerStartFailed, OSError, BaseExceptionGroup) as error:
            # A worker that cannot start, or a port we cannot have: say so, exit 1.
            leaves = _leaves(error)
            if not all(isinstance(leaf, (WorkerStartFailed, OSError)) for leaf in leaves):
                raise
            for leaf in leaves:
                print(f"stui-node: {leaf}", file=sys.stderr)
            return 1
    trio.run(partial(serve, settings, supervised=args.supervised))
    return 0


def _leaves(group: BaseException) -> list[BaseException]:
    if isinstance(group, BaseExceptionGroup):
        return [leaf for exc in group.exceptions for leaf in _leaves(exc)]
    return [group]


if __name__ == "__main__":
    sys.exit(main())
