"""The events a shared session's commits carry (issue 11), built here so handlers stay short.

On a session with ``SessionMeta.shared`` set, every attached connection on every node sees
what happens to the workspace: who evaluated what and its printString (``evaluated``), the
variables it changed (``variables``), inspector changes (``inspector``), state updates
(``state_updated``), and the attach, detach and grant events. These events are numbered and
stored like ``transcript`` (so ``restore_session`` with ``last_seq`` replays them) and go out
on the session's channel (:mod:`nodes.fanout`). Sessions that are not shared get none of them:
their commits cost what they cost before sharing existed.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from cluster.model import BindingSummary, SessionEvent

from .protocol import iso
from .smalltalk import Outcome

MAX_STATE_EVENT_BYTES = 8192
"""A ``state_updated`` event carries the new ``state_data`` up to this size (encoded); larger
states are announced without it (``state_omitted``): restore the session to read them."""


def attached(
    session_id: str,
    attachment_id: str,
    client_id: str,
    node_id: str,
    mode: str,
    since: float,
    epoch: int,
) -> SessionEvent:
    return SessionEvent(
        name="attached",
        data={
            "session_id": session_id,
            "attachment_id": attachment_id,
            "client_id": client_id,
            "node_id": node_id,
            "mode": mode,
            "since": iso(since),
            "epoch": epoch,
        },
    )


def detached(
    session_id: str, attachment_id: str, client_id: str, node_id: str, reason: str
) -> SessionEvent:
    return SessionEvent(
        name="detached",
        data={
            "session_id": session_id,
            "attachment_id": attachment_id,
            "client_id": client_id,
            "node_id": node_id,
            "reason": reason,
        },
    )


def evaluated(
    session_id: str,
    *,
    client_id: str,
    node_id: str,
    request_id: str,
    code: str,
    outcome: Outcome,
    object_id: str | None,
    version: int,
) -> SessionEvent:
    """Who evaluated what, and its printString (or its error)."""
    data: dict[str, Any] = {
        "session_id": session_id,
        "client_id": client_id,
        "node_id": node_id,
        "request_id": request_id,
        "code": code[:2000],
        "result": outcome.print_string[:2000],
        "result_type": outcome.class_name,
        "object_id": object_id,
        "has_error": outcome.has_error,
        "version": version,
        # When the evaluation ended, just before its commit's round trip: the bench measures
        # fan-out latency from it (scripts/bench --suite shared).
        "at": time.time(),
    }
    if outcome.has_error:
        data["error_class"] = outcome.error_class
        data["error_message"] = outcome.error_message
    return SessionEvent(name="evaluated", data=data)


def variables(
    session_id: str,
    before: dict[str, BindingSummary],
    after: dict[str, BindingSummary],
    *,
    client_id: str,
) -> SessionEvent | None:
    """The workspace variables an evaluation changed (None: it changed none)."""
    changed = {
        name: {"class": summary.class_name, "print_string": summary.print_string}
        for name, summary in after.items()
        if before.get(name) != summary
    }
    removed = sorted(set(before) - set(after))
    if not changed and not removed:
        return None
    return SessionEvent(
        name="variables",
        data={"session_id": session_id, "client_id": client_id, "changed": changed,
              "removed": removed},
    )


def state_updated(
    session_id: str, state_data: Any, *, client_id: str, version: int
) -> SessionEvent:
    data: dict[str, Any] = {"session_id": session_id, "client_id": client_id, "version": version}
    if len(orjson.dumps(state_data)) <= MAX_STATE_EVENT_BYTES:
        data["state_data"] = state_data
    else:
        data["state_omitted"] = True
    return SessionEvent(name="state_updated", data=data)


def inspector(
    session_id: str, command: str, state: dict[str, Any], *, client_id: str
) -> SessionEvent:
    """An inspector command changed the session's inspectors (or released an object)."""
    return SessionEvent(
        name="inspector",
        data={"session_id": session_id, "client_id": client_id, "command": command,
              "inspector_state": state},
    )


def share_changed(
    session_id: str, client_id: str, rights: str | None, *, by: str
) -> SessionEvent:
    """``shared_with`` (a grant given or changed) or ``share_revoked``."""
    if rights is None:
        return SessionEvent(
            name="share_revoked", data={"session_id": session_id, "client_id": client_id,
                                        "by": by}
        )
    return SessionEvent(
        name="shared_with",
        data={"session_id": session_id, "client_id": client_id, "rights": rights, "by": by},
    )
