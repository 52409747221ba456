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
from ._registry import primitive
from .support import (
    Args,
    empty_error,
    is_num,
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
