"""The session model: attrs classes and the one cattrs converter that stores them.

Every stored record carries a ``schema`` version (see :mod:`cluster.integrity`), so a later
format can still read old sessions: structure hooks for older schemas go here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cattrs

from .errors import CorruptRecord
from .integrity import SCHEMA, seal_fields, unseal_fields

converter = cattrs.Converter(detailed_validation=False)
"""The converter for stored records (generated structuring code; errors name the record)."""

TIMERS = ("expires_at", "data_until")
"""Fields of the meta hash outside its digest: deadlines that reads refresh without a
transaction (a damaged timer can only make a session look older or newer, never change data)."""


@attrs.frozen
class SessionMeta:
    """What a session is, apart from its data: stored as the ``meta`` hash.

    ``version`` grows by one per commit (optimistic concurrency); ``epoch`` and ``owner``
    fence writers: a node may only write while the epoch it holds is the stored one.
    ``done_count`` counts stored responses in the current ``done`` hash (rotated when full),
    ``ttl_keys`` is a bit set of the hash and stream keys known to carry the data TTL (see
    :mod:`cluster.store`). The timers are epoch seconds: ``expires_at`` is a lower bound of
    when the session expires (reads extend the ``alive`` key without moving it), and
    ``data_until`` is when the data keys' TTL runs out.
    """

    session_id: str
    client_id: str
    created_at: float
    last_modified: float
    timeout: int
    version: int = 0
    epoch: int = 0
    owner: str = ""
    event_seq: int = 0
    done_count: int = 0
    ttl_keys: int = 0
    schema: int = SCHEMA
    expires_at: float = 0.0
    data_until: float = 0.0

    def to_fields(self) -> dict[str, str]:
        """The hash fields to store: everything but the timers sealed with a digest."""
        raw = converter.unstructure(self)
        sealed = seal_fields({key: str(value) for key, value in raw.items() if key not in TIMERS})
        for timer in TIMERS:
            sealed[timer] = repr(raw[timer])
        return sealed

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], name: str) -> SessionMeta:
        """Check and structure a stored hash; raise :class:`CorruptRecord` if damaged."""
        raw = dict(fields)
        timers = {timer: raw.pop(timer, "0") for timer in TIMERS}
        body: dict[str, Any] = dict(unseal_fields(raw, name))
        try:
            body.update({timer: float(value) for timer, value in timers.items()})
            return converter.structure(body, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            raise CorruptRecord(f"stored record {name} is malformed ({exc.__class__.__name__})")

    def with_changes(self, **changes: Any) -> SessionMeta:
        return attrs.evolve(self, **changes)


@attrs.frozen
class SessionState:
    """The client's own ``state_data`` (its UI state), stored as the ``state`` record."""

    state_data: Any
    version: int


@attrs.frozen
class SessionSummary:
    """One row of ``list_client_sessions``."""

    session_id: str
    created_at: float
    last_modified: float
    timeout: int
    time_until_expiry: float
