"""The registration decorator and the one-time installation into system classes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..classes import SYSTEM_CLASSES
from ..objects import Char, Method, StStream, StString

PrimitiveFn = Callable[[Any, Any, tuple[Any, ...]], Any]
Positional = TypeVar("Positional", bound=Callable[..., Any])

_PENDING: list[tuple[str, tuple[str, ...], PrimitiveFn]] = []

# Primitives the code generator also writes inline, with their literal block's body
# (codegen `_Function.block_message`): kind -> the primitive functions of that kind. A
# send site runs the inline code only when the receiver's method is one of them, so
# the inline code and the primitive must do the same thing: keep them in step.
INLINED: dict[str, list[PrimitiveFn]] = {}

# A usual case's receiver: the Python type and the system class (None: any) a send
# site tests for, and every system class such a receiver can be an instance of (each
# must find this primitive for the selector: `install` checks).
RECEIVERS: dict[str, tuple[type, str | None, tuple[str, ...]]] = {
    "ByteString": (StString, "ByteString", ("ByteString",)),
    "Integer": (int, None, ("SmallInteger", "LargePositiveInteger", "LargeNegativeInteger")),
    "WriteStream": (StStream, "WriteStream", ("WriteStream",)),
}
# A usual case's argument: the Python type a send site tests for (None: any value).
ARGUMENTS: dict[str, type | None] = {"String": StString, "Character": Char, "any": None}


@dataclass(frozen=True)
class UsualCase:
    """The usual case of a positional primitive, written into its send sites (codegen
    `usual_sends.py`): a send whose receiver and arguments are of these kinds, and
    for which `test` holds, answers `value` without a send. `test` and `value` are
    Python expressions over `{r}` (the receiver) and `{a0}`, `{a1}`... (the arguments)
    that may use the names every generated module sees (compiler.py); an empty `value`
    calls the primitive itself, directly. A `value` must do exactly what the primitive
    does for such a send, must not keep or answer an argument (a String literal
    argument may be a shared object, see `borrows_strings`) and must not fail other than
    by a resource limit. `text_arg`, for a one-argument send whose answer is not used:
    what the send does when its argument is a String given as its text, the str `{text}`
    (codegen `UsualSends.text_argument`)."""

    receiver: str
    args: tuple[str, ...] = ()
    value: str = ""
    test: str = ""
    fn: Callable[..., Any] | None = None
    text_arg: str = ""


# selector -> its usual cases, filled by `install` (only cases it verified).
USUAL_CASES: dict[str, list[UsualCase]] = {}
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


def usual_case(
    receiver: str,
    args: tuple[str, ...] = (),
    value: str = "",
    test: str = "",
    text_arg: str = "",
) -> Callable[[Positional], Positional]:
    """Give the positional primitive `fn` a usual case (see UsualCase), for each of the
    selectors it is registered for."""

    def register(fn: Positional) -> Positional:
        if receiver not in RECEIVERS or not all(kind in ARGUMENTS for kind in args):
            raise TypeError(f"unknown receiver or argument kind in {receiver} {args}")
        cases = fn.__dict__.setdefault("usual_cases", [])
        cases.append(UsualCase(receiver, args, value, test, fn, text_arg))
        return fn

    return register


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
        for _class_name, selectors, fn in _PENDING:
            for case in getattr(getattr(fn, "positional", None), "usual_cases", ()):
                for selector in selectors:
                    _check_usual_case(case, selector, fn)
                    USUAL_CASES.setdefault(selector, []).append(case)
        installed = {id(fn) for _name, _selectors, fn in _PENDING}
        # A send site recognizes an inlined primitive by the method it installs.
        assert all(id(fn) in installed for fns in INLINED.values() for fn in fns)
        _INSTALLED = True


def _check_usual_case(case: UsualCase, selector: str, entry: PrimitiveFn) -> None:
    """Raises TypeError unless every class a receiver of the case's kind can have finds
    `entry` for `selector` (system classes never change, so once is enough) and the case
    has one argument kind per argument."""
    arity = 1 if not selector[0].isalpha() else selector.count(":")
    if len(case.args) != arity:
        raise TypeError(f"the usual case of {selector} has {len(case.args)} argument kinds")
    for name in RECEIVERS[case.receiver][2]:
        cls: Any = SYSTEM_CLASSES[name]
        while cls is not None and selector not in cls.methods:
            cls = cls.superclass
        if cls is None or cls.methods[selector].fn is not entry:
            raise TypeError(f"{name}>>{selector} is not the primitive of its usual case")
