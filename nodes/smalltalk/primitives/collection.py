"""The Collection protocol every collection shares (enumerating, testing, converting,
aggregating, adding and removing through the concrete class's own add:/remove:ifAbsent:),
written once over an element view (support.elements); and the class-side `with:` family."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, identical, new_array, new_string
from ..objects import (
    StArray,
    StAssoc,
    StBag,
    StClass,
    StDict,
    StOrdered,
    StSet,
    StSorted,
    StString,
)
from ..printing import dict_items
from ._registry import inlined, positional_primitive, primitive
from .support import (
    Args,
    collect_new,
    concrete_class,
    dict_put,
    elements,
    empty_error,
    iteration_values,
    new_collection,
    new_dict,
    not_found,
    python_block,
    size_of,
    sort_items,
    sorted_insert_all,
    species_copy,
    species_new,
    string_from_items,
    text_of,
    truth,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_ARRAY = S["Array"]
_ORDERED = S["OrderedCollection"]
_SET = S["Set"]
_BAG = S["Bag"]
_SORTED = S["SortedCollection"]
_DICT = S["Dictionary"]


# ---------------------------------------------------------------------- enumeration


@primitive("Collection", "do:")
@primitive("Interval", "do:")  # (Interval has its own do:, as in Pharo)
@inlined("do")
def _do(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    for item in iteration_values(rcv):
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
@inlined("collect")
def _collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    return collect_new(it, rcv, [run(item) for item in iteration_values(rcv)])


@primitive("Collection", "select:")
@inlined("select")
def _select(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    return species_new(it, rcv, [x for x in iteration_values(rcv) if truth(it, run(x))])


@primitive("Collection", "reject:")
@inlined("reject")
def _reject(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    return species_new(it, rcv, [x for x in iteration_values(rcv) if not truth(it, run(x))])


@primitive("Collection", "select:thenCollect:")
def _select_then_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    chosen = [x for x in elements(rcv) if truth(it, it.call_block(args[0], (x,)))]
    return collect_new(it, rcv, [it.call_block(args[1], (x,)) for x in chosen])


@primitive("Collection", "collect:thenSelect:")
def _collect_then_select(it: Interpreter, rcv: Any, args: Args) -> Any:
    mapped = [it.call_block(args[0], (x,)) for x in elements(rcv)]
    return collect_new(it, rcv, [x for x in mapped if truth(it, it.call_block(args[1], (x,)))])


@primitive("Collection", "detect:")
def _detect(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if truth(it, it.call_block(args[0], (item,))):
            return item
    return not_found(it, args[0])


@primitive("Collection", "detect:ifNone:")
@inlined("detect")
def _detect_if_none(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    for item in iteration_values(rcv):
        if truth(it, run(item)):
            return item
    return it.send(args[1], "value", ())


@primitive("Collection", "detect:ifFound:ifNone:")
def _detect_found_none(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if truth(it, it.call_block(args[0], (item,))):
            return it.call_block_flexible(args[1], (item,))
    return it.send(args[2], "value", ())


@primitive("Collection", "inject:into:")
@inlined("inject")
def _inject(it: Interpreter, rcv: Any, args: Args) -> Any:
    acc, block = args
    run = it.block_fn(block, 2)
    for item in iteration_values(rcv):
        acc = run(acc, item)
    return acc


@primitive("Collection", "anySatisfy:", "contains:")
def _any_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return any(truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "allSatisfy:")
def _all_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return all(truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "noneSatisfy:")
def _none_satisfy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not any(truth(it, it.call_block(args[0], (x,))) for x in elements(rcv))


@primitive("Collection", "count:")
def _count(it: Interpreter, rcv: Any, args: Args) -> Any:
    return sum(1 for x in elements(rcv) if truth(it, it.call_block(args[0], (x,))))


@primitive("Collection", "includes:")
def _includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    target = args[0]
    if type(rcv) in (StSet,):
        return it.hash_key(target, rcv.cls.inherits_from(S["IdentitySet"])) in rcv.table
    return any(it.equal(x, target) for x in elements(rcv))


@primitive("Collection", "identityIncludes:")
def _identity_includes(it: Interpreter, rcv: Any, args: Args) -> Any:

    return any(identical(x, args[0]) for x in elements(rcv))


@primitive("Collection", "occurrencesOf:")
def _occurrences_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is StBag:
        entry = rcv.table.get(it.hash_key(args[0]))
        return entry[1] if entry else 0
    return sum(1 for x in elements(rcv) if it.equal(x, args[0]))


@positional_primitive("Collection", "size")
def _size(it: Interpreter, rcv: Any) -> Any:
    return size_of(rcv)


@positional_primitive("Collection", "isEmpty")
def _is_empty(it: Interpreter, rcv: Any) -> Any:
    return size_of(rcv) == 0


@positional_primitive("Collection", "notEmpty", "isNotEmpty")
def _not_empty(it: Interpreter, rcv: Any) -> Any:
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
@primitive("Dictionary", "anyOne")  # (its own entry, as before: the first value)
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


def _total(it: Interpreter, items: list[Any]) -> Any:
    """`+` over `items`, 0 for none (sum, sum:)."""
    if not items:
        return 0
    return _fold(it, items, "+")


@primitive("Collection", "sum")
def _sum(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _total(it, elements(rcv))


@primitive("Collection", "sum:", "detectSum:")
def _sum_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _total(it, [it.call_block(args[0], (x,)) for x in elements(rcv)])


def _extreme(selector: str) -> Any:
    """max (`max:` over the elements) and min (`min:`); CollectionIsEmpty for none."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        items = elements(rcv)
        if not items:
            return empty_error(it, rcv)
        return _fold(it, items, selector)

    return prim


primitive("Collection", "max")(_extreme("max:"))
primitive("Collection", "min")(_extreme("min:"))


def _detect_extreme(better: str) -> Any:
    """detectMax: (`better` ">") and detectMin: ("<"): the element with the greatest
    (least) block value, the first of equals; nil for none."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        best = None
        best_value = None
        for item in elements(rcv):
            value = it.call_block(args[0], (item,))
            if best_value is None or it.send(value, better, (best_value,)) is True:
                best, best_value = item, value
        return best

    return prim


primitive("Collection", "detectMax:")(_detect_extreme(">"))
primitive("Collection", "detectMin:")(_detect_extreme("<"))


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
        entry[1] = species_new(it, rcv, entry[1].items)
    return result


@primitive("Collection", "copyWithout:")
def _copy_without(it: Interpreter, rcv: Any, args: Args) -> Any:
    return species_copy(it, rcv, [x for x in elements(rcv) if not it.equal(x, args[0])])


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
        result = new_dict(it, rcv)
        if type(source) is StDict:
            for key, value in dict_items(source):
                dict_put(it, result, key, value)
        else:
            for item in elements(source):
                if type(item) is StAssoc:
                    dict_put(it, result, item.key, item.value)
        return result
    return _instance_with(it, rcv, elements(source))


def _instance_with(it: Interpreter, cls: StClass, items: list[Any]) -> Any:
    cls = concrete_class(cls)
    if cls.layout == "dict":
        result = new_dict(it, cls)
        for item in items:
            if type(item) is not StAssoc:
                return it.error("Error", "Dictionaries are built from Associations")
            dict_put(it, result, item.key, item.value)
        return result
    if cls.layout in ("array", "string", "bytes", "ordered", "sorted", "set", "bag"):
        result = new_collection(it, cls, items)
        if cls.layout == "string" and type(result) is not StString:
            return it.error("Error", "Strings can only hold Characters")
        return result
    return it.error("Error", f"{cls.name} cannot be built with with:")


@primitive("Collection", "addAll:")
def _add_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(args[0]):
        it.send(rcv, "add:", (item,))
    return args[0]


@primitive("Collection", "remove:")
def _remove(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(rcv, "remove:ifAbsent:", (args[0], python_block(lambda: not_found(it, args[0]))))


@primitive("Collection", "removeAll:")
def _remove_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(args[0]):
        it.send(rcv, "remove:", (item,))
    return args[0]


@primitive("Collection", "removeAllSuchThat:")
def _remove_all_such_that(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if truth(it, it.call_block(args[0], (item,))):
            it.send(rcv, "remove:", (item,))
    return rcv


# ---------------------------------------------------------------------- more enumeration


@primitive("Collection", "detect:ifFound:")
def _detect_if_found(it: Interpreter, rcv: Any, args: Args) -> Any:
    for item in elements(rcv):
        if truth(it, it.call_block(args[0], (item,))):
            return it.call_block_flexible(args[1], (item,))
    return None


@primitive("Collection", "fold:", "reduce:")
def _fold_block(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`#(1 2 3) fold: [:a :b | a + b]` is 6; an empty collection is an error."""
    items = elements(rcv)
    if not items:
        return empty_error(it, rcv)
    acc = items[0]
    for item in items[1:]:
        acc = it.call_block(args[0], (acc, item))
    return acc


@primitive("Collection", "flatCollect:", "gather:")
def _flat_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The elements of the collections the block answers, in a collection like the
    receiver (one level flattened)."""
    out: list[Any] = []
    for item in elements(rcv):
        out.extend(elements(it.call_block(args[0], (item,))))
    if type(rcv) in (StString, str):
        return new_array(out)
    return species_new(it, rcv, out)


@primitive("Collection", "flattened", "flatten")
def _flattened(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Nested collections flattened at every level into an Array (Strings and Symbols
    are atoms)."""
    out: list[Any] = []
    stack: list[Any] = [iter(elements(rcv))]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif class_of(item).inherits_from(S["Collection"]) and text_of(item) is None:
            stack.append(iter(elements(item)))
        else:
            out.append(item)
    return new_array(out)


_END = object()


@primitive("Collection", "sumNumbers")
def _sum_numbers(it: Interpreter, rcv: Any, args: Args) -> Any:
    acc: Any = 0
    for item in elements(rcv):
        acc = it.send(acc, "+", (item,))
    return acc


# ---------------------------------------------------------------------- set operations


@primitive("Collection", "includesAll:")
def _includes_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    return all(it.send(rcv, "includes:", (x,)) is True for x in elements(args[0]))


@primitive("Collection", "includesAny:")
def _includes_any(it: Interpreter, rcv: Any, args: Args) -> Any:
    return any(it.send(rcv, "includes:", (x,)) is True for x in elements(args[0]))


@primitive("Collection", "difference:")
def _difference(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The receiver's elements that `aCollection` does not include (`reject:`)."""
    other = args[0]
    return species_new(
        it, rcv, [x for x in elements(rcv) if it.send(other, "includes:", (x,)) is not True]
    )


@primitive("Collection", "intersection:", "&")
def _intersection(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The receiver's elements that `aCollection` includes, each once."""
    other = args[0]
    kept = new_collection(it, _SET, elements(rcv))
    items = [x for x in elements(kept) if it.send(other, "includes:", (x,)) is True]
    return species_new(it, rcv, items)


@primitive("Collection", "union:", "|")
def _union(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`self asSet addAll: aCollection; yourself`: a Set."""
    return new_collection(it, _SET, elements(rcv) + elements(args[0]))


# ---------------------------------------------------------------------- adding


@primitive("Collection", "addIfNotPresent:")
def _add_if_not_present(it: Interpreter, rcv: Any, args: Args) -> Any:
    if it.send(rcv, "includes:", args) is not True:
        it.send(rcv, "add:", args)
    return args[0]


@primitive("Collection", "add:withOccurrences:")
def _add_with_occurrences(it: Interpreter, rcv: Any, args: Args) -> Any:
    item, count = args
    if type(count) is not int:
        return it.error("Error", "add:withOccurrences: needs an Integer")
    for _ in range(count):
        it.send(rcv, "add:", (item,))
    return item


# ---------------------------------------------------------------------- converting


@primitive("Collection", "asDictionary")
def _as_dictionary(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A Dictionary of the receiver's Associations."""
    result = new_dict(it, _DICT)
    for item in elements(rcv):
        if type(item) is not StAssoc:
            return it.error("Error", "asDictionary needs a collection of Associations")
        dict_put(it, result, item.key, item.value)
    return result


def _display_text(it: Interpreter, item: Any) -> str:
    text = text_of(item)
    return text if text is not None else text_of(it.send(item, "asString", ())) or ""


@primitive("Collection", "asCommaString")
def _as_comma_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    """'a, b, c' (each element by asString)."""
    return new_string(", ".join(_display_text(it, x) for x in elements(rcv)))


@primitive("Collection", "asCommaStringAnd")
def _as_comma_string_and(it: Interpreter, rcv: Any, args: Args) -> Any:
    """'a, b and c'."""
    parts = [_display_text(it, x) for x in elements(rcv)]
    if len(parts) < 2:
        return new_string("".join(parts))
    return new_string(", ".join(parts[:-1]) + " and " + parts[-1])


@primitive("Collection class", "empty")
def _empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(rcv, "new", ())


@primitive("Object", "as:")
def _as(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Object>>as:: the receiver if it already is an instance of the class, else
    `aClass newFrom: self`."""
    target = args[0]
    if class_of(rcv) is target:
        return rcv
    return it.send(target, "newFrom:", (rcv,))
