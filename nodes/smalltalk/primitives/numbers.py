"""Number (what Integer, Float, Fraction and ScaledDecimal share) and Magnitude.

Integers are Python ints of any size, Floats Python floats, Fractions
`fractions.Fraction` normalised to an Integer when the denominator is 1. Mixed
arithmetic follows Pharo's generality: Integer < Fraction < ScaledDecimal < Float;
an argument that is not one of the first three is asked to `adaptTo...:andSend:`
(ScaledDecimal answers that in scaled.py). Integer, Float, Fraction and
ScaledDecimal specifics are in integers.py, floats.py, fraction.py and scaled.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import class_of, new_array, new_point, new_string, normalize
from ..limits import check_int_bits
from ..objects import ScaledDecimal, StInterval
from ..printing import PRINT_LIMIT, float_to_str, int_to_str
from ._registry import positional_primitive, primitive, usual_case
from .support import (
    Args,
    is_num,
    number_result,
    read_number_from,
    to_float,
    zero_divide,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _adapt_selector(rcv: Any) -> str:
    t = type(rcv)
    if t is int:
        return "Integer"
    if t is float:
        return "Float"
    return "Fraction"


def _not_a_number(it: Interpreter, rcv: Any, arg: Any, selector: str, compare: bool) -> Any:
    kind = "andCompare:" if compare else "andSend:"
    return it.send(arg, f"adaptTo{_adapt_selector(rcv)}:{kind}", (rcv, selector))


def _arith(selector: str) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        arg = args[0]
        if not is_num(arg):
            return _not_a_number(it, rcv, arg, selector, False)
        if selector == "*" and type(rcv) is int and type(arg) is int:
            check_int_bits(rcv.bit_length() + arg.bit_length())
        try:
            if selector == "+":
                return number_result(rcv + arg)
            if selector == "-":
                return number_result(rcv - arg)
            return number_result(rcv * arg)
        except OverflowError:
            return float("inf") if (rcv > 0) == (arg > 0) else float("-inf")

    return prim


for _sel in ("+", "-", "*"):
    primitive("Number", _sel)(_arith(_sel))


@primitive("Number", "/")
def _divide(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "/", False)
    if arg == 0:
        return zero_divide(it, rcv)
    if type(rcv) is float or type(arg) is float:
        return rcv / arg
    return normalize(Fraction(rcv) / Fraction(arg))


@primitive("Number", "//")
def _floor_divide(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "//", False)
    if arg == 0:
        return zero_divide(it, rcv)
    if type(rcv) is int and type(arg) is int:
        return rcv // arg
    return math.floor(Fraction(rcv) / Fraction(arg)) if _finite(rcv, arg) else math.floor(rcv / arg)


@primitive("Number", "\\\\")
def _modulo(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "\\\\", False)
    if arg == 0:
        return zero_divide(it, rcv)
    if type(rcv) is int and type(arg) is int:
        return rcv % arg
    if type(rcv) is float or type(arg) is float:
        return rcv - math.floor(rcv / arg) * arg
    return normalize(Fraction(rcv) - math.floor(Fraction(rcv) / Fraction(arg)) * Fraction(arg))


def _finite(*values: Any) -> bool:
    return all(not (type(v) is float and not math.isfinite(v)) for v in values)


def _quo(rcv: Any, arg: Any) -> int:
    if type(rcv) is int and type(arg) is int:
        q = abs(rcv) // abs(arg)
        return q if (rcv >= 0) == (arg >= 0) else -q
    return math.trunc(Fraction(rcv) / Fraction(arg))


@primitive("Number", "quo:")
def _quo_prim(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "quo:", False)
    if arg == 0:
        return zero_divide(it, rcv)
    return _quo(rcv, arg)


@primitive("Number", "rem:")
def _rem(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "rem:", False)
    if arg == 0:
        return zero_divide(it, rcv)
    result = rcv - _quo(rcv, arg) * arg
    return number_result(result)


def _compare(selector: str) -> Any:
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        ">=": lambda a, b: a >= b,
    }
    op = ops[selector]

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        arg = args[0]
        if not is_num(arg):
            return _not_a_number(it, rcv, arg, selector, True)
        return bool(op(rcv, arg))

    return prim


for _sel in ("<", ">", "<=", ">="):
    primitive("Number", _sel)(_compare(_sel))


@primitive("Number", "=")
def _num_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    return (is_num(arg) or type(arg) is ScaledDecimal) and bool(rcv == arg)


@primitive("Number", "~=")
def _num_not_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not _num_equal(it, rcv, args)


@primitive("Number", "hash")
def _num_hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is int:
        return rcv
    if type(rcv) is float and math.isfinite(rcv) and rcv == int(rcv):
        return int(rcv)
    return hash(rcv) & 0x0FFFFFFF


# ---------------------------------------------------------------------- unary arithmetic


def _unary(fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return number_result(fn(rcv))

    return prim


primitive("Number", "abs")(_unary(abs))
primitive("Number", "negated")(_unary(lambda x: -x))
primitive("Number", "squared")(_unary(lambda x: x * x))
primitive("Number", "asFloat")(_unary(lambda x: to_float(x)))
primitive("Number", "truncated", "asInteger")(_unary(lambda x: math.trunc(x)))
primitive("Number", "floor")(_unary(lambda x: math.floor(x)))
primitive("Number", "ceiling")(_unary(lambda x: math.ceil(x)))
primitive("Number", "sign")(_unary(lambda x: (x > 0) - (x < 0)))
primitive("Number", "isZero")(_unary(lambda x: x == 0))
primitive("Number", "positive")(_unary(lambda x: x >= 0))
primitive("Number", "strictlyPositive")(_unary(lambda x: x > 0))
primitive("Number", "negative")(_unary(lambda x: x < 0))
primitive("Number", "numerator")(
    _unary(lambda x: Fraction(x).numerator if type(x) is not float else x)
)
primitive("Number", "denominator")(
    _unary(lambda x: Fraction(x).denominator if type(x) is not float else 1)
)
primitive("Number", "fractionPart")(_unary(lambda x: x - math.trunc(x)))
primitive("Number", "integerPart")(
    _unary(lambda x: float(math.trunc(x)) if type(x) is float else math.trunc(x))
)


@primitive("Number", "rounded")
def _rounded(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is int:
        return rcv
    if type(rcv) is float and not math.isfinite(rcv):
        return it.error("Error", "Cannot round a non-finite Float")
    exact = Fraction(rcv)
    half = Fraction(1, 2)
    return math.floor(exact + half) if exact >= 0 else -math.floor(-exact + half)


@primitive("Number", "roundTo:")
def _round_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`(self / quantum) rounded * quantum` (a zero quantum is a ZeroDivide)."""
    quantum = args[0]
    scaled = it.send(rcv, "/", (quantum,))
    return it.send(it.send(scaled, "rounded", ()), "*", (quantum,))


@primitive("Number", "truncateTo:")
def _truncate_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    quantum = args[0]
    if it.send(quantum, "isZero", ()) is not False:
        return it.error("Error", "truncateTo: needs a non-zero number")
    return it.send(it.send(rcv, "quo:", (quantum,)), "*", (quantum,))


@primitive("Number", "reciprocal")
def _reciprocal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _divide(it, 1, (rcv,))


@primitive("Number", "max:")
def _max(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Magnitude>>max:: `self > aMagnitude ifTrue: [self] ifFalse: [aMagnitude]`."""
    arg = args[0]
    if not (is_num(arg) and is_num(rcv)):
        return rcv if it.send(rcv, ">", (arg,)) is True else arg
    return rcv if rcv > arg else arg


@primitive("Number", "min:")
def _min(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not (is_num(arg) and is_num(rcv)):
        return rcv if it.send(rcv, "<", (arg,)) is True else arg
    return rcv if rcv < arg else arg


@primitive("Magnitude", "between:and:")
def _between(it: Interpreter, rcv: Any, args: Args) -> Any:
    low, high = args
    return it.send(rcv, ">=", (low,)) is True and it.send(rcv, "<=", (high,)) is True


@primitive("Magnitude", "max:")
def _magnitude_max(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv if it.send(rcv, ">", args) is True else args[0]


@primitive("Magnitude", "min:")
def _magnitude_min(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv if it.send(rcv, "<", args) is True else args[0]


@primitive("Magnitude", ">")
def _magnitude_gt(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "<", (rcv,))


@primitive("Magnitude", "<=")
def _magnitude_le(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "<", (rcv,)) is not True


@primitive("Magnitude", ">=")
def _magnitude_ge(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(rcv, "<", args) is not True


# ---------------------------------------------------------------------- powers & roots


@primitive("Number", "raisedTo:", "**")
def _raised_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Number>>raisedTo:: an Integer exponent is exact (raisedToInteger:), a Fraction
    exponent takes the exact root when there is one (`8 raisedTo: 1/3` is 2), any other
    exponent goes through logarithms, `(aNumber * self ln) exp`."""
    exponent = args[0]
    if type(exponent) is ScaledDecimal:
        exponent = number_result(exponent.fraction)
    if type(rcv) is ScaledDecimal:
        return _scaled_raised_to(it, rcv, exponent)
    if type(exponent) is int:
        return raised_to_integer(it, rcv, exponent)
    if type(exponent) is Fraction:
        root = nth_root(it, rcv, exponent.denominator)
        return it.send(root, "raisedToInteger:", (exponent.numerator,))
    if not is_num(exponent):
        return _not_a_number(it, rcv, exponent, "raisedTo:", False)
    if rcv < 0:
        return it.error("ArithmeticError", "Negative numbers can't be raised to float powers.")
    if exponent == 0:
        return 1.0 if type(rcv) is float else 1
    if exponent == 1:
        return rcv
    if rcv == 0:
        return zero_divide(it, rcv) if exponent < 0 else rcv
    try:
        return math.exp(exponent * math.log(to_float(rcv)))
    except OverflowError:
        return float("inf")


def _scaled_raised_to(it: Interpreter, rcv: ScaledDecimal, exponent: Any) -> Any:
    """A ScaledDecimal to an Integer power stays one (of the same scale); to any other
    power, the power of its exact value."""
    if type(exponent) is int:
        return it.send(rcv, "raisedToInteger:", (exponent,))
    return it.send(number_result(rcv.fraction), "raisedTo:", (exponent,))


@primitive("Number", "raisedToInteger:")
def _raised_to_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "raisedToInteger: needs an Integer")
    return raised_to_integer(it, rcv, args[0])


def raised_to_integer(it: Interpreter, rcv: Any, exponent: int) -> Any:
    """Exact for Integers and Fractions; for Floats Pharo's square-and-multiply loop
    (Number>>raisedToInteger:), whose rounding differs from C's pow()."""
    if type(rcv) is int or type(rcv) is Fraction:
        if exponent < 0:
            if rcv == 0:
                return zero_divide(it, rcv)
            return number_result(Fraction(1) / Fraction(rcv) ** -exponent)
        base_bits = (
            abs(Fraction(rcv).numerator).bit_length() + Fraction(rcv).denominator.bit_length()
        )
        if base_bits > 1:
            check_int_bits(base_bits * exponent)
        return number_result(Fraction(rcv) ** exponent)
    if type(rcv) is float:
        if exponent < 0:
            positive = _float_power(rcv, -exponent)
            return zero_divide(it, rcv) if positive == 0 else 1.0 / positive
        return _float_power(rcv, exponent)
    return it.send(rcv, "raisedToInteger:", (exponent,))


def _float_power(base: float, exponent: int) -> float:
    if exponent == 0:
        return 1.0
    probe = 1 << (exponent.bit_length() - 1)
    result = 1.0
    while True:
        if exponent & probe:
            result = result * base
        probe >>= 1
        if probe == 0:
            return result
        result = result * result


def nth_root(it: Interpreter, rcv: Any, n: int) -> Any:
    """Integer>>nthRoot:: the exact Integer root when there is one, else the Float
    nearest the root; a Fraction takes the roots of its numerator and denominator."""
    if type(rcv) is int:
        if rcv < 0 and n % 2 == 0:
            return it.error("ArithmeticError", "Negative numbers don't have even roots.")
        root = _integer_root(abs(rcv), n)
        if root**n == abs(rcv):
            return -root if rcv < 0 else root
        value = _nearest_float_root(abs(rcv), n)
        return -value if rcv < 0 else value
    if type(rcv) is Fraction:
        top, bottom = nth_root(it, rcv.numerator, n), nth_root(it, rcv.denominator, n)
        return it.send(top, "/", (bottom,))
    value = to_float(rcv)
    if value < 0 and n % 2 == 1:
        return -((-value) ** (1.0 / n))
    return value ** (1.0 / n) if value >= 0 else float("nan")


def _nearest_float_root(value: int, n: int) -> float:
    """The Float nearest the exact n-th root of a positive Integer: an estimate, moved
    to the Floats around the root and rounded by comparing with their midpoint exactly."""
    estimate = math.exp(math.log(value) / n)
    while Fraction(estimate) ** n > value:
        estimate = math.nextafter(estimate, 0.0)
    while Fraction(math.nextafter(estimate, math.inf)) ** n <= value:
        estimate = math.nextafter(estimate, math.inf)
    above = math.nextafter(estimate, math.inf)
    midpoint = (Fraction(estimate) + Fraction(above)) / 2
    return above if midpoint**n < value else estimate


def _integer_root(value: int, n: int) -> int:
    """floor(value ** (1/n)) by Newton's method on integers."""
    if value < 2:
        return value
    guess = 1 << ((value.bit_length() + n - 1) // n)
    while True:
        better = ((n - 1) * guess + value // guess ** (n - 1)) // n
        if better >= guess:
            return guess
        guess = better


@primitive("Number", "nthRoot:")
def _nth_root(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = args[0]
    if type(n) is not int or n < 1:
        return it.error("Error", "nthRoot: needs a positive Integer")
    return nth_root(it, rcv, n)


@primitive("Number", "sqrt")
def _sqrt(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = to_float(rcv)
    if value < 0:
        return float("nan")
    return math.sqrt(value)


def _float_fn(name: str, fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        try:
            return fn(to_float(rcv))
        except (ValueError, OverflowError):
            return it.error("DomainError", f"{name} undefined for {it.print_string(rcv)}")

    return prim


for _name, _fn in [
    ("sin", math.sin),
    ("cos", math.cos),
    ("tan", math.tan),
    ("arcSin", math.asin),
    ("arcCos", math.acos),
    ("arcTan", math.atan),
    ("exp", math.exp),
    ("ln", math.log),
    ("log", math.log10),
    ("degreesToRadians", math.radians),
    ("radiansToDegrees", math.degrees),
]:
    primitive("Number", _name)(_float_fn(_name, _fn))


@primitive("Number", "log:")
def _log_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    try:
        return math.log(to_float(rcv)) / math.log(to_float(args[0]))
    except (ValueError, ZeroDivisionError, TypeError):
        return it.error("DomainError", "log: undefined")


@primitive("Number", "floorLog:")
def _floor_log(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = args[0]
    if type(rcv) is int and type(base) is int and rcv > 0 and base > 1:
        result = 0
        value = rcv
        while value >= base:
            value //= base
            result += 1
        return result
    if not (is_num(base) or type(base) is ScaledDecimal) or it.send(rcv, "<=", (0,)) is True:
        return it.error("DomainError", "floorLog: needs a positive receiver and a Number base")
    try:
        return math.floor(math.log(to_float(rcv)) / math.log(to_float(base)))
    except (ValueError, ZeroDivisionError):
        return it.error("DomainError", "floorLog: undefined for that base")


# ---------------------------------------------------------------------- integer specific


@primitive("Number", "even")
def _num_even(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 0 if is_num(rcv) else it.send(it.send(rcv, "\\\\", (2,)), "=", (0,))


@primitive("Number", "odd")
def _num_odd(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 1 if is_num(rcv) else it.send(it.send(rcv, "\\\\", (2,)), "=", (1,))


@primitive("Number", "printShowingDecimalPlaces:")
def _print_decimal_places(it: Interpreter, rcv: Any, args: Args) -> Any:
    places = args[0]
    if type(places) is not int or places < 0:
        return it.error("Error", "printShowingDecimalPlaces: needs a non-negative Integer")
    if type(rcv) is float and not math.isfinite(rcv):
        return new_string(float_to_str(rcv))
    exact = rcv.fraction if type(rcv) is ScaledDecimal else Fraction(rcv)
    scaled = exact * 10**places
    rounded = math.floor(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1)
    sign = "-" if rounded < 0 else ""
    digits = str(abs(rounded)).rjust(places + 1, "0")
    if places == 0:
        return new_string(sign + digits)
    return new_string(f"{sign}{digits[:-places]}.{digits[-places:]}")


_SHORT = 10**18  # Integers whose digits str() gives at once (int_to_str's first case)


@positional_primitive("Number", "printString", "displayString", "asString")
@usual_case("Integer", value="new_byte_string(str({r}))", test=f"{-_SHORT} < {{r}} < {_SHORT}")
def _number_print(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is int:
        # What print_string answers (Integer is a system class: no printOn: of a
        # session to run), without its writer, for all but texts it would cut short.
        if -_SHORT < rcv < _SHORT:
            return new_string(str(rcv))
        text = int_to_str(rcv)
        if len(text) < PRINT_LIMIT:
            return new_string(text)
    if type(rcv) is float:
        return new_string(float_to_str(rcv))
    return new_string(it.print_string(rcv))


@primitive("Number", "@")
def _at(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_point(rcv, args[0])


@primitive("Number", "to:")
def _to(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not (is_num(rcv) and is_num(args[0])):
        return it.error("Error", "an Interval is made of Integers, Fractions or Floats")
    return StInterval(S["Interval"], rcv, args[0], 1)


@primitive("Number", "to:by:")
def _to_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not (is_num(rcv) and is_num(args[0]) and is_num(args[1])):
        return it.error("Error", "an Interval is made of Integers, Fractions or Floats")
    if args[1] == 0:
        return it.error("Error", "step must not be zero")
    return StInterval(S["Interval"], rcv, args[0], args[1])


@primitive("Number", "to:do:")
def _to_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    stop, block = args
    if not (is_num(rcv) and is_num(stop)):
        return _to_by_do_sending(it, rcv, stop, 1, block)
    i = rcv
    while i <= stop:
        it.call_block(block, (i,))
        i += 1
    return rcv


def _to_by_do_sending(it: Interpreter, start: Any, stop: Any, step: Any, block: Any) -> Any:
    """to:by:do: through messages, for numbers Python cannot compare (ScaledDecimals)."""
    if it.send(step, "isZero", ()) is not False:
        return it.error("Error", "step must not be zero")
    test = "<=" if it.send(step, ">", (0,)) is True else ">="
    i = start
    while it.send(i, test, (stop,)) is True:
        it.call_block(block, (i,))
        i = it.send(i, "+", (step,))
    return start


@primitive("Number", "to:by:do:")
def _to_by_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    stop, step, block = args
    if not (is_num(rcv) and is_num(stop) and is_num(step)):
        return _to_by_do_sending(it, rcv, stop, step, block)
    if step == 0:
        return it.error("Error", "step must not be zero")
    i = rcv
    while (i <= stop) if step > 0 else (i >= stop):
        it.call_block(block, (i,))
        i += step
    return rcv


@primitive("Number", "isNumber")
def _is_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


@primitive("Number", "asNumber")
def _as_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Number", "adaptToInteger:andSend:", "adaptToFloat:andSend:", "adaptToFraction:andSend:")
def _adapt(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(args[0], args[1], (rcv,))


@primitive("Number", "deepCopy", "shallowCopy", "copy")
def _number_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Number", "storeString")
def _number_store_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.print_string(rcv))


def number_class_name(value: Any) -> str:
    return class_of(value).name


# ---------------------------------------------------------------------- class side


def _constant(value: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return value

    return prim


@primitive("Number class", "readFrom:", "readFromString:")
def _read_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A number from a String or a ReadStream (left after the number's last character),
    converted to the receiver class as Pharo's `Float readFrom:` does (asFloat)."""
    value = read_number_from(it, args[0], lambda reader: reader.read_number())
    if value is None:
        return it.error("Error", "Reading a number failed: a digit between 0 and 9 expected")
    return convert_to_class(it, value, rcv)


@primitive("Number class", "readFrom:ifFail:")
def _read_from_if_fail(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = read_number_from(it, args[0], lambda reader: reader.read_number())
    if value is None:
        return it.send(args[1], "value", ())
    return convert_to_class(it, value, rcv)


def convert_to_class(it: Interpreter, value: Any, cls: Any) -> Any:
    if cls is S["Float"] and is_num(value):
        return to_float(value)
    return value


@primitive("Number class", "new")
def _number_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", f"{rcv.name} cannot be instantiated with new")


@primitive("Number", "to:collect:")
def _to_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    stop, block = args
    if not (is_num(rcv) and is_num(stop)):
        return it.error("Error", "to:collect: needs Integers, Fractions or Floats")
    run = it.block_fn(block, 1)
    items = []
    i = rcv
    while i <= stop:
        items.append(run(i))
        i += 1
    return new_array(items)


@primitive("Number class", "newFrom:")
def _number_new_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    """What `aNumber as: Float` (Object>>as:) reaches: the argument converted to the
    receiver class (Float asFloat, Integer truncated, Fraction the exact value)."""
    value = args[0]
    if not (is_num(value) or type(value) is ScaledDecimal):
        return it.error("Error", f"{it.print_string(value)} is not a Number")
    if rcv.inherits_from(S["Float"]):
        return to_float(value)
    if rcv.inherits_from(S["Integer"]):
        return it.send(value, "truncated", ())
    if rcv.inherits_from(S["Fraction"]):
        return it.send(value, "asExactFraction", ())
    return value
