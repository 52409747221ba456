"""Every Redis key of STUI Cluster, spelled once.

A session's keys share the hash tag ``{<session_id>}``, so every multi-key transaction over one
session stays in one Redis Cluster slot. Cross-session indexes live under their own keys and are
never part of a session's transaction.

| key | type | what |
|---|---|---|
| ``stui:{sid}:meta`` | hash | client id, times, timeout, version, epoch, owner, schema, digest |
| ``stui:{sid}:state`` | string | the client's ``state_data``, sealed with its digest |
| ``stui:{sid}:heap`` | hash | object id -> sealed object record (Smalltalk heap) |
| ``stui:{sid}:ws`` | hash | ``record``: sealed workspace record; ``h<n>``: history slots |
| ``stui:{sid}:workspace`` | string | the first format's workspace record (read, replaced) |
| ``stui:{sid}:registry`` | hash | registry id -> sealed registry entry |
| ``stui:{sid}:inspectors`` | string | sealed inspector state |
| ``stui:{sid}:done`` | hash | request id -> stored response (exactly-once) |
| ``stui:{sid}:done_prev`` | hash | the previous ``done`` (rotated when full: bounded memory) |
| ``stui:{sid}:events`` | stream | transcript and other events; the stream id is the ``seq`` |
| ``stui:{sid}:alive`` | string | shadow key, TTL = timeout; its expiry starts cleanup |
| ``stui:{sid}:quarantine`` | hash | key name -> raw bytes of a record that failed its check |
| ``stui:{sid}:attached`` | hash | attachment id -> who is attached (client, node, since, mode) |
| ``stui:{sid}:fan`` | sharded channel | the session's events, live, to every node attached to it |
| ``stui:{sid}:ctl`` | channel | handoff between nodes |
| ``stui:client:{cid}:sessions`` | sorted set | a client's session ids, scored by creation time |
| ``stui:client:{cid}:creates`` | hash | create request id -> session id (idempotent create) |
| ``stui:client:{cid}:stats`` | hash | the client's connect/disconnect/reconnect counts |
| ``stui:client:{cid}:spent`` | counter | the client's requests, cluster-wide (rate limit) |
| ``stui:counters`` | hash | the same counts, cluster-wide |
| ``stui:clients`` | set | client ids that have (or recently had) sessions |
| ``stui:expiry`` | sorted set | session id -> earliest possible deadline (sweeper's truth) |
| ``stui:{sweeper}:lease``, ``:epoch`` | string, counter | sweeper lease, fencing epoch |
| ``stui:nodes`` / ``stui:node:<id>`` | sorted set / hash | node registry and heartbeats |
| ``stui:node:<id>:sessions`` | hash | session id -> connections holding it on that node |
"""

from __future__ import annotations

import attrs

PREFIX = "stui"

EXPIRY_INDEX = f"{PREFIX}:expiry"
CLIENTS = f"{PREFIX}:clients"
SWEEPER_LEASE = f"{PREFIX}:{{sweeper}}:lease"
SWEEPER_EPOCH = f"{PREFIX}:{{sweeper}}:epoch"
NODES = f"{PREFIX}:nodes"
COUNTERS = f"{PREFIX}:counters"


def node_channel(node_id: str) -> str:
    """A node's control channel: takeover notices for sessions it served arrive here."""
    return f"{node(node_id)}:ctl"


def _client_key(client_id: str, part: str) -> str:
    """One of a client's keys; all share the client's hash tag."""
    return f"{PREFIX}:client:{{{client_id}}}:{part}"


def client_sessions(client_id: str) -> str:
    """The per-client index: a sorted set of session ids scored by creation time."""
    return _client_key(client_id, "sessions")


def client_creates(client_id: str) -> str:
    """Request ids of the client's recent ``create_session`` calls -> the session created."""
    return _client_key(client_id, "creates")


def client_stats(client_id: str) -> str:
    """Per-client connection counters (connects, disconnects, reconnects)."""
    return _client_key(client_id, "stats")


def client_spent(client_id: str) -> str:
    """Requests the client made, cluster-wide (a counter; see :mod:`cluster.ratelimit`)."""
    return _client_key(client_id, "spent")


def node(node_id: str) -> str:
    """A node's heartbeat hash (with a TTL: a dead node disappears by itself)."""
    return f"{PREFIX}:node:{node_id}"


def node_sessions(node_id: str) -> str:
    """Sessions held by a node's connections -> how many (for operators; expires like the
    heartbeat)."""
    return f"{node(node_id)}:sessions"


def record_name(key: str, field: str) -> str:
    """How a record inside a hash is named in errors and in the quarantine: ``key#field``."""
    return f"{key}#{field}"


@attrs.frozen
class SessionKeys:
    """The keys of one session; all share the session's hash tag."""

    session_id: str

    def _key(self, part: str) -> str:
        return f"{PREFIX}:{{{self.session_id}}}:{part}"

    @property
    def meta(self) -> str:
        return self._key("meta")

    @property
    def state(self) -> str:
        return self._key("state")

    @property
    def heap(self) -> str:
        return self._key("heap")

    @property
    def workspace(self) -> str:
        """The workspace hash: one field per part, so a commit writes only what changed."""
        return self._key("ws")

    @property
    def legacy_workspace(self) -> str:
        """The whole-record string of the first format: read when ``workspace`` is missing,
        deleted by the first commit that writes ``workspace``."""
        return self._key("workspace")

    @property
    def registry(self) -> str:
        return self._key("registry")

    @property
    def inspectors(self) -> str:
        return self._key("inspectors")

    @property
    def done(self) -> str:
        return self._key("done")

    @property
    def done_prev(self) -> str:
        return self._key("done_prev")

    @property
    def events(self) -> str:
        return self._key("events")

    @property
    def alive(self) -> str:
        return self._key("alive")

    @property
    def quarantine(self) -> str:
        return self._key("quarantine")

    @property
    def control_channel(self) -> str:
        return self._key("ctl")

    @property
    def attached(self) -> str:
        """Presence: attachment id -> the attachment (client, node, since, mode), JSON."""
        return self._key("attached")

    @property
    def fanout(self) -> str:
        """The session's sharded pub/sub channel (``SPUBLISH``/``SSUBSCRIBE``): its events,
        live, for every node holding an attachment to a shared session. The hash tag puts it
        in the session's slot, so on Redis Cluster it is served by the session's shard."""
        return self._key("fan")

    def data_keys(self) -> tuple[str, ...]:
        """Every key that holds session data (expired together, deleted together)."""
        return (
            self.meta,
            self.state,
            self.heap,
            self.workspace,
            self.legacy_workspace,
            self.registry,
            self.inspectors,
            self.done,
            self.done_prev,
            self.events,
            self.attached,
        )

    def all_keys(self) -> tuple[str, ...]:
        """Data keys plus the shadow key (quarantine is kept for inspection)."""
        return (*self.data_keys(), self.alive)
