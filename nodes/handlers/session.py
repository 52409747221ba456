"""The seven upstream session commands, ``ping`` and ``authenticate``.

Field names are the upstream protocol's, exactly (``../shared/spec/protocol.md``); fields we add
(``version``, ``node_id``...) are extensions. Every session command answers another client's
session exactly as a missing one (``SessionNotFound``).
"""

from __future__ import annotations

import time
from typing import Any

from cluster import tokens, validation
from cluster.errors import PermissionDenied
from cluster.model import SessionMeta
from cluster.registry import live_nodes
from cluster.store import WorkspaceSnapshot, seconds_until

from ..dispatch import Call, commands
from ..inspector import Inspectors
from ..ownership import fenced, take_over
from ..protocol import REPLAYED, iso


def _caller(call: Call) -> str | None:
    """The authenticated client id of the connection, if any."""
    return call.connection.client_id


def _session_fields(meta: SessionMeta) -> dict[str, Any]:
    return {
        "session_id": meta.session_id,
        "client_id": meta.client_id,
        "created_at": iso(meta.created_at),
        "last_modified": iso(meta.last_modified),
        "timeout": meta.timeout,
        "is_active": True,
        "version": meta.version,
    }


@commands.command("ping", needs_auth=False)
async def ping(call: Call) -> dict[str, Any]:
    return {"pong": True, "node_id": call.node.node_id, "server_time": time.time()}


@commands.command("authenticate", needs_auth=False)
async def authenticate(call: Call) -> dict[str, Any]:
    """Bind the connection to a client id; with a secret, the token must be valid
    (:func:`cluster.tokens.authenticate`: a JWT, or the legacy HMAC token)."""
    settings = call.node.settings
    grant = tokens.authenticate(
        call.params, secret=settings.secret, allow_hmac=settings.allow_hmac_tokens
    )
    validation.check_access(
        grant.client_id, allow=settings.allow_clients, deny=settings.deny_clients
    )
    call.connection.token_watch.authenticated(grant)
    result: dict[str, Any] = {
        "authenticated": True,
        "client_id": grant.client_id,
        "auth_required": bool(settings.secret),
    }
    if grant.expires_at is not None:
        result["expires_at"] = iso(grant.expires_at)
    if grant.sessions is not None:
        result["sessions"] = sorted(grant.sessions)
    return result


@commands.command("create_session")
async def create_session(call: Call) -> dict[str, Any]:
    client_id = validation.client_id(call.params)
    settings = call.node.settings
    validation.check_access(client_id, allow=settings.allow_clients, deny=settings.deny_clients)
    caller = _caller(call)
    if caller is not None and caller != client_id:
        raise PermissionDenied("a connection may only create sessions for its own client id")
    meta, replayed = await call.node.store.create(client_id, call.request.id)
    call.connection.identify(client_id)
    if replayed:
        await take_over(call, meta.session_id)
    else:
        call.connection.hold(meta.session_id, meta.epoch)
    fields = _session_fields(meta)
    del fields["last_modified"]
    if replayed:
        fields[REPLAYED] = True
    return fields


@commands.command("restore_session")
async def restore_session(call: Call) -> dict[str, Any]:
    """Resume a session here: take ownership, then answer everything the client needs."""
    session_id = validation.session_id(call.params)
    last_seq = validation.sequence_number(call.params, "last_seq")
    node = call.node
    # A connection that already holds the session re-reads it without a new takeover; if it
    # was taken over meanwhile, its next write fails the epoch check and closes it.
    resumed = session_id not in call.connection.sessions
    if resumed:
        await take_over(call, session_id)
    snapshot = await node.store.load_workspace(session_id, _caller(call), with_heap=False)
    cached = node.images.get(session_id)
    if cached is not None and cached.version != snapshot.meta.version:
        node.images.drop(session_id)
    call.connection.identify(snapshot.meta.client_id)
    if resumed:
        node.spawn(node.registry.count, "reconnects", snapshot.meta.client_id)
    result = _session_fields(snapshot.meta)
    result.update(
        {
            "session_state": snapshot.state.state_data,
            **_workspace_fields(snapshot),
            "time_until_expiry": seconds_until(snapshot.ttl_ms),
            "last_seq": snapshot.meta.event_seq,
        }
    )
    if last_seq is not None:
        missed, truncated = await node.store.events_since(session_id, last_seq)
        result["missed_events"] = missed
        result["missed_events_truncated"] = truncated
    return result


def _workspace_fields(snapshot: WorkspaceSnapshot) -> dict[str, Any]:
    """``workspace_context``, ``inspector_state`` and ``object_registry`` of a restore.

    Read from the stored workspace record (binding summaries are written with every
    evaluation), so a restore does not load the session's heap.
    """
    record = snapshot.workspace or {}
    summaries: dict[str, dict[str, Any]] = record.get("bindings") or {}
    context: dict[str, Any] = {
        "variables": sorted(summaries),
        "bindings": {
            name: {k: v for k, v in summary.items() if k != "value"}
            for name, summary in summaries.items()
        },
        "history": record.get("history") or [],
    }
    if snapshot.damaged:
        context["damaged"] = snapshot.damaged
    return {
        "workspace_context": context,
        "inspector_state": Inspectors(dict(snapshot.inspectors or {})).state(),
        "object_registry": {
            rid: {
                "class": entry.get("class"),
                "print_string": entry.get("print_string"),
                "registered_at": iso(float(entry.get("registered_at") or 0)),
            }
            for rid, entry in snapshot.registry.items()
        },
    }


@commands.command("update_session_state")
async def update_session_state(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    settings = call.node.settings
    state_data = validation.state_data(
        call.params, max_bytes=settings.max_state_bytes, max_depth=settings.max_state_depth
    )
    expected = validation.optional(call.params, "expected_version", int)
    # One writer per session at a time on this node: concurrent writers here would only
    # race each other's WATCH transactions.
    async with fenced(call, session_id) as epoch, call.node.images.lock(session_id):
        meta, state, replayed = await call.node.store.update_state(
            session_id,
            _caller(call),
            state_data,
            expected_version=expected,
            request_id=call.request.id,
            epoch=epoch,
        )
    result = {
        "session_id": session_id,
        "last_modified": iso(meta.last_modified),
        "session_state": state.state_data,
        "update_successful": True,
        "version": meta.version,
    }
    if replayed:
        result[REPLAYED] = True
    return result


@commands.command("close_session")
async def close_session(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    await call.node.store.close(session_id, _caller(call))
    call.connection.release(session_id)
    return {"session_id": session_id, "closed": True}


@commands.command("get_session_info")
async def get_session_info(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    snapshot = await call.node.store.snapshot(session_id, _caller(call))
    result = _session_fields(snapshot.meta)
    result["time_until_expiry"] = seconds_until(snapshot.ttl_ms)
    result["is_expired"] = False
    return result


@commands.command("list_client_sessions")
async def list_client_sessions(call: Call) -> dict[str, Any]:
    client_id = validation.client_id(call.params)
    caller = _caller(call)
    if caller is not None and caller != client_id:
        raise PermissionDenied("a connection may only list its own client's sessions")
    summaries = await call.node.store.list_client(client_id)
    grant = call.connection.grant  # a token limited to some sessions lists only those
    summaries = [s for s in summaries if grant is None or grant.allows(s.session_id)]
    return {
        "client_id": client_id,
        "session_count": len(summaries),
        "sessions": [
            {
                "session_id": s.session_id,
                "created_at": iso(s.created_at),
                "last_modified": iso(s.last_modified),
                "timeout": s.timeout,
                "is_active": True,
                "time_until_expiry": s.time_until_expiry,
            }
            for s in summaries
        ],
    }


@commands.command("get_session_statistics")
async def get_session_statistics(call: Call) -> dict[str, Any]:
    settings = call.node.settings
    counts = await call.node.store.statistics()
    nodes = await live_nodes(call.node.redis)
    counters = await call.node.registry.counters()
    return {
        "total_sessions": counts["total_sessions"],
        "active_clients": counts["active_clients"],
        "max_sessions_per_client": settings.max_sessions_per_client,
        "default_timeout": settings.session_timeout,
        "cleanup_interval": settings.cleanup_interval,
        "node_id": call.node.node_id,
        "node_connections": call.node.connection_count,
        "nodes": [
            {
                "node_id": n.get("node_id"),
                "address": n.get("address"),
                "connections": int(n.get("connections", 0)),
                "draining": n.get("draining") == "1",
            }
            for n in nodes
        ],
        "connections": sum(int(n.get("connections", 0)) for n in nodes),
        "connects": counters.get("connects", 0),
        "disconnects": counters.get("disconnects", 0),
        "reconnects": counters.get("reconnects", 0),
    }
