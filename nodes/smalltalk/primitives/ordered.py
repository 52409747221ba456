"""OrderedCollection (a growable list) and SortedCollection (kept sorted by its sortBlock)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel import new_array
from ..limits import check_collection
from ..objects import StOrdered, StSorted
from ._registry import positional_primitive, primitive
from .support import (
    Args,
    elements,
    empty_error,
    index_error,
    new_collection,
    seq_at,
    sorted_insert,
    sorted_insert_all,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


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


@positional_primitive("OrderedCollection", "add:", "addLast:")
def _add(it: Interpreter, rcv: Any, item: Any) -> Any:
    if rcv.oid is not None:
        it.touch(rcv)
    if type(rcv) is StOrdered:  # (the usual case, before the subclass test)
        rcv.items.append(item)
    elif isinstance(rcv, StSorted):
        sorted_insert(it, rcv, item)
    else:
        rcv.items.append(item)
    return item


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


def _remove_n(it: Interpreter, rcv: Any, n: Any, from_end: bool) -> Any:
    """removeFirst: / removeLast: (`from_end`): an Array of the first (last) `n`
    elements, taken out; CollectionIsEmpty when there are not that many."""
    if type(n) is not int or n > len(rcv.items):
        return empty_error(it, rcv)
    touch(it, rcv)
    part = slice(len(rcv.items) - n, None) if from_end else slice(None, n)
    taken = rcv.items[part]
    del rcv.items[part]
    return new_array(taken)


@primitive("OrderedCollection", "removeFirst:")
def _remove_first_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _remove_n(it, rcv, args[0], False)


@primitive("OrderedCollection", "removeLast:")
def _remove_last_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _remove_n(it, rcv, args[0], True)


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


@primitive("OrderedCollection", "removeAll")
def _remove_all_items(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.items.clear()
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


@primitive("SortedCollection", "median")
def _median(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, (len(rcv.items) + 1) // 2)


@primitive("SortedCollection", "sortBlock:")
def _set_sort_block(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A new sort block re-sorts the elements."""
    touch(it, rcv)
    rcv.sort_block = args[0]
    items = list(rcv.items)
    rcv.items.clear()
    sorted_insert_all(it, rcv, items)
    return rcv


@primitive("OrderedCollection", "add:afterIndex:")
def _add_after_index(it: Interpreter, rcv: Any, args: Args) -> Any:
    value, index = args
    if isinstance(rcv, StSorted):
        return it.error("Error", "This message is not appropriate for this object")
    if type(index) is not int or not 0 <= index <= len(rcv.items):
        return index_error(it, rcv, index, len(rcv.items))
    touch(it, rcv)
    rcv.items.insert(index, value)
    return value


@primitive("OrderedCollection", "addAllLast:")
def _add_all_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(args[0]):
        it.send(rcv, "addLast:", (item,))
    return args[0]
