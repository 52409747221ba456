"""`class_of`, identity, and constructors for the objects primitives create most.

Kept apart from the interpreter so printing, equality and primitives can share them
without import cycles.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .classes import SYSTEM_CLASSES as S
from .errors import LimitExceeded
from .limits import charge_objects, check_string, current_allowance
from .objects import (
    Char,
    HeapObject,
    StArray,
    StAssoc,
    StByteArray,
    StClass,
    StOrdered,
    StPoint,
    StString,
)

SMALL_MIN = -(1 << 60)
SMALL_MAX = (1 << 60) - 1

_SMALL_INTEGER = S["SmallInteger"]
_LARGE_POS = S["LargePositiveInteger"]
_LARGE_NEG = S["LargeNegativeInteger"]
_TRUE = S["True"]
_FALSE = S["False"]
_NIL = S["UndefinedObject"]
_SMALL_FLOAT = S["SmallFloat64"]
_BOXED_FLOAT = S["BoxedFloat64"]
_FRACTION = S["Fraction"]
_CHARACTER = S["Character"]
_BYTE_SYMBOL = S["ByteSymbol"]
_WIDE_SYMBOL = S["WideSymbol"]
BYTE_STRING = S["ByteString"]
WIDE_STRING = S["WideString"]
ARRAY = S["Array"]
ORDERED = S["OrderedCollection"]
ASSOCIATION = S["Association"]
POINT = S["Point"]
BYTE_ARRAY = S["ByteArray"]

_SMALL_FLOAT_MIN = 2.0**-126
_SMALL_FLOAT_MAX = 2.0**128


def class_of(value: Any) -> StClass:
    """The Smalltalk class of any value, immediate or heap."""
    t = type(value)
    if t is int:
        if SMALL_MIN <= value <= SMALL_MAX:
            return _SMALL_INTEGER
        return _LARGE_POS if value > 0 else _LARGE_NEG
    if t is bool:
        return _TRUE if value else _FALSE
    if value is None:
        return _NIL
    if t is str:
        return _BYTE_SYMBOL if is_byte_text(value) else _WIDE_SYMBOL
    if t is float:
        magnitude = abs(value)
        if magnitude == 0.0 or _SMALL_FLOAT_MIN <= magnitude < _SMALL_FLOAT_MAX:
            return _SMALL_FLOAT
        return _BOXED_FLOAT
    if t is Fraction:
        return _FRACTION
    if t is Char:
        return _CHARACTER
    cls: StClass = value.cls
    return cls


def is_byte_text(text: str) -> bool:
    return text.isascii() or max(text) <= "\xff"


def is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Fraction


def is_integer(value: Any) -> bool:
    return type(value) is int


def identical(a: Any, b: Any) -> bool:
    """Smalltalk `==`: SmallIntegers, Characters, Symbols and SmallFloat64s are
    immediates (equal means identical); everything else is identity."""
    if a is b:
        return True
    t = type(a)
    if t is not type(b):
        return False
    if t is int:
        return bool(a == b and SMALL_MIN <= a <= SMALL_MAX)
    if t is str:
        return bool(a == b)
    if t is float:
        return bool(a == b) and str(a) == str(b) and class_of(a) is _SMALL_FLOAT
    return False


def normalize(value: Fraction) -> int | Fraction:
    """Fractions with denominator 1 are Integers in Smalltalk."""
    if value.denominator == 1:
        return value.numerator
    return value


# The `slots` of every String new_string makes (ByteString and WideString have no named
# instance variables): one shared empty list, not a new one per String. Nothing stores
# into an empty `slots` in place (an index is checked against its size first; restore
# and deepCopy put back what they read: nothing).
_NO_SLOTS: list[Any] = []


def new_string(text: str) -> StString:
    """A ByteString or WideString (by content) of `text`. Strings are the objects
    primitives make most, so this is `objects.make_string` inlined (one Python call,
    not two): the same charge to the allowance, the same fields."""
    allowance = current_allowance()
    if len(text) > allowance.max_string:
        check_string(len(text))
    allowance.objects_left -= 1
    if allowance.objects_left < 0:
        raise LimitExceeded("heap", "ResourceLimit: too many objects")
    string = StString()
    string.cls = BYTE_STRING if text.isascii() or max(text) <= "\xff" else WIDE_STRING
    string.oid = None
    string.slots = _NO_SLOTS
    string.chars = text
    return string


def new_byte_string(text: str) -> StString:
    """A ByteString of `text`, which the caller knows is byte text (a usual case's
    answer: `reversed` of a ByteString, `asUppercase` of ASCII text, an Integer's
    digits): `new_string` without the choice of class, and like it written out in full
    (no call to a shared helper: one Python call per String, on the hottest path)."""
    allowance = current_allowance()
    if len(text) > allowance.max_string:
        check_string(len(text))
    allowance.objects_left -= 1
    if allowance.objects_left < 0:
        raise LimitExceeded("heap", "ResourceLimit: too many objects")
    string = StString()
    string.cls = BYTE_STRING
    string.oid = None
    string.slots = _NO_SLOTS
    string.chars = text
    return string


def new_strings(texts: list[str]) -> list[StString]:
    """A String of each of `texts`, charged to the allowance at once: for the primitives
    that answer many (substrings:, lines, findTokens:), where a call of `new_string` per
    piece was half their time."""
    check_string(max(map(len, texts), default=0))
    charge_objects(len(texts))
    return _uncharged_strings(texts)


def _uncharged_strings(texts: list[str]) -> list[StString]:
    out = []
    for text in texts:
        string = StString()
        # (is_byte_text inline, as in new_string: one Python call less per piece)
        string.cls = BYTE_STRING if text.isascii() or max(text) <= "\xff" else WIDE_STRING
        string.oid = None
        string.slots = _NO_SLOTS
        string.chars = text
        out.append(string)
    return out


def shared_literal(text: str) -> StString:
    """The String a send site passes for a String literal argument to a primitive that
    only reads it (`_registry.borrows_strings`): made once, when the code is generated,
    never charged to an evaluation, never reachable from the heap."""
    return _uncharged_strings([text])[0]


def new_array(items: list[Any]) -> StArray:
    return StArray(ARRAY, items)


def new_ordered(items: list[Any]) -> StOrdered:
    return StOrdered(ORDERED, items)


def new_assoc(key: Any, value: Any) -> StAssoc:
    return StAssoc(ASSOCIATION, key, value)


def new_point(x: Any, y: Any) -> StPoint:
    return StPoint(POINT, x, y)


def new_bytes(data: bytearray) -> StByteArray:
    return StByteArray(BYTE_ARRAY, data)


def is_string(value: Any) -> bool:
    """A String (not a Symbol)."""
    return type(value) is StString


def string_text(value: Any) -> str | None:
    """The characters of a String or Symbol, or None for anything else."""
    if type(value) is StString:
        text: str = value.chars
        return text
    if type(value) is str:
        return value
    return None


def is_heap(value: Any) -> bool:
    return isinstance(value, HeapObject)


def _all_subclasses(root: type) -> frozenset[type]:
    found: set[type] = set()
    stack = [root]
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return frozenset(found)


# Python types whose instances carry their Smalltalk class in `.cls` (the fast path of a
# send; `class_of` answers the same for any value, these included).
HEAP_TYPES = _all_subclasses(HeapObject)
