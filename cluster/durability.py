"""What a commit reached before it was answered: replicas (``WAIT``), the disk (``WAITAOF``).

Redis replicates asynchronously: EXEC answers once the primary has applied the transaction,
and a replica that lagged can be promoted without it (a failover that loses acknowledged
writes). ``WAIT numreplicas timeout`` blocks the connection until that many replicas
acknowledged everything it wrote, or the timeout passed, and answers how many did; it works
inside a pipeline right after EXEC (one round trip: the commit's round trip 2). ``WAITAOF
numlocal numreplicas timeout`` (Redis 7.2 and newer) also waits for the AOF fsync.

The policy is the node's ``--min-replicas`` (0: do not wait, the default; the commit's round
trip stays as it was) and ``--wait-aof``; ``--replica-wait-ms`` bounds each wait. A commit
whose WAIT answered fewer replicas than required is *not acknowledged*: the node raises
:class:`NotReplicated` (a :class:`cluster.errors.StoreUnavailable`), so it runs the request
again with the same id, which finds the stored response and waits once more, until the
replicas confirm or ``failover_wait`` runs out. The write stays on the primary either way (a
transaction cannot be undone): such an answer is in doubt, never a success.

A replay (a request id answered before) asks again on a connection of its own: WAIT covers
only what its own connection wrote, so the replay first writes a no-op (the liveness key's
PEXPIRE) and waits for that; replication is ordered, so a replica that has it has the
original commit too.
"""

from __future__ import annotations

from typing import Any

import attrs

from .errors import StoreUnavailable
from .wire import Command, ReplyError

AOF_VERSION = (7, 2)
"""The first Redis version with ``WAITAOF``."""


@attrs.frozen
class Durability:
    """What one acknowledged write reached, as told to the client (``durability``)."""

    replicas: int = 0
    """Replicas that confirmed the write (0 when the node did not ask: ``--min-replicas 0``)."""
    aof: bool = False
    """The primary fsynced it to its AOF (only with ``--wait-aof`` on Redis 7.2 or newer)."""

    def to_wire(self) -> dict[str, Any]:
        return {"replicas": self.replicas, "aof": self.aof}


NOT_ASKED = Durability()


class NotReplicated(StoreUnavailable):
    """WAIT answered fewer replicas than ``--min-replicas`` within ``--replica-wait-ms``."""


@attrs.frozen
class DurabilityPolicy:
    """How long a commit waits for what, before its answer."""

    min_replicas: int = 0
    wait_ms: int = 100
    aof: bool = False
    """Ask for the AOF fsync too (``WAITAOF``); only where the server has it."""

    @property
    def waits(self) -> bool:
        return self.min_replicas > 0 or self.aof

    def commands(self) -> list[Command]:
        """What follows EXEC in the commit's round trip (nothing when the policy is off)."""
        if self.aof:
            return [("WAITAOF", 1, self.min_replicas, self.wait_ms)]
        if self.min_replicas > 0:
            return [("WAIT", self.min_replicas, self.wait_ms)]
        return []

    def outcome(self, reply: Any, what: str) -> Durability:
        """The durability of a write from the reply of :meth:`commands`; raises
        :class:`NotReplicated` when the policy is not met."""
        if not self.waits:
            return NOT_ASKED
        if isinstance(reply, ReplyError):
            raise NotReplicated(f"{what}: the store refused to wait for replicas ({reply})")
        if self.aof:
            local, replicas = int(reply[0]), int(reply[1])
            reached = Durability(replicas=replicas, aof=local >= 1)
        else:
            reached = Durability(replicas=int(reply))
        if reached.replicas < self.min_replicas or (self.aof and not reached.aof):
            raise NotReplicated(
                f"{what}: written on the primary, but {reached.replicas} of "
                f"{self.min_replicas} replicas confirmed it within {self.wait_ms} ms",
                details={
                    "reason": "not_replicated",
                    "replicas": reached.replicas,
                    "min_replicas": self.min_replicas,
                    "in_doubt": True,
                },
            )
        return reached


def version_tuple(text: str) -> tuple[int, ...]:
    """``"7.0.15"`` -> ``(7, 0, 15)`` (unparsable parts count as 0)."""
    parts = []
    for part in text.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def supports_waitaof(server_version: str) -> bool:
    return version_tuple(server_version) >= AOF_VERSION
