"""Integer: divisibility, primes, factorials, bits and bytes, powers of two, digits,
printing in bases (also padded, roman, SI byte sizes) and reading from text."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..kernel import new_bytes, new_string
from ..limits import check_int_bits, check_string
from ..objects import Char
from ..printing import int_to_str
from ._registry import positional_primitive, primitive
from .support import Args, read_number_from

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _constant(value: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return value

    return prim


def _int_arg(it: Interpreter, value: Any, selector: str) -> int | None:
    if type(value) is int:
        return value
    it.error("Error", f"{selector} needs an Integer")
    return None


@primitive("Integer", "sqrtFloor", "isqrt")
def _sqrt_floor(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv < 0:
        return it.error("DomainError", "sqrtFloor undefined for negative numbers")
    return math.isqrt(rcv)


@positional_primitive("Integer", "even")
def _even(it: Interpreter, rcv: Any) -> Any:
    return rcv % 2 == 0


@positional_primitive("Integer", "odd")
def _odd(it: Interpreter, rcv: Any) -> Any:
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
    index = args[0]
    if type(index) is not int or index < 1:
        return it.error("Error", "bitAt: needs a positive Integer")
    return (rcv >> (index - 1)) & 1


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


@primitive("Integer", "printString:", "printStringBase:", "radix:")
def _print_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = args[0]
    if type(base) is not int or not 2 <= base <= 36:
        return it.error("Error", "base must be an Integer between 2 and 36")
    return new_string(int_to_str(rcv, base))


@primitive("Integer", "printPaddedWith:to:")
def _print_padded(it: Interpreter, rcv: Any, args: Args) -> Any:
    pad, width = args
    if type(pad) is not Char or type(width) is not int:
        return it.error("Error", "printPaddedWith:to: needs a Character and an Integer")
    check_string(width)
    text = int_to_str(abs(rcv))
    fill = pad.text if type(pad) is Char else " "
    text = text.rjust(width - (1 if rcv < 0 else 0), fill)
    return new_string(("-" if rcv < 0 else "") + text)


@primitive("Integer", "asFraction", "asExactFraction")
def _int_as_fraction(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


primitive("SmallInteger class", "maxVal")(_constant((1 << 60) - 1))
primitive("SmallInteger class", "minVal")(_constant(-(1 << 60)))


# ---------------------------------------------------------------------- powers of two, digits


@primitive("Integer", "asLargerPowerOfTwo")
def _as_larger_power_of_two(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The receiver if it is a power of two, else `1 bitShift: self highBit`."""
    if rcv > 0 and rcv & (rcv - 1) == 0:
        return rcv
    if rcv < 0:
        return it.error("Error", "asLargerPowerOfTwo is only defined for positive integers")
    return 1 << rcv.bit_length()


@primitive("Integer", "asSmallerPowerOfTwo")
def _as_smaller_power_of_two(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The receiver if it is a power of two, else `1 bitShift: self highBit - 1`."""
    if rcv <= 0:
        return it.error("Error", "asSmallerPowerOfTwo is only defined for positive integers")
    return 1 << (rcv.bit_length() - 1)


@primitive("Integer", "decimalDigitLength")
def _decimal_digit_length(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Digits printed in base 10 (Pharo: 1 for anything below 10, negatives too)."""
    return 1 if rcv < 10 else len(int_to_str(rcv))


@primitive("Integer", "numberOfDigitsInBase:")
def _number_of_digits_in_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = _int_arg(it, args[0], "numberOfDigitsInBase:")
    if base is None or base < 2:
        return it.error("Error", "the base must be at least 2")
    return len(int_to_str(abs(rcv), base))


@primitive("Integer", "digitLength", "bytesCount")
def _digit_length(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Bytes in the magnitude (at least 1)."""
    return max(1, (abs(rcv).bit_length() + 7) // 8)


@primitive("Integer", "digitAt:", "byteAt:")
def _digit_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Byte `index` (1 = least significant) of the magnitude."""
    index = _int_arg(it, args[0], "digitAt:")
    if index is None or index < 1:
        return it.error("Error", "digitAt: needs a positive Integer")
    return (abs(rcv) >> (8 * (index - 1))) & 0xFF


@primitive("Integer", "asByteArray")
def _as_byte_array(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The magnitude's bytes, most significant first."""
    if rcv < 0:
        return it.error("Error", "asByteArray is only defined for non-negative integers")
    size = max(1, (rcv.bit_length() + 7) // 8)
    return new_bytes(bytearray(rcv.to_bytes(size, "big")))


@primitive("Integer", "asByteArrayOfSize:")
def _as_byte_array_of_size(it: Interpreter, rcv: Any, args: Args) -> Any:
    size = _int_arg(it, args[0], "asByteArrayOfSize:")
    if size is None or rcv < 0 or size < 0 or rcv.bit_length() > 8 * size:
        return it.error("Error", "the integer does not fit in that many bytes")
    return new_bytes(bytearray(rcv.to_bytes(size, "big")))


# ---------------------------------------------------------------------- bits


@primitive("Integer", "lowBit")
def _low_bit(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Index of the lowest 1 bit (1-based), 0 for 0."""
    return (rcv & -rcv).bit_length()


@primitive("Integer", "highBitOfMagnitude")
def _high_bit_of_magnitude(it: Interpreter, rcv: Any, args: Args) -> Any:
    return abs(rcv).bit_length()


@primitive("Integer", "bitAt:put:")
def _bit_at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A copy of the receiver with bit `index` set to `value` (0 or 1)."""
    index, value = args
    if type(index) is not int or index < 1 or value not in (0, 1) or type(value) is not int:
        return it.error("Error", "bitAt:put: needs an index and 0 or 1")
    mask = 1 << (index - 1)
    return rcv | mask if value else rcv & ~mask


@primitive("Integer", "bitClear:")
def _bit_clear(it: Interpreter, rcv: Any, args: Args) -> Any:
    mask = _int_arg(it, args[0], "bitClear:")
    return None if mask is None else rcv & ~mask


@primitive("Integer", "allMask:")
def _all_mask(it: Interpreter, rcv: Any, args: Args) -> Any:
    mask = _int_arg(it, args[0], "allMask:")
    return mask is not None and rcv & mask == mask


@primitive("Integer", "anyMask:")
def _any_mask(it: Interpreter, rcv: Any, args: Args) -> Any:
    mask = _int_arg(it, args[0], "anyMask:")
    return mask is not None and rcv & mask != 0


@primitive("Integer", "noMask:")
def _no_mask(it: Interpreter, rcv: Any, args: Args) -> Any:
    mask = _int_arg(it, args[0], "noMask:")
    return mask is not None and rcv & mask == 0


# ---------------------------------------------------------------------- factorials


@primitive("Integer", "slowFactorial")
def _slow_factorial(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The plain product loop (Pharo keeps it beside the faster factorial)."""
    return _factorial(it, rcv, args)


@primitive("Integer", "ceilingLog:")
def _ceiling_log(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = args[0]
    if type(base) is not int or base < 2 or rcv < 1:
        return it.error("Error", "ceilingLog: needs a positive receiver and a base > 1")
    result, power = 0, 1
    while power < rcv:
        power *= base
        result += 1
    return result


# ---------------------------------------------------------------------- printing


@primitive("Integer", "printStringRadix:", "storeString:")
def _print_string_radix(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Digits with their radix in front: `255 printStringRadix: 16` -> '16rFF' (a
    negative number keeps its sign in front: '-16rFF')."""
    base = args[0]
    if type(base) is not int or not 2 <= base <= 36:
        return it.error("Error", "base must be an Integer between 2 and 36")
    sign = "-" if rcv < 0 else ""
    return new_string(f"{sign}{base}r{int_to_str(abs(rcv), base)}")


@primitive("Integer", "printStringHex")
def _print_string_hex(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(int_to_str(rcv, 16))


def _padded(value: int, base: int, width: int, zeros: bool) -> str:
    """Integer>>printOn:base:length:padded:: the sign stays in front of zero padding."""
    check_string(width)
    sign = "-" if value < 0 else ""
    digits = int_to_str(abs(value), base)
    if zeros:
        return sign + digits.rjust(width - len(sign), "0")
    return (sign + digits).rjust(width)


@primitive("Integer", "printString:length:padded:", "printStringBase:length:padded:")
def _print_length_padded(it: Interpreter, rcv: Any, args: Args) -> Any:
    base, width, zeros = args
    if type(base) is not int or not 2 <= base <= 36 or type(width) is not int:
        return it.error("Error", "printString:length:padded: needs a base and a length")
    return new_string(_padded(rcv, base, width, zeros is True))


@primitive("Integer", "printStringLength:padded:")
def _print_string_length_padded(it: Interpreter, rcv: Any, args: Args) -> Any:
    width, zeros = args
    if type(width) is not int:
        return it.error("Error", "printStringLength:padded: needs a length")
    return new_string(_padded(rcv, 10, width, zeros is True))


@primitive("Integer", "printPaddedWith:to:base:")
def _print_padded_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    pad, width, base = args
    if type(pad) is not Char or type(width) is not int or type(base) is not int:
        return it.error("Error", "printPaddedWith:to:base: needs a Character and Integers")
    if not 2 <= base <= 36:
        return it.error("Error", "base must be an Integer between 2 and 36")
    check_string(width)
    sign = "-" if rcv < 0 else ""
    return new_string(sign + int_to_str(abs(rcv), base).rjust(width - len(sign), pad.text))


_ROMAN = [
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
]


@primitive("Integer", "printStringRoman")
def _print_string_roman(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Roman numerals with subtractive pairs (1999 -> 'MCMXCIX'); a negative number
    gets a '-' in front."""
    value = abs(rcv)
    out = ["-"] if rcv < 0 else []
    for amount, letters in _ROMAN:
        count, value = divmod(value, amount)
        out.append(letters * count)
    return new_string("".join(out))


@primitive("Integer", "asStringWithCommas")
def _as_string_with_commas(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(f"{rcv:,}" if abs(rcv) < 10**4000 else int_to_str(rcv))


_SI_PREFIXES = "kMGTPEZY"


@primitive("Integer", "humanReadableSIByteSize")
def _human_readable_si_byte_size(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Integer>>humanReadableSIByteSizeOn:: below 1000 '999 B', else the value over the
    largest power of 1000 it reaches, with two decimals (rounded) and an SI prefix:
    '1.50 kB', '1.23 MB'."""
    if rcv < 1000:
        return new_string(f"{int_to_str(rcv)} B")
    exponent = 0
    while rcv >= 1000 ** (exponent + 1) and exponent < len(_SI_PREFIXES):
        exponent += 1
    scaled = Fraction(rcv, 1000**exponent)
    hundredths = math.floor(scaled * 100 + Fraction(1, 2))
    whole, cents = divmod(hundredths, 100)
    return new_string(f"{whole}.{cents:02d} {_SI_PREFIXES[exponent - 1]}B")


# ---------------------------------------------------------------------- reading


@primitive("Integer class", "readFrom:")
def _integer_read_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _read_integer(it, args[0], 10)


@primitive("Integer class", "readFrom:base:", "readFrom:radix:")
def _integer_read_from_base(it: Interpreter, rcv: Any, args: Args) -> Any:
    base = args[1]
    if type(base) is not int or not 2 <= base <= 36:
        return it.error("Error", "base must be an Integer between 2 and 36")
    return _read_integer(it, args[0], base)


def _read_integer(it: Interpreter, source: Any, base: int) -> Any:
    """Integer class>>readFrom:base:: an optional '-' and digits of `base` (uppercase
    letters beyond 9), from a String or a ReadStream; Pharo's NumberParser error when
    there is no digit."""
    value = read_number_from(it, source, lambda reader: reader.read_integer(base))
    if value is None:
        last_digit = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[base - 1]
        return it.error(
            "Error", f"Reading a number failed: a digit between 0 and {last_digit} expected"
        )
    return value
