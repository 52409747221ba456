"""Workspace commands (extensions): evaluate, inspect, the inspector, release, interrupt.

Each state-changing command is exactly-once by request id, fenced by the connection's
ownership epoch, and committed in one transaction before it is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cluster import sharing, validation
from cluster.errors import InvalidRequest, ObjectNotFound
from cluster.model import Inspector, SessionEvent, SessionMeta, to_record
from cluster.store import Commit

from .. import inspector as inspectors
from .. import sharing as shared_events
from .. import workspace as ws
from ..dispatch import Call, commands
from ..inspector import check_view, child, describe, follow, wire_state
from ..ownership import acting_client
from ..protocol import Request
from ..service import Prepared

Change = Callable[[ws.Workspace], dict[str, Any]]


async def _mutate(
    call: Call, session_id: str, change: Change, need: str = sharing.READ
) -> dict[str, Any]:
    """Apply ``change`` to the session's workspace and commit what it changed.

    These commands change only the inspectors and the registry (never a variable or an
    object), so a client with ``read`` access to a shared session may use them; on a shared
    session their change is an ``inspector`` event for every attached connection.
    """

    async def prepare(session: Prepared) -> Commit:
        entry = session.workspace
        assert entry is not None
        before_registry = dict(entry.registry)
        before_next = entry.next_registry_id
        result = change(entry)
        added = {
            rid: record
            for rid, record in entry.registry.items()
            if before_registry.get(rid) != record
        }
        removed = tuple(rid for rid in before_registry if rid not in entry.registry)
        workspace_changed = entry.next_registry_id != before_next
        events: tuple[SessionEvent, ...] = ()
        if session.meta.shared:
            events = (shared_events.inspector(
                session_id, call.request.command, wire_state(entry.inspectors),
                client_id=acting_client(call.peer, session.meta),
            ),)
        return Commit(
            request_id=call.request.id,
            response=_with_version(result),
            registry=added,
            deleted_registry=removed,
            inspectors=entry.inspectors,
            workspace=entry.record() if workspace_changed else None,
            history=entry.take_unsaved_history() if workspace_changed else (),
            events=events,
        )

    answer = await call.service.mutate(
        call.peer, session_id, call.request.id, prepare, workspace=True, need=need,
        what=call.request.command,
    )
    return answer.response


def _with_version(result: dict[str, Any]) -> Callable[[SessionMeta], dict[str, Any]]:
    def response(meta: SessionMeta) -> dict[str, Any]:
        return {**result, "version": meta.version}

    return response


@commands.command("evaluate")
async def evaluate(call: Call) -> dict[str, Any]:
    """Run Smalltalk in the session's workspace; its transcript arrives as an event first."""
    session_id = validation.session_id(call.params)
    code = validation.require(call.params, "code", str)
    service = call.service

    async def prepare(session: Prepared) -> Commit:
        entry = session.workspace
        assert entry is not None
        bindings = entry.bindings  # (the evaluation replaces the dict, never changes it)
        async with service.interruptible(session_id) as interrupt:
            outcome, elapsed = await ws.run_evaluation(
                entry,
                code,
                session_id=session_id,
                limits=service.limits,
                interrupt=interrupt,
                limiter=service.eval_slots,
                pacing=service.pacing,
            )
        commit = ws.evaluation_commit(
            entry,
            outcome,
            session_id=session_id,
            code=code,
            request_id=call.request.id,
            elapsed=elapsed,
            max_registry=service.settings.max_registry,
        )
        if session.meta.shared:  # who evaluated what, for every attached connection
            client_id = acting_client(call.peer, session.meta)
            news = [shared_events.evaluated(
                session_id, client_id=client_id, node_id=service.node_id,
                request_id=call.request.id, code=code, outcome=outcome,
                object_id=next(iter(commit.registry), None), version=session.meta.version + 1,
            ), *commit.events]
            changed = shared_events.variables(
                session_id, bindings, entry.bindings, client_id=client_id
            )
            if changed is not None:
                news.append(changed)
            commit = attrs.evolve(commit, events=tuple(news))
        return commit

    answer = await service.mutate(
        call.peer, session_id, call.request.id, prepare, workspace=True, what="evaluate"
    )
    return answer.response


def _page(call: Call) -> tuple[int, int]:
    offset = validation.optional(call.params, "offset", int)
    limit = validation.optional(call.params, "limit", int)
    return (offset or 0), (limit or 50)


@commands.command("inspect")
async def inspect(call: Call) -> dict[str, Any]:
    """Inspect a registered object (``object_id``) or the result of ``code``."""
    session_id = validation.session_id(call.params)
    object_id = validation.optional(call.params, "object_id", str)
    code = validation.optional(call.params, "code", str)
    offset, limit = _page(call)
    if (object_id is None) == (code is None):
        raise InvalidRequest("inspect takes exactly one of 'object_id' and 'code'")
    if code is not None:
        evaluated = await evaluate(call)
        if evaluated.get("has_error") or not evaluated.get("object_id"):
            return {"evaluation": evaluated}
        object_id = str(evaluated["object_id"])
        # A second commit, with its own idempotency key derived from the request's.
        call = attrs.evolve(call, request=_derived(call.request, ":inspect"))
    target = str(object_id)
    return await _mutate(
        call, session_id, lambda e: describe(e, target, offset=offset, limit=limit)
    )


def _derived(request: Request, suffix: str) -> Request:
    """The same request under another id (for a request that commits twice)."""
    return attrs.evolve(request, id=(request.id + suffix)[-128:])


@commands.command("open_inspector")
async def open_inspector(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    object_id = validation.require(call.params, "object_id", str)
    view = validation.optional(call.params, "view", str) or "raw"

    def change(entry: ws.Workspace) -> dict[str, Any]:
        ws.resolve(entry, object_id)
        inspector = inspectors.open_on(entry.inspectors, object_id, view)
        return {**to_record(inspector), "object": describe(entry, object_id)}

    return await _mutate(call, session_id, change)


def _inspector_change(call: Call, action: Callable[[ws.Workspace, Inspector], None]) -> Change:
    inspector_id = validation.require(call.params, "inspector_id", str)

    def change(entry: ws.Workspace) -> dict[str, Any]:
        inspector = inspectors.get(entry.inspectors, inspector_id)
        action(entry, inspector)
        current = follow(entry, inspector.root, inspector.path)
        entry.inspectors.selected_object = current
        return {**to_record(inspector), "object": describe(entry, current)}

    return change


@commands.command("navigate_inspector")
async def navigate_inspector(call: Call) -> dict[str, Any]:
    """Step into a field (``field``: a name or a 1-based index) of the current object."""
    session_id = validation.session_id(call.params)
    field = validation.require(call.params, "field", (str, int))

    def action(entry: ws.Workspace, inspector: Inspector) -> None:
        child(entry, follow(entry, inspector.root, inspector.path), field)
        inspector.path = [*inspector.path, field]
        inspector.selected_field = None

    return await _mutate(call, session_id, _inspector_change(call, action))


@commands.command("inspector_back")
async def inspector_back(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)

    def action(entry: ws.Workspace, inspector: Inspector) -> None:
        inspector.path = inspector.path[:-1]
        inspector.selected_field = None

    return await _mutate(call, session_id, _inspector_change(call, action))


@commands.command("select_field")
async def select_field(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    field = validation.optional(call.params, "field", (str, int))

    def action(entry: ws.Workspace, inspector: Inspector) -> None:
        if field is not None:
            child(entry, follow(entry, inspector.root, inspector.path), field)
        inspector.selected_field = field

    return await _mutate(call, session_id, _inspector_change(call, action))


@commands.command("set_inspector_view")
async def set_inspector_view(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    view = validation.require(call.params, "view", str)
    check_view(view)

    def action(entry: ws.Workspace, inspector: Inspector) -> None:
        inspector.view = view

    return await _mutate(call, session_id, _inspector_change(call, action))


@commands.command("close_inspector")
async def close_inspector(call: Call) -> dict[str, Any]:
    session_id = validation.session_id(call.params)
    inspector_id = validation.require(call.params, "inspector_id", str)

    def change(entry: ws.Workspace) -> dict[str, Any]:
        inspectors.get(entry.inspectors, inspector_id)
        del entry.inspectors.inspectors[inspector_id]
        return {"inspector_id": inspector_id, "closed": True}

    return await _mutate(call, session_id, change)


@commands.command("release_object")
async def release_object(call: Call) -> dict[str, Any]:
    """Drop a registry id; its object may then be collected if nothing else reaches it."""
    session_id = validation.session_id(call.params)
    object_id = validation.require(call.params, "object_id", str)

    def change(entry: ws.Workspace) -> dict[str, Any]:
        if object_id not in entry.registry:
            raise ObjectNotFound(f"object {object_id} is not in this session's registry")
        del entry.registry[object_id]
        return {"object_id": object_id, "released": True}

    return await _mutate(call, session_id, change, need=sharing.WRITE)


@commands.command("interrupt")
async def interrupt(call: Call) -> dict[str, Any]:
    """Stop the session's running evaluation (here, or on the node that owns the session)."""
    session_id = validation.session_id(call.params)
    service = call.service
    snapshot = await service.store.read(session_id, call.peer.client_id)  # ownership check
    sharing.require(snapshot.meta, call.peer.client_id, sharing.WRITE, "interrupt")
    if service.interrupt_local(session_id):
        return {"session_id": session_id, "interrupted": True, "where": "local"}
    sent = await service.interrupt_owner(session_id)
    return {"session_id": session_id, "interrupted": sent, "where": "owner" if sent else "none"}
