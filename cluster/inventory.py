"""What an operator sees of the sessions: who owns each, where it is held, when it expires.

A read-only view for ``stui-cluster sessions`` (and ``status``): the session index (every
session, or one client's), each session's ``meta`` and the TTL of its ``alive`` key, and the
sessions each live node's connections hold (``cluster/registry.py``). Keys come from
``cluster/keys.py`` only; nothing here writes.
"""

from __future__ import annotations

import time
from typing import Any

import attrs
import coredis

from . import keys
from .errors import CorruptRecord
from .model import SessionMeta
from .registry import attached_sessions, live_nodes
from .store import parse_expiry_member

BATCH = 500


@attrs.frozen
class SessionRow:
    """One session as ``stui-cluster sessions`` shows it (times in epoch seconds)."""

    session_id: str
    client_id: str
    created_at: float
    last_modified: float
    timeout: int
    expires_in: float  # seconds until the session expires (sliding)
    version: int
    owner: str  # the node that last took ownership (a hint: it may have died since)
    owner_alive: bool
    attached: dict[str, int]  # node id -> connections holding the session there
    damaged: bool = False

    @property
    def connections(self) -> int:
        return sum(self.attached.values())

    def as_json(self, now: float | None = None) -> dict[str, Any]:
        now = now or time.time()
        return {
            **attrs.asdict(self),
            "age": round(now - self.created_at, 3) if self.created_at else None,
            "connections": self.connections,
        }


async def session_ids(redis: coredis.Redis[str], client_id: str | None) -> list[str]:
    """Every indexed session id (oldest first per client), or one client's."""
    if client_id is not None:
        return [str(s) for s in await redis.zrange(keys.client_sessions(client_id), 0, -1)]
    members = await redis.zrange(keys.EXPIRY_INDEX, 0, -1)
    return list(dict.fromkeys(parse_expiry_member(str(m))[0] for m in members))


async def sessions(redis: coredis.Redis[str], client_id: str | None = None) -> list[SessionRow]:
    """The live sessions (``alive`` not expired), oldest first."""
    ids = await session_ids(redis, client_id)
    nodes = await live_nodes(redis)
    alive_nodes = [str(n.get("node_id")) for n in nodes]
    held = await attached_sessions(redis, alive_nodes)
    rows: list[SessionRow] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        async with redis.pipeline(transaction=False) as pipe:
            reads = [
                (pipe.hgetall(keys.SessionKeys(sid).meta), pipe.pttl(keys.SessionKeys(sid).alive))
                for sid in chunk
            ]
        for sid, (meta_req, ttl_req) in zip(chunk, reads, strict=True):
            ttl = await ttl_req
            fields = {str(k): str(v) for k, v in (await meta_req).items()}
            if ttl < 0 or not fields:
                continue
            rows.append(_row(sid, fields, ttl, alive_nodes, held))
    rows.sort(key=lambda row: row.created_at)
    if client_id is not None:
        rows = [row for row in rows if row.client_id == client_id]
    return rows


def _row(
    sid: str,
    fields: dict[str, str],
    ttl_ms: int,
    alive_nodes: list[str],
    held: dict[str, dict[str, int]],
) -> SessionRow:
    attached = {node: counts[sid] for node, counts in held.items() if counts.get(sid)}
    try:
        meta = SessionMeta.from_fields(fields, keys.SessionKeys(sid).meta)
    except CorruptRecord:
        return SessionRow(
            sid, fields.get("client_id", "?"), 0.0, 0.0, 0, ttl_ms / 1000, 0,
            fields.get("owner", ""), fields.get("owner", "") in alive_nodes, attached, True,
        )  # fmt: skip
    return SessionRow(
        session_id=sid,
        client_id=meta.client_id,
        created_at=meta.created_at,
        last_modified=meta.last_modified,
        timeout=meta.timeout,
        expires_in=ttl_ms / 1000,
        version=meta.version,
        owner=meta.owner,
        owner_alive=meta.owner in alive_nodes,
        attached=attached,
    )
