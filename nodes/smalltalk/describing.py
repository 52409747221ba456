"""What the inspector shows of an object: its named parts and indexed elements,
encoded like any other value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .kernel import class_of
from .objects import (
    Frame,
    HeapObject,
    StArray,
    StAssoc,
    StBag,
    StBlock,
    StByteArray,
    StClass,
    StDict,
    StInterval,
    StMessage,
    StOrdered,
    StPoint,
    StSet,
    StSorted,
    StStream,
    StString,
)
from .printing import collection_elements, dict_items
from .records import encode


@attrs.frozen
class Description:
    class_name: str
    print_string: str
    named: list[tuple[str, Any]]
    indexed_size: int
    indexed: list[Any]


def _safe(value: Any) -> Any:
    try:
        return encode(value)
    except ValueError:
        return None


def describe(
    value: Any, offset: int, limit: int, printer: Callable[[Any], str]
) -> Description:
    """`printer` answers the printString (the image prints sandboxed)."""
    named: list[tuple[str, Any]] = []
    indexed: list[Any] = []
    cls = class_of(value)
    if isinstance(value, HeapObject) and not isinstance(value, (StClass, Frame)):
        named.extend((name, _safe(v)) for name, v in zip(cls.ivars, value.slots, strict=False))
    t = type(value)
    if t is StAssoc:
        named += [("key", _safe(value.key)), ("value", _safe(value.value))]
    elif t is StPoint:
        named += [("x", _safe(value.x)), ("y", _safe(value.y))]
    elif t is StInterval:
        named += [
            ("start", _safe(value.start)),
            ("stop", _safe(value.stop)),
            ("step", _safe(value.step)),
        ]
    elif t is StStream:
        value.flush()
        named += [
            ("collection", _safe(value.coll)),
            ("position", value.pos),
            ("readLimit", value.limit),
        ]
    elif t is StBlock:
        named += [("outerContext", _safe(value.outer)), ("receiver", _safe(value.rcv))]
    elif t is StMessage:
        named += [("selector", _safe(value.selector)), ("args", [_safe(a) for a in value.args])]
    elif t is StSorted:
        named += [("sortBlock", _safe(value.sort_block))]
    elif t is Frame:
        named += [(name, _safe(v)) for name, v in zip(value.names, value.vars, strict=False)]
        named += [("receiver", _safe(value.rcv))]
    elif t is StClass:
        named += [
            ("name", _safe(value.name)),
            ("superclass", _safe(value.superclass)),
            ("instanceVariables", [_safe(n) for n in value.own_ivars]),
        ]
        named += [(name, _safe(v)) for name, v in sorted(value.classvars.items())]
    items: list[Any]
    if t is StString:
        items = list(value.chars)
        size = len(items)
        indexed = [{"char": c} for c in items[offset : offset + limit]]
    elif t is str:
        size = len(value)
        indexed = [{"char": c} for c in value[offset : offset + limit]]
    elif t is StByteArray:
        size = len(value.data)
        indexed = list(value.data[offset : offset + limit])
    elif t is StDict:
        pairs = dict_items(value)
        size = len(pairs)
        indexed = [[_safe(k), _safe(v)] for k, v in pairs[offset : offset + limit]]
    elif t in (StArray, StSet, StBag, StInterval) or isinstance(value, StOrdered):
        items = collection_elements(value)
        size = len(items)
        indexed = [_safe(v) for v in items[offset : offset + limit]]
    else:
        size = 0
    return Description(
        class_name=cls.name,
        print_string=printer(value),
        named=named,
        indexed_size=size,
        indexed=indexed,
    )
