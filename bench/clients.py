"""Simulated clients: one WebSocket connection each, through the project's own client.

The floors and the node are driven by the same code (``client/connection.py``: orjson frames,
a reader task matching responses by request id), so the client's own cost is the same on both
sides of a ratio.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import orjson

from client.connection import Connection, open_connection

CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0


@asynccontextmanager
async def open_clients(url: str, count: int) -> AsyncIterator[list[Connection]]:
    """``count`` open connections to ``url``, closed on exit (within a bounded time).

    Once they are open, the garbage collector's tracked objects are frozen: a full collection
    over hundreds of connections would otherwise pause the load generator in the middle of a
    window (``notes/websocket-on-trio.md``, idle connections), and that pause would be charged
    to the server under test.
    """
    async with AsyncExitStack() as stack:
        connections: list[Connection] = []
        # Each connect is bounded by its own timeout: a cancel scope around the loop would
        # interleave with the connections' nurseries that the stack keeps open.
        for _ in range(count):
            connection = open_connection(
                url, connect_timeout=CONNECT_TIMEOUT, disconnect_timeout=CLOSE_TIMEOUT
            )
            connections.append(await stack.enter_async_context(connection))
        gc.collect()
        gc.freeze()
        try:
            yield connections
        finally:
            gc.unfreeze()
    gc.collect()


def padded_parameters(target_bytes: int, command: str, sample_id: str) -> dict[str, str]:
    """Parameters that make a request frame of about ``target_bytes`` bytes of JSON."""
    frame = {"id": sample_id, "command": command, "parameters": {"text": ""}}
    pad = max(0, target_bytes - len(orjson.dumps(frame)))
    return {"text": "x" * pad}
