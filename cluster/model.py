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

converter = cattrs.Converter()


@attrs.frozen
class SessionMeta:
    """What a session is, apart from its data: stored as the ``meta`` hash.

    ``version`` grows by one per commit (optimistic concurrency); ``epoch`` and ``owner``
    fence writers: a node may only write while the epoch it holds is the stored one.
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
    schema: int = SCHEMA

    def to_fields(self) -> dict[str, str]:
        """The hash fields to store, sealed with a digest."""
        raw = converter.unstructure(self)
        return seal_fields({key: str(value) for key, value in raw.items()})

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], name: str) -> SessionMeta:
        """Check and structure a stored hash; raise :class:`CorruptRecord` if damaged."""
        body = unseal_fields(fields, name)
        try:
            return converter.structure(body, cls)
        except (cattrs.ClassValidationError, ValueError, TypeError) as exc:
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
