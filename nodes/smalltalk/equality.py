"""Smalltalk `=` and the hash keys hashed collections use.

Dictionaries, Sets and Bags store their elements in Python dicts keyed by
`hash_key(value)`: a Python value that is equal (and hashes equally) exactly when
the Smalltalk objects are `=`. Literal-like values map to tagged tuples (so that
`true` and `1` stay apart, and Strings compare by content); objects whose class
defines `=` in Smalltalk get a key that calls back into the interpreter; all other
objects compare by identity.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .objects import (
    Char,
    HeapObject,
    StArray,
    StAssoc,
    StByteArray,
    StInterval,
    StOrdered,
    StPoint,
    StString,
    ValueObject,
)

if TYPE_CHECKING:
    from .runtime import Interpreter


class _SmalltalkKey:
    """Hash key of an object whose class defines `=`/`hash` in Smalltalk."""

    __slots__ = ("hash", "interp", "value")

    def __init__(self, interp: Interpreter, value: Any) -> None:
        self.interp = interp
        self.value = value
        result = interp.send(value, "hash", ())
        self.hash = hash(result) if type(result) is int else id(value)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _SmalltalkKey):
            return False
        return self.interp.send(self.value, "=", (other.value,)) is True


def hash_key(interp: Interpreter, value: Any, identity: bool = False) -> Any:
    t = type(value)
    if t is int or t is float or t is Fraction:
        return value
    if value is None or t is bool:
        return ("nil/bool", value)
    if t is str:
        return ("#", value)
    if t is Char:
        return value
    if identity:
        return ("id", id(value), value) if isinstance(value, HeapObject) else value
    if t is StString:
        return ("'", value.chars)
    # List comprehensions, not generators fed to C builtins: the recursion over
    # nested collections then stays in Python frames (RecursionError, never a C
    # stack overflow).
    if t is StArray:
        return ("()", *[hash_key(interp, e) for e in value.items])
    if t is StOrdered:
        return ("oc", *[hash_key(interp, e) for e in value.items])
    if t is StByteArray:
        return ("[]", bytes(value.data))
    if t is StInterval:
        return ("()", *[hash_key(interp, e) for e in value.values()])
    if t is StAssoc:
        return ("->", hash_key(interp, value.key), hash_key(interp, value.value))
    if t is StPoint:
        return ("@", hash_key(interp, value.x), hash_key(interp, value.y))
    if isinstance(value, HeapObject) and interp.defines_equality(value):
        return _SmalltalkKey(interp, value)
    return value


def equal(interp: Interpreter, a: Any, b: Any) -> bool:
    """Smalltalk `=` for the system kinds (sessions' `=` overrides go through sends)."""
    if a is b:
        return True
    ta = type(a)
    tb = type(b)
    if ta is bool or tb is bool:
        return False
    if isinstance(a, ValueObject) or isinstance(b, ValueObject):
        return bool(a == b)  # ScaledDecimal, Date, Time ...: Python equality is theirs
    if (ta is int or ta is float or ta is Fraction) and (
        tb is int or tb is float or tb is Fraction
    ):
        return bool(a == b)
    if ta is str:
        return False  # Symbol = is identity (equal symbols are the same str value: `is`)
    if ta is StString:
        if tb is StString:
            return bool(a.chars == b.chars)
        if tb is str:
            return bool(a.chars == b)
        return False
    if ta is StArray:
        if tb is StInterval:
            return _equal_items(interp, a.items, b.values())
        return tb is StArray and _equal_items(interp, a.items, b.items)
    if ta is StOrdered:
        return tb is StOrdered and a.cls is b.cls and _equal_items(interp, a.items, b.items)
    if ta is StInterval:
        if tb is StInterval:
            return bool(a.values() == b.values()) if a.size() == b.size() else False
        return tb is StArray and _equal_items(interp, a.values(), b.items)
    if ta is StByteArray:
        return tb is StByteArray and a.data == b.data
    if ta is StAssoc:
        return tb is StAssoc and interp.equal(a.key, b.key) and interp.equal(a.value, b.value)
    if ta is StPoint:
        return tb is StPoint and interp.equal(a.x, b.x) and interp.equal(a.y, b.y)
    if ta.__name__ in ("StDict", "StSet", "StBag"):
        if type(b) is not ta or a.cls is not b.cls or len(a.table) != len(b.table):
            return False
        if ta.__name__ == "StDict":
            for key, entry in a.table.items():
                other = b.table.get(key)
                if other is None or not interp.equal(entry[1], other[1]):
                    return False
            return True
        if ta.__name__ == "StBag":
            for key, entry in a.table.items():
                if key not in b.table or b.table[key][1] != entry[1]:
                    return False
            return True
        return all(key in b.table for key in a.table)
    return False


def _equal_items(interp: Interpreter, xs: list[Any], ys: list[Any]) -> bool:
    if len(xs) != len(ys):
        return False
    for x, y in zip(xs, ys, strict=True):  # noqa: SIM110  (all() would recurse through C)
        if not interp.equal(x, y):
            return False
    return True
