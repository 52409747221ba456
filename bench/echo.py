"""The WebSocket floor: a minimal trio-websocket server that sends every message back.

Run as ``python -m bench.echo --port 0``: prints ``{"port": N}`` on stdout once it listens, then
echoes until SIGTERM or SIGINT. No JSON decoding, no dispatch, no Redis: what is left is the cost
of trio-websocket (wsproto framing, Trio streams) that every node request pays as well.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from functools import partial

import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket


async def echo(request: WebSocketRequest) -> None:
    """Echo until the peer closes; nothing escapes (it would end the server)."""
    try:
        ws = await request.accept()
        while True:
            await ws.send_message(await ws.get_message())
    except ConnectionClosed:
        pass
    except Exception as exc:
        print(f"echo: connection failed: {exc!r}", file=sys.stderr, flush=True)


async def serve(host: str, port: int) -> None:
    async with trio.open_nursery() as nursery:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            server = await nursery.start(
                partial(serve_websocket, echo, host, port, None, connect_timeout=10)
            )
            print(json.dumps({"port": server.port}), flush=True)
            async for _ in signals:
                nursery.cancel_scope.cancel()
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.echo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    trio.run(serve, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
