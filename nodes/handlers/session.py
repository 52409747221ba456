"""The seven upstream session commands, ``ping`` and ``authenticate``.

Field names are the upstream protocol's, exactly (``../shared/spec/protocol.md``); fields we add
(``version``, ``node_id``...) are extensions. Every session command answers another client's
session exactly as a missing one (``SessionNotFound``).
"""

from __future__ import annotations

import time
from typing import Any

import attrs

from cluster import sharing, tokens, validation
from cluster.errors import PermissionDenied, SessionNotFound, StaleVersion
from cluster.model import InspectorState, SessionMeta, WorkspaceRecord, to_record
from cluster.store import Commit, ReadSpec, Records, seconds_until

from .. import sharing as shared_events
from ..dispatch import Call, commands
from ..inspector import wire_state
from ..ownership import acting_client
from ..protocol import REPLAYED, iso
from ..service import Prepared


def _session_fields(meta: SessionMeta) -> dict[str, Any]:
    return {
        "session_id": meta.session_id,
        "client_id": meta.client_id,
        "created_at": iso(meta.created_at),
        "last_modified": iso(meta.last_modified),
        "timeout": meta.timeout,
        "is_active": True,
        "version": meta.version,
        "commit_id": meta.commit_id,  # with version: what a client compares after a failover
    }


@commands.command("ping", needs_auth=False)
async def ping(call: Call) -> dict[str, Any]:
    return {"pong": True, "node_id": call.service.node_id, "server_time": time.time()}


@commands.command("authenticate", needs_auth=False)
async def authenticate(call: Call) -> dict[str, Any]:
    """Bind the connection to a client id; with a secret, the token must be valid
    (:func:`cluster.tokens.authenticate`: a JWT, or the legacy HMAC token)."""
    settings = call.service.settings
    grant = tokens.authenticate(
        call.params, secret=settings.secret, allow_hmac=settings.allow_hmac_tokens
    )
    validation.check_access(
        grant.client_id, allow=settings.allow_clients, deny=settings.deny_clients
    )
    call.peer.authenticate(grant)
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
    settings = call.service.settings
    validation.check_access(client_id, allow=settings.allow_clients, deny=settings.deny_clients)
    caller = call.peer.client_id
    if caller is not None and caller != client_id:
        raise PermissionDenied("a connection may only create sessions for its own client id")
    mode = sharing.attach_mode(call.params, sharing.EXCLUSIVE)
    meta, replayed, durability = await call.service.create(
        call.peer, client_id, call.request.id, mode
    )
    call.peer.identify(client_id)
    fields = _session_fields(meta)
    fields["durability"] = durability.to_wire()
    del fields["last_modified"]
    fields["attach"] = mode
    if replayed:
        fields[REPLAYED] = True
    return fields


@commands.command("restore_session")
async def restore_session(call: Call) -> dict[str, Any]:
    """Resume a session here: attach (take ownership, or join it shared), then answer
    everything the client needs."""
    session_id = validation.session_id(call.params)
    last_seq = validation.sequence_number(call.params, "last_seq")
    mode = sharing.attach_mode(call.params, "") or None  # None: by the caller's access
    service = call.service
    acked = validation.optional(call.params, "acked_version", int)
    if acked is not None:  # the client's last acknowledged commit: a rollback is found by it
        commit_id = validation.optional(call.params, "acked_commit_id", str) or ""
        service.rollbacks.remember(session_id, acked, commit_id)
    meta, records, ttl_ms, resumed = await service.restore(call.peer, session_id, last_seq, mode)
    access = sharing.access(meta, call.peer.client_id) or sharing.READ
    call.peer.identify(acting_client(call.peer, meta))
    if resumed:
        service.registry.count("reconnects", meta.client_id)
    held = service.attachments.held(call.peer, session_id)
    result = _session_fields(meta)
    result["attach"] = held.mode if held is not None else mode or sharing.EXCLUSIVE
    result["access"] = access
    result.update(
        {
            "session_state": records.state.state_data if records.state else None,
            **_workspace_fields(records),
            "time_until_expiry": seconds_until(
                ttl_ms if ttl_ms is not None else meta.timeout * 1000
            ),
            "last_seq": meta.event_seq,
        }
    )
    if last_seq is not None:
        result["missed_events"] = [to_record(event) for event in records.events]
        result["missed_events_truncated"] = records.events_truncated
    return result


def _workspace_fields(records: Records) -> dict[str, Any]:
    """``workspace_context``, ``inspector_state`` and ``object_registry`` of a restore.

    Read from the stored workspace record (binding summaries are written with every
    evaluation), so a restore does not load the session's heap.
    """
    record = records.workspace or WorkspaceRecord()
    context: dict[str, Any] = {
        "variables": sorted(record.bindings),
        "bindings": {
            name: {"class": summary.class_name, "print_string": summary.print_string}
            for name, summary in record.bindings.items()
        },
        "history": [to_record(entry) for entry in record.history],
    }
    if records.damaged:
        context["damaged"] = records.damaged
    return {
        "workspace_context": context,
        "inspector_state": wire_state(records.inspectors or InspectorState()),
        "object_registry": {
            rid: {
                "class": entry.class_name,
                "print_string": entry.print_string,
                "registered_at": iso(entry.registered_at),
            }
            for rid, entry in records.registry.items()
        },
    }


@commands.command("update_session_state")
async def update_session_state(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    settings = call.service.settings
    state_data = validation.state_data(
        call.params, max_bytes=settings.max_state_bytes, max_depth=settings.max_state_depth
    )
    expected = validation.optional(call.params, "expected_version", int)
    service = call.service

    async def prepare(session: Prepared) -> Commit:
        if expected is not None and session.meta.version != expected:
            raise StaleVersion(f"session {session_id} is not at version {expected}")
        commit = Commit(request_id=call.request.id, response=_stored_update, state_data=state_data)
        if session.meta.shared:
            announce = shared_events.state_updated(
                session_id, state_data, client_id=acting_client(call.peer, session.meta),
                version=session.meta.version + 1,
            )
            commit = attrs.evolve(commit, events=(announce,))
        return commit

    try:
        answer = await service.mutate(
            call.peer, session_id, call.request.id, prepare, what="update_session_state"
        )
    except StaleVersion:
        # The details a client merges from: version and state of one snapshot (a rare path,
        # so its extra round trip is not in the write's budget).
        now = await call.service.store.read(session_id, call.peer.client_id, ReadSpec(state=True))
        raise StaleVersion(
            f"session {session_id} is at version {now.meta.version}, not {expected}",
            details={
                "current_version": now.meta.version,
                "session_state": now.records.state.state_data if now.records.state else None,
            },
        ) from None
    stored = answer.response
    result = {
        "session_id": session_id,
        "last_modified": iso(float(stored["last_modified"])),
        "session_state": state_data,
        "update_successful": True,
        "version": stored["version"],
    }
    for extra in ("commit_id", "durability"):  # added by the store and the service
        if extra in stored:
            result[extra] = stored[extra]
    if answer.replayed:
        result[REPLAYED] = True
    return result


def _stored_update(meta: SessionMeta) -> dict[str, Any]:
    """What an update stores for its request id (its replay answers from it)."""
    return {"version": meta.version, "last_modified": meta.last_modified}


@commands.command("close_session")
async def close_session(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    try:
        nodes = await call.service.store.close(session_id, call.peer.client_id)
    except SessionNotFound:
        # A client the session was shared with sees it, but only its owner closes it (one
        # more read, on this error path only).
        snapshot = await call.service.store.read(session_id, call.peer.client_id)
        sharing.require(snapshot.meta, call.peer.client_id, sharing.OWNER, "close_session")
        raise
    call.service.attachments.detach(call.peer, session_id)
    await call.service.on_closed(session_id, nodes)
    return {"session_id": session_id, "closed": True}


@commands.command("get_session_info")
async def get_session_info(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    snapshot, attached = await call.service.presence.attached(call.peer, session_id)
    result = _session_fields(snapshot.meta)
    result["time_until_expiry"] = seconds_until(snapshot.ttl_ms)
    result["is_expired"] = False
    result["attached_connections"] = len(attached)
    result["shared"] = bool(snapshot.meta.shared)
    return result


@commands.command("list_client_sessions")
async def list_client_sessions(call: Call) -> dict[str, Any]:
    client_id = validation.client_id(call.params)
    caller = call.peer.client_id
    if caller is not None and caller != client_id:
        raise PermissionDenied("a connection may only list its own client's sessions")
    summaries = await call.service.store.list_client(client_id)
    grant = call.peer.grant  # a token limited to some sessions lists only those
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
    service = call.service
    settings = service.settings
    counts = await service.store.statistics()
    nodes = await service.registry.live_nodes()
    counters = await service.registry.counters()
    return {
        "total_sessions": counts["total_sessions"],
        "active_clients": counts["active_clients"],
        "max_sessions_per_client": settings.max_sessions_per_client,
        "default_timeout": settings.session_timeout,
        "cleanup_interval": settings.cleanup_interval,
        "node_id": service.node_id,
        "node_connections": service.connection_count(),
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
