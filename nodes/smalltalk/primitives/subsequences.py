"""SequenceableCollection beyond indexing: subsequences (searching, copying up to or
after an element, replacing), pairs, wrapping access and joining. Strings have faster
versions of some of these in string_search.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..kernel import new_array, new_string
from ..objects import Char
from ._registry import primitive
from .support import (
    Args,
    collect_new,
    elements,
    index_error,
    seq_at,
    size_of,
    species_copy,
    text_of,
    truth,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _index_of_run(it: Interpreter, items: list[Any], run: list[Any], start: int) -> int:
    """0-based index of the first occurrence of `run` in `items` from `start`, or -1."""
    if not run:
        return -1
    for index in range(start, len(items) - len(run) + 1):
        if all(it.equal(items[index + k], run[k]) for k in range(len(run))):
            return index
    return -1


def _index_of_element(it: Interpreter, items: list[Any], target: Any) -> int:
    for index, item in enumerate(items):
        if it.equal(item, target):
            return index
    return -1


def _last_index_of_element(it: Interpreter, items: list[Any], target: Any) -> int:
    for index in range(len(items) - 1, -1, -1):
        if it.equal(items[index], target):
            return index
    return -1


# ---------------------------------------------------------------------- searching


@primitive("SequenceableCollection", "indexOfSubCollection:")
def _index_of_sub(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _index_of_run(it, elements(rcv), elements(args[0]), 0) + 1


@primitive("SequenceableCollection", "indexOfSubCollection:startingAt:")
def _index_of_sub_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    start = args[1]
    if type(start) is not int:
        return it.error("Error", "indexOfSubCollection:startingAt: needs an Integer")
    return _index_of_run(it, elements(rcv), elements(args[0]), max(0, start - 1)) + 1


@primitive("SequenceableCollection", "indexOf:startingAt:")
def _index_of_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    target, start = args
    if type(start) is not int:
        return it.error("Error", "indexOf:startingAt: needs an Integer")
    items = elements(rcv)
    for index in range(max(0, start - 1), len(items)):
        if it.equal(items[index], target):
            return index + 1
    return 0


@primitive("SequenceableCollection", "lastIndexOf:")
def _last_index_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _last_index_of_element(it, elements(rcv), args[0]) + 1


@primitive("SequenceableCollection", "findLast:")
def _find_last(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    for index in range(len(items) - 1, -1, -1):
        if truth(it, it.call_block(args[0], (items[index],))):
            return index + 1
    return 0


@primitive("SequenceableCollection", "beginsWith:")
def _begins_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    """False for an empty argument (SequenceableCollection>>beginsWith:)."""
    mine, prefix = elements(rcv), elements(args[0])
    if not prefix or len(prefix) > len(mine):
        return False
    return all(it.equal(a, b) for a, b in zip(mine, prefix, strict=False))


@primitive("SequenceableCollection", "endsWith:")
def _ends_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    mine, suffix = elements(rcv), elements(args[0])
    if not suffix or len(suffix) > len(mine):
        return False
    return all(it.equal(a, b) for a, b in zip(mine[-len(suffix) :], suffix, strict=True))


# ---------------------------------------------------------------------- access


@primitive("SequenceableCollection", "middle")
def _middle(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`self at: self size + 1 // 2`."""
    return seq_at(it, rcv, (size_of(rcv) + 1) // 2)


@primitive("SequenceableCollection", "fourth")
def _fourth(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, 4)


@primitive("SequenceableCollection", "fifth")
def _fifth(it: Interpreter, rcv: Any, args: Args) -> Any:
    return seq_at(it, rcv, 5)


@primitive("SequenceableCollection", "atWrap:")
def _at_wrap(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Index 0 is the last element, size + 1 the first."""
    index, size = args[0], size_of(rcv)
    if type(index) is not int or size == 0:
        return index_error(it, rcv, index, size)
    return seq_at(it, rcv, (index - 1) % size + 1)


# ---------------------------------------------------------------------- copying parts


def _copy_around(find: Callable[[Interpreter, list[Any], Any], int], after: bool) -> Any:
    """copyUpTo: / copyAfter: (`find` the first occurrence) and copyUpToLast: /
    copyAfterLast: (the last): the elements before (after) the argument; all of them
    (none) when it is not there."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        items = elements(rcv)
        index = find(it, items, args[0])
        if after:
            return species_copy(it, rcv, [] if index < 0 else items[index + 1 :])
        return species_copy(it, rcv, items if index < 0 else items[:index])

    return prim


primitive("SequenceableCollection", "copyUpTo:")(_copy_around(_index_of_element, False))
primitive("SequenceableCollection", "copyAfter:")(_copy_around(_index_of_element, True))
primitive("SequenceableCollection", "copyUpToLast:")(
    _copy_around(_last_index_of_element, False)
)
primitive("SequenceableCollection", "copyAfterLast:")(_copy_around(_last_index_of_element, True))


@primitive("SequenceableCollection", "copyReplaceAll:with:")
def _copy_replace_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Every occurrence of the subsequence `old` replaced by the elements of `new`."""
    items, old, new = elements(rcv), elements(args[0]), elements(args[1])
    out: list[Any] = []
    index = 0
    while True:
        found = _index_of_run(it, items, old, index)
        if found < 0:
            out.extend(items[index:])
            return species_copy(it, rcv, out)
        out.extend(items[index:found])
        out.extend(new)
        index = found + len(old)


@primitive("SequenceableCollection", "copyReplacing:with:")
def _copy_replacing(it: Interpreter, rcv: Any, args: Args) -> Any:
    old, new = args
    return species_copy(it, rcv, [new if it.equal(x, old) else x for x in elements(rcv)])


@primitive("SequenceableCollection", "copyReplaceFrom:to:with:")
def _copy_replace_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop, replacement = args
    items = elements(rcv)
    if type(start) is not int or type(stop) is not int or not 1 <= start <= stop + 1:
        return index_error(it, rcv, start, len(items))
    if stop > len(items):
        return index_error(it, rcv, stop, len(items))
    return species_copy(it, rcv, items[: start - 1] + elements(replacement) + items[stop:])


@primitive("SequenceableCollection", "replaceAll:with:")
def _replace_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    """In place: every element equal to `old` becomes `new`."""
    old, new = args
    for index, item in enumerate(elements(rcv), start=1):
        if it.equal(item, old):
            it.send(rcv, "at:put:", (index, new))
    return rcv


@primitive("SequenceableCollection", "replaceFrom:to:with:")
def _replace_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop, source = args
    return _replace_from_to_starting(it, rcv, (start, stop, source, 1))


@primitive("SequenceableCollection", "replaceFrom:to:with:startingAt:")
def _replace_from_to_starting(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop, source, first = args
    replacement = elements(source)
    count = stop - start + 1
    if first - 1 + count > len(replacement) or start < 1 or stop > size_of(rcv):
        return it.error("Error", "replaceFrom:to:with:startingAt: out of bounds")
    for offset in range(count):
        it.send(rcv, "at:put:", (start + offset, replacement[first - 1 + offset]))
    return rcv


# ---------------------------------------------------------------------- pairs


@primitive("SequenceableCollection", "pairsDo:")
def _pairs_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Elements 1 and 2, then 3 and 4, ... (an odd last element is left out)."""
    items = elements(rcv)
    for index in range(0, len(items) - 1, 2):
        it.call_block(args[0], (items[index], items[index + 1]))
    return rcv


@primitive("SequenceableCollection", "pairsCollect:")
def _pairs_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    results = [
        it.call_block(args[0], (items[i], items[i + 1])) for i in range(0, len(items) - 1, 2)
    ]
    return new_array(results)


@primitive("SequenceableCollection", "overlappingPairsDo:")
def _overlapping_pairs_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    for index in range(len(items) - 1):
        it.call_block(args[0], (items[index], items[index + 1]))
    return rcv


@primitive("SequenceableCollection", "overlappingPairsCollect:")
def _overlapping_pairs_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    items = elements(rcv)
    results = [it.call_block(args[0], (items[i], items[i + 1])) for i in range(len(items) - 1)]
    return collect_new(it, rcv, results)


# ---------------------------------------------------------------------- joining


@primitive("SequenceableCollection", "joinUsing:")
def _join_using(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`#('a' 'b') joinUsing: ', '` -> 'a, b' (elements shown by asString)."""
    separator = args[0]
    separator_text = separator.text if type(separator) is Char else text_of(separator)
    if separator_text is None:
        return it.error("Error", "joinUsing: needs a String or a Character")
    parts = []
    for item in elements(rcv):
        text = text_of(item)
        parts.append(text if text is not None else text_of(it.send(item, "asString", ())) or "")
    return new_string(separator_text.join(parts))
