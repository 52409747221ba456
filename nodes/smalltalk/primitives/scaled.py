"""ScaledDecimal: an exact rational with a scale (the decimals it prints), as Pharo's
ScaledDecimal (`3.14s2`). Arithmetic with Integers and Fractions answers a
ScaledDecimal (the larger scale of two ScaledDecimals); with a Float, a Float. Integer,
Fraction and Float receivers reach this module through `adaptTo...:andSend:`."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..objects import ScaledDecimal
from ..printing import scaled_is_literal
from ._registry import primitive
from .support import Args, is_num, number_result, to_float, zero_divide

if TYPE_CHECKING:
    from ..runtime import Interpreter


def scaled(value: Fraction | int, scale: int) -> ScaledDecimal:
    return ScaledDecimal(Fraction(value), scale)


def exact(value: Any) -> Fraction | None:
    """The exact value of an Integer, Fraction or ScaledDecimal, else None."""
    if type(value) is ScaledDecimal:
        return value.fraction
    if type(value) is int or type(value) is Fraction:
        return Fraction(value)
    return None


# ---------------------------------------------------------------------- arithmetic

_OPERATIONS: dict[str, Callable[[Fraction, Fraction], Fraction]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def _arithmetic(selector: str) -> Any:
    operation = _OPERATIONS[selector]

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        arg = args[0]
        other = exact(arg)
        if other is None:
            if type(arg) is float:
                return it.send(to_float(rcv), selector, (arg,))
            return it.send(arg, "adaptToScaledDecimal:andSend:", (rcv, selector))
        if selector == "/" and other == 0:
            return zero_divide(it, rcv)
        scale = max(rcv.scale, arg.scale) if type(arg) is ScaledDecimal else rcv.scale
        return ScaledDecimal(operation(rcv.fraction, other), scale)

    return prim


for _selector in _OPERATIONS:
    primitive("ScaledDecimal", _selector)(_arithmetic(_selector))


def _integer_quotient(selector: str, rounding: Callable[[Fraction], int]) -> Any:
    """`//` (rounding math.floor) and `quo:` (math.trunc): an Integer; by an inexact
    number, the Float's answer."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = exact(args[0])
        if other is None:
            return it.send(to_float(rcv), selector, args)
        if other == 0:
            return zero_divide(it, rcv)
        return rounding(rcv.fraction / other)

    return prim


def _remainder(quotient_selector: str) -> Any:
    """`\\\\`: `self - (self // aNumber * aNumber)`, a ScaledDecimal; `rem:` the same
    with `quo:` (`quotient_selector`)."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        quotient = it.send(rcv, quotient_selector, args)
        return it.send(rcv, "-", (it.send(quotient, "*", args),))

    return prim


primitive("ScaledDecimal", "//")(_integer_quotient("//", math.floor))
primitive("ScaledDecimal", "\\\\")(_remainder("//"))
primitive("ScaledDecimal", "quo:")(_integer_quotient("quo:", math.trunc))
primitive("ScaledDecimal", "rem:")(_remainder("quo:"))


def _comparison(selector: str, test: Callable[[Any, Any], bool]) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        arg = args[0]
        other = exact(arg)
        if other is not None:
            return test(rcv.fraction, other)
        if type(arg) is float:
            return test(rcv.fraction, arg)  # exact, as Fraction < Float
        return it.send(arg, "adaptToScaledDecimal:andCompare:", (rcv, selector))

    return prim


primitive("ScaledDecimal", "<")(_comparison("<", lambda a, b: a < b))
primitive("ScaledDecimal", ">")(_comparison(">", lambda a, b: a > b))
primitive("ScaledDecimal", "<=")(_comparison("<=", lambda a, b: a <= b))
primitive("ScaledDecimal", ">=")(_comparison(">=", lambda a, b: a >= b))


@primitive("ScaledDecimal", "=")
def _equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return bool(rcv == args[0])


@primitive("ScaledDecimal", "~=")
def _not_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not bool(rcv == args[0])


@primitive("ScaledDecimal", "hash")
def _hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(number_result(rcv.fraction), "hash", ())


@primitive("ScaledDecimal", "raisedToInteger:")
def _raised_to_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    exponent = args[0]
    if type(exponent) is not int:
        return it.error("Error", "raisedToInteger: needs an Integer")
    if exponent < 0 and rcv.fraction == 0:
        return zero_divide(it, rcv)
    return ScaledDecimal(rcv.fraction**exponent, rcv.scale)


# ---------------------------------------------------------------------- double dispatch


def _adapt_send(convert: Callable[[Any, ScaledDecimal], Any]) -> Any:
    """`adaptTo...:andSend:` / `andCompare:`: the receiver of the original message is
    converted (to a ScaledDecimal of our scale, or us to a Float) and resent."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        receiver, selector = args
        if exact(receiver) is None and type(receiver) is not float:
            return it.error("Error", f"{it.print_string(receiver)} is not a Number")
        left, right = convert(receiver, rcv)
        return it.perform(left, selector, (right,))

    return prim


def _as_ours(receiver: Any, us: ScaledDecimal) -> tuple[Any, Any]:
    value = exact(receiver)
    return (receiver if value is None else scaled(value, us.scale)), us


def _as_float(receiver: Any, us: ScaledDecimal) -> tuple[Any, Any]:
    return receiver, to_float(us)


for _kind in ("andSend:", "andCompare:"):
    primitive("ScaledDecimal", "adaptToInteger:" + _kind)(_adapt_send(_as_ours))
    primitive("ScaledDecimal", "adaptToFraction:" + _kind)(_adapt_send(_as_ours))
    primitive("ScaledDecimal", "adaptToFloat:" + _kind)(_adapt_send(_as_float))


# ---------------------------------------------------------------------- unary


def _same_scale(fn: Callable[[Fraction], Fraction]) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return ScaledDecimal(fn(rcv.fraction), rcv.scale)

    return prim


def _of_fraction(fn: Callable[[Fraction], Any]) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return fn(rcv.fraction)

    return prim


primitive("ScaledDecimal", "negated")(_same_scale(lambda f: -f))
primitive("ScaledDecimal", "abs")(_same_scale(abs))
primitive("ScaledDecimal", "squared")(_same_scale(lambda f: f * f))
primitive("ScaledDecimal", "fractionPart")(_same_scale(lambda f: f - math.trunc(f)))
primitive("ScaledDecimal", "integerPart")(_same_scale(lambda f: Fraction(math.trunc(f))))
primitive("ScaledDecimal", "truncated", "asInteger")(_of_fraction(math.trunc))
primitive("ScaledDecimal", "floor")(_of_fraction(math.floor))
primitive("ScaledDecimal", "ceiling")(_of_fraction(math.ceil))
primitive("ScaledDecimal", "sign")(_of_fraction(lambda f: (f > 0) - (f < 0)))
primitive("ScaledDecimal", "isZero")(_of_fraction(lambda f: f == 0))
primitive("ScaledDecimal", "negative")(_of_fraction(lambda f: f < 0))
primitive("ScaledDecimal", "positive")(_of_fraction(lambda f: f >= 0))
primitive("ScaledDecimal", "strictlyPositive")(_of_fraction(lambda f: f > 0))
primitive("ScaledDecimal", "asFraction", "asExactFraction")(_of_fraction(number_result))
primitive("ScaledDecimal", "numerator")(_of_fraction(lambda f: f.numerator))
primitive("ScaledDecimal", "denominator")(_of_fraction(lambda f: f.denominator))


@primitive("ScaledDecimal", "rounded")
def _rounded(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Half away from zero (Number>>rounded: `(self + (self sign / 2)) truncated`)."""
    value = rcv.fraction
    return math.trunc(value + (Fraction(1, 2) if value >= 0 else Fraction(-1, 2)))


@primitive("ScaledDecimal", "reciprocal")
def _reciprocal(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.fraction == 0:
        return zero_divide(it, 1)
    return ScaledDecimal(1 / rcv.fraction, rcv.scale)


@primitive("ScaledDecimal", "asFloat")
def _scaled_as_float(it: Interpreter, rcv: Any, args: Args) -> Any:
    return to_float(rcv)


@primitive("ScaledDecimal", "scale")
def _scale(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.scale


@primitive("ScaledDecimal", "isLiteral")
def _is_literal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return scaled_is_literal(rcv)


@primitive("ScaledDecimal", "even")
def _even(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.fraction.denominator == 1 and rcv.fraction.numerator % 2 == 0


@primitive("ScaledDecimal", "odd")
def _odd(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.fraction.denominator == 1 and rcv.fraction.numerator % 2 == 1


# ---------------------------------------------------------------------- conversions


@primitive("Number", "asScaledDecimal:")
def _as_scaled_decimal(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The receiver's exact value (a Float's binary value) with `scale` decimals."""
    scale = args[0]
    if type(scale) is not int or scale < 0:
        return it.error("Error", "the scale must be a non-negative Integer")
    if type(rcv) is ScaledDecimal:
        return ScaledDecimal(rcv.fraction, scale)
    if type(rcv) is float and not math.isfinite(rcv):
        return it.error("Error", "Cannot represent infinity or NaN as a ScaledDecimal")
    if not is_num(rcv):
        return it.error("Error", "asScaledDecimal: needs a Number")
    return scaled(Fraction(rcv), scale)


@primitive("Float", "asScaledDecimal")
def _float_as_scaled_decimal(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The shortest decimal that reads back as the receiver, scaled by its decimals
    (`0.1 asScaledDecimal` is 0.1s1)."""
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot represent infinity or NaN as a ScaledDecimal")
    decimal = Decimal(repr(rcv))
    exponent = decimal.as_tuple().exponent
    assert isinstance(exponent, int)
    return scaled(Fraction(decimal), max(0, -exponent))


@primitive("Integer", "asScaledDecimal")
def _integer_as_scaled_decimal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return scaled(rcv, 0)


@primitive("ScaledDecimal class", "newFromNumber:scale:")
def _new_from_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _as_scaled_decimal(it, args[0], (args[1],))
