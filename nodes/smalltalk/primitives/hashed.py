"""Set, IdentitySet and Bag."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import new_array, new_assoc
from ._registry import primitive
from .support import (
    Args,
    dict_put,
    is_identity_hashed,
    new_collection,
    new_dict,
    sort_items,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_SET = S["Set"]
_DICT = S["Dictionary"]


@primitive("Set", "add:")
def _set_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    """nil is an element like any other (Pharo wraps it as a SetElement)."""
    value = args[0]
    key = it.hash_key(value, is_identity_hashed(rcv))
    if key not in rcv.table:
        touch(it, rcv)
        rcv.table[key] = value
    return value


@primitive("Set", "remove:ifAbsent:")
def _set_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = it.hash_key(args[0], is_identity_hashed(rcv))
    if key in rcv.table:
        touch(it, rcv)
        return rcv.table.pop(key)
    return it.send(args[1], "value", ())


@primitive("Set", "includes:")
def _set_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.hash_key(args[0], is_identity_hashed(rcv)) in rcv.table


@primitive("Set", "removeAll")
@primitive("Bag", "removeAll")
def _remove_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.table.clear()
    return rcv


@primitive("Bag", "add:")
def _bag_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _bag_add_n(it, rcv, (args[0], 1))


@primitive("Bag", "add:withOccurrences:")
def _bag_add_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    value, count = args
    if type(count) is not int or count < 0:
        return it.error("Error", "add:withOccurrences: needs a non-negative Integer")
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


@primitive("Bag", "sortedElements")
def _sorted_elements(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Associations element -> count, sorted by element."""
    elements_sorted = sort_items(it, [e for e, _c in rcv.table.values()], None)
    counts = {it.hash_key(e): c for e, c in rcv.table.values()}
    return new_array([new_assoc(e, counts[it.hash_key(e)]) for e in elements_sorted])


@primitive("Bag", "valuesAndCounts")
def _values_and_counts(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A Dictionary element -> occurrences."""
    result = new_dict(it, _DICT)
    for element, count in rcv.table.values():
        dict_put(it, result, element, count)
    return result


@primitive("Bag", "includes:")
def _bag_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.hash_key(args[0]) in rcv.table


@primitive("Set", "occurrencesOf:")
def _set_occurrences_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return 1 if it.hash_key(args[0], is_identity_hashed(rcv)) in rcv.table else 0
