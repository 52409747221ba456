"""Sharing commands (extensions, issue 11): ``share_session``, ``revoke_share``,
``list_attached``.

A session stays its client's: only the owner grants and revokes (``cluster.sharing``), and a
grant is a commit like any other (exactly-once by request id, an event on the session). The
grants live in the session's meta, so every later command of the grantee, on any node, is
checked against them in its first round trip.
"""

from __future__ import annotations

from typing import Any

from cluster import sharing, validation
from cluster.model import SessionMeta
from cluster.store import Commit, ReadSpec

from .. import sharing as shared_events
from ..dispatch import Call, commands
from ..ownership import acting_client
from ..protocol import REPLAYED, iso
from ..service import Prepared


def _granted_to(call: Call) -> str:
    """The other client's id (``client_id``: the one the session is shared with)."""
    return validation.client_id(call.params)


@commands.command("share_session")
async def share_session(call: Call) -> dict[str, Any]:
    """Give ``client_id`` ``rights`` (``read`` or ``write``, default ``write``) on the session."""
    return await _change_share(call, "share_session", grant=True)


@commands.command("revoke_share")
async def revoke_share(call: Call) -> dict[str, Any]:
    """Take ``client_id``'s grant back: its next command answers as for a missing session, and
    its connections attached now are detached (they get ``share_revoked`` first)."""
    return await _change_share(call, "revoke_share", grant=False)


async def _change_share(call: Call, what: str, *, grant: bool) -> dict[str, Any]:
    """One owner-only commit of the session's grants: ``client_id`` gets the ``rights`` asked
    (``grant``) or loses its grant and its attachments' presence (a revoke)."""
    session_id = validation.session_id(call.params)
    other = _granted_to(call)
    rights = sharing.rights(call.params) if grant else None

    async def prepare(session: Prepared) -> Commit:
        shares = sharing.granted(session.meta, other, rights)
        by = acting_client(call.peer, session.meta)
        extra: dict[str, Any] = {}
        theirs: tuple[str, ...] = ()
        if not grant:
            extra["revoked"] = session.meta.shares.get(other) is not None
            theirs = tuple(
                attachment_id
                for attachment_id, attachment in session.records.attached.items()
                if attachment.client_id == other
            )
        return Commit(
            request_id=call.request.id,
            response=_stored(session_id, other, rights, **extra),
            new_version=False,
            meta_changes={"shares": shares},
            presence_removed=theirs,
            events=(shared_events.share_changed(session_id, other, rights, by=by),),
        )

    answer = await call.service.mutate(
        call.peer, session_id, call.request.id, prepare,
        reads=None if grant else ReadSpec(attached=True),
        need=sharing.OWNER, what=what, fence=False,
    )
    return _answer(answer.response, answer.replayed)


def _stored(session_id: str, other: str, rights: str | None, **extra: Any) -> Any:
    def response(meta: SessionMeta) -> dict[str, Any]:
        return {
            "session_id": session_id,
            "client_id": other,
            "rights": rights,
            "shared_with": dict(meta.shares),
            **extra,
        }

    return response


def _answer(stored: dict[str, Any], replayed: bool) -> dict[str, Any]:
    result = dict(stored)
    if replayed:
        result[REPLAYED] = True
    return result


@commands.command("list_attached")
async def list_attached(call: Call) -> dict[str, Any]:
    """Who is attached to the session now, on every node (entries of dead nodes left out)."""
    session_id = validation.session_id(call.params)
    snapshot, live = await call.service.presence.attached(call.peer, session_id)
    access = sharing.require(snapshot.meta, call.peer.client_id, sharing.READ, "list_attached")
    rows = sorted(
        (sharing.describe(attachment_id, attachment) for attachment_id, attachment in live.items()),
        key=lambda row: (row["since"], row["attachment_id"]),
    )
    for row in rows:
        row["since"] = iso(row["since"])
    result: dict[str, Any] = {
        "session_id": session_id,
        "client_id": snapshot.meta.client_id,
        "attached": rows,
        "count": len(rows),
        "shared": bool(snapshot.meta.shared),
        "access": access,
    }
    if access == sharing.OWNER:
        result["shared_with"] = dict(snapshot.meta.shares)
    return result
