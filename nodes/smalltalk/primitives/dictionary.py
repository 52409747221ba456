"""Dictionary and IdentityDictionary."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..kernel import identical, new_array, new_assoc
from ..objects import (
    StAssoc,
    StDict,
)
from ..printing import dict_items
from ._registry import inlined, positional_primitive, primitive
from .support import (
    Args,
    dict_key,
    dict_put,
    elements,
    key_not_found,
    new_dict,
    sort_items,
    touch,
    truth,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


@positional_primitive("Dictionary", "at:")
def _dict_at(it: Interpreter, rcv: Any, key: Any) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, key))
    if entry is None:
        return key_not_found(it, key)
    return entry[1]


@positional_primitive("Dictionary", "at:put:")
def _dict_at_put(it: Interpreter, rcv: Any, key: Any, value: Any) -> Any:
    return dict_put(it, rcv, key, value)


@primitive("Dictionary", "at:ifAbsent:")
@inlined("at_if_absent")
def _dict_at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return it.send(args[1], "value", ())
    return entry[1]


@primitive("Dictionary", "at:ifAbsentPut:")
@inlined("at_if_absent_put")
def _dict_at_if_absent_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return dict_put(it, rcv, args[0], it.send(args[1], "value", ()))
    return entry[1]


@primitive("Dictionary", "at:ifPresent:")
def _dict_at_if_present(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return None
    return it.call_block_flexible(args[1], (entry[1],))


@primitive("Dictionary", "at:ifPresent:ifAbsent:")
def _dict_at_if_present_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return it.send(args[2], "value", ())
    return it.call_block_flexible(args[1], (entry[1],))


@primitive("Dictionary", "removeKey:")
def _dict_remove_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    h = dict_key(it, rcv, args[0])
    if h not in rcv.table:
        return key_not_found(it, args[0])
    touch(it, rcv)
    return rcv.table.pop(h)[1]


@primitive("Dictionary", "removeKey:ifAbsent:")
def _dict_remove_key_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    h = dict_key(it, rcv, args[0])
    if h not in rcv.table:
        return it.send(args[1], "value", ())
    touch(it, rcv)
    return rcv.table.pop(h)[1]


@primitive("Dictionary", "includesKey:")
def _dict_includes_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    return dict_key(it, rcv, args[0]) in rcv.table


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


def _dict_mapped(it: Interpreter, rcv: Any, new_value: Callable[[Any, Any], Any]) -> Any:
    """A new Dictionary of the receiver's class with each key (in order) at
    `new_value(key, value)` (collect:, keysAndValuesCollect:)."""
    result = new_dict(it, rcv.cls)
    for key, value in dict_items(rcv):
        dict_put(it, result, key, new_value(key, value))
    return result


@primitive("Dictionary", "collect:")
def _dict_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_mapped(it, rcv, lambda k, v: it.call_block(args[0], (v,)))


def _dict_filtered(it: Interpreter, rcv: Any, keep: Callable[[Any, Any], bool]) -> Any:
    """A new Dictionary of the receiver's class with the entries (in order) for which
    `keep(key, value)` is true (select:, reject:, keysSelect:, associationsSelect:)."""
    result = new_dict(it, rcv.cls)
    for key, value in dict_items(rcv):
        if keep(key, value):
            dict_put(it, result, key, value)
    return result


@primitive("Dictionary", "select:")
def _dict_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_filtered(it, rcv, lambda k, v: truth(it, it.call_block(args[0], (v,))))


@primitive("Dictionary", "reject:")
def _dict_reject(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_filtered(it, rcv, lambda k, v: not truth(it, it.call_block(args[0], (v,))))


@primitive("Dictionary", "keysAndValuesRemove:")
def _dict_keys_values_remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    for key, value in dict_items(rcv):
        if truth(it, it.call_block(args[0], (key, value))):
            touch(it, rcv)
            rcv.table.pop(dict_key(it, rcv, key), None)
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
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return key_not_found(it, args[0])
    return new_assoc(entry[0], entry[1])


@primitive("Dictionary", "add:")
def _dict_add(it: Interpreter, rcv: Any, args: Args) -> Any:
    assoc = args[0]
    if type(assoc) is not StAssoc:
        return it.error("Error", "Dictionaries are built from Associations")
    dict_put(it, rcv, assoc.key, assoc.value)
    return assoc


@primitive("Dictionary", "addAll:")
def _dict_add_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    source = args[0]
    if type(source) is StDict:
        for key, value in dict_items(source):
            dict_put(it, rcv, key, value)
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

    for key, value in dict_items(rcv):
        if identical(value, args[0]):
            return key
    return None


@primitive("Dictionary", "at:update:")
def _dict_at_update(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The value at `key` replaced by `aBlock value: oldValue` (KeyNotFound if absent)."""
    key, block = args
    entry = rcv.table.get(dict_key(it, rcv, key))
    if entry is None:
        return key_not_found(it, key)
    return dict_put(it, rcv, key, it.call_block(block, (entry[1],)))


@primitive("Dictionary", "at:update:initial:")
def _dict_at_update_initial(it: Interpreter, rcv: Any, args: Args) -> Any:
    """As at:update:, but an absent key gets `initBlock value` (not updated)."""
    key, block, initial = args
    entry = rcv.table.get(dict_key(it, rcv, key))
    if entry is None:
        return dict_put(it, rcv, key, it.send(initial, "value", ()))
    return dict_put(it, rcv, key, it.call_block(block, (entry[1],)))


@primitive("Dictionary", "associationAt:ifAbsent:")
def _dict_association_at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    entry = rcv.table.get(dict_key(it, rcv, args[0]))
    if entry is None:
        return it.send(args[1], "value", ())
    return new_assoc(entry[0], entry[1])


@primitive("Dictionary", "keysSelect:")
def _dict_keys_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_filtered(it, rcv, lambda k, v: truth(it, it.call_block(args[0], (k,))))


@primitive("Dictionary", "associationsSelect:")
def _dict_associations_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_filtered(
        it, rcv, lambda k, v: truth(it, it.call_block(args[0], (new_assoc(k, v),)))
    )


@primitive("Dictionary", "keysAndValuesCollect:")
def _dict_keys_and_values_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _dict_mapped(it, rcv, lambda k, v: it.call_block(args[0], (k, v)))


@primitive("Dictionary", "asDictionary")
def _dict_as_dictionary(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Dictionary class", "newFromPairs:")
def _dict_new_from_pairs(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`Dictionary newFromPairs: #(#a 1 #b 2)`: keys and values alternate."""
    items = elements(args[0])
    result = new_dict(it, rcv)
    for index in range(0, len(items) - 1, 2):
        dict_put(it, result, items[index], items[index + 1])
    return result
