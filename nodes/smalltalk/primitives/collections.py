"""Collections: the generic Collection protocol (written once over an element view),
then Array, OrderedCollection, SortedCollection, Interval, Set, Bag, Dictionary and
ByteArray specifics. Strings and Symbols reuse the sequenceable protocol (see
strings.py for what is String-only)."""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, new_array, new_assoc, new_string
from ..limits import check_collection
from ..objects import (
    BlockCode,
    Char,
    StArray,
    StAssoc,
    StBag,
    StBlock,
    StByteArray,
    StClass,
    StDict,
    StInterval,
    StOrdered,
    StSet,
    StSorted,
    StString,
)
from ..printing import dict_items
from ._registry import primitive
from .support import (
    Args,
    elements,
    empty_error,
    index_error,
    is_num,
    new_collection,
    not_found,
    size_of,
    species_class,
    string_from_items,
    text_of,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_ARRAY = S["Array"]
_ORDERED = S["OrderedCollection"]
_SET = S["Set"]
_BAG = S["Bag"]
_SORTED = S["SortedCollection"]
_DICT = S["Dictionary"]
_INTERVAL = S["Interval"]


def _species_new(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    cls = species_class(rcv)
    if isinstance(rcv, StSorted):
        result = StSorted(cls, [], rcv.sort_block)
        sorted_insert_all(it, result, items)
        return result
    return new_collection(it, cls, items)


def _collect_new(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    """collect: results: Strings answer a String only if every result is a Character;
    SortedCollections answer an OrderedCollection (Pharo: order may not hold)."""
    if isinstance(rcv, StSorted):
        return StOrdered(_ORDERED, items)
    if type(rcv) in (StString, str):
        return string_from_items(it, items)
    if type(rcv) is StByteArray:
        return new_array(items)
    return new_collection(it, species_class(rcv), items)


# ---------------------------------------------------------------------- enumeration


@primitive("Collection", "do:")
def _do(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    for item in elements(rcv):
        run(item)
    return rcv


@primitive("Collection", "do:separatedBy:")
def _do_separated(it: Interpreter, rcv: Any, args: Args) -> Any:
    block, separator = args
    first = True
    for item in elements(rcv):
        if not first:
            it.call_block(separator, ())
        first = False
        it.call_block(block, (item,))
    return rcv


@primitive("Collection", "collect:")
def _collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    return _collect_new(it, rcv, [run(item) for item in elements(rcv)])


@primitive("Collection", "select:")
def _select(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    return _species_new(it, rcv, [x for x in elements(rcv) if _truth(it, run(x))])


@primitive("Collection", "reject:")
def _reject(it: Interpreter, rcv: Any, args: Args) -> Any:
    block = args[0]
    return _species_new(
        it, rcv, [x for x in elements(rcv) if not _truth(it, it.call_block(block, (x,)))]
    )


@primitive("Collection", "select:thenCollect:")
def _select_then_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    chosen = [x for x in elements(rcv) if _truth(it, it.call_block(args[0], (x,)))]
    return _collect_new(it, rcv, [it.call_block(args[1], (x,)) for x in chosen])


@primitive("Collection", "collect:thenSelect:")
def _collect_then_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    mapped = [it.call_block(args[0], (x,)) for x in elements(rcv)]
    return _collect_new(it, rcv, [x for x in mapped if _truth(it, it.call_block(args[1], (x,)))])


def _truth(it: Interpreter, value: Any) -> bool:
    if value is True:
        return True
    if value is False:
        return False
    it.non_boolean(value)
    return False


@primitive("Collection", "detect:")
def _detect(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if _truth(it, it.call_block(args[0], (item,))):
            return item
    return not_found(it, args[0])


@primitive("Collection", "detect:ifNone:")
def _detect_if_none(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if _truth(it, it.call_block(args[0], (item,))):
            return item
    return it.send(args[1], "value", ())


@primitive("Collection", "detect:ifFound:ifNone:")
def _detect_found_none(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if _truth(it, it.call_block(args[0], (item,))):
            return it.call_block_flexible(args[1], (item,))
    return it.send(args[2], "value", ())


@primitive("Collection", "inject:into:")
def _inject(it: Interpreter, rcv: Any, args: Args) -> Any:
    acc, block = args
    run = it.block_fn(block, 2)
    if type(rcv) is StInterval and type(rcv.start) is int and type(rcv.step) is int:
        start, step = rcv.start, rcv.step
        for i in range(rcv.size()):
            acc = run(acc, start + i * step)
        return acc
    for item in elements(rcv):
        acc = run(acc, item)
    return acc


@primitive("Collection", "anySatisfy:", "contains:")
def _any_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return any(_truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "allSatisfy:")
def _all_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return all(_truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "noneSatisfy:")
def _none_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not any(_truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "count:")
def _count(it: Interpreter, rcv: Any, args: Args) -> Any:
    return sum(1 for x in elements(rcv) if _truth(it, it.call_block(args[0], (x,))))


@primitive("Collection", "includes:")
def _includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    target = args[0]
    if type(rcv) in (StSet,):
        return it.hash_key(target, rcv.cls.inherits_from(S["IdentitySet"])) in rcv.table
    return any(it.equal(x, target) for x in elements(rcv))


@primitive("Collection", "identityIncludes:")
def _identity_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..kernel import identical

    return any(identical(x, args[0]) for x in elements(rcv))


@primitive("Collection", "occurrencesOf:")
def _occurrences_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is StBag:
        entry = rcv.table.get(it.hash_key(args[0]))
        return entry[1] if entry else 0
    return sum(1 for x in elements(rcv) if it.equal(x, args[0]))


@primitive("Collection", "size")
def _size(it: Interpreter, rcv: Any, args: Args) -> Any:
    return size_of(rcv)


@primitive("Collection", "isEmpty")
def _is_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return size_of(rcv) == 0


@primitive("Collection", "notEmpty", "isNotEmpty")
def _not_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return size_of(rcv) != 0


@primitive("Collection", "isEmptyOrNil")
def _is_empty_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return size_of(rcv) == 0


@primitive("Collection", "ifEmpty:")
def _if_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "value", ()) if size_of(rcv) == 0 else rcv


@primitive("Collection", "ifNotEmpty:")
def _if_not_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block_flexible(args[0], (rcv,)) if size_of(rcv) else rcv


@primitive("Collection", "ifEmpty:ifNotEmpty:")
def _if_empty_if_not_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    if size_of(rcv) == 0:
        return it.send(args[0], "value", ())
    return it.call_block_flexible(args[1], (rcv,))


@primitive("Collection", "ifNotEmpty:ifEmpty:")
def _if_not_empty_if_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    if size_of(rcv) == 0:
        return it.send(args[1], "value", ())
    return it.call_block_flexible(args[0], (rcv,))


@primitive("Collection", "anyOne")
def _any_one(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if not items:
        return empty_error(it, rcv)
    return items[0]


# ---------------------------------------------------------------------- conversion


@primitive("Collection", "asArray")
def _as_array(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is StArray and rcv.cls is _ARRAY:
        return rcv
    return new_array(elements(rcv))


@primitive("Collection", "asOrderedCollection")
def _as_ordered(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StOrdered(_ORDERED, elements(rcv))


@primitive("Collection", "asSet")
def _as_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_collection(it, _SET, elements(rcv))


@primitive("Collection", "asIdentitySet")
def _as_identity_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_collection(it, S["IdentitySet"], elements(rcv))


@primitive("Collection", "asBag")
def _as_bag(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_collection(it, _BAG, elements(rcv))


@primitive("Collection", "asSortedCollection")
def _as_sorted(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = StSorted(_SORTED, [], None)
    sorted_insert_all(it, result, elements(rcv))
    return result


@primitive("Collection", "asSortedCollection:")
def _as_sorted_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = StSorted(_SORTED, [], args[0])
    sorted_insert_all(it, result, elements(rcv))
    return result


@primitive("Collection", "asByteArray")
def _as_byte_array(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if type(rcv) in (StString, str):
        items = [c.code for c in items]
    return new_collection(it, S["ByteArray"], items)


@primitive("Collection", "sorted")
def _sorted(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = sort_items(it, elements(rcv), None)
    return _sorted_copy(it, rcv, items)


@primitive("Collection", "sorted:", "asSortedArray:")
def _sorted_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = sort_items(it, elements(rcv), args[0])
    return _sorted_copy(it, rcv, items)


def _sorted_copy(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    if type(rcv) in (StOrdered,) and not isinstance(rcv, StSorted):
        return StOrdered(rcv.cls, items)
    if type(rcv) in (StString, str):
        return string_from_items(it, items)
    return new_array(items)


# ---------------------------------------------------------------------- aggregation


def _fold(it: Interpreter, items: list[Any], selector: str) -> Any:
    acc = items[0]
    for item in items[1:]:
        if type(acc) is int and type(item) is int and selector == "+":
            acc = acc + item
        else:
            acc = it.send(acc, selector, (item,))
    return acc


@primitive("Collection", "sum")
def _sum(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if not items:
        return 0
    return _fold(it, items, "+")


@primitive("Collection", "sum:", "detectSum:")
def _sum_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = [it.call_block(args[0], (x,)) for x in elements(rcv)]
    if not items:
        return 0
    return _fold(it, items, "+")


@primitive("Collection", "max")
def _max(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if not items:
        return empty_error(it, rcv)
    return _fold(it, items, "max:")


@primitive("Collection", "min")
def _min(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if not items:
        return empty_error(it, rcv)
    return _fold(it, items, "min:")


@primitive("Collection", "detectMax:")
def _detect_max(it: Interpreter, rcv: Any, args: Args) -> Any:
    best = None
    best_value = None
    for item in elements(rcv):
        value = it.call_block(args[0], (item,))
        if best_value is None or it.send(value, ">", (best_value,)) is True:
            best, best_value = item, value
    return best


@primitive("Collection", "detectMin:")
def _detect_min(it: Interpreter, rcv: Any, args: Args) -> Any:
    best = None
    best_value = None
    for item in elements(rcv):
        value = it.call_block(args[0], (item,))
        if best_value is None or it.send(value, "<", (best_value,)) is True:
            best, best_value = item, value
    return best


@primitive("Collection", "average")
def _average(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    if not items:
        return empty_error(it, rcv)
    return it.send(_fold(it, items, "+"), "/", (len(items),))


@primitive("Collection", "groupedBy:", "groupBy:")
def _group_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = StDict(_DICT)
    for item in elements(rcv):
        key = it.call_block(args[0], (item,))
        h = it.hash_key(key)
        entry = result.table.get(h)
        if entry is None:
            entry = result.table[h] = [key, StOrdered(_ORDERED, [])]
        entry[1].items.append(item)
    for entry in result.table.values():
        entry[1] = _species_new(it, rcv, entry[1].items)
    return result


# ---------------------------------------------------------------------- sequenceable


def _items(rcv: Any) -> list[Any]:
    """The live element list of an Array/OrderedCollection (for mutation)."""
    items: list[Any] = rcv.items
    return items


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


@primitive("OrderedCollection", "at:put:")
def _oc_at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    index, value = args
    if isinstance(rcv, StSorted):
        return it.error("Error", "This message is not appropriate for this object")
    items = rcv.items
    if type(index) is int and 1 <= index <= len(items):
        touch(it, rcv)
        items[index - 1] = value
        return value
    return index_error(it, rcv, index, len(items))


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
    return _species_copy(it, rcv, items[:n])


@primitive("SequenceableCollection", "last:")
def _last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    items = elements(rcv)
    if type(n) is not int or n > len(items) or n < 0:
        return index_error(it, rcv, n, len(items))
    return _species_copy(it, rcv, items[len(items) - n :])


@primitive("SequenceableCollection", "allButFirst")
def _all_but_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _species_copy(it, rcv, elements(rcv)[1:])


@primitive("SequenceableCollection", "allButLast")
def _all_but_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _species_copy(it, rcv, elements(rcv)[:-1])


@primitive("SequenceableCollection", "allButFirst:")
def _all_but_first_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _species_copy(it, rcv, elements(rcv)[args[0] :])


@primitive("SequenceableCollection", "allButLast:")
def _all_but_last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    return _species_copy(it, rcv, items[: max(0, len(items) - args[0])])


def _species_copy(it: Interpreter, rcv: Any, items: list[Any]) -> Any:
    if type(rcv) in (StString, str):
        return string_from_items(it, items)
    if isinstance(rcv, StSorted):
        return StSorted(rcv.cls, items, rcv.sort_block)
    return _species_new(it, rcv, items)


@primitive("SequenceableCollection", "copyFrom:to:")
def _copy_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop = args
    items = elements(rcv)
    if type(start) is not int or type(stop) is not int:
        return it.error("Error", "copyFrom:to: needs Integers")
    if stop < start:
        return _species_copy(it, rcv, [])
    if start < 1 or stop > len(items):
        return index_error(it, rcv, start if start < 1 else stop, len(items))
    return _species_copy(it, rcv, items[start - 1 : stop])


@primitive("SequenceableCollection", "copyWith:")
def _copy_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _species_copy(it, rcv, [*elements(rcv), args[0]])


@primitive("Collection", "copyWithout:")
def _copy_without(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _species_copy(it, rcv, [x for x in elements(rcv) if not it.equal(x, args[0])])


@primitive("SequenceableCollection", ",")
def _concat(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    if not class_of(other).inherits_from(S["Collection"]):
        return it.send(other, "do:", (None,))
    items = elements(rcv) + elements(other)
    if isinstance(rcv, StOrdered) and not isinstance(rcv, StSorted):
        return StOrdered(rcv.cls, items)
    return _species_copy(it, rcv, items)


@primitive("SequenceableCollection", "reversed", "reverse")
def _reversed(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    items.reverse()
    if isinstance(rcv, StSorted):
        return StOrdered(_ORDERED, items)
    return _species_copy(it, rcv, items)


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
        if _truth(it, it.call_block(args[0], (item,))):
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
    return _collect_new(it, rcv, items)


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
    return _collect_new(
        it, rcv, [it.call_block(args[1], (a, b)) for a, b in zip(mine, theirs, strict=True)]
    )


@primitive("SequenceableCollection", "readStream")
def _read_stream(it: Interpreter, rcv: Any, args: Args) -> Any:
    from .streams import make_read_stream

    return make_read_stream(it, rcv)


@primitive("SequenceableCollection", "writeStream")
def _write_stream(it: Interpreter, rcv: Any, args: Args) -> Any:
    from .streams import make_write_stream

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

        def before(a: Any, b: Any) -> int:
            return -1 if it.send(a, "<=", (b,)) is True else 1

        return sorted(items, key=functools.cmp_to_key(before))

    def ordered(a: Any, b: Any) -> int:
        return -1 if _truth(it, it.call_block(block, (a, b))) else 1

    return _merge_sort(items, ordered)


def _merge_sort(items: list[Any], cmp: Any) -> list[Any]:
    """Merge sort that only asks `cmp(a, b) < 0` (a sort block need not be a
    consistent total order, which Python's sort would assume)."""
    if len(items) <= 1:
        return items
    mid = len(items) // 2
    left = _merge_sort(items[:mid], cmp)
    right = _merge_sort(items[mid:], cmp)
    out: list[Any] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) < 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


# ---------------------------------------------------------------------- Array


@primitive("ArrayedCollection class", "new:")
def _arrayed_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    size = args[0]
    if type(size) is not int or size < 0:
        return it.error("Error", "new: needs a non-negative Integer")
    check_collection(size)
    layout = rcv.layout
    if layout == "string":
        return (
            StString(rcv, "\x00" * size) if rcv not in (S["String"],) else new_string("\x00" * size)
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
    return new_collection(it, _concrete(rcv), [value] * size)


def _concrete(cls: StClass) -> StClass:
    if cls is S["String"]:
        return S["ByteString"]
    return cls


@primitive(
    "Collection class",
    "with:",
    "with:with:",
    "with:with:with:",
    "with:with:with:with:",
    "with:with:with:with:with:",
    "with:with:with:with:with:with:",
)
def _with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _instance_with(it, rcv, list(args))


@primitive("Collection class", "withAll:", "newFrom:")
def _with_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    source = args[0]
    if rcv.layout == "dict":
        result = _new_dict(it, rcv)
        if type(source) is StDict:
            for key, value in dict_items(source):
                _dict_put(it, result, key, value)
        else:
            for item in elements(source):
                if type(item) is StAssoc:
                    _dict_put(it, result, item.key, item.value)
        return result
    return _instance_with(it, rcv, elements(source))


def _instance_with(it: Interpreter, cls: StClass, items: list[Any]) -> Any:
    cls = _concrete(cls)
    if cls.layout == "dict":
        result = _new_dict(it, cls)
        for item in items:
            if type(item) is not StAssoc:
                return it.error("Error", "Dictionaries are built from Associations")
            _dict_put(it, result, item.key, item.value)
        return result
    if cls.layout in ("array", "string", "bytes", "ordered", "sorted", "set", "bag"):
        result = new_collection(it, cls, items)
        if cls.layout == "string" and type(result) is not StString:
            return it.error("Error", "Strings can only hold Characters")
        return result
    return it.error("Error", f"{cls.name} cannot be built with with:")


# ---------------------------------------------------------------------- OrderedCollection


@primitive("OrderedCollection", "add:", "addLast:")
def _add(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    if isinstance(rcv, StSorted):
        sorted_insert(it, rcv, args[0])
    else:
        rcv.items.append(args[0])
    return args[0]


@primitive("OrderedCollection", "addFirst:")
def _add_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    if isinstance(rcv, StSorted):
        return it.error("Error", "This message is not appropriate for this object")
    touch(it, rcv)
    rcv.items.insert(0, args[0])
    return args[0]


@primitive("OrderedCollection", "add:beforeIndex:")
def _add_before_index(it: Interpreter, rcv: Any, args: Args) -> Any:
    value, index = args
    if type(index) is not int or not 1 <= index <= len(rcv.items) + 1:
        return index_error(it, rcv, index, len(rcv.items))
    touch(it, rcv)
    rcv.items.insert(index - 1, value)
    return value


@primitive("Collection", "addAll:")
def _add_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(args[0]):
        it.send(rcv, "add:", (item,))
    return args[0]


@primitive("OrderedCollection", "addAllFirst:")
def _add_all_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.items[0:0] = elements(args[0])
    return args[0]


@primitive("OrderedCollection", "removeFirst")
def _remove_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not rcv.items:
        return empty_error(it, rcv)
    touch(it, rcv)
    return rcv.items.pop(0)


@primitive("OrderedCollection", "removeLast")
def _remove_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not rcv.items:
        return empty_error(it, rcv)
    touch(it, rcv)
    return rcv.items.pop()


@primitive("OrderedCollection", "removeFirst:")
def _remove_first_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    if type(n) is not int or n > len(rcv.items):
        return empty_error(it, rcv)
    touch(it, rcv)
    taken = rcv.items[:n]
    del rcv.items[:n]
    return new_array(taken)


@primitive("OrderedCollection", "removeLast:")
def _remove_last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    if type(n) is not int or n > len(rcv.items):
        return empty_error(it, rcv)
    touch(it, rcv)
    taken = rcv.items[len(rcv.items) - n :]
    del rcv.items[len(rcv.items) - n :]
    return new_array(taken)


@primitive("OrderedCollection", "removeAt:", "removeIndex:")
def _remove_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = args[0]
    if type(index) is not int or not 1 <= index <= len(rcv.items):
        return index_error(it, rcv, index, len(rcv.items))
    touch(it, rcv)
    return rcv.items.pop(index - 1)


@primitive("OrderedCollection", "remove:ifAbsent:")
def _oc_remove_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    for i, item in enumerate(rcv.items):
        if it.equal(item, args[0]):
            touch(it, rcv)
            del rcv.items[i]
            return item
    return it.send(args[1], "value", ())


@primitive("Collection", "remove:")
def _remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    code = BlockCode(0, (), lambda f: not_found(it, args[0]), "[...]", {}, None)
    return it.send(
        rcv, "remove:ifAbsent:", (args[0], StBlock(S["FullBlockClosure"], code, None, None))
    )


@primitive("Collection", "removeAll:")
def _remove_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(args[0]):
        it.send(rcv, "remove:", (item,))
    return args[0]


@primitive("OrderedCollection", "removeAll")
def _remove_all_items(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.items.clear()
    return rcv


@primitive("Collection", "removeAllSuchThat:")
def _remove_all_such_that(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if _truth(it, it.call_block(args[0], (item,))):
            it.send(rcv, "remove:", (item,))
    return rcv


@primitive("OrderedCollection class", "new:")
def _oc_new_sized(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int or args[0] < 0:
        return it.error("Error", "new: needs a non-negative Integer")
    return it.send(rcv, "new", ())


@primitive("OrderedCollection class", "new:withAll:")
def _oc_new_with_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    size, value = args
    check_collection(size)
    return new_collection(it, rcv, [value] * size)


# ---------------------------------------------------------------------- SortedCollection


def _sort_before(it: Interpreter, coll: StSorted, a: Any, b: Any) -> bool:
    if coll.sort_block is None:
        if is_num(a) and is_num(b):
            return bool(a <= b)
        return it.send(a, "<=", (b,)) is True
    return _truth(it, it.call_block(coll.sort_block, (a, b)))


def sorted_insert(it: Interpreter, coll: StSorted, value: Any) -> None:
    items = coll.items
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if _sort_before(it, coll, items[mid], value):
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


@primitive("SortedCollection class", "sortBlock:")
def _sorted_with_block(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StSorted(rcv, [], args[0])


@primitive("SortedCollection", "sortBlock")
def _sort_block(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.sort_block


@primitive("SortedCollection", "addAll:")
def _sorted_add_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    sorted_insert_all(it, rcv, elements(args[0]))
    return args[0]


@primitive("SortedCollection", "indexOf:")
def _sorted_index_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _index_of(it, rcv, args)


@primitive("SortedCollection", "median")
def _median(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, (len(rcv.items) + 1) // 2)


# ---------------------------------------------------------------------- Interval


@primitive("Interval class", "from:to:")
def _interval_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StInterval(_INTERVAL, args[0], args[1], 1)


@primitive("Interval class", "from:to:by:")
def _interval_from_to_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    if args[2] == 0:
        return it.error("Error", "step must not be zero")
    return StInterval(_INTERVAL, args[0], args[1], args[2])


@primitive("Interval", "first")
def _interval_first(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.size() == 0:
        return empty_error(it, rcv)
    return rcv.start


@primitive("Interval", "last")
def _interval_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.size() == 0:
        return empty_error(it, rcv)
    return rcv.element(rcv.size() - 1)


@primitive("Interval", "do:")
def _interval_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    if type(rcv.start) is int and type(rcv.step) is int and is_num(rcv.stop):
        start, step = rcv.start, rcv.step
        for i in range(rcv.size()):
            run(start + i * step)
        return rcv
    for item in rcv.values():
        run(item)
    return rcv


@primitive("Interval", "collect:")
def _interval_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    check_collection(rcv.size())
    return new_array([run(rcv.element(i)) for i in range(rcv.size())])


@primitive("Interval", "increment")
def _interval_increment(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.step


@primitive("Interval", "includes:")
def _interval_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = args[0]
    if not is_num(value) or rcv.size() == 0:
        return False
    low, high = sorted((rcv.start, rcv.element(rcv.size() - 1)))
    if not low <= value <= high:
        return False
    offset = Fraction(value - rcv.start) / Fraction(rcv.step)
    return offset.denominator == 1


@primitive("Interval", "at:put:", "add:", "remove:")
def _interval_immutable(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "This message is not appropriate for this object")


# ---------------------------------------------------------------------- Set & Bag


def _identity(coll: Any) -> bool:
    if coll.cls is _DICT or coll.cls is _SET:  # the usual case, without walking the hierarchy
        return False
    return bool(
        coll.cls.inherits_from(S["IdentitySet"]) or coll.cls.inherits_from(S["IdentityDictionary"])
    )


@primitive("Set", "add:")
def _set_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = args[0]
    if value is None:
        return value
    key = it.hash_key(value, _identity(rcv))
    if key not in rcv.table:
        touch(it, rcv)
        rcv.table[key] = value
    return value


@primitive("Set", "remove:ifAbsent:")
def _set_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = it.hash_key(args[0], _identity(rcv))
    if key in rcv.table:
        touch(it, rcv)
        return rcv.table.pop(key)
    return it.send(args[1], "value", ())


@primitive("Set", "includes:")
def _set_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.hash_key(args[0], _identity(rcv)) in rcv.table


@primitive("Set", "removeAll")
def _set_remove_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.table.clear()
    return rcv


@primitive("Bag", "add:")
def _bag_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _bag_add_n(it, rcv, (args[0], 1))


@primitive("Bag", "add:withOccurrences:")
def _bag_add_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    value, count = args
    touch(it, rcv)
    entry = rcv.table.setdefault(it.hash_key(value), [value, 0])
    entry[1] += count
    return value


@primitive("Bag", "remove:ifAbsent:")
def _bag_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = it.hash_key(args[0])
    entry = rcv.table.get(key)
    if entry is None:
        return it.send(args[1], "value", ())
    touch(it, rcv)
    entry[1] -= 1
    if entry[1] == 0:
        del rcv.table[key]
    return args[0]


@primitive("Bag", "asSet")
def _bag_as_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_collection(it, _SET, [e for e, _c in rcv.table.values()])


@primitive("Bag", "sortedCounts")
def _sorted_counts(it: Interpreter, rcv: Any, args: Args) -> Any:
    pairs = sorted(rcv.table.values(), key=lambda ec: -ec[1])
    return new_array([new_assoc(c, e) for e, c in pairs])


# ---------------------------------------------------------------------- Dictionary


def _new_dict(it: Interpreter, cls: StClass) -> StDict:
    return StDict(cls)


def _dict_key(it: Interpreter, rcv: StDict, key: Any) -> Any:
    return it.hash_key(key, _identity(rcv))


def _dict_put(it: Interpreter, rcv: StDict, key: Any, value: Any) -> Any:
    h = _dict_key(it, rcv, key)
    entry = rcv.table.get(h)
    touch(it, rcv)
    if entry is None:
        rcv.table[h] = [key, value]
    else:
        entry[1] = value
    return value


def _key_not_found(it: Interpreter, key: Any) -> Any:
    return it.error("KeyNotFound", None, key=key)


@primitive("Dictionary", "at:")
def _dict_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return _key_not_found(it, args[0])
    return entry[1]


@primitive("Dictionary", "at:put:")
def _dict_at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_put(it, rcv, args[0], args[1])


@primitive("Dictionary", "at:ifAbsent:")
def _dict_at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return it.send(args[1], "value", ())
    return entry[1]


@primitive("Dictionary", "at:ifAbsentPut:")
def _dict_at_if_absent_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return _dict_put(it, rcv, args[0], it.send(args[1], "value", ()))
    return entry[1]


@primitive("Dictionary", "at:ifPresent:")
def _dict_at_if_present(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return None
    return it.call_block_flexible(args[1], (entry[1],))


@primitive("Dictionary", "at:ifPresent:ifAbsent:")
def _dict_at_if_present_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return it.send(args[2], "value", ())
    return it.call_block_flexible(args[1], (entry[1],))


@primitive("Dictionary", "removeKey:")
def _dict_remove_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    h = _dict_key(it, rcv, args[0])
    if h not in rcv.table:
        return _key_not_found(it, args[0])
    touch(it, rcv)
    return rcv.table.pop(h)[1]


@primitive("Dictionary", "removeKey:ifAbsent:")
def _dict_remove_key_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    h = _dict_key(it, rcv, args[0])
    if h not in rcv.table:
        return it.send(args[1], "value", ())
    touch(it, rcv)
    return rcv.table.pop(h)[1]


@primitive("Dictionary", "includesKey:")
def _dict_includes_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_key(it, rcv, args[0]) in rcv.table


@primitive("Dictionary", "includes:")
def _dict_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    return any(it.equal(v, args[0]) for _k, v in rcv.table.values())


@primitive("Dictionary", "keys")
def _dict_keys(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array([k for k, _v in dict_items(rcv)])


@primitive("Dictionary", "values")
def _dict_values(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array([v for _k, v in dict_items(rcv)])


@primitive("Dictionary", "associations")
def _dict_associations(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array([new_assoc(k, v) for k, v in dict_items(rcv)])


@primitive("Dictionary", "keysSortedSafely", "keysSorted")
def _dict_keys_sorted(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(sort_items(it, [k for k, _v in dict_items(rcv)], None))


@primitive("Dictionary", "keysAndValuesDo:")
def _dict_keys_and_values_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        it.call_block(args[0], (key, value))
    return rcv


@primitive("Dictionary", "associationsDo:")
def _dict_associations_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        it.call_block(args[0], (new_assoc(key, value),))
    return rcv


@primitive("Dictionary", "keysDo:")
def _dict_keys_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, _value in dict_items(rcv):
        it.call_block(args[0], (key,))
    return rcv


@primitive("Dictionary", "valuesDo:")
def _dict_values_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for _key, value in dict_items(rcv):
        it.call_block(args[0], (value,))
    return rcv


@primitive("Dictionary", "collect:")
def _dict_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = _new_dict(it, rcv.cls)
    for key, value in dict_items(rcv):
        _dict_put(it, result, key, it.call_block(args[0], (value,)))
    return result


@primitive("Dictionary", "select:")
def _dict_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = _new_dict(it, rcv.cls)
    for key, value in dict_items(rcv):
        if _truth(it, it.call_block(args[0], (value,))):
            _dict_put(it, result, key, value)
    return result


@primitive("Dictionary", "reject:")
def _dict_reject(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = _new_dict(it, rcv.cls)
    for key, value in dict_items(rcv):
        if not _truth(it, it.call_block(args[0], (value,))):
            _dict_put(it, result, key, value)
    return result


@primitive("Dictionary", "keysAndValuesRemove:")
def _dict_keys_values_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        if _truth(it, it.call_block(args[0], (key, value))):
            touch(it, rcv)
            rcv.table.pop(_dict_key(it, rcv, key), None)
    return rcv


@primitive("Dictionary", "keyAtValue:")
def _dict_key_at_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        if it.equal(value, args[0]):
            return key
    return None


@primitive("Dictionary", "keyAtValue:ifAbsent:")
def _dict_key_at_value_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        if it.equal(value, args[0]):
            return key
    return it.send(args[1], "value", ())


@primitive("Dictionary", "associationAt:")
def _dict_association_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(_dict_key(it, rcv, args[0]))
    if entry is None:
        return _key_not_found(it, args[0])
    return new_assoc(entry[0], entry[1])


@primitive("Dictionary", "add:")
def _dict_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    assoc = args[0]
    if type(assoc) is not StAssoc:
        return it.error("Error", "Dictionaries are built from Associations")
    _dict_put(it, rcv, assoc.key, assoc.value)
    return assoc


@primitive("Dictionary", "addAll:")
def _dict_add_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    source = args[0]
    if type(source) is StDict:
        for key, value in dict_items(source):
            _dict_put(it, rcv, key, value)
    else:
        for item in elements(source):
            _dict_add(it, rcv, (item,))
    return source


@primitive("Dictionary", "removeAll")
def _dict_remove_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.table.clear()
    return rcv


@primitive("Dictionary", "remove:", "remove:ifAbsent:")
def _dict_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "This message is not appropriate for this object")


@primitive("Dictionary", "keyForIdentity:")
def _dict_key_for_identity(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..kernel import identical

    for key, value in dict_items(rcv):
        if identical(value, args[0]):
            return key
    return None


@primitive("Dictionary", "anyOne")
def _dict_any_one(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = dict_items(rcv)
    if not items:
        return empty_error(it, rcv)
    return items[0][1]


# ---------------------------------------------------------------------- Association & Point


@primitive("LookupKey", "key")
def _assoc_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.key


@primitive("Association", "value")
def _assoc_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.value


@primitive("LookupKey", "key:")
def _assoc_key_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.key = args[0]
    return rcv


@primitive("Association", "value:")
def _assoc_value_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.value = args[0]
    return rcv


@primitive("Association", "key:value:")
def _assoc_key_value_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.key, rcv.value = args
    return rcv


@primitive("Association class", "key:value:")
def _assoc_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StAssoc(rcv, args[0], args[1])


@primitive("LookupKey", "<")
def _assoc_less(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    return it.send(rcv.key, "<", (other.key if type(other) is StAssoc else other,))


@primitive("Point", "x")
def _point_x(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.x


@primitive("Point", "y")
def _point_y(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.y


@primitive("Point", "x:y:", "setX:setY:")
def _point_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.x, rcv.y = args
    return rcv


@primitive("Point", "x:")
def _point_set_x(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.x = args[0]
    return rcv


@primitive("Point", "y:")
def _point_set_y(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.y = args[0]
    return rcv


@primitive("Point class", "x:y:")
def _point_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..objects import StPoint

    return StPoint(rcv, args[0], args[1])


def _point_arith(selector: str) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        from ..kernel import new_point
        from ..objects import StPoint

        other = args[0]
        if type(other) is StPoint:
            return new_point(
                it.send(rcv.x, selector, (other.x,)), it.send(rcv.y, selector, (other.y,))
            )
        return new_point(it.send(rcv.x, selector, (other,)), it.send(rcv.y, selector, (other,)))

    return prim


for _sel in ("+", "-", "*", "/", "//"):
    primitive("Point", _sel)(_point_arith(_sel))


@primitive("Point", "dist:")
def _point_dist(it: Interpreter, rcv: Any, args: Args) -> Any:
    import math

    other = args[0]
    return math.hypot(float(rcv.x - other.x), float(rcv.y - other.y))


@primitive("Point", "<")
def _point_less(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    return it.send(rcv.x, "<", (other.x,)) is True and it.send(rcv.y, "<", (other.y,)) is True


@primitive("Point", ">")
def _point_greater(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    return it.send(rcv.x, ">", (other.x,)) is True and it.send(rcv.y, ">", (other.y,)) is True


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
        return _collect_new(it, rcv, items)

    return prim


for _sel in ("+", "-", "*", "/", "//", "\\\\"):
    primitive("SequenceableCollection", _sel)(_elementwise(_sel))


@primitive("ByteArray", "asString")
def _bytes_as_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(bytes(rcv.data).decode("latin-1"))
