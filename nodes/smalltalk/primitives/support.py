"""Helpers shared by the primitive modules: argument checks that signal the errors
Pharo signals, element views of collections, and species-preserving constructors."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..chronology import NANOS_PER_SECOND
from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, new_array, new_string, normalize
from ..limits import check_collection, check_int_bits
from ..objects import (
    BlockCode,
    Char,
    Duration,
    HeapObject,
    ScaledDecimal,
    StArray,
    StBag,
    StBlock,
    StByteArray,
    StClass,
    StDict,
    StInterval,
    StOrdered,
    StSet,
    StSorted,
    StStream,
    StString,
    make_string,
)
from ..printing import collection_elements
from .number_parser import NumberReader, read_number_prefix

if TYPE_CHECKING:
    from ..runtime import Interpreter

Args = tuple[Any, ...]

# Pharo's Character>>isSeparator: space, tab, cr, lf, newPage (what trimming removes).
SEPARATORS = " \t\r\n\f"


def is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Fraction


def touch(it: Interpreter, obj: HeapObject) -> None:
    """Write barrier: call before mutating `obj`."""
    if obj.oid is not None:
        it.touch(obj)


def text_of(value: Any) -> str | None:
    """The characters of a String or Symbol, or None for anything else."""
    t = type(value)
    if t is StString:
        chars: str = value.chars
        return chars
    if t is str:
        text: str = value
        return text
    return None


def text_arg(it: Interpreter, value: Any) -> str | None:
    """The characters of a String or Symbol argument; an Error (and None) otherwise."""
    text = text_of(value)
    if text is None:
        it.error("Error", f"{it.print_string(value)} is not a String")
    return text


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


def iteration_values(value: Any) -> Any:
    """What `do:`, `inject:into:`, `select:` ... visit, in order: `elements`, except
    that an Interval of Integers is a `range` (no list of its elements is built). The
    enumeration primitives and their inline loops in generated code both use it."""
    if type(value) is StInterval and type(value.start) is int and type(value.step) is int:
        size = value.size()
        if size == 0:
            return ()
        start, step = value.start, value.step
        return range(start, start + size * step, step)
    return elements(value)


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
            return make_string(cls, text)
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


# ---------------------------------------------------------------------- collections


def species_new(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    cls = species_class(rcv)
    if isinstance(rcv, StSorted):
        result = StSorted(cls, [], rcv.sort_block)
        sorted_insert_all(it, result, items)
        return result
    return new_collection(it, cls, items)


def collect_new(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    """collect: results: Strings answer a String only if every result is a Character;
    SortedCollections answer an OrderedCollection (Pharo: order may not hold)."""
    if isinstance(rcv, StSorted):
        return StOrdered(S["OrderedCollection"], items)
    if type(rcv) in (StString, str):
        return string_from_items(it, items)
    if type(rcv) is StByteArray:
        return new_array(items)
    return new_collection(it, species_class(rcv), items)


def truth(it: Interpreter, value: Any) -> bool:
    if value is True:
        return True
    if value is False:
        return False
    it.non_boolean(value)
    return False


def seq_at(it: Interpreter, rcv: Any, index: Any) -> Any:
    t = type(rcv)
    if t is StArray or isinstance(rcv, StOrdered):
        items = rcv.items
        if type(index) is int and 1 <= index <= len(items):
            return items[index - 1]
        return index_error(it, rcv, index, len(items))
    if t is StInterval:
        size = rcv.size()
        if type(index) is int and 1 <= index <= size:
            return rcv.element(index - 1)
        return index_error(it, rcv, index, size)
    if t is StByteArray:
        if type(index) is int and 1 <= index <= len(rcv.data):
            return rcv.data[index - 1]
        return index_error(it, rcv, index, len(rcv.data))
    text = text_of(rcv)
    if text is not None:
        if type(index) is int and 1 <= index <= len(text):
            return Char.of(ord(text[index - 1]))
        return index_error(it, rcv, index, len(text))
    return it.error("Error", f"Instances of {class_of(rcv).name} are not indexable")


def species_copy(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    if type(rcv) in (StString, str):
        return string_from_items(it, items)
    if isinstance(rcv, StSorted):
        return StSorted(rcv.cls, items, rcv.sort_block)
    return species_new(it, rcv, items)


def concatenate(it: Interpreter, rcv: Any, other: Any) -> Any:
    """`rcv , other` for sequenceable collections (Strings too, when `other` is not text)."""
    if not class_of(other).inherits_from(S["Collection"]):
        return it.send(other, "do:", (None,))
    items = elements(rcv) + elements(other)
    if isinstance(rcv, StOrdered) and not isinstance(rcv, StSorted):
        return StOrdered(rcv.cls, items)
    return species_copy(it, rcv, items)


def sort_items(it: Interpreter, items: list[Any], block: Any) -> list[Any]:
    """Stable sort: by `block value: a value: b` (true = a goes first), or `<=`."""
    if block is None:
        if all(is_num(x) for x in items) or all(type(x) in (StString, str) for x in items):
            key = (
                (lambda x: x.chars if type(x) is StString else x)
                if items and not is_num(items[0])
                else None
            )
            return sorted(items, key=key)
        if all(type(x) is Char for x in items):
            return sorted(items, key=lambda c: c.code)

        def compare(a: Any, b: Any) -> int:
            return -1 if it.send(a, "<=", (b,)) is True else 1

        return sorted(items, key=functools.cmp_to_key(compare))

    return merge_sort(it, items, it.block_fn(block, 2))


def merge_sort(it: Interpreter, items: list[Any], before: Callable[[Any, Any], Any]) -> list[Any]:
    """Merge sort that only asks whether `before(a, b)` (the sort block) is true: it
    need not be a consistent total order, which Python's sort would assume. The block
    sees the same pairs in the same order as ever: top-down halves, left first."""
    size = len(items)
    if size <= 1:
        return items
    mid = size // 2
    left = merge_sort(it, items[:mid], before)
    right = merge_sort(it, items[mid:], before)
    out: list[Any] = []
    append = out.append
    i = j = 0
    a, b = left[0], right[0]
    while True:
        first = before(a, b)
        if first is True or (first is not False and truth(it, first)):
            append(a)
            i += 1
            if i == mid:
                break
            a = left[i]
        else:
            append(b)
            j += 1
            if j == size - mid:
                break
            b = right[j]
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def concrete_class(cls: StClass) -> StClass:
    if cls is S["String"]:
        return S["ByteString"]
    return cls


def sort_before(it: Interpreter, coll: StSorted, a: Any, b: Any) -> bool:
    if coll.sort_block is None:
        if is_num(a) and is_num(b):
            return bool(a <= b)
        return it.send(a, "<=", (b,)) is True
    return truth(it, it.call_block(coll.sort_block, (a, b)))


def sorted_insert(it: Interpreter, coll: StSorted, value: Any) -> None:
    items = coll.items
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if sort_before(it, coll, items[mid], value):
            lo = mid + 1
        else:
            hi = mid
    items.insert(lo, value)


def sorted_insert_all(it: Interpreter, coll: StSorted, values: list[Any]) -> None:
    combined = coll.items + list(values)
    if coll.sort_block is None:
        coll.items[:] = sort_items(it, combined, None)
    else:
        coll.items[:] = sort_items(it, combined, coll.sort_block)


_DICTIONARY = S["Dictionary"]
_SET = S["Set"]


def is_identity_hashed(coll: Any) -> bool:
    if coll.cls is _DICTIONARY or coll.cls is _SET:  # the usual case, no hierarchy walk
        return False
    return bool(
        coll.cls.inherits_from(S["IdentitySet"]) or coll.cls.inherits_from(S["IdentityDictionary"])
    )


def new_dict(it: Interpreter, cls: StClass) -> StDict:
    return StDict(cls)


def dict_key(it: Interpreter, rcv: StDict, key: Any) -> Any:
    if type(key) is int:  # an Integer is its own key, by equality or identity
        return key
    return it.hash_key(key, is_identity_hashed(rcv))


def dict_put(it: Interpreter, rcv: StDict, key: Any, value: Any) -> Any:
    h = key if type(key) is int else dict_key(it, rcv, key)
    entry = rcv.table.get(h)
    if rcv.oid is not None:
        it.touch(rcv)
    if entry is None:
        rcv.table[h] = [key, value]
    else:
        entry[1] = value
    return value


def key_not_found(it: Interpreter, key: Any) -> Any:
    return it.error("KeyNotFound", None, key=key)


# ---------------------------------------------------------------------- streams


def make_read_stream(it: Interpreter, coll: Any) -> StStream:
    if type(coll) is str:
        coll = new_string(coll)
    elif not isinstance(coll, (StString, StArray, StOrdered)):
        coll = new_array(elements(coll))
    return StStream(S["ReadStream"], coll, 0, size_of(coll))


def make_write_stream(it: Interpreter, cls: StClass, coll: Any, append: bool) -> StStream:
    if type(coll) is str:
        coll = new_string(coll)
    elif type(coll) is StString:
        coll = make_string(coll.cls, coll.chars if append else "")
    elif isinstance(coll, (StArray, StOrdered)):
        coll = StArray(S["Array"], list(coll.items) if append else [])
    else:
        coll = StArray(S["Array"], [])
    size = size_of(coll)
    return StStream(cls, coll, size, size)


def read_stream_items(stream: StStream, start: int, stop: int) -> Any:
    stream.flush()
    coll: Any = stream.coll
    if type(coll) is StString:
        return new_string(coll.chars[start:stop])
    return new_array(list(coll.items[start:stop]))


def stream_contents(it: Interpreter, stream: StStream) -> Any:
    if stream.cls is S["ReadStream"]:
        return read_stream_items(stream, 0, stream.limit)
    return read_stream_items(stream, 0, max(stream.limit, stream.pos))


# ---------------------------------------------------------------------- numbers


def zero_divide(it: Interpreter, dividend: Any) -> Any:
    return it.error("ZeroDivide", None, dividend=dividend)


def to_float(value: Any) -> float:
    """asFloat: the nearest Float; beyond the Float range, +/- infinity."""
    if type(value) is ScaledDecimal:
        value = value.fraction
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def number_result(value: Any) -> Any:
    """An arithmetic result as Smalltalk holds it: a Fraction with denominator 1 is an
    Integer; an Integer may not grow past the limit on bits."""
    if type(value) is Fraction:
        return normalize(value)
    if type(value) is int:
        bits = value.bit_length()
        if bits > 4096:
            check_int_bits(bits)
    return value


# ---------------------------------------------------------------------- chronology


def nanos_from_seconds(seconds: Any) -> int:
    """A number of seconds (any Number) as whole nanoseconds (fractions of a
    nanosecond are dropped toward zero, as Pharo's `truncated`)."""
    return math.trunc(Fraction(seconds) * NANOS_PER_SECOND)


def duration_arg(it: Interpreter, value: Any) -> int | None:
    """The nanoseconds of a Duration argument; an Error (and None) otherwise."""
    if type(value) is Duration:
        return value.nanos
    it.error("Error", f"{it.print_string(value)} is not a Duration")
    return None


def text_or_stream_rest(it: Interpreter, source: Any) -> str | None:
    """The text of a String, or what is left to read in a ReadStream on one; an Error
    (and None) for anything else."""
    text = text_of(source)
    if text is not None:
        return text
    if type(source) is StStream and type(source.coll) is StString:
        source.flush()
        return str(source.coll.chars[source.pos : source.limit])
    return text_arg(it, source)


def less_than_same_kind(kind: type, attr: str) -> Callable[[Interpreter, Any, Args], Any]:
    """`<` of a magnitude that compares only with its own kind (Date, DateAndTime,
    Time): by the field `attr`; an Error ("... is not a Date") for anything else."""
    key = operator.attrgetter(attr)
    name = kind.__name__

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = args[0]
        if type(other) is not kind:
            return it.error("Error", f"{it.print_string(other)} is not a {name}")
        return key(rcv) < key(other)

    return prim


def parse_text_or_error(
    it: Interpreter, source: Any, parse: Callable[[str], Any], error: Callable[[], str]
) -> Any:
    """What `parse` makes of `text_or_stream_rest(source)` (the `fromString:` and
    `readFrom:` of Date, DateAndTime, Time and Duration, and String>>asDate ...); an
    Error with the text `error()` when it makes nothing (None)."""
    text = text_or_stream_rest(it, source)
    parsed = parse(text) if text is not None else None
    if parsed is None:
        return it.error("Error", error())
    return parsed


def read_number_from(it: Interpreter, source: Any, read: Callable[[NumberReader], Any]) -> Any:
    """`read` applied to a NumberReader over a String, or over a ReadStream on a String
    from its position (the stream is then left after what was read); None when no
    number starts there (leading separators are skipped)."""
    if type(source) is StStream and type(source.coll) is StString:
        source.flush()
        reader = NumberReader(source.coll.chars[: source.limit], source.pos)
        reader.skip_separators()
        value = read(reader)
        if value is not None:
            touch(it, source)
            source.pos = reader.pos
        return value
    text = text_of(source)
    if text is None:
        it.error("Error", "a number is read from a String or a ReadStream on one")
        return None
    reader = NumberReader(text)
    reader.skip_separators()
    return read(reader)


def read_number_or_fail(it: Interpreter, text: str) -> Any:
    """The number `text` starts with (after separators); an Error as Pharo's
    NumberParser signals when there is none."""
    value = read_number_prefix(text)
    if value is None:
        return it.error("Error", "Reading a number failed: a digit between 0 and 9 expected")
    return value


def stable_hash(text: str) -> int:
    """FNV-1a over the characters: deterministic across processes (Python's str hash
    is salted per process)."""
    value = 2166136261
    for ch in text:
        value = ((value ^ ord(ch)) * 16777619) & 0x0FFFFFFF
    return value


def python_block(fn: Callable[[], Any]) -> StBlock:
    """A zero-argument BlockClosure whose body is Python code (for primitives that pass
    a block to a method a session class may override, e.g. `remove:` -> `remove:ifAbsent:`)."""
    code = BlockCode(0, (), lambda frame: fn(), "[...]", {}, None)
    return StBlock(S["FullBlockClosure"], code, None, None)
