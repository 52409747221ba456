"""Command name -> handler, and what each handler may assume.

A handler is ``async def handler(call: Call) -> dict`` returning the ``result`` object of a
success response, or raising a :class:`cluster.errors.StuiError`. The dispatcher checks, before
the handler runs, that the command exists and that the connection is authenticated when the
cluster has a secret and the command needs it; a handler that meets a store failure runs again
(:mod:`nodes.failover`), so every handler must be safe to run twice with the same request id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from cluster.errors import InvalidRequest
from cluster.tokens import Grant, check_scope, refuse

from .failover import through_failover
from .ownership import Peer
from .protocol import Request

if TYPE_CHECKING:
    from .service import SessionService


class Client(Peer, Protocol):
    """The connection as handlers see it."""

    @property
    def grant(self) -> Grant | None:
        """What the connection's token allows (expiry, sessions); None before authenticate."""

    def identify(self, client_id: str) -> None:
        """The client id this connection acts for (counted once as a connect)."""

    def authenticate(self, grant: Grant) -> None:
        """Bind the connection to ``grant.client_id``: it only ever sees that client's
        sessions, and only those the token allows."""


@attrs.frozen
class Call:
    """One request being handled: the session service, the connection it came on (as the
    session layer sees it), and the request. Handlers need nothing else."""

    service: SessionService
    peer: Client
    request: Request

    @property
    def params(self) -> dict[str, Any]:
        return self.request.parameters


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@attrs.frozen
class Command:
    name: str
    handler: Handler
    needs_auth: bool


class Dispatcher:
    """The table of commands a node answers."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def command(self, name: str, *, needs_auth: bool = True) -> Callable[[Handler], Handler]:
        """Decorator registering ``handler`` for ``name``."""

        def register(handler: Handler) -> Handler:
            self._commands[name] = Command(name, handler, needs_auth)
            return handler

        return register

    @property
    def names(self) -> list[str]:
        return sorted(self._commands)

    def knows(self, name: str) -> bool:
        return name in self._commands

    async def dispatch(self, call: Call) -> dict[str, Any]:
        command = self._commands.get(call.request.command)
        if command is None:
            shown = call.request.command[:64]
            raise InvalidRequest(f"unknown command {shown!r}", details={"commands": self.names})
        if command.needs_auth and call.service.settings.secret and not call.peer.client_id:
            raise refuse("missing", "authenticate first: this cluster requires a token")
        if command.needs_auth:
            check_scope(call.peer.grant, command.name, call.params)
        # A store failure (failover, restart) runs the request again with the same id, within
        # --failover-wait (nodes/failover.py); the stored responses make that safe.
        return await through_failover(call, partial(command.handler, call))


commands = Dispatcher()
"""The node's command table; handler modules register themselves on import."""
