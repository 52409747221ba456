"""Requests that meet a store failure wait and run again, within a bound.

A failover (Sentinel promoting a replica, a Redis Cluster shard doing the same), a restart,
or a primary that cannot get its replicas to confirm a write: the store raises
:class:`cluster.errors.StoreUnavailable`, and what was sent may or may not have run. Running
the request again with the *same request id* is safe, because every state-changing request
stores its response under its id inside its own transaction, and round trip 1 looks it up:
a commit that happened is answered from storage (``replayed``), one that did not runs once.

So the dispatcher wraps every handler in :func:`through_failover`: on the first failure the
connection gets a ``store_failing_over`` event (the client shows it instead of an error),
then the request runs again with jittered back-off (50 ms doubling to 500 ms), the router
asking where the primaries are before each try, until it succeeds or ``failover_wait``
seconds passed; then the answer is ``Unavailable`` with ``details.reason``
``store_failing_over`` (or ``not_replicated``), and ``details.in_doubt``: a commit may have
happened, the same request id will tell.

The first try costs nothing extra: no cancel scope, no clock read.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from cluster.errors import StoreUnavailable

from .protocol import event

if TYPE_CHECKING:
    from .dispatch import Call

T = TypeVar("T")

FIRST_PAUSE = 0.05
LONGEST_PAUSE = 0.5


async def through_failover(call: Call, run: Callable[[], Awaitable[T]]) -> T:
    """``run()``; while it raises StoreUnavailable, again (see the module docstring)."""
    try:
        return await run()
    except StoreUnavailable as exc:
        first = exc
    service = call.service
    bound = service.settings.failover_wait
    if bound <= 0:
        raise first
    started = trio.current_time()
    deadline = started + bound
    service.metrics.store_failures.inc()
    call.peer.send_nowait(
        event(
            "store_failing_over",
            {"request_id": call.request.id, "command": call.request.command,
             "error": first.message, "wait": bound},
        )
    )
    pause, last = FIRST_PAUSE, first
    while True:
        remaining = deadline - trio.current_time()
        if remaining <= 0:
            break
        await trio.sleep(min(remaining, random.uniform(pause / 2, pause)))
        pause = min(LONGEST_PAUSE, pause * 2)
        await service.store.recover()
        service.metrics.store_retries.inc()
        try:
            return await run()
        except StoreUnavailable as exc:
            last = exc
    details: dict[str, Any] = {"reason": "store_failing_over", **(last.details or {})}
    details.update(waited=round(trio.current_time() - started, 3), in_doubt=True)
    raise StoreUnavailable(
        f"the session store did not recover within {bound:g} s ({last.message}); the same "
        "request id may be sent again",
        details=details,
    ) from last
