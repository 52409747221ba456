"""The interpreter of one image: message sending, block activation, exceptions,
limits and the write barrier.

Compiled code (generated Python functions, see compiler.py) calls back into the
Interpreter for everything it does not do itself: sends that miss a class's method
cache, `signal`, checkpoints. One Interpreter belongs to one Image and is reused
across its evaluations; `begin` and `finish` bracket an evaluation (limits, undo
log, transcript).

Steps are counted down in `fuel`: every method and block activation and every
iteration of an inlined loop takes one, and when it runs out `checkpoint_now`
enforces the step limit and, every `checkpoint_every` steps, the time limit and the
interrupt, and lets the host run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from functools import partial
from typing import Any, Protocol

from . import equality
from .classes import SYSTEM_CLASSES as S
from .classes import global_named
from .errors import (
    HandlerUnwind,
    LimitExceeded,
    NonLocalReturn,
    Resumption,
    UnhandledError,
)
from .kernel import HEAP_TYPES, SMALL_MAX, SMALL_MIN, class_of, new_string
from .limits import Limits
from .objects import (
    Frame,
    HeapObject,
    Method,
    StBlock,
    StClass,
    StException,
    StExceptionSet,
    StMessage,
)
from .printing import display_string, print_string


class SupportsIsSet(Protocol):
    def is_set(self) -> bool: ...


MethodFn = Callable[["Interpreter", Any, tuple[Any, ...]], Any]


class CodeCompiler(Protocol):
    """What the interpreter and the primitives need of the compiler (compiler.py),
    which the Image plugs in: the runtime does not import the compiler."""

    def compile_method_source(self, method: Method) -> MethodFn: ...

    def compile_method(self, tree: Any, cls: StClass) -> MethodFn: ...

    def compile_block_source(
        self, source: str, captures: dict[str, tuple[int, int]], method_class: StClass | None
    ) -> Any: ...

    def forget(self) -> None: ...


CONTEXT = S["Context"]
_SMALL_INTEGER = S["SmallInteger"]
_MESSAGE = S["Message"]
_ERROR = S["Error"]
_EXCEPTION = S["Exception"]
_NOTIFICATION = S["Notification"]
_MNU = S["MessageNotUnderstood"]
_ZERO_DIVIDE = S["ZeroDivide"]
# Fuel is handed out in chunks of at most this many steps: counting down among
# CPython's cached small ints (-5 to 256), a step allocates no int object.
_FUEL_CHUNK = 250


class HandlerEntry:
    """An active `on:do:`: what it catches, its handler block, and whether it is
    disabled because its own handler (or one below it) is running."""

    __slots__ = ("block", "disabled", "selector")

    def __init__(self, selector: Any, block: Any) -> None:
        self.selector = selector
        self.block = block
        self.disabled = False


class Interpreter:
    compiler: CodeCompiler

    def __init__(
        self,
        workspace: dict[str, Any],
        classes: dict[str, StClass],
    ) -> None:
        self.workspace = workspace
        self.classes = classes
        # `hash_key(value, identity=False)`: the key of `value` in a Set or Dictionary
        # (a partial, not a method: one Python call less per hashed-collection access).
        self.hash_key: Callable[..., Any] = partial(equality.hash_key, self)
        self.limits = Limits()
        self.fuel = 0
        self.period = 0
        self.steps_before = 0
        self.checked_at = 0  # steps at the last full checkpoint
        # How many more activations may nest (max_depth less the depth): counting
        # down, an activation's check needs no second attribute.
        self.room = self.limits.max_depth
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
        self.steps_before = 0
        self.checked_at = 0
        self._refuel()
        self.room = limits.max_depth
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

    @property
    def steps(self) -> int:
        """Steps taken in this evaluation (activations and loop iterations)."""
        return self.steps_before + self.period - self.fuel

    def _refuel(self) -> None:
        """The next chunk of fuel: no more than the steps left, nor than the steps to
        the next full checkpoint."""
        limits = self.limits
        left = limits.max_steps - self.steps_before
        until = limits.checkpoint_every - (self.steps_before - self.checked_at)
        self.period = max(0, min(_FUEL_CHUNK, until, left))
        self.fuel = self.period

    def checkpoint_now(self) -> None:
        """Called when a chunk of fuel runs out: enforce the step limit; every
        `checkpoint_every` steps also time and interrupt, and let the host run (it
        releases the GIL there)."""
        limits = self.limits
        steps = self.steps
        self.steps_before = steps
        self.period = self.fuel = 0
        if steps > limits.max_steps:
            raise LimitExceeded("steps", f"ResourceLimit: more than {limits.max_steps} steps")
        if steps - self.checked_at > limits.checkpoint_every:
            self.checked_at = steps
            if self.interrupt is not None and self.interrupt.is_set():
                raise LimitExceeded("interrupted", "Timeout: evaluation interrupted")
            if time.monotonic() > self.deadline:
                raise LimitExceeded("time", f"Timeout: more than {limits.max_seconds} seconds")
            if self.checkpoint is not None:
                self.checkpoint()
        self._refuel()

    def tick(self, count: int = 1) -> None:
        self.fuel -= count
        if self.fuel < 0:
            self.checkpoint_now()

    def too_deep(self) -> None:
        raise LimitExceeded(
            "depth", f"ResourceLimit: more than {self.limits.max_depth} nested activations"
        )

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
        method = start.lookup(selector) if start is not None else None
        if method is None:
            return self.does_not_understand(rcv, selector, args)
        return self.method_fn(method)(self, rcv, args)

    def lookup_fn(self, cls: StClass, selector: str) -> MethodFn:
        method = cls.lookup(selector)
        fn: MethodFn
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

    def fill_inline_cache(
        self, namespace: dict[str, Any], site: int, cls: StClass, selector: str
    ) -> MethodFn:
        """A generated send missed its inline cache: look the method up and remember it
        with the class's cache dict (a new dict after any change, so a stale entry can
        never match): as C<site>/M<site> if it takes its arguments positionally (a
        generated method), else as D<site>/N<site>; the other entry stays. Answers
        the method as `fn(interp, receiver, args)`."""
        fn = cls.cache.get(selector) or self.lookup_fn(cls, selector)
        positional = getattr(fn, "positional", None)
        if positional is not None:
            namespace[f"C{site}"] = cls.cache
            namespace[f"M{site}"] = positional
            # (whether the site may pass its String literals shared: `borrows_strings`)
            namespace[f"L{site}"] = getattr(positional, "borrows_strings", False)
        else:
            namespace[f"D{site}"] = cls.cache
            namespace[f"N{site}"] = fn
        return fn

    def method_fn(self, method: Method) -> MethodFn:
        fn = method.fn
        if fn is None:
            fn = method.fn = self.compiler.compile_method_source(method)
        return fn

    def perform(self, rcv: Any, selector: Any, args: tuple[Any, ...]) -> Any:
        if type(selector) is not str:
            return self.error("Error", "selector must be a Symbol")
        if len(args) != _arity(selector):
            return self.error("Error", f"wrong number of arguments for #{selector}")
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
        return code.fn(blk, *args)

    def block_fn(self, blk: Any, nargs: int) -> Callable[..., Any]:
        """A Python callable running `blk` with `nargs` arguments, for primitives that
        evaluate one block many times (do:, collect:, inject:into: ...): the checks
        that do not change between iterations are made once, here."""
        if type(blk) is not StBlock or blk.code.nargs != nargs:
            return lambda *args: self.call_block(blk, args)
        return partial(blk.code.fn, blk)

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

    def as_bool(self, value: Any, fallback: bool) -> bool:
        """The receiver of an inlined conditional: a Boolean, or NonBooleanReceiver
        signalled and `fallback` (the branch is not taken)."""
        if value is True or value is False:
            return value
        self.non_boolean(value)
        return fallback

    def return_to(self, home: Frame | None, value: Any) -> Any:
        """`^value` inside a block: leave the home method (or doit), or signal
        BlockCannotReturn when it has already returned."""
        if home is None or not home.alive:
            return self.error("BlockCannotReturn", "BlockCannotReturn", result=value)
        raise NonLocalReturn(home, value)

    def to_do_values(self, start: Any, stop: Any, step: Any) -> Iterator[Any]:
        """The values of an inlined `to:do:` that is not over SmallIntegers."""
        if not (_is_num(start) and _is_num(stop)):
            self.send(stop if _is_num(start) else start, "adaptToNumber:andSend:", (start, "<="))
            return
        i = start
        while (i <= stop) if step > 0 else (i >= stop):
            yield i
            i = i + step

    def times_repeat_values(self, count: Any) -> Iterator[None]:
        """An inlined `timesRepeat:` whose receiver is not an Integer: a real send."""
        self.send(count, "timesRepeat:", (None,))
        return iter(())

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
        room = self.room
        try:
            return self.dispatch(exc, len(self.handlers) - 1)
        except Resumption as resumption:
            if resumption.token is token:
                self.room = room
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
        room = self.room
        try:
            return self.dispatch(exc, exc.handler_index - 1)
        except Resumption as resumption:
            if resumption.token is token:
                self.room = room
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
        room = self.room
        try:
            while True:
                try:
                    return self.call_block(protected, ())
                except HandlerUnwind as unwind:
                    if unwind.entry is not entry:
                        raise
                    self.room = room
                    if not unwind.retry:
                        return unwind.value
                    del handlers[index + 1 :]
                    entry.disabled = False
                    if unwind.value is not None:
                        protected = unwind.value
        finally:
            del handlers[index:]

    def ensure(self, body: Any, cleanup: Any) -> Any:
        room = self.room
        try:
            result = self.call_block(body, ())
        except LimitExceeded:
            raise
        except BaseException:
            self.room = room
            self.call_block(cleanup, ())
            raise
        self.call_block(cleanup, ())
        return result

    def if_curtailed(self, body: Any, cleanup: Any) -> Any:
        room = self.room
        try:
            return self.call_block(body, ())
        except LimitExceeded:
            raise
        except BaseException:
            self.room = room
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
        return print_string(self, value)

    def display_string(self, value: Any) -> str:
        return display_string(self, value)

    # ------------------------------------------------------------------ globals
    def global_value(self, name: str) -> Any:
        value = global_named(name)
        if value is not None:
            return value
        cls = self.classes.get(name)
        if cls is not None:
            return cls
        return self.workspace.get(name)

    def invalidate_caches(self) -> None:
        # New dicts, not cleared ones: inline caches compare the dict's identity.
        for cls in self.classes.values():
            cls.cache = {}
            if cls.cls is not None:
                cls.cls.cache = {}
        self.compiler.forget()


_VALUE_SELECTORS = [
    "value",
    "value:",
    "value:value:",
    "value:value:value:",
    "value:value:value:value:",
]


def _is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Fraction


def _arity(selector: str) -> int:
    if selector[:1].isalpha() or selector[:1] == "_":
        return selector.count(":")
    return 1
