"""The interpreter of one image: message sending, block activation, exceptions,
limits and the write barrier.

Compiled code (see compiler.py) is a tree of Python closures that call back into the
Interpreter for everything that is not inlined: `send`, `call_block`, `signal`.
One Interpreter belongs to one Image and is reused across its evaluations; `begin`
and `finish` bracket an evaluation (limits, undo log, transcript).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from . import equality
from .classes import SYSTEM_CLASSES as S
from .errors import (
    HandlerUnwind,
    LimitExceeded,
    NonLocalReturn,
    Resumption,
    UnhandledError,
)
from .kernel import SMALL_MAX, SMALL_MIN, class_of, new_string
from .limits import Limits
from .objects import (
    Frame,
    HeapObject,
    LightFrame,
    Method,
    StBlock,
    StClass,
    StException,
    StExceptionSet,
    StMessage,
)

if TYPE_CHECKING:
    from .compiler import Compiler


class SupportsIsSet(Protocol):
    def is_set(self) -> bool: ...


CONTEXT = S["Context"]
_SMALL_INTEGER = S["SmallInteger"]


def _all_subclasses(root: type) -> frozenset[type]:
    found: set[type] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return frozenset(found)


# Python types whose instances carry their Smalltalk class in `.cls`.
HEAP_TYPES = _all_subclasses(HeapObject)
_MESSAGE = S["Message"]
_ERROR = S["Error"]
_EXCEPTION = S["Exception"]
_NOTIFICATION = S["Notification"]
_MNU = S["MessageNotUnderstood"]
_ZERO_DIVIDE = S["ZeroDivide"]


class HandlerEntry:
    """An active `on:do:`: what it catches, its handler block, and whether it is
    disabled because its own handler (or one below it) is running."""

    __slots__ = ("block", "disabled", "selector")

    def __init__(self, selector: Any, block: Any) -> None:
        self.selector = selector
        self.block = block
        self.disabled = False


class Interpreter:
    def __init__(
        self,
        workspace: dict[str, Any],
        classes: dict[str, StClass],
    ) -> None:
        from .compiler import Compiler

        self.workspace = workspace
        self.classes = classes
        self.compiler: Compiler = Compiler(self)
        self.limits = Limits()
        self.steps = 0
        self.next_check = 0
        self.depth = 0
        self.max_depth = self.limits.max_depth
        self.deadline = 0.0
        self.started = 0.0
        self.interrupt: SupportsIsSet | None = None
        self.checkpoint: Callable[[], None] | None = None
        self.handlers: list[HandlerEntry] = []
        self.transcript: list[str] = []
        self.transcript_size = 0
        self.undo: dict[int, tuple[HeapObject, Any]] = {}
        self.workspace_changed = False
        self.active = False
        # Set by the Image: every object of the given classes it holds (used to
        # migrate instances when a session class changes shape).
        self.instances_of: Callable[[list[StClass]], list[HeapObject]] = lambda classes: []

    # ------------------------------------------------------------------ evaluation
    def begin(
        self,
        limits: Limits,
        interrupt: SupportsIsSet | None,
        checkpoint: Callable[[], None] | None,
    ) -> None:
        self.limits = limits
        self.max_depth = limits.max_depth
        self.steps = 0
        self.next_check = min(limits.checkpoint_every, limits.max_steps + 1)
        self.depth = 0
        self.started = time.monotonic()
        self.deadline = self.started + limits.max_seconds
        self.interrupt = interrupt
        self.checkpoint = checkpoint
        self.handlers = []
        self.transcript = []
        self.transcript_size = 0
        self.undo = {}
        self.workspace_changed = False
        self.active = True

    def finish(self) -> None:
        self.active = False
        self.handlers = []
        self.interrupt = None
        self.checkpoint = None

    def checkpoint_now(self) -> None:
        """Called every `checkpoint_every` steps: enforce steps, time and interrupt,
        then let the host run (it releases the GIL there)."""
        limits = self.limits
        if self.steps > limits.max_steps:
            raise LimitExceeded("steps", f"ResourceLimit: more than {limits.max_steps} steps")
        if self.interrupt is not None and self.interrupt.is_set():
            raise LimitExceeded("interrupted", "Timeout: evaluation interrupted")
        if time.monotonic() > self.deadline:
            raise LimitExceeded("time", f"Timeout: more than {limits.max_seconds} seconds")
        if self.checkpoint is not None:
            self.checkpoint()
        self.next_check = min(self.steps + limits.checkpoint_every, limits.max_steps + 1)

    def tick(self, count: int = 1) -> None:
        self.steps += count
        if self.steps >= self.next_check:
            self.checkpoint_now()

    # ------------------------------------------------------------------ write barrier
    def touch(self, obj: HeapObject) -> None:
        """Record `obj`'s state before its first change in this evaluation (undo log)
        and mark it changed. Only persisted objects (with an oid) need it: objects
        born in this evaluation vanish on rollback anyway."""
        if obj.oid is None:
            return
        key = id(obj)
        if key not in self.undo:
            self.undo[key] = (obj, obj.snapshot())

    def rollback(self) -> None:
        for obj, state in self.undo.values():
            obj.restore(state)
        self.undo = {}

    # ------------------------------------------------------------------ sending
    def send(self, rcv: Any, selector: str, args: tuple[Any, ...]) -> Any:
        steps = self.steps + 1
        self.steps = steps
        if steps >= self.next_check:
            self.checkpoint_now()
        t = type(rcv)
        if t is int and SMALL_MIN <= rcv <= SMALL_MAX:
            cls = _SMALL_INTEGER
        elif t in HEAP_TYPES:
            cls = rcv.cls
        else:
            cls = class_of(rcv)
        fn = cls.cache.get(selector)
        if fn is None:
            fn = self.lookup_fn(cls, selector)
        return fn(self, rcv, args)

    def super_send(
        self, start: StClass | None, rcv: Any, selector: str, args: tuple[Any, ...]
    ) -> Any:
        self.tick()
        method = start.lookup(selector) if start is not None else None
        if method is None:
            return self.does_not_understand(rcv, selector, args)
        return self.method_fn(method)(self, rcv, args)

    def lookup_fn(
        self, cls: StClass, selector: str
    ) -> Callable[[Interpreter, Any, tuple[Any, ...]], Any]:
        method = cls.lookup(selector)
        fn: Callable[[Interpreter, Any, tuple[Any, ...]], Any]
        if method is None:

            def dnu(interp: Interpreter, rcv: Any, args: tuple[Any, ...]) -> Any:
                return interp.does_not_understand(rcv, selector, args)

            fn = dnu
        else:
            fn = self.method_fn(method)
        # System classes only ever see system methods, so their caches are shared
        # safely by every image; session classes are invalidated on change.
        cls.cache[selector] = fn
        return fn

    def method_fn(self, method: Method) -> Callable[[Interpreter, Any, tuple[Any, ...]], Any]:
        fn = method.fn
        if fn is None:
            fn = method.fn = self.compiler.compile_method_source(method)
        return fn

    def perform(self, rcv: Any, selector: Any, args: tuple[Any, ...]) -> Any:
        if type(selector) is not str:
            return self.error("Error", "selector must be a Symbol")
        return self.send(rcv, selector, args)

    def responds_to(self, rcv: Any, selector: str) -> bool:
        return class_of(rcv).lookup(selector) is not None

    def user_method(self, value: Any, selector: str) -> Method | None:
        """The Smalltalk-defined (non-primitive) method `value` runs for `selector`."""
        method = class_of(value).lookup(selector)
        if method is not None and not method.primitive:
            return method
        return None

    def defines_equality(self, value: Any) -> bool:
        return self.user_method(value, "=") is not None

    def equal(self, a: Any, b: Any) -> bool:
        if isinstance(a, HeapObject) and self.user_method(a, "=") is not None:
            return self.send(a, "=", (b,)) is True
        return equality.equal(self, a, b)

    def hash_key(self, value: Any, identity: bool = False) -> Any:
        return equality.hash_key(self, value, identity)

    # ------------------------------------------------------------------ blocks
    def call_block(self, blk: Any, args: tuple[Any, ...]) -> Any:
        if type(blk) is not StBlock:
            return self.send(
                blk,
                _VALUE_SELECTORS[len(args)] if len(args) < 5 else "valueWithArguments:",
                args if len(args) < 5 else (args,),
            )
        code = blk.code
        if len(args) != code.nargs:
            return self.wrong_arg_count(blk, len(args))
        steps = self.steps + 1
        self.steps = steps
        if steps >= self.next_check:
            self.checkpoint_now()
        depth = self.depth + 1
        if depth > self.max_depth:
            raise LimitExceeded(
                "depth", f"ResourceLimit: more than {self.max_depth} nested activations"
            )
        self.depth = depth
        if code.light:
            light = LightFrame()
            light.vars = [*args, *code.temps_init] if code.ntemps else list(args)
            light.rcv = blk.rcv
            light.outer = blk.outer
            result = code.body(light)
            self.depth = depth - 1
            return result
        frame = Frame(CONTEXT, [*args, *code.temps_init], blk.rcv, blk.outer, code.names)
        frame.home = blk.home
        try:
            return code.body(frame)
        finally:
            self.depth = depth - 1

    def block_fn(self, blk: Any, nargs: int) -> Callable[..., Any]:
        """A Python callable running `blk` with `nargs` arguments, for primitives that
        evaluate one block many times (do:, collect:, inject:into: ...): the checks
        that do not change between iterations are made once, here."""
        if type(blk) is not StBlock or blk.code.nargs != nargs or not blk.code.light:
            return lambda *args: self.call_block(blk, args)
        code = blk.code
        body = code.body
        rcv = blk.rcv
        outer = blk.outer
        temps = code.temps_init
        interp = self

        def run(*args: Any) -> Any:
            steps = interp.steps + 1
            interp.steps = steps
            if steps >= interp.next_check:
                interp.checkpoint_now()
            depth = interp.depth + 1
            if depth > interp.max_depth:
                raise LimitExceeded(
                    "depth", f"ResourceLimit: more than {interp.max_depth} nested activations"
                )
            interp.depth = depth
            frame = LightFrame()
            frame.vars = [*args, *temps] if temps else list(args)
            frame.rcv = rcv
            frame.outer = outer
            result = body(frame)
            interp.depth = depth - 1
            return result

        return run

    def call_block_flexible(self, blk: Any, args: tuple[Any, ...]) -> Any:
        """`valueWithPossibleArgs:`: pass as many of `args` as the block takes."""
        if type(blk) is StBlock:
            n = blk.code.nargs
            if n <= len(args):
                return self.call_block(blk, args[:n])
            return self.call_block(blk, args + (None,) * (n - len(args)))
        return self.call_block(blk, args[:1] if args else ())

    def wrong_arg_count(self, blk: StBlock, given: int) -> Any:
        expected = blk.code.nargs
        text = (
            f"This block accepts {expected} argument{'' if expected == 1 else 's'}, "
            f"but was called with {given} argument{'' if given == 1 else 's'}."
        )
        return self.error("ArgumentsCountMismatch", text)

    def non_boolean(self, value: Any) -> Any:
        """An inlined ifTrue:/whileTrue:/and: got a non-Boolean receiver."""
        return self.error("NonBooleanReceiver", "proceed for truth.", object=value)

    def non_local_return(self, frame: Frame, value: Any) -> Any:
        home = frame.home
        if home is None or not home.alive:
            return self.error("BlockCannotReturn", "BlockCannotReturn", result=value)
        raise NonLocalReturn(home, value)

    # ------------------------------------------------------------------ exceptions
    def new_exception(self, cls: StClass, text: str | None = None, **fields: Any) -> StException:
        exc = StException(cls)
        if text is not None:
            exc.slots[0] = new_string(text)
        for name, value in fields.items():
            exc.slots[cls.ivars.index(name)] = value
        return exc

    def error(self, class_name: str, text: str | None = None, **fields: Any) -> Any:
        """Signal a system exception; answers the resumption value if resumed."""
        cls = S[class_name]
        return self.signal(self.new_exception(cls, text, **fields))

    def error_in_class(self, cls: StClass, text: str | None = None) -> Any:
        return self.signal(self.new_exception(cls, text))

    def does_not_understand(self, rcv: Any, selector: str, args: tuple[Any, ...]) -> Any:
        message = StMessage(_MESSAGE, selector, list(args))
        override = self.user_method(rcv, "doesNotUnderstand:")
        if override is not None:
            return self.method_fn(override)(self, rcv, (message,))
        exc = self.new_exception(_MNU, None, message=message, receiver=rcv)
        return self.signal(exc)

    def signal(self, exc: Any) -> Any:
        if not isinstance(exc, StException):
            return self.error("Error", "only Exceptions can be signaled")
        token = object()
        exc.tokens.append(token)
        depth = self.depth
        try:
            return self.dispatch(exc, len(self.handlers) - 1)
        except Resumption as resumption:
            if resumption.token is token:
                self.depth = depth
                return resumption.value
            raise
        finally:
            exc.tokens.remove(token)

    def dispatch(self, exc: StException, start: int) -> Any:
        handlers = self.handlers
        for index in range(min(start, len(handlers) - 1), -1, -1):
            entry = handlers[index]
            if entry.disabled:
                continue
            if self.handles(entry.selector, exc):
                return self.run_handler(exc, entry, index)
        return self.default_action(exc)

    def handles(self, selector: Any, exc: StException) -> bool:
        if isinstance(selector, StClass):
            return exc.cls.inherits_from(selector)
        if isinstance(selector, StExceptionSet):
            return any(self.handles(member, exc) for member in selector.members)
        if selector is None:
            return False
        return self.send(selector, "handles:", (exc,)) is True

    def run_handler(self, exc: StException, entry: HandlerEntry, index: int) -> Any:
        above = self.handlers[index:]
        flags = [h.disabled for h in above]
        for h in above:
            h.disabled = True
        previous = (exc.handler, exc.handler_index)
        exc.handler, exc.handler_index = entry, index
        try:
            value = self.call_block_flexible(entry.block, (exc,))
        finally:
            for h, flag in zip(above, flags, strict=True):
                h.disabled = flag
            exc.handler, exc.handler_index = previous
        raise HandlerUnwind(entry, value)

    def default_action(self, exc: StException) -> Any:
        override = self.user_method(exc, "defaultAction")
        if override is not None:
            return self.method_fn(override)(self, exc, ())
        if exc.cls.inherits_from(_NOTIFICATION):
            return None
        raise UnhandledError(exc)

    def is_resumable(self, exc: StException) -> bool:
        override = self.user_method(exc, "isResumable")
        if override is not None:
            return self.method_fn(override)(self, exc, ()) is True
        cls = exc.cls
        if cls.inherits_from(_MNU) or cls.inherits_from(S["ArithmeticError"]):
            return True
        return not cls.inherits_from(_ERROR)

    def resume(self, exc: StException, value: Any) -> Any:
        if not exc.tokens:
            return self.error("IllegalResumeAttempt", "resume: outside of a handler")
        if not self.is_resumable(exc):
            return self.error("IllegalResumeAttempt", "IllegalResumeAttempt")
        raise Resumption(exc.tokens[-1], value)

    def pass_(self, exc: StException) -> Any:
        if exc.handler is None:
            return self.signal(exc)
        return self.dispatch(exc, exc.handler_index - 1)

    def outer(self, exc: StException) -> Any:
        if exc.handler is None:
            return self.signal(exc)
        token = object()
        exc.tokens.append(token)
        depth = self.depth
        try:
            return self.dispatch(exc, exc.handler_index - 1)
        except Resumption as resumption:
            if resumption.token is token:
                self.depth = depth
                return resumption.value
            raise
        finally:
            exc.tokens.remove(token)

    def unwind_handler(self, exc: StException, value: Any, retry: bool = False) -> Any:
        if exc.handler is None:
            return self.error("Error", "the exception is not being handled")
        raise HandlerUnwind(exc.handler, value, retry)

    def on_do(self, protected: Any, selector: Any, handler: Any) -> Any:
        entry = HandlerEntry(selector, handler)
        handlers = self.handlers
        handlers.append(entry)
        index = len(handlers) - 1
        depth = self.depth
        try:
            while True:
                try:
                    return self.call_block(protected, ())
                except HandlerUnwind as unwind:
                    if unwind.entry is not entry:
                        raise
                    self.depth = depth
                    if not unwind.retry:
                        return unwind.value
                    del handlers[index + 1 :]
                    entry.disabled = False
                    if unwind.value is not None:
                        protected = unwind.value
        finally:
            del handlers[index:]

    def ensure(self, body: Any, cleanup: Any) -> Any:
        depth = self.depth
        try:
            result = self.call_block(body, ())
        except LimitExceeded:
            raise
        except BaseException:
            self.depth = depth
            self.call_block(cleanup, ())
            raise
        self.call_block(cleanup, ())
        return result

    def if_curtailed(self, body: Any, cleanup: Any) -> Any:
        depth = self.depth
        try:
            return self.call_block(body, ())
        except LimitExceeded:
            raise
        except BaseException:
            self.depth = depth
            self.call_block(cleanup, ())
            raise

    # ------------------------------------------------------------------ transcript
    def show(self, text: str) -> None:
        self.transcript_size += len(text)
        if self.transcript_size > self.limits.max_string:
            raise LimitExceeded("string", "ResourceLimit: transcript too long")
        self.transcript.append(text)

    # ------------------------------------------------------------------ printing
    def print_string(self, value: Any) -> str:
        from .printing import print_string

        return print_string(self, value)

    def display_string(self, value: Any) -> str:
        from .printing import display_string

        return display_string(self, value)

    # ------------------------------------------------------------------ globals
    def global_value(self, name: str) -> Any:
        from .classes import global_named

        value = global_named(name)
        if value is not None:
            return value
        cls = self.classes.get(name)
        if cls is not None:
            return cls
        return self.workspace.get(name)

    def invalidate_caches(self) -> None:
        for cls in self.classes.values():
            cls.cache.clear()
            if cls.cls is not None:
                cls.cls.cache.clear()


_VALUE_SELECTORS = [
    "value",
    "value:",
    "value:value:",
    "value:value:value:",
    "value:value:value:value:",
]


def make_frame(
    cls: StClass, vars_: list[Any], rcv: Any, outer: Frame | None, names: tuple[str, ...]
) -> Frame:
    return Frame(cls, vars_, rcv, outer, names)
