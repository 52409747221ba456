"""SequenceableCollection and ArrayedCollection: indexed access, copying, searching,
enumerating with indexes, sorting in place, element-wise arithmetic, and Array creation.
Strings and Symbols reuse this protocol (strings.py has what is String-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, new_array, new_string
from ..limits import check_collection
from ..objects import (
    StArray,
    StByteArray,
    StInterval,
    StOrdered,
    StSorted,
    StString,
    make_string,
)
from ._registry import primitive
from .support import (
    Args,
    collect_new,
    concatenate,
    concrete_class,
    elements,
    empty_error,
    index_error,
    is_num,
    make_read_stream,
    make_write_stream,
    new_collection,
    seq_at,
    size_of,
    sort_items,
    species_copy,
    touch,
    truth,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_ARRAY = S["Array"]
_ORDERED = S["OrderedCollection"]
_INTERVAL = S["Interval"]


@primitive("SequenceableCollection", "at:")
def _at(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, args[0])


@primitive("SequenceableCollection", "at:ifAbsent:")
def _at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = args[0]
    if type(index) is int and 1 <= index <= size_of(rcv):
        return seq_at(it, rcv, index)
    return it.send(args[1], "value", ())


@primitive("ArrayedCollection", "at:put:")
def _at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    index, value = args
    t = type(rcv)
    if t is StArray:
        items = rcv.items
        if type(index) is int and 1 <= index <= len(items):
            touch(it, rcv)
            items[index - 1] = value
            return value
        return index_error(it, rcv, index, len(items))
    if t is StByteArray:
        if not (type(index) is int and 1 <= index <= len(rcv.data)):
            return index_error(it, rcv, index, len(rcv.data))
        if type(value) is not int or not 0 <= value <= 255:
            return it.error("Error", "Improper store into indexable object")
        touch(it, rcv)
        rcv.data[index - 1] = value
        return value
    return it.error("Error", f"Instances of {class_of(rcv).name} are not indexable")


@primitive("SequenceableCollection", "first")
def _first(it: Interpreter, rcv: Any, args: Args) -> Any:
    if size_of(rcv) == 0:
        return _empty_first_last(it, rcv, 1)
    return seq_at(it, rcv, 1)


@primitive("SequenceableCollection", "last")
def _last(it: Interpreter, rcv: Any, args: Args) -> Any:
    size = size_of(rcv)
    if size == 0:
        return _empty_first_last(it, rcv, 0)
    return seq_at(it, rcv, size)


def _empty_first_last(it: Interpreter, rcv: Any, index: int) -> Any:
    if isinstance(rcv, StOrdered):
        return empty_error(it, rcv)
    return index_error(it, rcv, index, 0)


@primitive("SequenceableCollection", "second")
def _second(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, 2)


@primitive("SequenceableCollection", "third")
def _third(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, 3)


@primitive("SequenceableCollection", "first:")
def _first_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    items = elements(rcv)
    if type(n) is not int or n > len(items) or n < 0:
        return index_error(it, rcv, n, len(items))
    return species_copy(it, rcv, items[:n])


@primitive("SequenceableCollection", "last:")
def _last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    items = elements(rcv)
    if type(n) is not int or n > len(items) or n < 0:
        return index_error(it, rcv, n, len(items))
    return species_copy(it, rcv, items[len(items) - n :])


@primitive("SequenceableCollection", "allButFirst")
def _all_but_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    return species_copy(it, rcv, elements(rcv)[1:])


@primitive("SequenceableCollection", "allButLast")
def _all_but_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    return species_copy(it, rcv, elements(rcv)[:-1])


@primitive("SequenceableCollection", "allButFirst:")
def _all_but_first_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "allButFirst: needs an Integer")
    return species_copy(it, rcv, elements(rcv)[max(0, args[0]) :])


@primitive("SequenceableCollection", "allButLast:")
def _all_but_last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "allButLast: needs an Integer")
    items = elements(rcv)
    return species_copy(it, rcv, items[: max(0, len(items) - max(0, args[0]))])


@primitive("SequenceableCollection", "copyFrom:to:")
def _copy_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop = args
    items = elements(rcv)
    if type(start) is not int or type(stop) is not int:
        return it.error("Error", "copyFrom:to: needs Integers")
    if stop < start:
        return species_copy(it, rcv, [])
    if start < 1 or stop > len(items):
        return index_error(it, rcv, start if start < 1 else stop, len(items))
    return species_copy(it, rcv, items[start - 1 : stop])


@primitive("SequenceableCollection", "copyWith:")
def _copy_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return species_copy(it, rcv, [*elements(rcv), args[0]])


@primitive("SequenceableCollection", ",")
def _concat(it: Interpreter, rcv: Any, args: Args) -> Any:
    return concatenate(it, rcv, args[0])


@primitive("SequenceableCollection", "reversed", "reverse")
def _reversed(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    items.reverse()
    if isinstance(rcv, StSorted):
        return StOrdered(_ORDERED, items)
    return species_copy(it, rcv, items)


@primitive("SequenceableCollection", "indexOf:")
def _index_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(elements(rcv)):
        if it.equal(item, args[0]):
            return i + 1
    return 0


@primitive("SequenceableCollection", "indexOf:ifAbsent:")
def _index_of_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(elements(rcv)):
        if it.equal(item, args[0]):
            return i + 1
    return it.send(args[1], "value", ())


@primitive("SequenceableCollection", "findFirst:")
def _find_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(elements(rcv)):
        if truth(it, it.call_block(args[0], (item,))):
            return i + 1
    return 0


@primitive("SequenceableCollection", "doWithIndex:", "withIndexDo:")
def _do_with_index(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(elements(rcv)):
        it.call_block(args[0], (item, i + 1))
    return rcv


@primitive("SequenceableCollection", "keysAndValuesDo:")
def _keys_and_values_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(elements(rcv)):
        it.call_block(args[0], (i + 1, item))
    return rcv


@primitive("SequenceableCollection", "collectWithIndex:", "withIndexCollect:")
def _collect_with_index(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = [it.call_block(args[0], (x, i + 1)) for i, x in enumerate(elements(rcv))]
    return collect_new(it, rcv, items)


@primitive("SequenceableCollection", "reverseDo:")
def _reverse_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in reversed(elements(rcv)):
        it.call_block(args[0], (item,))
    return rcv


@primitive("SequenceableCollection", "with:do:")
def _with_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    mine, theirs = elements(rcv), elements(args[0])
    if len(mine) != len(theirs):
        return it.error("Error", "otherCollection must be the same size")
    for a, b in zip(mine, theirs, strict=True):
        it.call_block(args[1], (a, b))
    return rcv


@primitive("SequenceableCollection", "with:collect:")
def _with_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    mine, theirs = elements(rcv), elements(args[0])
    if len(mine) != len(theirs):
        return it.error("Error", "otherCollection must be the same size")
    return collect_new(
        it, rcv, [it.call_block(args[1], (a, b)) for a, b in zip(mine, theirs, strict=True)]
    )


@primitive("SequenceableCollection", "readStream")
def _read_stream(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_read_stream(it, rcv)


@primitive("SequenceableCollection", "writeStream")
def _write_stream(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_write_stream(it, S["WriteStream"], rcv, append=False)


@primitive("SequenceableCollection", "swap:with:")
def _swap(it: Interpreter, rcv: Any, args: Args) -> Any:
    i, j = args
    a = seq_at(it, rcv, i)
    b = seq_at(it, rcv, j)
    it.send(rcv, "at:put:", (i, b))
    it.send(rcv, "at:put:", (j, a))
    return rcv


@primitive("SequenceableCollection", "atAllPut:")
def _at_all_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i in range(1, size_of(rcv) + 1):
        it.send(rcv, "at:put:", (i, args[0]))
    return rcv


@primitive("SequenceableCollection", "sort")
def _sort(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _sort_in_place(it, rcv, None)


@primitive("SequenceableCollection", "sort:")
def _sort_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _sort_in_place(it, rcv, args[0])


def _sort_in_place(it: Interpreter, rcv: Any, block: Any) -> Any:
    if type(rcv) is StArray or (isinstance(rcv, StOrdered) and not isinstance(rcv, StSorted)):
        items = sort_items(it, list(rcv.items), block)
        touch(it, rcv)
        rcv.items[:] = items
        return rcv
    if type(rcv) is StString:
        items = sort_items(it, elements(rcv), block)
        touch(it, rcv)
        rcv.chars = "".join(c.text for c in items)
        return rcv
    return it.error("Error", "This collection cannot be sorted in place")


@primitive("ArrayedCollection class", "new:")
def _arrayed_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    size = args[0]
    if type(size) is not int or size < 0:
        return it.error("Error", "new: needs a non-negative Integer")
    check_collection(size)
    layout = rcv.layout
    if layout == "string":
        return (
            make_string(rcv, "\x00" * size)
            if rcv not in (S["String"],)
            else new_string("\x00" * size)
        )
    if layout == "bytes":
        return StByteArray(rcv, bytearray(size))
    return StArray(rcv if layout == "array" else _ARRAY, [None] * size)


@primitive("ArrayedCollection class", "new:withAll:")
def _arrayed_new_with_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    size, value = args
    if type(size) is not int or size < 0:
        return it.error("Error", "new: needs a non-negative Integer")
    check_collection(size)
    return new_collection(it, concrete_class(rcv), [value] * size)


# ---------------------------------------------------------------------- arithmetic


def _elementwise(selector: str) -> Any:
    """`#(1 2 3) * 2`, `#(1 2) + #(3 4)`: element-wise arithmetic (Interval with a
    number stays an Interval, as in Pharo)."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = args[0]
        if type(rcv) is StInterval and is_num(other) and selector in ("+", "-"):
            shifted = [it.send(v, selector, (other,)) for v in (rcv.start, rcv.stop)]
            return StInterval(_INTERVAL, shifted[0], shifted[1], rcv.step)
        mine = elements(rcv)
        if class_of(other).inherits_from(S["SequenceableCollection"]) and type(other) not in (
            StString,
            str,
        ):
            theirs = elements(other)
            if len(theirs) != len(mine):
                return it.error("Error", "Arguments must be of the same size")
            items = [it.send(a, selector, (b,)) for a, b in zip(mine, theirs, strict=True)]
        else:
            items = [it.send(a, selector, (other,)) for a in mine]
        if type(rcv) is StInterval:
            return new_array(items)
        return collect_new(it, rcv, items)

    return prim


for _sel in ("+", "-", "*", "/", "//", "\\\\"):
    primitive("SequenceableCollection", _sel)(_elementwise(_sel))
