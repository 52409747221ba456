"""The error tree of the cluster, one class per wire ``error_type``.

Handlers raise these; the protocol layer turns them into the spec's error responses at one
boundary (``nodes/protocol.py``). Anything that is not a :class:`StuiError` is a bug or an
outage and is answered as ``Error`` (or ``Unavailable`` for Redis outages) without detail.
"""

from __future__ import annotations

from typing import Any


class StuiError(Exception):
    """Base: an error the client is told about, with its wire ``error_type``."""

    error_type = "Error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidRequest(StuiError):
    """The frame or its parameters are malformed (the connection stays usable)."""

    error_type = "InvalidRequest"


class SessionError(StuiError):
    """A session operation failed: limits, expired or damaged records."""

    error_type = "SessionError"


class SessionNotFound(StuiError):
    """No such session for this client.

    Also the answer for another client's session: existence never leaks.
    """

    error_type = "SessionNotFound"


class CorruptRecord(SessionError):
    """A stored record failed its integrity check; it was quarantined, never served."""


class Unauthorized(StuiError):
    """The connection has not authenticated, or its token is wrong."""

    error_type = "Unauthorized"


class PermissionDenied(StuiError):
    """The client is not allowed here (deny list, or acting for another client id)."""

    error_type = "PermissionDenied"


class SessionConflict(StuiError):
    """A write could not be applied because of another writer (two kinds below)."""

    error_type = "SessionConflict"


class StaleVersion(SessionConflict):
    """``expected_version`` is stale; ``details`` carry the current version and state, so the
    client can merge and retry."""


class ContentionExhausted(SessionConflict):
    """The write lost the race to concurrent writers on every retry; sending it again (same
    request id) is safe."""


class RateLimited(StuiError):
    """Too many requests in flight or per second for this client."""

    error_type = "RateLimited"


class Unavailable(StuiError):
    """The store cannot be reached or the node is draining; retry elsewhere or later."""

    error_type = "Unavailable"


class StoreUnavailable(Unavailable):
    """The store did not answer, or answered "not here, not now" (a failover, a primary that
    lost its replicas): what was sent may or may not have run. The node runs the request again
    with the same id for up to ``failover_wait`` seconds (the stored response makes that
    safe), then answers this with ``details.reason`` ``store_failing_over``."""


class EvaluationError(StuiError):
    """The Smalltalk code could not be compiled (syntax), with line and column."""

    error_type = "EvaluationError"


class EvaluationTimeout(StuiError):
    """The evaluation ran past its wall-clock limit or was interrupted."""

    error_type = "Timeout"


class ResourceLimit(StuiError):
    """The evaluation exceeded a step, depth, heap or string limit."""

    error_type = "ResourceLimit"


class ObjectNotFound(StuiError):
    """A registry id that does not (or no longer) exists in this session."""

    error_type = "ObjectNotFound"


class SessionTakenOver(SessionError):
    """The session was taken over by another connection with a higher epoch (fencing)."""
