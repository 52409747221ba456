"""Fraction specifics: the class-side constructors and reading `3/4` from text. The
arithmetic is Number's (numbers.py); Python's Fraction keeps values reduced."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..kernel import normalize
from ._registry import primitive
from .support import Args, read_number_from, zero_divide

if TYPE_CHECKING:
    from ..runtime import Interpreter
    from .number_parser import NumberReader


@primitive("Fraction class", "numerator:denominator:")
def _fraction_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Always reduced here (Pharo keeps `Fraction numerator: 2 denominator: 4` as
    written; see docs/smalltalk.md)."""
    num, den = args
    if type(num) is not int or type(den) is not int:
        return it.error("Error", "numerator:denominator: needs Integers")
    if den == 0:
        return zero_divide(it, num)
    return normalize(Fraction(num, den))


@primitive("Fraction class", "readFrom:")
def _fraction_read_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`numerator/denominator`, or an Integer alone."""
    value = read_number_from(it, args[0], _read_fraction)
    if value is None:
        return it.error("Error", "Reading a number failed: a digit between 0 and 9 expected")
    if value is _ZERO_DENOMINATOR:
        return zero_divide(it, 1)
    return value


_ZERO_DENOMINATOR = object()


def _read_fraction(reader: NumberReader) -> Any:
    numerator = reader.read_integer()
    if numerator is None:
        return None
    if reader.peek() != "/":
        return numerator
    slash = reader.pos
    reader.pos += 1
    denominator = reader.read_integer(signed=False)
    if denominator is None:
        reader.pos = slash
        return numerator
    if denominator == 0:
        return _ZERO_DENOMINATOR
    return normalize(Fraction(numerator, denominator))


@primitive("Fraction", "asFraction", "asExactFraction")
def _as_fraction(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv
