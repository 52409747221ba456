"""Number, Integer, Float and Fraction.

Integers are Python ints of any size, Floats Python floats, Fractions
`fractions.Fraction` normalised to an Integer when the denominator is 1. Mixed
arithmetic follows Pharo's generality: Integer < Fraction < Float.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..kernel import class_of, new_point, new_string, normalize
from ..limits import check_int_bits
from ..objects import Char, StInterval
from ..printing import float_to_str, int_to_str
from ._registry import primitive
from .support import Args, is_num, read_number_or_fail, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter

_INTERVAL = None


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


def _result(value: Any) -> Any:
    if type(value) is Fraction:
        return normalize(value)
    if type(value) is int:
        bits = value.bit_length()
        if bits > 4096:
            check_int_bits(bits)
    return value


def _arith(selector: str) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        arg = args[0]
        if not is_num(arg):
            return _not_a_number(it, rcv, arg, selector, False)
        if selector == "*" and type(rcv) is int and type(arg) is int:
            check_int_bits(rcv.bit_length() + arg.bit_length())
        try:
            if selector == "+":
                return _result(rcv + arg)
            if selector == "-":
                return _result(rcv - arg)
            return _result(rcv * arg)
        except OverflowError:
            return float("inf") if (rcv > 0) == (arg > 0) else float("-inf")

    return prim


for _sel in ("+", "-", "*"):
    primitive("Number", _sel)(_arith(_sel))


def _zero_divide(it: Interpreter, rcv: Any) -> Any:
    return it.error("ZeroDivide", None, dividend=rcv)


@primitive("Number", "/")
def _divide(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "/", False)
    if arg == 0:
        return _zero_divide(it, rcv)
    if type(rcv) is float or type(arg) is float:
        return rcv / arg
    return normalize(Fraction(rcv) / Fraction(arg))


@primitive("Number", "//")
def _floor_divide(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "//", False)
    if arg == 0:
        return _zero_divide(it, rcv)
    if type(rcv) is int and type(arg) is int:
        return rcv // arg
    return math.floor(Fraction(rcv) / Fraction(arg)) if _finite(rcv, arg) else math.floor(rcv / arg)


@primitive("Number", "\\\\")
def _modulo(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "\\\\", False)
    if arg == 0:
        return _zero_divide(it, rcv)
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
        return _zero_divide(it, rcv)
    return _quo(rcv, arg)


@primitive("Number", "rem:")
def _rem(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "rem:", False)
    if arg == 0:
        return _zero_divide(it, rcv)
    result = rcv - _quo(rcv, arg) * arg
    return _result(result)


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
    return is_num(arg) and rcv == arg


@primitive("Number", "~=")
def _num_not_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    return not (is_num(arg) and rcv == arg)


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
        return _result(fn(rcv))

    return prim


primitive("Number", "abs")(_unary(abs))
primitive("Number", "negated")(_unary(lambda x: -x))
primitive("Number", "squared")(_unary(lambda x: x * x))
primitive("Number", "asFloat")(_unary(lambda x: _to_float(x)))
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


def _to_float(x: Any) -> float:
    try:
        return float(x)
    except OverflowError:
        return float("inf") if x > 0 else float("-inf")


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
    quantum = args[0]
    if not is_num(quantum) or quantum == 0:
        return it.error("Error", "roundTo: needs a non-zero number")
    scaled = it.send(rcv, "/", (quantum,))
    return it.send(it.send(scaled, "rounded", ()), "*", (quantum,))


@primitive("Number", "truncateTo:")
def _truncate_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    quantum = args[0]
    if not is_num(quantum) or quantum == 0:
        return it.error("Error", "truncateTo: needs a non-zero number")
    return _result(it.send(rcv, "quo:", (quantum,)) * quantum)


@primitive("Number", "reciprocal")
def _reciprocal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _divide(it, 1, (rcv,))


@primitive("Number", "max:")
def _max(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, ">", True)
    return rcv if rcv >= arg else arg


@primitive("Number", "min:")
def _min(it: Interpreter, rcv: Any, args: Args) -> Any:
    arg = args[0]
    if not is_num(arg):
        return _not_a_number(it, rcv, arg, "<", True)
    return rcv if rcv <= arg else arg


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
    exponent = args[0]
    if not is_num(exponent):
        return _not_a_number(it, rcv, exponent, "raisedTo:", False)
    if type(exponent) is int:
        if type(rcv) is int or type(rcv) is Fraction:
            if exponent < 0:
                if rcv == 0:
                    return _zero_divide(it, rcv)
                return _result(Fraction(1) / Fraction(rcv) ** -exponent)
            base_bits = (
                abs(Fraction(rcv).numerator).bit_length() + Fraction(rcv).denominator.bit_length()
            )
            if base_bits > 1:
                check_int_bits(base_bits * exponent)
            return _result(Fraction(rcv) ** exponent)
        try:
            return float(rcv) ** exponent
        except OverflowError:
            return float("inf")
        except ZeroDivisionError:
            return _zero_divide(it, rcv)
    if rcv < 0:
        return it.error("ArithmeticError", "Negative numbers can't be raised to float powers.")
    try:
        return _to_float(rcv) ** _to_float(exponent)
    except OverflowError:
        return float("inf")


@primitive("Number", "raisedToInteger:")
def _raised_to_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "raisedToInteger: needs an Integer")
    return _raised_to(it, rcv, args)


@primitive("Number", "sqrt")
def _sqrt(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = _to_float(rcv)
    if value < 0:
        return float("nan")
    return math.sqrt(value)


@primitive("Integer", "sqrtFloor", "isqrt")
def _sqrt_floor(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv < 0:
        return it.error("DomainError", "sqrtFloor undefined for negative numbers")
    return math.isqrt(rcv)


def _float_fn(name: str, fn: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        try:
            return fn(_to_float(rcv))
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
        return math.log(_to_float(rcv)) / math.log(_to_float(args[0]))
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
    return math.floor(math.log(_to_float(rcv)) / math.log(_to_float(base)))


# ---------------------------------------------------------------------- integer specific


@primitive("Integer", "even")
def _even(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 0


@primitive("Integer", "odd")
def _odd(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 1


@primitive("Number", "even")
def _num_even(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 0


@primitive("Number", "odd")
def _num_odd(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv % 2 == 1


@primitive("Integer", "gcd:")
def _gcd(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "gcd: needs an Integer")
    return math.gcd(rcv, args[0])


@primitive("Integer", "lcm:")
def _lcm(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(args[0]) is not int:
        return it.error("Error", "lcm: needs an Integer")
    return abs(rcv * args[0]) // math.gcd(rcv, args[0]) if rcv and args[0] else 0


@primitive("Integer", "isPrime")
def _is_prime(it: Interpreter, rcv: Any, args: Args) -> Any:
    n = rcv
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0:
        return False
    limit = math.isqrt(n)
    i = 3
    while i <= limit:
        if n % i == 0:
            return False
        i += 2
        if i % 4001 == 0:
            it.tick()
    return True


@primitive("Integer", "factorial")
def _factorial(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv < 0:
        return it.error("Error", "Not valid for negative integers")
    result = 1
    for i in range(2, rcv + 1):
        result *= i
        if i % 64 == 0:
            it.tick(64)
            check_int_bits(result.bit_length())
    return result


@primitive("Integer", "isPowerOfTwo")
def _is_power_of_two(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv > 0 and rcv & (rcv - 1) == 0


@primitive("Integer", "asCharacter")
def _as_character(it: Interpreter, rcv: Any, args: Args) -> Any:
    if not 0 <= rcv <= 0x10FFFF:
        return it.error("Error", "Character value out of range")
    return Char.of(rcv)


@primitive("Integer", "bitAnd:")
def _bit_and(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv & args[0] if type(args[0]) is int else it.error("Error", "bitAnd: needs an Integer")


@primitive("Integer", "bitOr:")
def _bit_or(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv | args[0] if type(args[0]) is int else it.error("Error", "bitOr: needs an Integer")


@primitive("Integer", "bitXor:")
def _bit_xor(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv ^ args[0] if type(args[0]) is int else it.error("Error", "bitXor: needs an Integer")


@primitive("Integer", "bitInvert")
def _bit_invert(it: Interpreter, rcv: Any, args: Args) -> Any:
    return ~rcv


@primitive("Integer", "bitAt:")
def _bit_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    return (rcv >> (args[0] - 1)) & 1


@primitive("Integer", "bitShift:")
def _bit_shift(it: Interpreter, rcv: Any, args: Args) -> Any:
    shift = args[0]
    if type(shift) is not int:
        return it.error("Error", "bitShift: needs an Integer")
    if shift > 0:
        check_int_bits(rcv.bit_length() + shift)
        return rcv << shift
    return rcv >> -shift


@primitive("Integer", "<<")
def _shift_left(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _bit_shift(it, rcv, args)


@primitive("Integer", ">>")
def _shift_right(it: Interpreter, rcv: Any, args: Args) -> Any:
    return (
        _bit_shift(it, rcv, (-args[0],))
        if type(args[0]) is int
        else it.error("Error", ">> needs an Integer")
    )


@primitive("Integer", "highBit")
def _high_bit(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.bit_length()


@primitive("Integer", "numberOfDigits")
def _number_of_digits(it: Interpreter, rcv: Any, args: Args) -> Any:
    return len(int_to_str(abs(rcv)))


@primitive("Integer", "timesRepeat:")
def _times_repeat(it: Interpreter, rcv: Any, args: Args) -> Any:
    for _ in range(rcv):
        it.call_block(args[0], ())
    return rcv


@primitive(
    "Integer", "printString:", "printStringBase:", "radix:", "printStringRadix:", "storeString:"
)
def _print_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = args[0]
    if type(base) is not int or not 2 <= base <= 36:
        return it.error("Error", "base must be an Integer between 2 and 36")
    return new_string(int_to_str(rcv, base))


@primitive("Integer", "printPaddedWith:to:")
def _print_padded(it: Interpreter, rcv: Any, args: Args) -> Any:
    pad, width = args
    text = int_to_str(abs(rcv))
    fill = pad.text if type(pad) is Char else " "
    text = text.rjust(width - (1 if rcv < 0 else 0), fill)
    return new_string(("-" if rcv < 0 else "") + text)


@primitive("Integer", "printString:paddedWith:", "printStringBase:length:padded:")
def _print_base_padded(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(int_to_str(rcv, args[0]))


@primitive("Integer", "asFraction", "asExactFraction")
def _int_as_fraction(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


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


@primitive("Number", "printShowingDecimalPlaces:")
def _print_decimal_places(it: Interpreter, rcv: Any, args: Args) -> Any:
    places = args[0]
    exact = Fraction(rcv)
    scaled = exact * 10**places
    rounded = math.floor(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1)
    sign = "-" if rounded < 0 else ""
    digits = str(abs(rounded)).rjust(places + 1, "0")
    if places == 0:
        return new_string(sign + digits)
    return new_string(f"{sign}{digits[:-places]}.{digits[-places:]}")


@primitive("Number", "printString", "displayString", "asString")
def _number_print(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is float:
        return new_string(float_to_str(rcv))
    return new_string(it.print_string(rcv))


@primitive("Number", "@")
def _at(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_point(rcv, args[0])


@primitive("Number", "to:")
def _to(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..classes import SYSTEM_CLASSES

    return StInterval(SYSTEM_CLASSES["Interval"], rcv, args[0], 1)


@primitive("Number", "to:by:")
def _to_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..classes import SYSTEM_CLASSES

    if args[1] == 0:
        return it.error("Error", "step must not be zero")
    return StInterval(SYSTEM_CLASSES["Interval"], rcv, args[0], args[1])


@primitive("Number", "to:do:")
def _to_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    stop, block = args
    i = rcv
    while i <= stop:
        it.call_block(block, (i,))
        i += 1
    return rcv


@primitive("Number", "to:by:do:")
def _to_by_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    stop, step, block = args
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
    return it.send(args[0], args[1], (rcv,))


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


primitive("SmallInteger class", "maxVal")(_constant((1 << 60) - 1))
primitive("SmallInteger class", "minVal")(_constant(-(1 << 60)))
primitive("Float class", "infinity")(_constant(float("inf")))
primitive("Float class", "negativeInfinity")(_constant(float("-inf")))
primitive("Float class", "nan")(_constant(float("nan")))
primitive("Float class", "pi")(_constant(math.pi))
primitive("Float class", "e")(_constant(math.e))
primitive("Float class", "epsilon")(_constant(2.220446049250313e-16))
primitive("Float class", "fmax")(_constant(1.7976931348623157e308))


@primitive("Number class", "readFrom:", "readFromString:")
def _read_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(args[0])
    if text is None:
        return it.error("Error", "readFrom: needs a String or a ReadStream")
    return read_number_or_fail(it, text)


@primitive("Number class", "new")
def _number_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", f"{rcv.name} cannot be instantiated with new")


@primitive("Fraction class", "numerator:denominator:")
def _fraction_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    num, den = args
    if type(num) is not int or type(den) is not int:
        return it.error("Error", "numerator:denominator: needs Integers")
    if den == 0:
        return _zero_divide(it, num)
    return normalize(Fraction(num, den))


@primitive("Number", "to:collect:")
def _to_collect(it: Interpreter, rcv: Any, args: Args) -> Any:
    from ..kernel import new_array

    stop, block = args
    run = it.block_fn(block, 1)
    items = []
    i = rcv
    while i <= stop:
        items.append(run(i))
        i += 1
    return new_array(items)
