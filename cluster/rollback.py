"""Rollback detection: a failover that lost acknowledged commits, seen two ways.

Redis replicates asynchronously, so a replica that lagged can be promoted without commits its
primary had acknowledged. Comparing versions alone misses that: measured here, a session's
stored version went from 120 back to 100, and re-committing brought it to 120 again with other
contents. Two checks catch it:

1. **Per session** (:class:`AckedVersions`): every commit writes a random ``commit_id`` with its
   new ``version`` (:class:`cluster.model.SessionMeta`). The node remembers the last pair it
   acknowledged per session (the client library remembers its own). A stored version *below*
   the acknowledged one means the session was rolled back; the *same* version with another id
   means it was rolled back and written again (diverged). Either way the node tells the
   connections holding the session (``session_rolled_back``, with both versions) and its next
   commit skips past the acknowledged version, so a version number is never given to two
   different contents by this node.
2. **Per shard** (:class:`ReplicationWatch`): the node polls ``INFO replication`` of every
   primary (its ``master_replid`` and ``master_repl_offset``). After a failover the new primary
   reports the old history as ``master_replid2`` and where it took over as
   ``second_repl_offset``; when that is below the last offset seen on the old primary, writes
   were lost (how many bytes of replication stream, at least: the poll may have missed the
   last writes). The node then checks every session held by its connections on that shard.

Neither check can name writes nobody remembers (a session that no connected client or node
acknowledged since): those are reported by the shard check only.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from .router import Shard, WireRouter
from .wire import ReplyError, WireError, parse_info

log = logging.getLogger("stui.rollback")

POLL_INTERVAL = 0.5
"""Seconds between two ``INFO replication`` polls of every primary."""


@attrs.frozen
class Acked:
    version: int
    commit_id: str


@attrs.frozen
class Rollback:
    """A session found older (or other) than what was acknowledged."""

    session_id: str
    acknowledged_version: int
    acknowledged_commit_id: str
    stored_version: int
    stored_commit_id: str

    @property
    def kind(self) -> str:
        """``rolled_back`` (stored version lower) or ``diverged`` (same version, other id)."""
        return "rolled_back" if self.stored_version < self.acknowledged_version else "diverged"

    def to_wire(self) -> dict[str, Any]:
        """The ``session_rolled_back`` event's data."""
        return {
            "session_id": self.session_id,
            "kind": self.kind,
            "acknowledged_version": self.acknowledged_version,
            "acknowledged_commit_id": self.acknowledged_commit_id,
            "stored_version": self.stored_version,
            "stored_commit_id": self.stored_commit_id,
        }


def compare(session_id: str, acked: Acked | None, version: int, commit_id: str) -> Rollback | None:
    """The rollback ``(version, commit_id)`` stored shows against ``acked``, if any."""
    if acked is None:
        return None
    if version < acked.version or (
        version == acked.version and acked.commit_id and commit_id != acked.commit_id
    ):
        return Rollback(session_id, acked.version, acked.commit_id, version, commit_id)
    return None


class AckedVersions:
    """The last (version, commit id) acknowledged per session, newest ``limit`` sessions."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._acked: OrderedDict[str, Acked] = OrderedDict()
        self.detected = 0
        """Rollbacks reported since start (for metrics; counted by whoever proves them)."""

    def __len__(self) -> int:
        return len(self._acked)

    def get(self, session_id: str) -> Acked | None:
        return self._acked.get(session_id)

    def remember(self, session_id: str, version: int, commit_id: str) -> None:
        """``version`` (with ``commit_id``) was acknowledged: remember it if it is the newest."""
        known = self._acked.get(session_id)
        if known is not None and known.version >= version:
            return  # never replace a pair by an equal version: that is what a check compares
        self._acked[session_id] = Acked(version, commit_id)
        self._acked.move_to_end(session_id)
        while len(self._acked) > self.limit:
            self._acked.popitem(last=False)

    def check(self, session_id: str, version: int, commit_id: str) -> Rollback | None:
        """The rollback that the stored ``(version, commit_id)`` shows, if any."""
        return compare(session_id, self._acked.get(session_id), version, commit_id)

    def sessions(self) -> list[str]:
        return list(self._acked)


@attrs.frozen
class ShardLoss:
    """A failover whose new primary took over below the last offset seen on the old one."""

    slots: tuple[tuple[int, int], ...]
    old_primary: str
    new_primary: str
    lost_bytes: int
    """At least this much replication stream was lost (the last poll may have missed more)."""
    at: float = attrs.field(factory=time.time)

    def to_wire(self) -> dict[str, Any]:
        return {
            "slots": [list(r) for r in self.slots],
            "old_primary": self.old_primary,
            "new_primary": self.new_primary,
            "lost_bytes": self.lost_bytes,
            "at": self.at,
        }


@attrs.define
class _Seen:
    primary: str
    replid: str
    offset: int
    replicas: list[dict[str, Any]] = attrs.field(factory=list)


def replicas_of(info: dict[str, str]) -> list[dict[str, Any]]:
    """The ``slaveN`` lines of ``INFO replication``: address, state, offset, lag."""
    found = []
    for key, value in info.items():
        if key.startswith("slave") and key[5:].isdigit():
            fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
            found.append({
                "address": f"{fields.get('ip', '?')}:{fields.get('port', '?')}",
                "state": fields.get("state", "?"),
                "offset": int(fields.get("offset", 0) or 0),
                "lag": int(fields.get("lag", 0) or 0),
            })
    return found


class ReplicationWatch:
    """Polls ``INFO replication`` of every primary the router knows; reports losses."""

    def __init__(self, router: WireRouter, interval: float = POLL_INTERVAL) -> None:
        self.router = router
        self.interval = interval
        self._seen: dict[tuple[tuple[int, int], ...], _Seen] = {}
        self.losses: list[ShardLoss] = []

    async def poll_once(self) -> list[ShardLoss]:
        """One look at every primary; the losses found by this look."""
        view = self.router.view
        if view is None:
            return []
        found: list[ShardLoss] = []
        for shard in view.shards:
            loss = await self._look(shard)
            if loss is not None:
                found.append(loss)
        self.losses.extend(found)
        del self.losses[:-20]
        return found

    async def _look(self, shard: Shard) -> ShardLoss | None:
        try:
            with trio.fail_after(self.router.timeout):
                reply = (await self.router.pool_at(shard.primary).roundtrip(
                    [("INFO", "replication")]
                ))[0]
        except (WireError, trio.TooSlowError):
            return None
        if isinstance(reply, ReplyError):
            return None
        info = parse_info(str(reply))
        if info.get("role") != "master":
            return None
        replid = info.get("master_replid", "")
        offset = int(info.get("master_repl_offset", "0") or 0)
        seen = self._seen.get(shard.slots)
        now = _Seen(primary=str(shard.primary), replid=replid, offset=offset,
                    replicas=replicas_of(info))
        self._seen[shard.slots] = now
        if seen is None or seen.replid == replid:
            return None
        # Another history: a failover (or a restart). Where did the new primary take over?
        if info.get("master_replid2") != seen.replid:
            log.warning(
                "a primary's replication history changed without a trace of the old one "
                "(a restart, or a failover between two polls): rollbacks are found per session",
                extra={"primary": str(shard.primary)},
            )
            return None
        took_over_at = int(info.get("second_repl_offset", "0") or 0) - 1
        if took_over_at >= seen.offset:
            return None
        loss = ShardLoss(
            slots=shard.slots, old_primary=seen.primary, new_primary=str(shard.primary),
            lost_bytes=seen.offset - took_over_at,
        )
        log.error("a failover lost acknowledged writes", extra=loss.to_wire())
        return loss

    def describe(self) -> list[dict[str, Any]]:
        """Per shard: the primary, its offset, and each replica's state, offset and lag."""
        out = []
        for slots, seen in sorted(self._seen.items()):
            out.append({
                "slots": [list(r) for r in slots],
                "primary": seen.primary,
                "offset": seen.offset,
                "replicas": [
                    {**r, "behind_bytes": max(0, seen.offset - int(r["offset"]))}
                    for r in seen.replicas
                ],
            })
        return out

    async def run(
        self,
        on_change: Callable[[list[ShardLoss]], Awaitable[None]],
    ) -> None:
        """Poll forever (cancel to stop); ``on_change`` after every poll that saw a loss or a
        change of primaries (the node then checks the sessions it holds)."""
        generation = self.router.generation
        while True:
            await trio.sleep(self.interval)
            # Ask where the primaries are at every poll, not only after a failure: a forced
            # Sentinel failover leaves the old primary up and writable (measured: for ~10 s,
            # until the sentinels convert it), so nothing fails to tell us it happened.
            await self.router.recover()
            losses = await self.poll_once()
            if losses or self.router.generation != generation:
                generation = self.router.generation
                await on_change(losses)
