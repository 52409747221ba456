"""Backup and restore of every session, with its heap, as a JSON Lines file.

The original plan's file storage with backup and recovery. A backup is a header line, one line
per session (every key of the session as stored, records still sealed) and a footer carrying the
count and a SHA-256 over the session lines. Restore verifies the footer and every record's own
digest before it writes anything, so a damaged file is refused whole, never half applied.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coredis
import orjson

from .. import keys
from ..errors import CorruptRecord
from ..integrity import unseal
from ..model import SessionMeta
from ..store import DATA_GRACE, expiry_member, parse_expiry_member

FORMAT = "stui-backup"
VERSION = 1

Progress = Callable[[int, int], None]


async def _session_record(redis: coredis.Redis[str], session_id: str) -> dict[str, Any] | None:
    k = keys.SessionKeys(session_id)
    async with redis.pipeline(transaction=True) as pipe:
        ttl = pipe.pttl(k.alive)
        meta = pipe.hgetall(k.meta)
        state = pipe.get(k.state)
        heap = pipe.hgetall(k.heap)
        workspace = pipe.hgetall(k.workspace)
        legacy_workspace = pipe.get(k.legacy_workspace)
        registry = pipe.hgetall(k.registry)
        inspectors = pipe.get(k.inspectors)
        done = pipe.hgetall(k.done)
        done_prev = pipe.hgetall(k.done_prev)
        events = pipe.xrange(k.events, "-", "+")
    ttl_ms = await ttl
    meta_fields = {str(a): str(b) for a, b in (await meta).items()}
    if ttl_ms < 0 or not meta_fields:
        return None  # expired or being removed
    return {
        "type": "session",
        "session_id": session_id,
        "ttl_ms": ttl_ms,
        "meta": meta_fields,
        "state": await state,
        "heap": {str(a): str(b) for a, b in (await heap).items()},
        "workspace": await legacy_workspace,
        "workspace_fields": {str(a): str(b) for a, b in (await workspace).items()},
        "registry": {str(a): str(b) for a, b in (await registry).items()},
        "inspectors": await inspectors,
        "done": {str(a): str(b) for a, b in (await done).items()},
        "done_prev": {str(a): str(b) for a, b in (await done_prev).items()},
        "events": [
            {"id": str(e.identifier), "fields": {str(a): str(b) for a, b in e.field_values.items()}}
            for e in await events
        ],
    }


async def backup(redis: coredis.Redis[str], path: Path, progress: Progress | None = None) -> int:
    """Write every live session to ``path``; how many were written."""
    members = [str(m) for m in await redis.zrange(keys.EXPIRY_INDEX, 0, -1)]
    digest = hashlib.sha256()
    written = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as out:
        header = {"type": "header", "format": FORMAT, "version": VERSION, "created_at": time.time()}
        out.write(orjson.dumps(header) + b"\n")
        for index, member in enumerate(members, start=1):
            session_id, _ = parse_expiry_member(member)
            record = await _session_record(redis, session_id)
            if record is not None:
                line = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
                digest.update(line)
                out.write(line + b"\n")
                written += 1
            if progress is not None:
                progress(index, len(members))
        footer = {"type": "footer", "sessions": written, "sha256": digest.hexdigest()}
        out.write(orjson.dumps(footer) + b"\n")
    tmp.replace(path)
    return written


def verify(path: Path) -> list[dict[str, Any]]:
    """Read and check a backup file; return its session records or raise CorruptRecord."""
    lines = path.read_bytes().splitlines()
    if len(lines) < 2:
        raise CorruptRecord(f"{path} is not a backup (too short)")
    header, footer = orjson.loads(lines[0]), orjson.loads(lines[-1])
    if header.get("format") != FORMAT or header.get("version", 0) > VERSION:
        raise CorruptRecord(f"{path} is not a {FORMAT} v{VERSION} file")
    digest = hashlib.sha256()
    sessions = []
    for line in lines[1:-1]:
        digest.update(line)
        sessions.append(orjson.loads(line))
    if footer.get("type") != "footer" or footer.get("sha256") != digest.hexdigest():
        raise CorruptRecord(f"{path} failed its checksum: the file is damaged or truncated")
    if footer.get("sessions") != len(sessions):
        raise CorruptRecord(f"{path} says {footer.get('sessions')} sessions, holds {len(sessions)}")
    for record in sessions:
        _verify_session(record)
    return sessions


def _verify_session(record: dict[str, Any]) -> None:
    sid = record["session_id"]
    k = keys.SessionKeys(sid)
    SessionMeta.from_fields(record["meta"], k.meta)
    if record.get("state") is not None:
        unseal(record["state"], k.state)
    for oid, raw in record["heap"].items():
        unseal(raw, keys.record_name(k.heap, oid))
    for rid, raw in record["registry"].items():
        unseal(raw, keys.record_name(k.registry, rid))
    if record.get("workspace") is not None:
        unseal(record["workspace"], k.legacy_workspace)
    for field, raw in (record.get("workspace_fields") or {}).items():
        unseal(raw, keys.record_name(k.workspace, field))
    if record.get("inspectors") is not None:
        unseal(record["inspectors"], k.inspectors)


async def restore(
    redis: coredis.Redis[str],
    path: Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Restore a verified backup; (sessions restored, sessions skipped as already present)."""
    sessions = verify(path)
    restored = skipped = 0
    for index, record in enumerate(sessions, start=1):
        sid = record["session_id"]
        k = keys.SessionKeys(sid)
        if not overwrite and await redis.exists([k.meta]):
            skipped += 1
            continue
        ttl_ms = max(int(record["ttl_ms"]), 1000)
        data_ttl = ttl_ms + int(DATA_GRACE * 1000)
        client_id = record["meta"]["client_id"]
        async with redis.pipeline(transaction=True) as pipe:
            pipe.delete(list(k.all_keys()))
            pipe.hset(k.meta, record["meta"])
            if record.get("state") is not None:
                pipe.set(k.state, record["state"])
            if record["heap"]:
                pipe.hset(k.heap, record["heap"])
            if record.get("workspace") is not None:  # the first format's string
                pipe.set(k.legacy_workspace, record["workspace"])
            if record.get("workspace_fields"):
                pipe.hset(k.workspace, record["workspace_fields"])
            if record["registry"]:
                pipe.hset(k.registry, record["registry"])
            if record.get("inspectors") is not None:
                pipe.set(k.inspectors, record["inspectors"])
            if record["done"]:
                pipe.hset(k.done, record["done"])
            if record.get("done_prev"):  # absent in backups made before done rotation
                pipe.hset(k.done_prev, record["done_prev"])
            for entry in record["events"]:
                pipe.xadd(k.events, entry["fields"], identifier=entry["id"])
            for key in k.data_keys():
                pipe.pexpire(key, data_ttl)
            pipe.set(k.alive, "restored", px=ttl_ms)
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.client_sessions(client_id), {sid: float(record["meta"]["created_at"])})
            pipe.zadd(
                keys.EXPIRY_INDEX, {expiry_member(sid, client_id): time.time() + ttl_ms / 1000}
            )
            pipe.sadd(keys.CLIENTS, [client_id])
        restored += 1
        if progress is not None:
            progress(index, len(sessions))
    return restored, skipped
