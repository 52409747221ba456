"""A session's persistent workspace on a node: load, evaluate, commit, cache, collect.

The session's Smalltalk heap lives in Redis, one record per object. A node keeps the image of a
session it serves in a cache; the cache is never trusted blindly: every commit names the
version the image was loaded at, and a commit that finds the session moved on (another node
wrote) drops the cache, reloads and evaluates again (bounded). So a stale cache can cost a
re-evaluation, never a lost update.

One evaluation: run the evaluator in a worker thread (it releases the GIL at its checkpoints,
so this node keeps answering others), then commit in one transaction the objects it created or
changed, the workspace (bindings and their summaries, history), a registry entry for the result,
the transcript event, and the response under the request id. Only then answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import orjson
import trio

from cluster import keys
from cluster.errors import (
    CorruptRecord,
    EvaluationError,
    EvaluationTimeout,
    ObjectNotFound,
    ResourceLimit,
)
from cluster.model import (
    BindingSummary,
    HistoryEntry,
    InspectorState,
    RegistryEntry,
    SessionEvent,
    SessionMeta,
    WorkspaceRecord,
)
from cluster.store import Commit, Records

from .smalltalk import CorruptRecord as DamagedImage
from .smalltalk import Image, LimitExceeded, Limits, Outcome, SmalltalkSyntaxError

MAX_CODE_CHARS = 100_000


def _json_key(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@attrs.define
class Workspace:
    """The node's in-memory view of one session's workspace, at ``version``."""

    image: Image
    version: int
    registry: dict[str, RegistryEntry]
    history_next: int
    bindings: dict[str, BindingSummary]
    next_registry_id: int
    inspectors: InspectorState
    damaged: dict[str, str]
    objects_after_collect: int = 0
    by_value: dict[str, str] = attrs.field(factory=dict)  # registry index: value -> id
    unsaved_history: list[HistoryEntry] = attrs.field(factory=list)
    """History read in the first format, written with the next commit."""
    largest: int = 0
    """Elements (or characters) of the biggest object this workspace has held."""

    def registry_id_of(self, encoded: Any) -> str | None:
        """The registry id already given to this value, if it is still registered."""
        if not self.by_value and self.registry:
            self.by_value = {_json_key(e.value): rid for rid, e in self.registry.items()}
        key = _json_key(encoded)
        rid = self.by_value.get(key)
        if rid is not None and rid in self.registry:
            return rid
        return None

    @property
    def heap_size(self) -> int:
        return len(self.image.heap)

    def record(self) -> WorkspaceRecord:
        """The stored workspace record (its history is written entry by entry)."""
        return WorkspaceRecord(
            image=self.image.dump_workspace(),
            bindings=self.bindings,
            next_registry_id=self.next_registry_id,
            history_next=self.history_next,
        )

    def take_unsaved_history(self) -> tuple[HistoryEntry, ...]:
        """History still to write (read in the first format); handed out once: a commit that
        fails drops this workspace from the cache, so the reload has it again."""
        unsaved, self.unsaved_history = tuple(self.unsaved_history), []
        return unsaved

    def registry_roots(self) -> set[str]:
        roots = set()
        for entry in self.registry.values():
            value = entry.value
            if isinstance(value, dict) and "ref" in value:
                roots.add(str(value["ref"]))
        return roots


class ImageCache:
    """Workspaces of the sessions this node serves, least recently used dropped first.

    Bounded by a number of sessions and by a total number of heap objects (the memory that
    cached heaps take); a dropped workspace is simply loaded again from Redis when used.
    """

    def __init__(self, max_sessions: int, max_objects: int = 2_000_000) -> None:
        self.max_sessions = max_sessions
        self.max_objects = max_objects
        self.evictions = 0
        self.drops = 0  # images let go (evicted or dropped): their cycles need a collection
        self._entries: OrderedDict[str, tuple[Workspace, int]] = OrderedDict()
        self._objects = 0  # heap objects of the cached images, as of their last put

    def get(self, session_id: str) -> Workspace | None:
        cached = self._entries.get(session_id)
        if cached is None:
            return None
        self._entries.move_to_end(session_id)
        return cached[0]

    def objects(self) -> int:
        """Heap objects held by every cached workspace (counted when each was last put)."""
        return self._objects

    def put(self, session_id: str, entry: Workspace) -> None:
        """Cache ``entry`` (or note that it grew), then drop the least recently used.

        O(1) apart from the evictions: a node with thousands of cached sessions pays nothing
        per request for the bound."""
        size = entry.heap_size
        previous = self._entries.get(session_id)
        self._objects += size - (previous[1] if previous else 0)
        self._entries[session_id] = (entry, size)
        self._entries.move_to_end(session_id)
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_sessions or self._objects > self.max_objects
        ):
            _old, (_evicted, evicted_size) = self._entries.popitem(last=False)
            self._objects -= evicted_size
            self.evictions += 1
            self.drops += 1

    def drop(self, session_id: str) -> None:
        dropped = self._entries.pop(session_id, None)
        if dropped is not None:
            self._objects -= dropped[1]
            self.drops += 1

    def __len__(self) -> int:
        return len(self._entries)


def workspace_from(session_id: str, version: int, records: Records) -> Workspace:
    """A session's workspace from its stored records (two-phase heap load).

    Damaged object records become visible markers (:func:`damaged_placeholder`); a workspace
    record the image cannot load at all is :class:`CorruptRecord`.
    """
    record = records.workspace or WorkspaceRecord()
    objects = dict(records.objects)
    heap_key = keys.SessionKeys(session_id).heap
    for name, reason in records.damaged.items():
        key, _, oid = name.partition("#")
        if key == heap_key and oid:
            objects[oid] = damaged_placeholder(oid, reason)
    try:
        image = Image.load(objects, record.image) if record.image else Image.new()
    except DamagedImage as exc:
        raise CorruptRecord(
            f"session {session_id}: {exc}", details={"damaged": records.damaged}
        ) from None
    return Workspace(
        image=image,
        version=version,
        registry=dict(records.registry),
        history_next=record.history_next,
        bindings=dict(record.bindings),
        next_registry_id=record.next_registry_id,
        inspectors=records.inspectors or InspectorState(),
        damaged=dict(records.damaged),
        objects_after_collect=len(objects),
        unsaved_history=list(record.history) if records.workspace_moves else [],
        largest=max((record_size(r) for r in objects.values()), default=0),
    )


def record_size(record: dict[str, Any]) -> int:
    """Elements or characters of a stored object (its cost for a primitive that scans it)."""
    for part in ("items", "pairs", "counts", "slots", "chars", "vars"):
        value = record.get(part)
        if value:
            return len(value)
    return len(record.get("hex") or "") // 2


def damaged_placeholder(oid: str, reason: str) -> dict[str, Any]:
    """What a damaged object becomes in the image: a String saying so, under the same id.

    The objects that referred to it keep working (identity and the rest of the heap are
    intact); code that used it sees a clear marker instead of a crash. The original bytes stay
    in the quarantine; the next commit that changes this object overwrites the record.
    """
    return {
        "kind": "string",
        "class": {"global": "ByteString"},
        "chars": f"<damaged object {oid}: {reason}>",
    }


INLINE_STEPS = 2_000
"""Steps an evaluation may take inline, on the Trio thread, before it is rolled back and run
again in a worker thread (~1-2 ms of work)."""
INLINE_NEW_OBJECTS = 2_000
INLINE_STRING = 64 * 1024
SHORT_RUN = 0.001
"""A run this short marks its (session, code) as one to run inline next time."""
LARGE_OBJECT = 10_000
"""A session holding an object with this many elements or characters evaluates in a worker
thread only: one primitive scanning it could hold the event loop for too long."""


class Pacing:
    """Which evaluations run inline, without a worker thread.

    A worker thread costs the node ~350 µs of CPU per evaluation at 50 busy connections (the
    GIL changing hands with an event loop that never idles), several times a small
    evaluation's own cost. So a snippet that ran short before in the same session, in a
    session without large objects, runs inline under tight limits (:data:`INLINE_STEPS`
    steps, :data:`INLINE_NEW_OBJECTS` new objects, :data:`INLINE_STRING` characters); past
    them the image is rolled back (as for any limit) and the snippet runs again in a thread,
    and is not tried inline again. The first run of any snippet is in a thread.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._short: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.inline_runs = 0
        self.thread_runs = 0
        self.fallbacks = 0

    def inline(self, session_id: str, code: str, entry: Workspace) -> bool:
        key = (session_id, code)
        if key not in self._short or entry.largest >= LARGE_OBJECT:
            return False
        self._short.move_to_end(key)
        return True

    def ran(self, session_id: str, code: str, outcome: Outcome, entry: Workspace) -> None:
        """Remember whether ``code`` was short (by the evaluator's own count of steps and
        time, not the thread's round trip), and how big the session's objects have grown."""
        if outcome.changed:
            sizes = (record_size(record) for record in outcome.changed.values())
            entry.largest = max(entry.largest, *sizes)
        key = (session_id, code)
        if outcome.steps < INLINE_STEPS and outcome.elapsed < SHORT_RUN:
            self._short[key] = None
            self._short.move_to_end(key)
            while len(self._short) > self.capacity:
                self._short.popitem(last=False)
        else:
            self._short.pop(key, None)


async def run_evaluation(
    entry: Workspace,
    code: str,
    *,
    session_id: str,
    limits: Limits,
    interrupt: threading.Event,
    limiter: trio.CapacityLimiter,
    pacing: Pacing,
) -> tuple[Outcome, float]:
    """Evaluate ``code``: inline if :class:`Pacing` says it is short, else in a worker thread
    (so the node keeps answering others); the outcome and the seconds it ran. ``interrupt``
    stops a threaded run at its next checkpoint.

    Raises :class:`EvaluationError` (syntax), :class:`ResourceLimit` or
    :class:`EvaluationTimeout`; a cancelled wait interrupts the thread (the caller must drop
    the image: the thread may still be rolling it back).
    """
    if len(code) > MAX_CODE_CHARS:
        raise EvaluationError(f"code is longer than {MAX_CODE_CHARS} characters")
    if pacing.inline(session_id, code, entry):
        quick = attrs.evolve(
            limits,
            max_steps=min(limits.max_steps, INLINE_STEPS),
            max_objects=min(limits.max_objects, entry.heap_size + INLINE_NEW_OBJECTS),
            max_string=min(limits.max_string, INLINE_STRING),
        )
        started = time.perf_counter()
        try:
            with _evaluation_errors():
                outcome = entry.image.evaluate(code, limits=quick, interrupt=interrupt)
        except ResourceLimit as exc:
            if exc.details is None or exc.details.get("limit") == "depth":
                raise
            pacing.fallbacks += 1  # too big to run inline: rolled back, run it in a thread
        else:
            elapsed = time.perf_counter() - started
            pacing.inline_runs += 1
            pacing.ran(session_id, code, outcome, entry)
            return outcome, elapsed

    def work() -> Outcome:
        return entry.image.evaluate(
            code, limits=limits, interrupt=interrupt, checkpoint=_release_gil
        )

    started = time.perf_counter()
    try:
        with _evaluation_errors():
            outcome = await trio.to_thread.run_sync(work, limiter=limiter, abandon_on_cancel=True)
    except trio.Cancelled:
        interrupt.set()
        raise
    elapsed = time.perf_counter() - started
    pacing.thread_runs += 1
    pacing.ran(session_id, code, outcome, entry)
    return outcome, elapsed


@contextmanager
def _evaluation_errors() -> Iterator[None]:
    """The evaluator's errors as the protocol's."""
    try:
        yield
    except SmalltalkSyntaxError as exc:
        raise EvaluationError(
            f"syntax error at line {exc.line}, column {exc.column}: {exc.hint}",
            details={"line": exc.line, "column": exc.column, "hint": exc.hint},
        )
    except LimitExceeded as exc:
        details = {"limit": exc.kind}
        if exc.error_type == "Timeout":
            raise EvaluationTimeout(str(exc), details=details)
        raise ResourceLimit(str(exc), details=details)


def _release_gil() -> None:
    time.sleep(0)


def register(
    entry: Workspace, encoded: Any, class_name: str, print_string: str
) -> tuple[str, RegistryEntry]:
    """A registry id for ``encoded`` (the same object keeps its id and registration time)."""
    existing = entry.registry_id_of(encoded)
    record = RegistryEntry(
        value=encoded,
        class_name=class_name,
        print_string=clip(print_string),
        registered_at=time.time(),
    )
    if existing is not None:
        record.registered_at = entry.registry[existing].registered_at
        return existing, record
    rid = f"r{entry.next_registry_id}"
    entry.next_registry_id += 1
    entry.by_value[_json_key(encoded)] = rid
    return rid, record


PRINT_LIMIT = 500
"""printStrings kept in stored summaries (bindings, registry) are clipped to this length."""


def clip(text: str) -> str:
    return text if len(text) <= PRINT_LIMIT else text[: PRINT_LIMIT - 3] + "..."


def overflowing_registry(
    registry: dict[str, RegistryEntry], inspectors: InspectorState, limit: int
) -> list[str]:
    """Registry ids to release once ``registry`` holds over ``limit`` plus a tenth: the oldest,
    down to ``limit``, never an object an open inspector shows (its root or the selected
    object). Releasing a tenth at a time keeps the sort off most evaluations."""
    if len(registry) <= limit + limit // 10:
        return []
    pinned = {inspectors.selected_object}
    pinned.update(inspector.root for inspector in inspectors.inspectors.values())
    candidates = sorted(
        (r for r in registry if r not in pinned), key=lambda r: registry[r].registered_at
    )
    return candidates[: len(registry) - limit]


def summarize_bindings(entry: Workspace, outcome: Outcome) -> dict[str, BindingSummary]:
    """Class and printString of every binding that may have changed (for restore)."""
    bindings = entry.image.bindings()
    summaries: dict[str, BindingSummary] = {}
    for name, encoded in bindings.items():
        old = entry.bindings.get(name)
        ref = encoded.get("ref") if isinstance(encoded, dict) else None
        touched = ref is not None and str(ref) in outcome.changed
        if old is not None and old.value == encoded and not touched:
            summaries[name] = old
            continue
        class_name, print_string = entry.image.summarize(encoded)
        summaries[name] = BindingSummary(
            value=encoded, class_name=class_name, print_string=clip(print_string)
        )
    return summaries


def evaluation_commit(
    entry: Workspace,
    outcome: Outcome,
    *,
    session_id: str,
    code: str,
    request_id: str,
    elapsed: float,
    max_registry: int,
) -> Commit:
    """Apply an evaluation's outcome to ``entry`` (bindings, history, registry) and say what
    to commit: the changed objects, the workspace record, the result's registry entry, the
    transcript event and the response. If the commit fails, the caller drops ``entry``."""
    registry: dict[str, RegistryEntry] = {}
    object_id = None
    if not outcome.has_error:
        object_id, registry_entry = register(
            entry, outcome.result, outcome.class_name, outcome.print_string
        )
        registry[object_id] = registry_entry
    # Every result is registered; past the limit the oldest are released (bounded memory,
    # bounded restore), except what an open inspector shows.
    entry.registry.update(registry)
    released = overflowing_registry(entry.registry, entry.inspectors, max_registry)
    for rid in released:
        del entry.registry[rid]
    entry.bindings = summarize_bindings(entry, outcome)
    history = HistoryEntry(
        code=code[:2000],
        result=outcome.print_string[:2000],
        has_error=outcome.has_error,
        at=time.time(),
        request_id=request_id,
        seq=entry.history_next,
    )
    entry.history_next += 1
    response: dict[str, Any] = {
        "result": outcome.print_string,
        "result_type": outcome.class_name,
        "object_id": object_id,
        "execution_time": round(elapsed * 1000, 3),
        "has_error": outcome.has_error,
    }
    if outcome.has_error:
        response["error_class"] = outcome.error_class
        response["error_message"] = outcome.error_message
    if outcome.transcript:
        response["transcript"] = outcome.transcript
    if entry.damaged:
        response["damaged"] = entry.damaged  # records replaced by markers when loaded
    events: tuple[SessionEvent, ...] = ()
    if outcome.transcript:
        data = {"session_id": session_id, "text": outcome.transcript, "request_id": request_id}
        events = (SessionEvent(name="transcript", data=data),)

    def stored(meta: SessionMeta) -> dict[str, Any]:
        return {**response, "version": meta.version}

    return Commit(
        request_id=request_id,
        response=stored,
        objects=dict(outcome.changed),
        workspace=entry.record(),
        history=(*entry.take_unsaved_history(), history),
        registry=registry,
        deleted_registry=tuple(released),
        events=events,
    )


def wants_collection(entry: Workspace) -> bool:
    """Collect when the heap has doubled since the last collection (amortised O(1))."""
    return entry.heap_size >= max(2 * entry.objects_after_collect, 1000)


def garbage(entry: Workspace) -> list[str]:
    """Stored objects no binding, session class or registry entry can reach."""
    reachable = entry.image.reachable(entry.registry_roots())
    entry.objects_after_collect = len(reachable)
    return sorted(entry.image.object_ids() - reachable)


def collected(entry: Workspace, oids: list[str]) -> None:
    """The collection committed: forget the objects in the cached image too."""
    for oid in oids:
        entry.image.heap.pop(oid, None)


def resolve(entry: Workspace, object_id: str) -> RegistryEntry:
    """The registry entry of ``object_id``; ObjectNotFound if released or its object is gone."""
    record = entry.registry.get(object_id)
    if record is None:
        raise ObjectNotFound(f"object {object_id} is not in this session's registry")
    value = record.value
    if (
        isinstance(value, dict)
        and "ref" in value
        and str(value["ref"]) not in entry.image.heap
    ):
        raise ObjectNotFound(f"object {object_id} no longer exists (its record is missing)")
    return record
