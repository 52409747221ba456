"""Who may do what on a session, and who is attached to it (issue 11, shared sessions).

A session stays its client's (the *owner*). The owner may share it with another client id,
with ``read`` rights (attach, receive the session's events, inspect) or ``write`` rights (also
evaluate and update the state); only the owner shares, revokes, closes, or attaches
exclusively. The grants live in the session's meta (``SessionMeta.shares``), which round trip
1 of every command reads anyway, so rights are checked on every command at no extra cost, and
a revocation holds from the next command on, on every node. A client with no grant gets the
answer of a missing session: existence never leaks.

Presence: each attachment of a connection to a session is one field of the session's
``attached`` hash (:class:`cluster.model.Attachment`: client, node, since, mode, and the node
process's incarnation). Entries of nodes that died are stale: they are recognised by the node
registry (the node id is gone, or lives on in another incarnation) and pruned by whoever reads
them.

Pure functions only: no I/O here (the store and the node call them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from .errors import CorruptRecord, InvalidRequest, PermissionDenied, SessionNotFound
from .keys import record_name
from .model import RIGHTS, Attachment, SessionMeta, from_record, to_record

OWNER, WRITE, READ = "owner", "write", "read"
EXCLUSIVE, SHARED = "exclusive", "shared"
ATTACH_MODES = (EXCLUSIVE, SHARED)
MAX_SHARES = 32
"""Grants per session: the grants ride in the meta record, which every command reads."""

_RANK = {READ: 0, WRITE: 1, OWNER: 2}


def access(meta: SessionMeta, client_id: str | None) -> str | None:
    """``owner``, ``write``, ``read``, or None (no access: the session is not there for it).

    ``client_id`` None is a connection that has not authenticated (a cluster without a
    secret): the session id is a capability, as before sharing existed.
    """
    if client_id is None or client_id == meta.client_id:
        return OWNER
    return meta.shares.get(client_id)


def visible(fields: Mapping[str, Any], client_id: str | None) -> bool:
    """Whether raw meta ``fields`` (before their digest is checked) let ``client_id`` see the
    session: it is the owner, or holds a grant. Checked before integrity, so another client's
    damaged session still answers as a missing one."""
    if not fields:
        return False
    if client_id is None or fields.get("client_id") == client_id:
        return True
    raw = fields.get("shares")
    if not raw:
        return False
    try:
        shares = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return isinstance(shares, dict) and shares.get(client_id) in RIGHTS


def allows(have: str | None, need: str) -> bool:
    return have is not None and _RANK[have] >= _RANK[need]


def require(meta: SessionMeta, client_id: str | None, need: str, what: str) -> str:
    """The caller's access, if it is at least ``need``; else SessionNotFound (no access at
    all) or PermissionDenied (some access, not enough: it knows the session exists)."""
    have = access(meta, client_id)
    if have is None:
        raise SessionNotFound(f"session {meta.session_id} not found or expired")
    if not allows(have, need):
        raise PermissionDenied(
            f"{what} needs {need} access to session {meta.session_id}; "
            f"client {client_id!r} has {have}",
            details={"access": have, "needs": need},
        )
    return have


def attach_mode(params: Mapping[str, Any], default: str) -> str:
    """The ``attach`` parameter of ``create_session`` / ``restore_session``."""
    mode = params.get("attach")
    if mode is None:
        return default
    if mode not in ATTACH_MODES:
        raise InvalidRequest("parameter 'attach' must be 'exclusive' or 'shared'")
    return str(mode)


def rights(params: Mapping[str, Any]) -> str:
    """The ``rights`` parameter of ``share_session`` (default ``write``)."""
    value = params.get("rights", WRITE)
    if value not in RIGHTS:
        raise InvalidRequest("parameter 'rights' must be 'read' or 'write'")
    return str(value)


def granted(meta: SessionMeta, client_id: str, grant: str | None) -> dict[str, str]:
    """The session's grants after giving ``client_id`` ``grant`` (None: revoking it)."""
    if client_id == meta.client_id:
        raise InvalidRequest("a session's owner always has every right: share with another client")
    shares = dict(meta.shares)
    if grant is None:
        shares.pop(client_id, None)
    else:
        shares[client_id] = grant
        if len(shares) > MAX_SHARES:
            raise InvalidRequest(
                f"a session is shared with at most {MAX_SHARES} clients",
                details={"max_shares": MAX_SHARES},
            )
    return shares


# -- presence -------------------------------------------------------------------------------


def encode_attachment(attachment: Attachment) -> bytes:
    return orjson.dumps(to_record(attachment))


def decode_attachments(raw: Mapping[str, Any], name: str) -> dict[str, Attachment]:
    """The presence hash; entries that do not parse are left out (presence is advisory)."""
    out: dict[str, Attachment] = {}
    for field, value in raw.items():
        name_of = record_name(name, str(field))
        try:
            out[str(field)] = from_record(orjson.loads(value), Attachment, name_of)
        except (orjson.JSONDecodeError, CorruptRecord):
            continue
    return out


def split_live(
    attachments: Mapping[str, Attachment], incarnations: Mapping[str, str]
) -> tuple[dict[str, Attachment], list[str]]:
    """(live attachments, ids of stale ones): an entry is live while its node is registered
    in the same incarnation (``incarnations``: live node id -> incarnation)."""
    live: dict[str, Attachment] = {}
    stale: list[str] = []
    for attachment_id, attachment in attachments.items():
        incarnation = incarnations.get(attachment.node_id)
        if incarnation is not None and incarnation in ("", attachment.incarnation):
            live[attachment_id] = attachment
        else:
            stale.append(attachment_id)
    return live, stale


def describe(attachment_id: str, attachment: Attachment) -> dict[str, Any]:
    """One row of ``list_attached`` (``since`` as epoch seconds; the handler formats it)."""
    return {
        "attachment_id": attachment_id,
        "client_id": attachment.client_id,
        "node_id": attachment.node_id,
        "since": attachment.since,
        "mode": attachment.mode,
    }
