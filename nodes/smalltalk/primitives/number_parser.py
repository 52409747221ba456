"""Reading numbers from text the way Pharo's NumberParser does: an optional `-`, digits,
an optional radix (`16rFF`), fraction digits (`3.25`), an exponent (`1e10` is an Integer,
`1e-2` a Fraction, `2.5e3` a Float), a ScaledDecimal suffix (`3.14s2`), and the words
`NaN`, `Infinity`, `-Infinity`. Shared by `String>>asNumber`, `Number class>>readFrom:`
and the stream readers; the reader stops at the first character that cannot continue
the number (its position is where a stream is left)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..objects import ScaledDecimal

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def digit_value(char: str, base: int) -> int | None:
    """The value of `char` as a digit in `base` (uppercase letters only, as in Pharo)."""
    index = _DIGITS.find(char) if char else -1
    return index if 0 <= index < base else None


def float_from_exact(value: Fraction | int) -> float:
    """The Float nearest to an exact value; overflows to +/- infinity, as Pharo's
    NumberParser answers for `Float readFrom: '1e400'`."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


class NumberReader:
    """A cursor over `text` from `pos`; each read method answers None (and leaves `pos`
    unchanged) when no number starts there."""

    def __init__(self, text: str, pos: int = 0) -> None:
        self.text = text
        self.pos = pos

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_separators(self) -> None:
        while self.peek() and self.peek() in " \t\r\n\f":
            self.pos += 1

    def _digits(self, base: int) -> tuple[int, int] | None:
        """(value, count) of the digits at the cursor, or None if there is none."""
        value = count = 0
        while True:
            digit = digit_value(self.peek(), base)
            if digit is None:
                break
            value = value * base + digit
            count += 1
            self.pos += 1
        return (value, count) if count else None

    def read_integer(self, base: int = 10, signed: bool = True) -> int | None:
        start = self.pos
        negative = signed and self.peek() == "-"
        if negative:
            self.pos += 1
        read = self._digits(base)
        if read is None:
            self.pos = start
            return None
        return -read[0] if negative else read[0]

    def read_number(self) -> Any:
        """Integer, Fraction (negative exponent), Float, ScaledDecimal, or None."""
        start = self.pos
        for word, value in (("NaN", float("nan")), ("Infinity", float("inf"))):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        if self.text.startswith("-Infinity", self.pos):
            self.pos += len("-Infinity")
            return float("-inf")
        negative = self.peek() == "-"
        if negative:
            self.pos += 1
        read = self._digits(10)
        if read is None:
            self.pos = start
            return None
        base = 10
        mantissa = read[0]
        if self.peek() == "r" and 2 <= mantissa <= 36:
            after_radix = self.pos
            self.pos += 1
            if self.peek() == "-" and not negative:
                negative = True
                self.pos += 1
            radix_digits = self._digits(mantissa)
            if radix_digits is None:
                self.pos = after_radix
            else:
                base, mantissa = mantissa, radix_digits[0]
        exact: Fraction | int = mantissa
        fraction_digits = 0
        is_float = False
        if self.peek() == "." and digit_value(self.peek(1), base) is not None:
            self.pos += 1
            fraction = self._digits(base)
            assert fraction is not None
            fraction_digits = fraction[1]
            exact = Fraction(mantissa * base**fraction_digits + fraction[0], base**fraction_digits)
            is_float = True
        if self.peek() == "s":
            self.pos += 1
            scale_read = self._digits(10)
            scale = scale_read[0] if scale_read is not None else fraction_digits
            scaled = Fraction(exact)
            return ScaledDecimal(-scaled if negative else scaled, scale)
        exponent = self._exponent()
        if exponent is not None:
            exact = Fraction(exact) * Fraction(base) ** exponent
        if negative:
            exact = -exact
        if is_float:
            return float_from_exact(exact)
        if isinstance(exact, Fraction) and exact.denominator == 1:
            return exact.numerator
        return exact

    def _exponent(self) -> int | None:
        if self.peek() not in ("e", "d", "q"):
            return None
        start = self.pos
        self.pos += 1
        exponent = self.read_integer(10)
        if exponent is None:
            self.pos = start
        return exponent


def read_number_prefix(text: str) -> Any:
    """The number at the start of `text` (after separators), or None."""
    reader = NumberReader(text)
    reader.skip_separators()
    return reader.read_number()
