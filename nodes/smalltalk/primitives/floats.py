"""Float (SmallFloat64 / BoxedFloat64): tests, exact conversions, the IEEE parts
(exponent, significand, ulp, neighbours), continued-fraction approximation and the
class-side constants. Arithmetic and printing are Number's (numbers.py, printing.py)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..kernel import normalize
from ._registry import primitive
from .support import Args

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _constant(value: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return value

    return prim


@primitive("Float", "asFraction", "asExactFraction", "asTrueFraction")
def _float_as_fraction(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot represent infinity or NaN as a fraction")
    return normalize(Fraction(rcv))


@primitive("Float", "isNaN")
def _is_nan(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv != rcv


@primitive("Float", "isInfinite")
def _is_infinite(it: Interpreter, rcv: Any, args: Args) -> Any:
    return math.isinf(rcv)


@primitive("Float", "isFinite")
def _is_finite(it: Interpreter, rcv: Any, args: Args) -> Any:
    return math.isfinite(rcv)


@primitive("Float", "truncated", "asInteger")
def _float_truncated(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot truncate a non-finite Float")
    return math.trunc(rcv)


@primitive("Float", "floor")
def _float_floor(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot floor a non-finite Float")
    return math.floor(rcv)


@primitive("Float", "ceiling")
def _float_ceiling(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot ceil a non-finite Float")
    return math.ceil(rcv)


primitive("Float class", "infinity")(_constant(float("inf")))
primitive("Float class", "negativeInfinity")(_constant(float("-inf")))
primitive("Float class", "nan")(_constant(float("nan")))
primitive("Float class", "pi")(_constant(math.pi))
primitive("Float class", "e")(_constant(math.e))
primitive("Float class", "epsilon")(_constant(2.220446049250313e-16))
primitive("Float class", "fmax")(_constant(1.7976931348623157e308))

primitive("Float class", "zero")(_constant(0.0))
primitive("Float class", "one")(_constant(1.0))
primitive("Float class", "negativeZero")(_constant(-0.0))
primitive("Float class", "fminNormalized")(_constant(2.2250738585072014e-308))
primitive("Float class", "fminDenormalized", "fmin")(_constant(5e-324))
primitive("Float class", "precision")(_constant(53))
primitive("Float class", "emax")(_constant(1023))
primitive("Float class", "emin")(_constant(-1022))


@primitive("Float", "exponent")
def _exponent(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The binary exponent: `8.0 exponent` is 3 (0 for zero)."""
    if rcv == 0 or not math.isfinite(rcv):
        return 0
    return math.frexp(rcv)[1] - 1


@primitive("Float", "significand")
def _significand(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv == 0 or not math.isfinite(rcv):
        return rcv
    mantissa, _exp = math.frexp(rcv)
    return mantissa * 2


@primitive("Float", "timesTwoPower:")
def _times_two_power(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "timesTwoPower: needs an Integer")
    try:
        return math.ldexp(rcv, args[0])
    except OverflowError:
        return math.copysign(float("inf"), rcv)


@primitive("Float", "successor")
def _successor(it: Interpreter, rcv: Any, args: Args) -> Any:
    return math.nextafter(rcv, float("inf"))


@primitive("Float", "predecessor")
def _predecessor(it: Interpreter, rcv: Any, args: Args) -> Any:
    return math.nextafter(rcv, float("-inf"))


@primitive("Float", "ulp")
def _ulp(it: Interpreter, rcv: Any, args: Args) -> Any:
    return math.ulp(rcv)


@primitive("Float", "signBit")
def _sign_bit(it: Interpreter, rcv: Any, args: Args) -> Any:
    """1 for negative numbers and -0.0, else 0."""
    return 1 if math.copysign(1.0, rcv) < 0 else 0


@primitive("Float", "isNegativeZero")
def _is_negative_zero(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv == 0 and math.copysign(1.0, rcv) < 0


@primitive("Float", "asApproximateFraction")
def _as_approximate_fraction(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Float>>asApproximateFractionAtOrder: 0: continued fractions computed in Float
    arithmetic, stopping when the fraction part is zero or a denominator passes 1e10
    (then the previous convergent): `0.1 asApproximateFraction` is (1/10)."""
    if not math.isfinite(rcv):
        return it.error("Error", "Cannot represent infinity or NaN as a fraction")
    return approximate_fraction(rcv)


def approximate_fraction(value: float) -> Any:
    num1, denom1 = math.trunc(value), 1
    num2, denom2 = 1, 0
    frac = value - math.trunc(value)
    while frac != 0:
        new_d = 1.0 / frac
        whole = math.trunc(new_d)
        frac = new_d - whole
        num1, num2 = num1 * whole + num2, num1
        denom1, denom2 = whole * denom1 + denom2, denom1
        if denom1 > 10_000_000_000:
            if num2 == 0:
                return normalize(Fraction(num1, denom1))
            return normalize(Fraction(num2, denom2))
    return num1 if denom1 == 1 else normalize(Fraction(num1, denom1))


@primitive("Float", "isFloat")
def _is_float(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True
