"""What ``stui-cluster status`` says about the store: topology, primaries, replication lag.

Asked the way a node asks (:mod:`cluster.router`, :mod:`cluster.rollback`): the sentinels or
the cluster's slot map name the primaries, and each primary's ``INFO replication`` lists its
replicas with their offsets; a replica's lag is how many bytes of the primary's replication
stream it has not confirmed yet (and the seconds since its last acknowledgement).
"""

from __future__ import annotations

from typing import Any

import trio

from ..rollback import ReplicationWatch, replicas_of
from ..router import WireRouter
from ..settings import Settings
from ..topology import STANDALONE, Topology
from ..wire import WireError, WirePool, parse_info


async def store_facts(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """The store's topology and, per primary, its slots and replicas (lag in bytes)."""
    topology = Topology.from_url(url)
    settings = Settings.from_env({}, redis_url=url, redis_timeout=timeout)
    if topology.kind == STANDALONE:
        from ..clients import wire_for

        pool = wire_for(url, settings)
        assert isinstance(pool, WirePool)
        try:
            with trio.fail_after(timeout):
                reply = (await pool.roundtrip([("INFO", "replication")]))[0]
        finally:
            await pool.aclose()
        info = parse_info(str(reply))
        offset = int(info.get("master_repl_offset", "0") or 0)
        return {
            "topology": STANDALONE,
            "shards": [{
                "primary": str(topology.seeds[0]),
                "slots": [[0, 16383]],
                "offset": offset,
                "replicas": [
                    {**r, "behind_bytes": max(0, offset - int(r["offset"]))}
                    for r in replicas_of(info)
                ],
            }],
        }
    router = WireRouter(topology, timeout=timeout)
    try:
        try:
            await router.refresh()
        except WireError as exc:
            return {"topology": topology.kind, "error": str(exc), "shards": []}
        watch = ReplicationWatch(router)
        await watch.poll_once()
        described = router.describe()
        by_primary = {entry["primary"]: entry for entry in watch.describe()}
        for shard in described["shards"]:
            seen = by_primary.get(shard["primary"], {})
            shard["offset"] = seen.get("offset")
            shard["replicas"] = seen.get("replicas", [])
        return {"topology": topology.kind, "shards": described["shards"]}
    finally:
        await router.aclose()


def describe_lines(store: dict[str, Any]) -> list[str]:
    """``status``'s lines about the store."""
    shards = store.get("shards") or []
    if store.get("error"):
        return [f"store     {store['topology']}: UNREACHABLE ({store['error']})"]
    count = f"{len(shards)} primar{'y' if len(shards) == 1 else 'ies'}"
    lines = [f"store     {store['topology']}, {count}"]
    for shard in shards:
        slots = ",".join(f"{a}-{b}" for a, b in shard.get("slots", []))
        lines.append(f"  primary {shard['primary']:<21} slots {slots}")
        for replica in shard.get("replicas", []):
            lines.append(
                f"    replica {replica['address']:<19} {replica['state']:<8} "
                f"{replica['behind_bytes']:>10,} B behind, last ack {replica['lag']} s ago"
            )
        if not shard.get("replicas"):
            lines.append("    (no replica)")
    return lines
