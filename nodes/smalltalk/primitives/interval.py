"""Interval: `start to: stop by: step`, read-only, elements computed on demand."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import new_array
from ..limits import check_collection
from ..objects import (
    StInterval,
)
from ._registry import inlined, primitive
from .support import Args, elements, empty_error, is_num, iteration_values, number_result

if TYPE_CHECKING:
    from ..runtime import Interpreter

_INTERVAL = S["Interval"]


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


@primitive("Interval", "collect:")
@inlined("interval_collect")
def _interval_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    run = it.block_fn(args[0], 1)
    check_collection(rcv.size())
    return new_array([run(item) for item in iteration_values(rcv)])


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


@primitive("Interval class", "newFrom:", "withAll:")
def _interval_new_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Interval class>>newFrom:: the Interval with the elements of an arithmetic
    progression (`Interval newFrom: #(1 3 5)` is (1 to: 5 by: 2)); an Error for any
    other collection."""
    items = elements(args[0])
    if not items:
        return StInterval(_INTERVAL, 1, 0, 1)
    if not all(is_num(x) for x in items):
        return it.error("Error", "The argument is not an arithmetic progression")
    if len(items) == 1:
        return StInterval(_INTERVAL, items[0], items[0], 1)
    step = number_result(Fraction(items[-1] - items[0]) / (len(items) - 1))
    result = StInterval(_INTERVAL, items[0], items[-1], step if step != 0 else 1)
    if step == 0 or not it.equal(result, new_array(items)):
        return it.error("Error", "The argument is not an arithmetic progression")
    return result


@primitive("Interval", "reversed", "reverse")
def _interval_reversed(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Interval>>reversed: an Interval from the last element back to the first (an
    empty one answers `stop to: start by: step negated`)."""
    size = rcv.size()
    if size == 0:
        return StInterval(_INTERVAL, rcv.stop, rcv.start, -rcv.step)
    return StInterval(_INTERVAL, rcv.element(size - 1), rcv.start, -rcv.step)


@primitive("Interval", "isInterval")
def _interval_is_interval(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


@primitive("Interval", "hash")
def _interval_hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Equal to the hash of an equal Array (an Interval = an Array with its elements)."""
    return it.send(new_array(rcv.values()), "hash", ())
