"""The node's Redis subscriptions: takeover notices and expired-key events.

Two fast paths, both hints: a takeover notice (published by the taking node inside its
takeover commit, see :mod:`nodes.service`) lets the previous owner close its stale
connection at once (fencing by epoch is what makes a late write safe, not this message); an
``expired`` event for a session's ``alive`` key lets the node tell a still-connected client
``session_expired`` and clean up without waiting for the sweeper. Messages sent while we are
disconnected from Redis are lost, which is why neither is relied on for correctness.

We loop on ``get_message`` (coredis's ``async for`` over a subscription can end silently) and
cap the re-subscribe back-off at 0.5 s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import orjson
import trio
from coredis.exceptions import ConnectionError as RedisConnectionError
from coredis.exceptions import RedisError, ResponseError
from coredis.retry import ExponentialBackoffRetryPolicy

from cluster import keys
from cluster.errors import StuiError

if TYPE_CHECKING:
    from .node import Node

log = logging.getLogger("stui.control")

_ALIVE = re.compile(r"^" + re.escape(keys.PREFIX) + r":\{([^}]+)\}:alive$")


async def enable_keyspace_events(node: Node) -> bool:
    """Turn on ``Ex`` keyspace events where we may; say clearly when we may not."""
    if node.expired_events is not None:
        return True  # a Redis Cluster: each primary's subscription checks its own server
    redis = node.redis
    try:
        current = await redis.config_get(["notify-keyspace-events"])
        flags = str(current.get("notify-keyspace-events", ""))
        if "E" in flags and ("x" in flags or "A" in flags):
            return True
        wanted = "".join(sorted(set(flags) | {"E", "x"}))
        await redis.config_set({"notify-keyspace-events": wanted})
        return True
    except (ResponseError, RedisError, OSError) as exc:
        log.warning(
            "keyspace events unavailable (CONFIG refused, as on managed Redis): expiry "
            "cleanup relies on the sweeper alone",
            extra={"error": repr(exc)},
        )
        return False


async def listen(
    node: Node, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
) -> None:
    """Subscribe and dispatch forever (cancel to stop); reconnects by itself."""
    db = node.redis.connection_pool.connection_kwargs.get("db", 0) or 0
    expired_channel = f"__keyevent@{db}__:expired"
    started = False

    def ready() -> None:
        nonlocal started
        if not started:
            started = True
            task_status.started()

    while True:
        try:
            await _subscribe(node, expired_channel, ready)
        except* _LOST as group:
            # coredis may also raise ClosedResourceError when cancelled mid-teardown; a
            # Cancelled in the same group is re-raised by except*, so shutdown stays clean.
            if not node.draining:
                log.warning(
                    "control subscription lost; resubscribing", extra={"error": repr(group)}
                )
        ready()  # start the node even without a subscription: these are hints only
        await trio.sleep(0.5)


_LOST = (RedisError, OSError, TimeoutError, anyio.ClosedResourceError, anyio.BrokenResourceError)


async def _subscribe(node: Node, expired_channel: str, ready: Callable[[], None]) -> None:
    channels = [keys.node_channel(node.node_id)]
    if node.expired_events is None:
        # One server announces every expiry; on a Redis Cluster each primary announces its
        # own, and cluster/keyspace.py (node.expired_events) listens to every one of them.
        channels.append(expired_channel)
    pubsub = node.redis.pubsub(
        channels=channels,
        ignore_subscribe_messages=True,
        retry_policy=ExponentialBackoffRetryPolicy(
            (RedisConnectionError,), retries=None, base_delay=0.05, max_delay=0.5
        ),
    )
    async with pubsub:
        ready()
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            channel = str(message.get("channel"))
            data = message.get("data")
            if channel == expired_channel:
                await on_expired_key(node, str(data))
                continue
            try:
                await _on_control(node, data)
            except StuiError as exc:
                # A hint we could not act on (Redis hiccup during cleanup): the sweeper
                # and the epoch checks cover it. Never let it stop the subscription.
                log.info("control message not handled", extra={"error": repr(exc)})


async def on_expired_key(node: Node, key: str) -> None:
    """An ``expired`` keyspace event: a session's ``alive`` key means the session expired."""
    match = _ALIVE.match(key)
    if not match:
        return
    try:
        await node.service.on_session_expired(match.group(1))
    except StuiError as exc:
        log.info("expired-key event not handled", extra={"error": repr(exc)})


async def _on_control(node: Node, data: object) -> None:
    try:
        notice = orjson.loads(str(data))
        if not isinstance(notice, dict):
            raise TypeError("a control message must be a JSON object")
        if notice.get("type") == "taken_over":
            node.service.on_taken_over(str(notice["session_id"]), int(notice["epoch"]))
        elif notice.get("type") == "interrupt":
            node.service.interrupt_local(str(notice["session_id"]))
        elif notice.get("type") == "shared":  # issue 11: listen to the session's channel
            node.service.on_shared(str(notice["session_id"]))
        elif notice.get("type") == "closed":  # its owner closed it on another node
            node.service.let_go(str(notice["session_id"]), "session_closed")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        log.warning("ignored a malformed control message", extra={"data": str(data)[:200]})
