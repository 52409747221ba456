"""Image: one session's object world, and the evaluator's public entry point.

An evaluation runs a snippet under Limits; if it succeeds, `commit` gives ids to
the new objects that became reachable (from the workspace, the result, or objects
the evaluation changed) and reports them with every changed object as records.
If it fails (unhandled error, limit, interrupt) the undo log restores every object
it touched and the workspace and class table are put back: nothing changed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .compiler import Compiler
from .describing import Description, describe
from .errors import (
    ControlFlow,
    CorruptRecord,
    LimitExceeded,
    UnhandledError,
)
from .kernel import class_of
from .limits import Limits, end_budget, start_budget
from .objects import HeapObject, StClass, StException, WellKnown
from .primitives import install
from .printing import exception_description, exception_message_text, native_print_string
from .records import FORMAT_VERSION, Loader, decode_with, encode, to_record
from .runtime import Interpreter, SupportsIsSet


@attrs.frozen
class Outcome:
    print_string: str
    class_name: str
    result: Any
    result_id: str | None
    has_error: bool
    error_class: str | None
    error_message: str | None
    transcript: str
    changed: dict[str, dict[str, Any]]
    workspace_changed: bool
    steps: int
    elapsed: float


# Python frames per Smalltalk activation, generously (send, method body,
# statement, argument expressions ...). Kept modest on purpose: recursion the
# depth limit does not bound (printing or comparing deeply nested collections)
# must end in RecursionError, caught below, long before the C stack runs out.
_FRAMES_PER_ACTIVATION = 15
_DEFAULT_LIMITS = Limits()
_LOAD_LIMITS = Limits(max_steps=10_000_000, max_seconds=60.0)
_SANDBOX = Limits(max_steps=200_000, max_seconds=2.0, max_depth=200)


class Image:
    """One session's object world: heap (id -> object), workspace bindings, session
    classes. Not thread-safe: the host evaluates one snippet at a time per image."""

    def __init__(self) -> None:
        install()
        self.heap: dict[str, HeapObject] = {}
        self.workspace: dict[str, Any] = {}
        self.classes: dict[str, StClass] = {}
        self.next_id = 1
        self.interp = Interpreter(self.workspace, self.classes)
        self.compiler = Compiler(self.interp)
        self.interp.compiler = self.compiler
        self.interp.instances_of = self._instances_of

    @classmethod
    def new(cls) -> Image:
        return cls()

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, records: Mapping[str, Mapping[str, Any]], workspace: Mapping[str, Any]) -> Image:
        """Two-phase: allocate every object, then fill references (identity and
        cycles survive). Raises CorruptRecord(oid, reason) for a record it cannot read."""
        image = cls()
        loader = Loader(image.interp, records)
        # Hashing keys of classes that define `=`/`hash` in Smalltalk runs code:
        # give it an evaluation context with bounded limits.
        image.interp.begin(_LOAD_LIMITS, None, None)
        try:
            image.heap.update(loader.load())
        except (LimitExceeded, ControlFlow, RecursionError) as err:
            raise CorruptRecord(
                "?", f"running Smalltalk code while loading failed: {err!r}"
            ) from None
        finally:
            image.interp.finish()
        try:
            for name, oid in dict(workspace.get("classes", {})).items():
                cls_obj = image.heap[str(oid)]
                if not isinstance(cls_obj, StClass):
                    raise CorruptRecord(str(oid), f"{name} is not a class record")
                image.classes[str(name)] = cls_obj
            for name, value in dict(workspace.get("bindings", {})).items():
                image.workspace[str(name)] = decode_with(value, loader.resolve)
            image.next_id = int(workspace.get("next_id", 1))
        except (KeyError, ValueError, TypeError) as err:
            raise CorruptRecord("workspace", str(err)) from None
        highest = max((int(oid) for oid in image.heap if oid.isdigit()), default=0)
        image.next_id = max(image.next_id, highest + 1)
        return image

    # ------------------------------------------------------------------ evaluating
    def evaluate(
        self,
        code: str,
        *,
        limits: Limits = _DEFAULT_LIMITS,
        interrupt: SupportsIsSet | None = None,
        checkpoint: Callable[[], None] | None = None,
    ) -> Outcome:
        """Run a workspace snippet. Unhandled Smalltalk errors -> Outcome(has_error=True)
        with the image rolled back. Raises LimitExceeded (image rolled back) and
        SmalltalkSyntaxError (image untouched)."""
        interp = self.interp
        doit = self.compiler.compile_doit(code)
        started = time.monotonic()
        workspace_before = dict(self.workspace)
        classes_before = dict(self.classes)
        interp.begin(limits, interrupt, checkpoint)
        start_budget(limits.max_objects - len(self.heap), limits.max_string)
        needed = limits.max_depth * _FRAMES_PER_ACTIVATION + 3_000
        if sys.getrecursionlimit() < needed:
            sys.setrecursionlimit(needed)
        try:
            try:
                value = doit.run(interp)
                print_string = interp.print_string(value)
                class_name = class_of(value).name
            except UnhandledError as unhandled:
                outcome = self._error_outcome(unhandled.exception, started)
                self._rollback(workspace_before, classes_before)
                return outcome
            except LimitExceeded:
                self._rollback(workspace_before, classes_before)
                raise
            except RecursionError:
                self._rollback(workspace_before, classes_before)
                raise LimitExceeded("depth", "ResourceLimit: recursion too deep") from None
            except ControlFlow as stray:
                self._rollback(workspace_before, classes_before)
                return self._internal_error_outcome(f"{type(stray).__name__} escaped", started)
            changed = self._commit(value, workspace_before, classes_before)
            result = encode(value)
            return Outcome(
                print_string=print_string,
                class_name=class_name,
                result=result,
                result_id=value.oid
                if isinstance(value, HeapObject) and not _is_global(value)
                else None,
                has_error=False,
                error_class=None,
                error_message=None,
                transcript="".join(interp.transcript),
                changed=changed,
                workspace_changed=interp.workspace_changed,
                steps=interp.steps,
                elapsed=time.monotonic() - started,
            )
        finally:
            end_budget()
            interp.finish()

    def _error_outcome(self, exc: StException, started: float) -> Outcome:
        interp = self.interp
        try:
            description = exception_description(interp, exc)
            text_value = interp.send(exc, "messageText", ())
            message = interp.display_string(text_value) if text_value is not None else ""
        except (LimitExceeded, RecursionError, ControlFlow):
            interp.active = False
            description = exception_description(interp, exc)
            message = exception_message_text(interp, exc)
        if not message:
            message = description
        return Outcome(
            print_string=description,
            class_name=exc.cls.name,
            result=None,
            result_id=None,
            has_error=True,
            error_class=exc.cls.name,
            error_message=message,
            transcript="".join(interp.transcript),
            changed={},
            workspace_changed=False,
            steps=interp.steps,
            elapsed=time.monotonic() - started,
        )

    def _internal_error_outcome(self, text: str, started: float) -> Outcome:
        return Outcome(
            print_string=f"Error: {text}",
            class_name="Error",
            result=None,
            result_id=None,
            has_error=True,
            error_class="Error",
            error_message=text,
            transcript="".join(self.interp.transcript),
            changed={},
            workspace_changed=False,
            steps=self.interp.steps,
            elapsed=time.monotonic() - started,
        )

    def _rollback(
        self, workspace_before: dict[str, Any], classes_before: dict[str, StClass]
    ) -> None:
        self.interp.rollback()
        self.workspace.clear()
        self.workspace.update(workspace_before)
        self.classes.clear()
        self.classes.update(classes_before)
        self.interp.invalidate_caches()
        self.interp.workspace_changed = False

    def _commit(
        self,
        result: Any,
        workspace_before: dict[str, Any],
        classes_before: dict[str, StClass],
    ) -> dict[str, dict[str, Any]]:
        """Give ids to new objects reachable from the workspace, the result or the
        objects this evaluation changed; answer the records of all of them."""
        interp = self.interp
        dirty = [obj for obj, _state in interp.undo.values()]
        interp.undo = {}
        start_id = self.next_id
        fresh: list[HeapObject] = []
        stack: list[Any] = [result]
        stack.extend(self.workspace.values())
        stack.extend(self.classes.values())
        for obj in dirty:
            stack.extend(obj.refs())
        while stack:
            value = stack.pop()
            if not isinstance(value, HeapObject) or value.oid is not None or _is_global(value):
                continue
            if isinstance(value, StClass) and value.is_meta:
                continue
            value.oid = str(self.next_id)
            self.next_id += 1
            self.heap[value.oid] = value
            fresh.append(value)
            stack.extend(value.refs())
        self._ids_moved = self.next_id != start_id
        if (
            self._ids_moved
            or self.workspace.keys() != workspace_before.keys()
            or self.classes != classes_before
        ):
            interp.workspace_changed = True
        changed: dict[str, dict[str, Any]] = {}
        for obj in fresh + dirty:
            if obj.oid is not None and obj.oid in self.heap:
                changed[obj.oid] = to_record(obj)
        return changed

    _ids_moved = False

    def _instances_of(self, classes: list[StClass]) -> list[HeapObject]:
        wanted = {id(c) for c in classes}
        return [
            obj
            for obj in self.heap.values()
            if id(obj.cls) in wanted and not isinstance(obj, StClass)
        ]

    # ------------------------------------------------------------------ persistence
    def dump_workspace(self) -> dict[str, Any]:
        """JSON-able: bindings, session class ids, next id, format version."""
        return {
            "version": FORMAT_VERSION,
            "bindings": {name: encode(value) for name, value in self.workspace.items()},
            "classes": {name: cls.oid for name, cls in self.classes.items()},
            "next_id": self.next_id,
        }

    def dump_object(self, oid: str) -> dict[str, Any]:
        return to_record(self.heap[oid])

    def object_ids(self) -> set[str]:
        return set(self.heap)

    def reachable(self, roots: Iterable[str]) -> set[str]:
        """Ids reachable from the workspace bindings, the session classes and `roots`."""
        seen: set[str] = set()
        stack: list[Any] = list(self.workspace.values()) + list(self.classes.values())
        stack.extend(self.heap[oid] for oid in roots if oid in self.heap)
        while stack:
            value = stack.pop()
            if not isinstance(value, HeapObject) or value.oid is None or value.oid in seen:
                continue
            seen.add(value.oid)
            stack.extend(value.refs())
        return seen

    def bindings(self) -> dict[str, Any]:
        """The workspace bindings, encoded (the "bindings" of `dump_workspace`)."""
        return {name: encode(value) for name, value in self.workspace.items()}

    def summarize(self, encoded: Any) -> tuple[str, str]:
        """(class name, printString) of an encoded value, computed like `describe`
        (sandboxed: never changes the image)."""
        value = self.decode(encoded)
        return class_of(value).name, self.sandboxed_print(value)

    def encode(self, value: Any) -> Any:
        return encode(value)

    def decode(self, encoded: Any) -> Any:
        def resolve(oid: str) -> HeapObject:
            return self.heap[oid]

        return decode_with(encoded, resolve)

    # ------------------------------------------------------------------ inspecting
    def describe(self, value_or_oid: Any, *, offset: int = 0, limit: int = 100) -> Description:
        """What an inspector shows of a value (or of the heap object with that id)."""
        value = value_or_oid
        if isinstance(value_or_oid, str) and value_or_oid in self.heap:
            value = self.heap[value_or_oid]
        return describe(value, offset, limit, self.sandboxed_print)

    def sandboxed_print(self, value: Any) -> str:
        """printString run under small limits and rolled back (describe must not
        change the image even when a printOn: override has side effects)."""
        interp = self.interp
        if interp.active:
            return interp.print_string(value)
        workspace_before = dict(self.workspace)
        classes_before = dict(self.classes)
        interp.begin(_SANDBOX, None, None)
        start_budget(_SANDBOX.max_objects, _SANDBOX.max_string)
        try:
            return interp.print_string(value)
        except (LimitExceeded, RecursionError, ControlFlow, ValueError, TypeError):
            interp.active = False
            return native_print_string(interp, value)
        finally:
            self._rollback(workspace_before, classes_before)
            end_budget()
            interp.finish()


def _is_global(value: Any) -> bool:
    return isinstance(value, WellKnown) or (isinstance(value, StClass) and value.system)
