"""The request path's connections to a store that fails over: Sentinel or Redis Cluster.

:class:`WireRouter` has the interface of :class:`cluster.wire.WirePool` (``checkout(key)``,
``checkin``, ``roundtrip``, ``recover``), and one pool per primary beneath it:

- **Sentinel**: every key lives on the primary the sentinels name. The router asks them
  (``SENTINEL GET-MASTER-ADDR-BY-NAME``) and checks the answer with ``ROLE`` (a sentinel
  still naming a demoted node must not send us there).
- **Cluster**: a key lives on the primary that serves its slot (:func:`cluster.topology.slot`);
  the slot map comes from ``CLUSTER SLOTS`` of any node that answers. A session's keys share
  one hash tag, so each session transaction checks out one connection of one primary.

The router never retries by itself what may have run: a connection error is the caller's
to judge (the store maps it to :class:`cluster.errors.StoreUnavailable`, and the node runs the
request again with the same id, whose stored response makes that safe). What it does retry is
a command a server refused to run (``MOVED``, ``READONLY``, ``CLUSTERDOWN``... see
:data:`cluster.wire.REDIRECTS`) inside :meth:`WireRouter.roundtrip`, after asking where the
primaries are now. :meth:`WireRouter.recover` (called by whoever saw a failure) asks again;
refreshes are single-flight, so a burst of failing requests costs one question.

Round trips that name keys of several primaries (the cross-session indexes next to a session's
transaction, for instance) are split by primary and sent concurrently, each group in one round
trip; a ``MULTI`` ... ``EXEC`` block (and a ``WAIT`` right after it) always stays together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from .topology import CLUSTER, SENTINEL, SLOTS, Address, Topology, slot
from .wire import (
    Command,
    Endpoint,
    ReplyError,
    Watchdog,
    WireConnection,
    WireError,
    WirePool,
    WireRedirect,
    WireStats,
    redirect_in,
)

log = logging.getLogger("stui.router")

REDIRECT_ROUNDS = 3
"""Times :meth:`WireRouter.roundtrip` re-sends commands a server refused before giving up."""

Segment = tuple[str | None, list[int]]
"""Commands that run together: their routing key and their indexes in a batch."""

_KEYLESS = frozenset({"PING", "PUBLISH", "WAIT", "WAITAOF", "INFO", "ROLE", "UNWATCH"})
_AFTER_EXEC = frozenset({"WAIT", "WAITAOF"})


@attrs.frozen
class Shard:
    """One primary, its replicas, and the slots it serves (Sentinel: all of them)."""

    primary: Address
    replicas: tuple[Address, ...] = ()
    slots: tuple[tuple[int, int], ...] = ((0, SLOTS - 1),)


@attrs.frozen
class View:
    """Where the primaries were at one refresh."""

    shards: tuple[Shard, ...]
    slot_map: tuple[Address, ...] = ()
    """Cluster: the primary of each slot (16384 entries); empty for Sentinel."""


def key_of(command: Command) -> str | None:
    """The key that decides where ``command`` runs (None: any primary will do)."""
    name = str(command[0]).upper()
    if name in _KEYLESS or len(command) < 2:
        return None
    if name in ("EVAL", "EVALSHA"):
        return str(command[3]) if len(command) > 3 and int(command[2]) > 0 else None
    return str(command[1])


def segments(commands: Sequence[Command]) -> list[Segment]:
    """``commands`` cut into what must run together: (routing key, command indexes)."""
    out: list[Segment] = []
    index = 0
    while index < len(commands):
        name = str(commands[index][0]).upper()
        if name == "MULTI":
            end = index
            while end < len(commands) and str(commands[end][0]).upper() != "EXEC":
                end += 1
            members = list(range(index, min(end, len(commands) - 1) + 1))
            key = next((k for k in (key_of(commands[i]) for i in members) if k), None)
            out.append((key, members))
            index = members[-1] + 1
        elif name in _AFTER_EXEC and out:
            out[-1][1].append(index)  # WAIT belongs to the connection that wrote
            index += 1
        else:
            out.append((key_of(commands[index]), [index]))
            index += 1
    return out


class WireRouter:
    """Pools of the current primaries, found through the sentinels or the cluster's slot map."""

    def __init__(
        self,
        topology: Topology,
        *,
        timeout: float = 5.0,
        max_connections: int = 256,
        stats: WireStats | None = None,
        watchdog: Watchdog | None = None,
    ) -> None:
        if topology.kind not in (SENTINEL, CLUSTER):
            raise ValueError("a standalone Redis needs no router: use a WirePool")
        self.topology = topology
        self.timeout = timeout
        self.max_connections = max_connections
        self.stats = stats or WireStats()
        self.watchdog = watchdog or Watchdog()
        self.view: View | None = None
        self.generation = 0
        """Bumped at every refresh that changed a primary."""
        self.changed_at = 0.0
        """``time.monotonic()`` of the last change of a primary (0: none since start)."""
        self.refreshes = 0
        self._pools: dict[Address, WirePool] = {}
        self._lock = trio.Lock()
        self._slot_cache: dict[str, int] = {}
        self._sentinel_order = list(topology.seeds)

    # -- routing ---------------------------------------------------------------------------

    def pool_at(self, address: Address) -> WirePool:
        """The pool of connections to ``address`` (made on first use)."""
        pool = self._pools.get(address)
        if pool is None or pool.closed:
            pool = WirePool(
                self._endpoint(address),
                timeout=self.timeout,
                max_connections=self.max_connections,
                stats=self.stats,
                check_redirects=True,
                watchdog=self.watchdog,
            )
            self._pools[address] = pool
        return pool

    def slot_of(self, key: str) -> int:
        found = self._slot_cache.get(key)
        if found is None:
            if len(self._slot_cache) > 100_000:
                self._slot_cache.clear()
            found = self._slot_cache[key] = slot(key)
        return found

    def primary_for(self, key: str | None) -> Address:
        """Where ``key`` lives now (as of the last refresh)."""
        view = self.view
        if view is None:
            raise WireError("the store's primaries are not known yet")
        if view.slot_map and key is not None:
            return view.slot_map[self.slot_of(key)]
        return view.shards[0].primary

    async def _known(self) -> View:
        if self.view is None:
            await self.refresh()
        assert self.view is not None
        return self.view

    async def checkout(self, key: str | None = None) -> WireConnection:
        """A connection to the primary of ``key`` (see :meth:`WirePool.checkout`)."""
        await self._known()
        return await self.pool_at(self.primary_for(key)).checkout()

    def checkin(self, connection: WireConnection) -> None:
        assert connection.pool is not None
        connection.pool.checkin(connection)

    async def roundtrip(self, commands: Sequence[Command]) -> list[Any]:
        """Run ``commands``, one round trip per primary they touch (concurrently).

        Commands a server refused to run (a redirect) are sent again, after a refresh, up to
        :data:`REDIRECT_ROUNDS` times; then :class:`WireRedirect`. A lost connection raises
        :class:`WireError` (what it had sent may have run).
        """
        await self._known()
        replies: list[Any] = [None] * len(commands)
        pending = segments(commands)
        for round_ in range(REDIRECT_ROUNDS + 1):
            groups: dict[Address, list[Segment]] = {}
            for segment in pending:
                groups.setdefault(self.primary_for(segment[0]), []).append(segment)
            refused: list[Segment] = []
            redirects: list[WireRedirect] = []
            if len(groups) == 1:
                ((address, group),) = groups.items()
                await self._send(address, group, commands, replies, refused, redirects)
            else:
                failures: list[WireError] = []
                async with trio.open_nursery() as nursery:
                    for address, group in groups.items():
                        nursery.start_soon(
                            self._send_or_note, address, group, commands, replies, refused,
                            redirects, failures,
                        )
                if failures:
                    raise failures[0]  # one error for the caller, not an exception group
            if not refused:
                return replies
            if round_ == REDIRECT_ROUNDS or not redirects:
                reason = redirects[-1].reply if redirects else "a redirect"
                raise WireRedirect(reason, replies)
            await trio.sleep(0.05 * (round_ + 1))
            await self.refresh()
            pending = sorted(refused, key=lambda segment: segment[1][0])
        return replies  # pragma: no cover - the loop returns or raises

    async def _send_or_note(
        self,
        address: Address,
        group: list[Segment],
        commands: Sequence[Command],
        replies: list[Any],
        refused: list[Segment],
        redirects: list[WireRedirect],
        failures: list[WireError],
    ) -> None:
        try:
            await self._send(address, group, commands, replies, refused, redirects)
        except WireError as exc:
            failures.append(exc)

    async def _send(
        self,
        address: Address,
        group: list[Segment],
        commands: Sequence[Command],
        replies: list[Any],
        refused: list[Segment],
        redirects: list[WireRedirect],
    ) -> None:
        """One round trip of ``group`` to ``address``; replies filled in, refused segments
        noted (the rest did run)."""
        indexes = [i for _key, members in group for i in members]
        try:
            got = await self.pool_at(address).roundtrip([commands[i] for i in indexes])
        except WireRedirect as exc:
            # (only then can a segment have been refused: the pools check every round trip)
            redirects.append(exc)
            for i, reply in zip(indexes, exc.replies, strict=True):
                replies[i] = reply
            for segment in group:
                if redirect_in([replies[i] for i in segment[1]]) is not None:
                    refused.append(segment)
            return
        for i, reply in zip(indexes, got, strict=True):
            replies[i] = reply

    # -- discovery -------------------------------------------------------------------------

    async def recover(self) -> None:
        """Something failed: ask where the primaries are (single-flight; errors logged)."""
        try:
            await self.refresh()
        except WireError as exc:
            log.info("store topology not known yet", extra={"error": str(exc)})

    async def refresh(self) -> View:
        """Find the primaries now; raises :class:`WireError` if no sentinel or node answers.

        Callers that queued behind a refresh that finished meanwhile get its answer.
        """
        seen = self.refreshes
        async with self._lock:
            if self.refreshes != seen and self.view is not None:
                return self.view
            with trio.fail_after(self.timeout * 2):
                try:
                    view = await (
                        self._ask_sentinels() if self.topology.kind == SENTINEL
                        else self._ask_cluster()
                    )
                except trio.TooSlowError:
                    raise WireError("the store's topology did not answer in time") from None
            self._apply(view)
            self.refreshes += 1
            return view

    def _apply(self, view: View) -> None:
        before = self.view
        self.view = view
        old = {s.primary for s in before.shards} if before else set()
        new = {s.primary for s in view.shards}
        if before is None or old != new or before.slot_map != view.slot_map:
            self.generation += 1
            if before is not None:
                self.changed_at = time.monotonic()
                log.warning(
                    "store primaries changed",
                    extra={"before": sorted(map(str, old)), "now": sorted(map(str, new))},
                )
        for address in list(self._pools):
            if address not in new:
                self._pools.pop(address).close()

    async def _ask_sentinels(self) -> View:
        name = self.topology.service
        errors = []
        for address in list(self._sentinel_order):
            try:
                replies = await _ask(address, [
                    ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name),
                    ("SENTINEL", "REPLICAS", name),
                ], self.timeout, self.stats)
            except WireError as exc:
                errors.append(f"{address}: {exc}")
                continue
            found, replicas = replies
            if not isinstance(found, list) or len(found) != 2:
                errors.append(f"{address}: does not know {name!r} ({found})")
                continue
            primary = Address(str(found[0]), int(found[1]))
            # The sentinel that answered goes first next time.
            self._sentinel_order.remove(address)
            self._sentinel_order.insert(0, address)
            await self._check_primary(primary)
            return View(shards=(Shard(primary=primary, replicas=_sentinel_replicas(replicas)),))
        raise WireError("no sentinel named the primary: " + "; ".join(errors))

    async def _check_primary(self, address: Address) -> None:
        pool = self.pool_at(address)
        role = (await pool.roundtrip([("ROLE",)]))[0]
        if isinstance(role, ReplyError) or not role or role[0] != "master":
            raise WireError(f"{address} is not a primary (yet)")

    async def _ask_cluster(self) -> View:
        candidates: list[Address] = []
        if self.view is not None:
            candidates += [s.primary for s in self.view.shards]
            candidates += [r for s in self.view.shards for r in s.replicas]
        candidates += [a for a in self.topology.seeds if a not in candidates]
        errors = []
        for address in candidates:
            try:
                reply = (await self.pool_at(address).roundtrip([("CLUSTER", "SLOTS")]))[0]
            except WireError as exc:
                errors.append(f"{address}: {exc}")
                continue
            finally:
                if self.view is None or address not in {s.primary for s in self.view.shards}:
                    pool = self._pools.pop(address, None)
                    if pool is not None:
                        pool.close()
            if isinstance(reply, ReplyError) or not reply:
                errors.append(f"{address}: {reply}")
                continue
            return _cluster_view(reply)
        raise WireError("no cluster node answered CLUSTER SLOTS: " + "; ".join(errors[-3:]))

    def endpoint_for(self, key: str | None) -> Endpoint:
        """The address and login of the primary that holds ``key`` (a connection of a user's
        own: the shared sessions' fan-out subscribes to each session's channel on its shard).
        Raises :class:`WireError` before the first refresh."""
        return self._endpoint(self.primary_for(key))

    def _endpoint(self, address: Address) -> Endpoint:
        """``address`` with the topology's database and login."""
        t = self.topology
        return Endpoint(host=address.host, port=address.port, db=t.db, username=t.username,
                        password=t.password)

    # -- state -----------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """For health, metrics and status: the shards as last seen."""
        view = self.view
        return {
            "topology": self.topology.kind,
            "generation": self.generation,
            "seconds_since_change": (
                round(time.monotonic() - self.changed_at, 1) if self.changed_at else None
            ),
            "shards": [
                {
                    "primary": str(shard.primary),
                    "replicas": [str(r) for r in shard.replicas],
                    "slots": [list(r) for r in shard.slots],
                }
                for shard in (view.shards if view else ())
            ],
        }

    async def aclose(self) -> None:
        for pool in list(self._pools.values()):
            await pool.aclose()
        self._pools.clear()


async def _ask(
    address: Address, commands: Sequence[Command], timeout: float, stats: WireStats
) -> list[Any]:
    """One round trip on a connection of its own (sentinels: no login, not pooled)."""
    pool = WirePool(Endpoint(host=address.host, port=address.port), timeout=timeout,
                    max_connections=1, stats=stats)
    try:
        return await pool.roundtrip(commands)
    finally:
        await pool.aclose()


def _sentinel_replicas(reply: Any) -> tuple[Address, ...]:
    """Replicas a sentinel lists that it does not consider down."""
    found = []
    for entry in reply if isinstance(reply, list) else []:
        fields = dict(zip(entry[::2], entry[1::2], strict=False))
        flags = str(fields.get("flags", ""))
        if "s_down" in flags or "o_down" in flags or "disconnected" in flags:
            continue
        try:
            found.append(Address(str(fields["ip"]), int(fields["port"])))
        except (KeyError, ValueError):
            continue
    return tuple(sorted(found, key=str))


def _cluster_view(reply: list[Any]) -> View:
    """A :class:`View` from a ``CLUSTER SLOTS`` reply."""
    by_primary: dict[Address, tuple[list[tuple[int, int]], set[Address]]] = {}
    slot_map: list[Address | None] = [None] * SLOTS
    for entry in reply:
        start, end, primary_info = int(entry[0]), int(entry[1]), entry[2]
        primary = Address(str(primary_info[0]) or "127.0.0.1", int(primary_info[1]))
        ranges, replicas = by_primary.setdefault(primary, ([], set()))
        ranges.append((start, end))
        for replica in entry[3:]:
            replicas.add(Address(str(replica[0]) or "127.0.0.1", int(replica[1])))
        for index in range(start, end + 1):
            slot_map[index] = primary
    shards = tuple(
        Shard(primary=primary, replicas=tuple(sorted(replicas, key=str)),
              slots=tuple(sorted(ranges)))
        for primary, (ranges, replicas) in sorted(by_primary.items(), key=lambda kv: str(kv[0]))
    )
    if not shards:
        raise WireError("the cluster serves no slots")
    fallback = shards[0].primary
    return View(shards=shards, slot_map=tuple(a or fallback for a in slot_map))
