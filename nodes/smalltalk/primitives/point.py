"""Point (`x @ y`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..kernel import new_point
from ..objects import (
    StPoint,
)
from ._registry import primitive
from .support import (
    Args,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


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

    return StPoint(rcv, args[0], args[1])


def _point_arith(selector: str) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
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
