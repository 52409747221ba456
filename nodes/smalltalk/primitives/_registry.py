"""The registration decorator and the one-time installation into system classes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..classes import SYSTEM_CLASSES
from ..objects import Method

PrimitiveFn = Callable[[Any, Any, tuple[Any, ...]], Any]
Positional = TypeVar("Positional", bound=Callable[..., Any])

_PENDING: list[tuple[str, tuple[str, ...], PrimitiveFn]] = []

# Primitives the code generator also writes inline, with their literal block's body
# (codegen `_Function.block_message`): kind -> the primitive functions of that kind. A
# send site runs the inline code only when the receiver's method is one of them, so
# the inline code and the primitive must do the same thing: keep them in step.
INLINED: dict[str, list[PrimitiveFn]] = {}
_LOCK = threading.Lock()
_INSTALLED = False


def primitive(class_name: str, *selectors: str) -> Callable[[PrimitiveFn], PrimitiveFn]:
    """Register `fn` as `class_name>>selector` for each selector ("Foo class" for the
    class side)."""

    def register(fn: PrimitiveFn) -> PrimitiveFn:
        _PENDING.append((class_name, selectors, fn))
        return fn

    return register


def positional_primitive(
    class_name: str, *selectors: str
) -> Callable[[Positional], Positional]:
    """Register `fn(it, rcv, arg1, ...)`, a primitive that takes its arguments one by
    one, as `class_name>>selector`. Generated send sites call it so (their inline
    caches keep methods that have a `positional` entry, as generated methods do): no
    argument tuple to build and unpack. Every other caller (Interpreter.send, perform:)
    reaches it through a `fn(it, rcv, args)` entry. For the primitives sent most."""

    def register(fn: Positional) -> Positional:
        _PENDING.append((class_name, selectors, _tuple_entry(fn)))
        return fn

    return register


def _tuple_entry(fn: Callable[..., Any]) -> PrimitiveFn:
    """`fn(it, rcv, *args)` as the `fn(it, rcv, args)` every method has."""

    def entry(it: Any, rcv: Any, args: tuple[Any, ...]) -> Any:
        return fn(it, rcv, *args)

    entry.positional = fn  # type: ignore[attr-defined]
    entry.__name__ = entry.__qualname__ = fn.__name__
    return entry


def borrows_strings(fn: Positional) -> Positional:
    """Mark a positional primitive that only reads the characters of its String
    arguments: it never stores one, changes one, sends to one or puts one in an error,
    and answers either a new object or (as `nextPutAll:` does) one of its arguments.
    A send site whose cached method is such a primitive passes a String literal argument
    as a per-site shared object instead of a fresh copy (codegen `plain_send`), and
    swaps a fresh copy in if the primitive answered it: nothing can tell the two apart.
    Only for primitives installed in system classes (a session cannot change those)."""
    fn.borrows_strings = True  # type: ignore[attr-defined]
    return fn


def inlined(kind: str) -> Callable[[PrimitiveFn], PrimitiveFn]:
    """Mark `fn` as a primitive the code generator writes inline as `kind`: "do",
    "collect", "interval_collect", "select", "reject", "inject", "detect" (loops),
    "at_if_absent", "at_if_absent_put" (Dictionary lookups)."""

    def register(fn: PrimitiveFn) -> PrimitiveFn:
        INLINED.setdefault(kind, []).append(fn)
        return fn

    return register


def install() -> None:
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        from . import (  # noqa: F401  (imported for their registrations)
            association,
            behavior,
            blocks,
            bytearray,
            characters,
            collection,
            dates,
            dictionary,
            durations,
            exceptions,
            floats,
            fraction,
            hashed,
            integers,
            interval,
            numbers,
            objects,
            ordered,
            point,
            scaled,
            sequenceable,
            streams,
            string_search,
            strings,
            subsequences,
            symbols,
        )

        for class_name, selectors, fn in _PENDING:
            meta = class_name.endswith(" class")
            cls = SYSTEM_CLASSES[class_name.removesuffix(" class")]
            target = cls.cls if meta else cls
            for selector in selectors:
                target.methods[selector] = Method(selector, target, fn=fn)
        installed = {id(fn) for _name, _selectors, fn in _PENDING}
        # A send site recognizes an inlined primitive by the method it installs.
        assert all(id(fn) in installed for fns in INLINED.values() for fn in fns)
        _INSTALLED = True
