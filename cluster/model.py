"""The session model: attrs classes and the one cattrs converter that stores them.

Every stored record carries a ``schema`` version (see :mod:`cluster.integrity`), so a later
format can still read old sessions: structure hooks for older schemas go here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import cattrs.gen
import orjson

from .errors import CorruptRecord
from .integrity import SCHEMA, seal_fields, unseal_fields

T = TypeVar("T")

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

    Sharing (issue 11): ``shared`` is 1 while the session may have shared attachments (its
    commits then also publish their events on the session's channel, and shared attachments
    on any node write at the current ``epoch`` without raising it); an exclusive attach sets it
    back to 0. ``shares`` maps the other client ids the owner shared the session with to their
    rights (``read`` or ``write``); it is in the meta so that round trip 1 of every command,
    which reads the meta anyway, also checks the caller's rights.
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
    commit_id: str = ""
    """A random id written with every new ``version``: the same version with another id means
    the session was rolled back (a failover lost acknowledged commits) and written again
    (:mod:`cluster.rollback`). Empty for sessions written before it existed."""
    shared: int = 0
    shares: dict[str, str] = attrs.field(factory=dict, hash=False)

    def to_fields(self) -> dict[str, str]:
        """The hash fields to store: everything but the timers sealed with a digest."""
        raw = converter.unstructure(self)
        raw["shares"] = orjson.dumps(raw["shares"], option=orjson.OPT_SORT_KEYS).decode()
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
            if "shares" in body:
                body["shares"] = _shares(orjson.loads(body["shares"]))
            return converter.structure(body, cls)
        except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
            raise CorruptRecord(f"stored record {name} is malformed ({exc.__class__.__name__})")

    def with_changes(self, **changes: Any) -> SessionMeta:
        return attrs.evolve(self, **changes)


RIGHTS = ("read", "write")
"""What a grant may give another client: ``read`` (attach, receive events, inspect) or
``write`` (also evaluate and update the state)."""


def _shares(raw: Any) -> dict[str, str]:
    """The stored ``shares`` field, checked: client id -> one of :data:`RIGHTS`."""
    if not isinstance(raw, dict) or not all(
        isinstance(client, str) and rights in RIGHTS for client, rights in raw.items()
    ):
        raise ValueError("shares must map client ids to 'read' or 'write'")
    return dict(raw)


@attrs.frozen
class Attachment:
    """One connection attached to a session, as the presence hash stores it.

    ``incarnation`` names the node process (a node restarted under the same id gets a new
    one), so an entry left by a killed node is recognised as stale even after the node id is
    live again.
    """

    client_id: str
    node_id: str
    since: float
    mode: str
    """``exclusive`` or ``shared``."""
    incarnation: str = ""


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


# -- records that cross modules ------------------------------------------------------------
# Stored sealed (cluster.integrity) in the session's keys; the store structures them on read,
# so the workspace, the inspector and the handlers share one shape. Field names on the wire
# and in Redis are the protocol's ("class", "event"); the attributes say what they are.


@attrs.define
class RegistryEntry:
    """A registered object: what a registry id (``r<n>``) names for the client."""

    value: Any
    """The object as the evaluator encodes it: ``{"ref": oid}`` or an immediate value."""
    class_name: str
    print_string: str
    registered_at: float


@attrs.define
class BindingSummary:
    """A workspace variable as a restore shows it without loading the heap."""

    value: Any
    class_name: str
    print_string: str


@attrs.define
class HistoryEntry:
    """One evaluation in the workspace's history."""

    code: str
    result: str
    has_error: bool
    at: float
    request_id: str
    seq: int = 0
    """Its place in the session's history (entries are stored in ``seq % limit`` slots)."""


@attrs.define
class WorkspaceRecord:
    """The stored workspace: the evaluator's own bindings record, summaries, history.

    ``history`` is stored apart (one slot per entry) and filled in when read; ``history_next``
    is the ``seq`` the next entry gets.
    """

    image: dict[str, Any] = attrs.field(factory=dict)
    history: list[HistoryEntry] = attrs.field(factory=list)
    bindings: dict[str, BindingSummary] = attrs.field(factory=dict)
    next_registry_id: int = 1
    history_next: int = 0


@attrs.define
class Inspector:
    """An open inspector: its root object, the path walked from it, the view."""

    inspector_id: str
    root: str
    path: list[Any] = attrs.field(factory=list)
    """Steps from the root: instance variable names or 1-based indexes."""
    selected_field: Any = None
    view: str = "raw"


@attrs.define
class InspectorState:
    """A session's open inspectors and the selected object (``inspector_state``)."""

    inspectors: dict[str, Inspector] = attrs.field(factory=dict)
    selected_object: str | None = None
    next_id: int = 1


@attrs.frozen
class SessionEvent:
    """An event of a session (transcript output...), ``seq`` given by its commit."""

    name: str
    data: dict[str, Any]
    seq: int = 0


def _renamed(cls: type, **renames: str) -> None:
    """Store ``cls`` with some attributes under their protocol names."""
    overrides: dict[str, Any] = {
        attr: cattrs.gen.override(rename=name) for attr, name in renames.items()
    }
    converter.register_unstructure_hook(
        cls, cattrs.gen.make_dict_unstructure_fn(cls, converter, **overrides)
    )
    converter.register_structure_hook(
        cls, cattrs.gen.make_dict_structure_fn(cls, converter, **overrides)
    )


_renamed(RegistryEntry, class_name="class")
_renamed(BindingSummary, class_name="class")
_renamed(SessionEvent, name="event")


def to_record(value: Any) -> Any:
    """A record as stored (plain JSON-able data)."""
    return converter.unstructure(value)


def from_record(raw: Any, cls: type[T], name: str) -> T:
    """Structure a stored record; :class:`CorruptRecord` naming ``name`` if it does not fit."""
    try:
        return converter.structure(raw, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CorruptRecord(f"stored record {name} is malformed ({exc.__class__.__name__})")
