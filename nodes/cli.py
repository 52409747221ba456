"""``stui-node``: run one node until SIGTERM or SIGINT, then drain and exit 0."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

import trio

from cluster import logs
from cluster.settings import Settings

from .node import Node


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui-node",
        description="Run one stateless STUI Cluster node: a WebSocket server whose sessions "
        "live in Redis. Serves until SIGTERM/SIGINT, then drains (tells clients "
        "server_draining, finishes requests in flight) and exits 0. Without a secret it "
        "listens on loopback only (--insecure to override).",
        epilog="examples:\n"
        "  stui-node --port 8765 --redis-url redis://127.0.0.1:6380/0\n"
        "  stui-node --host 0.0.0.0 --secret-file /run/secrets/stui --tls-cert node.pem \\\n"
        "      --tls-key node.key --redis-url redis://stui@redis:6379/0 \\\n"
        "      --redis-password-file /run/secrets/redis --health-port 8766",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    Settings.add_arguments(p)
    p.add_argument("--redis", dest="redis_url", help="alias of --redis-url")
    return p


async def serve(settings: Settings) -> None:
    node = Node(settings)
    logs.configure(settings.log_level, node.node_id)
    async with trio.open_nursery() as nursery:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            await nursery.start(node.run)
            # Announce the bound ports on stdout (one JSON line) for launchers and tests.
            print(
                f'{{"node_id": "{node.node_id}", "port": {node.port}, '
                f'"health_port": {node.health_port}}}',
                flush=True,
            )
            async for _ in signals:
                node.drain()
                break


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_args(args)
    trio.run(serve, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
