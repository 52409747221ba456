"""Helpers shared by the primitive modules: argument checks that signal the errors
Pharo signals, element views of collections, and species-preserving constructors."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, new_array, new_string
from ..limits import check_collection
from ..objects import (
    Char,
    HeapObject,
    StArray,
    StBag,
    StByteArray,
    StClass,
    StDict,
    StInterval,
    StOrdered,
    StSet,
    StSorted,
    StString,
)
from ..printing import collection_elements

if TYPE_CHECKING:
    from ..runtime import Interpreter

Args = tuple[Any, ...]


def is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Fraction


def touch(it: Interpreter, obj: HeapObject) -> None:
    """Write barrier: call before mutating `obj`."""
    if obj.oid is not None:
        it.touch(obj)


def text_of(value: Any) -> str | None:
    if type(value) is StString:
        return str(value.chars)
    if type(value) is str:
        return value
    return None


def elements(value: Any) -> list[Any]:
    """A fresh list of the elements `do:` would visit."""
    t = type(value)
    if t is StString:
        return [Char.of(ord(c)) for c in value.chars]
    if t is str:
        return [Char.of(ord(c)) for c in value]
    if t is StByteArray:
        return list(value.data)
    return collection_elements(value)


def size_of(value: Any) -> int:
    t = type(value)
    if t is StString:
        return len(value.chars)
    if t is str:
        return len(value)
    if t is StArray or isinstance(value, StOrdered):
        return len(value.items)
    if t is StByteArray:
        return len(value.data)
    if t is StInterval:
        return int(value.size())
    if t is StBag:
        return sum(count for _e, count in value.table.values())
    if t is StSet or t is StDict:
        return len(value.table)
    return 0


def new_collection(it: Interpreter, cls: StClass, items: list[Any]) -> Any:
    """An instance of collection class `cls` holding `items` (by its layout)."""
    layout = cls.layout
    check_collection(len(items))
    if layout == "array":
        return StArray(cls, items)
    if layout == "string":
        return string_from_items(it, items, cls)
    if layout == "sorted":
        coll = StSorted(cls, [], None)
        from .collections import sorted_insert_all

        sorted_insert_all(it, coll, items)
        return coll
    if layout == "ordered":
        return StOrdered(cls, items)
    if layout == "set":
        coll_set = StSet(cls)
        identity = cls.inherits_from(S["IdentitySet"])
        for item in items:
            coll_set.table.setdefault(it.hash_key(item, identity), item)
        return coll_set
    if layout == "bag":
        bag = StBag(cls)
        for item in items:
            entry = bag.table.setdefault(it.hash_key(item), [item, 0])
            entry[1] += 1
        return bag
    if layout == "bytes":
        return StByteArray(cls, bytearray(_byte(it, v) for v in items))
    return StArray(S["Array"], items)


def _byte(it: Interpreter, value: Any) -> int:
    if type(value) is int and 0 <= value <= 255:
        return value
    it.error("Error", "Improper store into indexable object")
    return 0


def string_from_items(it: Interpreter, items: list[Any], cls: StClass | None = None) -> Any:
    if all(type(c) is Char for c in items):
        text = "".join(c.text for c in items)
        if (
            cls is not None
            and cls.layout == "string"
            and cls not in (S["ByteString"], S["WideString"], S["String"])
        ):
            return StString(cls, text)
        return new_string(text)
    return new_array(items)


def species_class(value: Any) -> StClass:
    """The class collect:/select: answer for `value` (Pharo's `species`)."""
    t = type(value)
    if t is str:
        return S["ByteString"]
    if t is StInterval:
        return S["Array"]
    if t is StString:
        return S["ByteString"] if value.cls in (S["ByteString"], S["WideString"]) else value.cls
    return class_of(value)


def expect_int(it: Interpreter, value: Any) -> int | None:
    if type(value) is int:
        return value
    it.error("Error", f"{it.print_string(value)} is not an integer")
    return None


def index_error(it: Interpreter, coll: Any, index: Any, size: int) -> Any:
    if type(index) is not int:
        return it.error("Error", "Index is not an integer")
    return it.error("SubscriptOutOfBounds", None, subscript=index, lowerBound=1, upperBound=size)


def not_indexable(it: Interpreter, rcv: Any) -> Any:
    return it.error("Error", f"Instances of {class_of(rcv).name} are not indexable")


def empty_error(it: Interpreter, coll: Any) -> Any:
    return it.error("CollectionIsEmpty", f"{it.print_string(coll)} is empty", collection=coll)


def not_found(it: Interpreter, obj: Any) -> Any:
    return it.error("NotFound", "Object is not in the collection.", object=obj)
