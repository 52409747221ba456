"""A connection's token lifetime: warn the client before its JWT expires, then close.

A JWT carries ``exp``; a connection authenticated with one must not outlive it. When the
connection authenticates, :meth:`TokenWatch.watch` runs one small task in the connection's
nursery that sleeps until shortly before the expiry, sends ``token_expiring`` (the client may
``authenticate`` again with a fresh token on the same connection, which restarts the watch),
then at the expiry sends ``token_expired`` and closes the connection with code 4003. Every
command also checks the expiry itself (:func:`cluster.tokens.check_scope`), so a late wake-up of
this task never lets an expired token through.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

from cluster.tokens import Grant

from .protocol import event, iso

if TYPE_CHECKING:
    from .connection import Connection

WARNING_LEAD = 60.0
"""At most this many seconds before the expiry, the client is told ``token_expiring``."""
CLOSE_CODE = 4003


class TokenWatch:
    """The expiry task of one connection (at most one at a time)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._nursery: trio.Nursery | None = None
        self._scope: trio.CancelScope | None = None
        self._stopped = False

    def attach(self, nursery: trio.Nursery) -> None:
        """The connection's nursery, where the task runs (so it ends with the connection)."""
        self._nursery = nursery

    def watch(self, grant: Grant) -> None:
        """(Re)start the watch for ``grant``'s expiry (the connection just authenticated)."""
        self.cancel()
        if grant.expires_at is None or self._nursery is None or self._stopped:
            return
        self._scope = trio.CancelScope()
        self._nursery.start_soon(self._run, self._scope, grant.expires_at)

    def cancel(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
            self._scope = None

    def stop(self) -> None:
        """The connection is ending: cancel the watch and start no other."""
        self._stopped = True
        self.cancel()

    async def _run(self, scope: trio.CancelScope, expires_at: float) -> None:
        with scope:
            left = expires_at - time.time()
            lead = min(WARNING_LEAD, max(0.0, left) / 4)
            await trio.sleep(max(0.0, left - lead))
            self.connection.send_nowait(
                event(
                    "token_expiring",
                    {"expires_at": iso(expires_at), "seconds_left": round(lead, 3)},
                )
            )
            await trio.sleep(max(0.0, expires_at - time.time()))
            self.connection.send_nowait(
                event("token_expired", {"expires_at": iso(expires_at), "close_code": CLOSE_CODE})
            )
            await trio.sleep(0.05)  # let the writer flush the notice before the close frame
            await self.connection.close(CLOSE_CODE, "token expired")
