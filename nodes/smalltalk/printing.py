"""printString / displayString as Pharo 12 prints them.

`print_string` is what print-it shows: it honours a session class's `printString`
or `printOn:` override, and like Pharo's `printStringLimitedTo:` stops at 50,000
characters and appends '...etc...' (which also makes cyclic structures print).
Elements of collections are printed through `printOn:`, so overrides apply there too.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .chronology import (
    date_and_time_print_string,
    date_print_string,
    duration_print_string,
    time_print_string,
)
from .classes import SYSTEM_CLASSES as S
from .kernel import class_of, new_string
from .objects import (
    Char,
    Date,
    DateAndTime,
    Duration,
    Frame,
    HeapObject,
    ScaledDecimal,
    StArray,
    StAssoc,
    StBag,
    StBlock,
    StByteArray,
    StClass,
    StDict,
    StException,
    StExceptionSet,
    StInterval,
    StMessage,
    StOrdered,
    StPoint,
    StSet,
    StStream,
    StString,
    Time,
    ValueObject,
    WellKnown,
)

if TYPE_CHECKING:
    from .runtime import Interpreter

PRINT_LIMIT = 50_000
_WRITE_STREAM = S["WriteStream"]


class _Full(Exception):
    """The printed text reached the limit."""


class Writer:
    __slots__ = ("limit", "parts", "size")

    def __init__(self, limit: int = PRINT_LIMIT) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size >= self.limit:
            raise _Full

    def text(self) -> str:
        return "".join(self.parts)


def print_string(interp: Interpreter, value: Any) -> str:
    override = interp.user_method(value, "printString")
    if override is not None:
        result = interp.send(value, "printString", ())
        text = _text_of(result)
        if text is not None:
            return text
    writer = Writer()
    try:
        write_print(interp, value, writer)
    except (_Full, RecursionError):
        return writer.text()[:PRINT_LIMIT] + "...etc..."
    return writer.text()


def display_string(interp: Interpreter, value: Any) -> str:
    """displayString: like printString but Strings, Symbols and Characters without
    quotes or prefix (and, in collections, their elements displayed too)."""
    override = interp.user_method(value, "displayString")
    if override is not None:
        text = _text_of(interp.send(value, "displayString", ()))
        if text is not None:
            return text
    t = type(value)
    if t is StString:
        return str(value.chars)
    if t is str:
        return str(value)
    if t is Char:
        return str(value.text)
    if (
        interp.user_method(value, "printOn:") is not None
        or interp.user_method(value, "displayStringOn:") is not None
    ):
        return print_string(interp, value)
    writer = Writer()
    try:
        _write_native(interp, value, writer, display=True)
    except _Full:
        return writer.text()[:PRINT_LIMIT] + "...etc..."
    return writer.text()


def _text_of(value: Any) -> str | None:
    if type(value) is StString:
        return str(value.chars)
    if type(value) is str:
        return value
    return None


def write_print(interp: Interpreter, value: Any, out: Writer, display: bool = False) -> None:
    """Print `value` on `out`, through its Smalltalk `printOn:` if its class has one."""
    if isinstance(value, HeapObject) and interp.user_method(value, "printOn:") is not None:
        out.write(smalltalk_print_on(interp, value))
        return
    _write_native(interp, value, out, display)


def smalltalk_print_on(interp: Interpreter, value: Any) -> str:
    target = new_string("")
    stream = StStream(_WRITE_STREAM, target, 0, 0)
    interp.send(value, "printOn:", (stream,))
    stream.flush()
    return str(target.chars[: stream.limit])


def write_print_to_stream(interp: Interpreter, value: Any, stream: StStream) -> None:
    """`aStream print: value`: `value printOn: aStream`."""
    if isinstance(value, HeapObject) and interp.user_method(value, "printOn:") is not None:
        interp.send(value, "printOn:", (stream,))
        return
    interp.send(stream, "nextPutAll:", (new_string(native_print_string(interp, value)),))


def native_print_string(interp: Interpreter, value: Any) -> str:
    """The system printOn: of `value`, ignoring an override on its own class (what
    `super printOn:` in a session class reaches)."""
    writer = Writer()
    try:
        _write_native(interp, value, writer)
    except _Full:
        return writer.text()[:PRINT_LIMIT] + "...etc..."
    return writer.text()


def _write_native(interp: Interpreter, value: Any, out: Writer, display: bool = False) -> None:
    t = type(value)
    if value is None:
        out.write("nil")
    elif t is bool:
        out.write("true" if value else "false")
    elif t is int:
        out.write(int_to_str(value))
    elif t is float:
        out.write(float_to_str(value))
    elif t is Fraction:
        out.write(f"({int_to_str(value.numerator)}/{int_to_str(value.denominator)})")
    elif t is Char:
        out.write(value.text if display else char_print_string(value))
    elif t is str:
        out.write(value if display else symbol_print_string(value))
    elif t is StString:
        out.write(value.chars if display else string_print_string(value.chars))
    elif t is StArray:
        _write_array(interp, value, out, display)
    elif t is StByteArray:
        out.write("#[" + " ".join(str(b) for b in value.data) + "]")
    elif t is StInterval:
        _write_interval(value, out)
    elif t is StAssoc:
        write_print(interp, value.key, out, display)
        out.write("->")
        write_print(interp, value.value, out, display)
    elif t is StPoint:
        out.write("(")
        write_print(interp, value.x, out)
        out.write("@")
        if _is_negative(value.y):
            out.write(" ")
        write_print(interp, value.y, out)
        out.write(")")
    elif t is StDict:
        _write_name(value.cls, out)
        out.write("(")
        for key, item in _dict_items(value):
            write_print(interp, key, out, display)
            out.write("->")
            write_print(interp, item, out, display)
            out.write(" ")
        out.write(")")
    elif t in (StOrdered, StSet, StBag) or isinstance(value, StOrdered):
        _write_name(value.cls, out)
        _write_elements(interp, collection_elements(value), out, display)
    elif t is StBlock:
        out.write(value.code.source)
    elif t is StClass:
        out.write(value.name)
    elif t is StException:
        out.write(exception_description(interp, value))
    elif t is StExceptionSet:
        out.write("an ExceptionSet")
    elif t is WellKnown:
        out.write(
            value.global_name if value.global_name == "Smalltalk" else "a ThreadSafeTranscript"
        )
    elif t is StMessage:
        out.write(value.selector)
        for arg in value.args:
            out.write(" ")
            write_print(interp, arg, out)
    elif t is StStream:
        _write_name(value.cls, out)
    elif t is Frame:
        out.write("a Context")
    elif isinstance(value, ValueObject):
        out.write(value_print_string(value))
    else:
        _write_name(class_of(value), out)


def _write_name(cls: StClass, out: Writer) -> None:
    name = cls.name
    out.write(("an " if name[:1] in "AEIOU" else "a ") + name)


def _write_elements(interp: Interpreter, items: list[Any], out: Writer, display: bool) -> None:
    out.write("(")
    first = True
    for item in items:
        if not first:
            out.write(" ")
        first = False
        write_print(interp, item, out, display)
    out.write(")")


def _write_array(interp: Interpreter, value: StArray, out: Writer, display: bool) -> None:
    if value.cls is S["Array"] and is_literal(value, set()):
        _write_literal_array(interp, value, out, display)
        return
    _write_name(value.cls, out)
    _write_elements(interp, value.items, out, display)


def _write_literal_array(interp: Interpreter, value: StArray, out: Writer, display: bool) -> None:
    """An Array already known to be literal (nested ones too: no re-check)."""
    out.write("#(")
    first = True
    for item in value.items:
        if not first:
            out.write(" ")
        first = False
        if type(item) is StArray:
            _write_literal_array(interp, item, out, display)
        else:
            _write_native(interp, item, out, display)
    out.write(")")


def _write_interval(value: StInterval, out: Writer) -> None:
    out.write("(")
    out.write(_number_text(value.start))
    out.write(" to: ")
    out.write(_number_text(value.stop))
    if value.step != 1:
        out.write(" by: ")
        out.write(_number_text(value.step))
    out.write(")")


def _number_text(value: Any) -> str:
    if type(value) is int:
        return int_to_str(value)
    if type(value) is float:
        return float_to_str(value)
    if type(value) is Fraction:
        return f"({value.numerator}/{value.denominator})"
    return str(value)


def _is_negative(value: Any) -> bool:
    return type(value) in (int, float, Fraction) and value < 0


def is_literal(value: Any, seen: set[int]) -> bool:
    """Would Pharo print this as a literal (`#(...)`)? Numbers except Fractions,
    Characters, Strings, Symbols, nil/true/false, ByteArrays and literal Arrays.
    Iterative, so deeply nested arrays cannot exhaust the stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        t = type(item)
        if item is None or t in (bool, int, str, Char):
            continue
        if t is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
            continue
        if t is ScaledDecimal:
            if not scaled_is_literal(item):
                return False
            continue
        if t is StString or t is StByteArray:
            if item.cls not in (S["ByteString"], S["WideString"], S["ByteArray"]):
                return False
            continue
        if t is StArray and item.cls is S["Array"] and id(item) not in seen:
            seen.add(id(item))
            stack.extend(item.items)
            continue
        return False
    return True


def collection_elements(value: Any) -> list[Any]:
    t = type(value)
    if isinstance(value, StOrdered) or t is StArray:
        return list(value.items)
    if t is StSet:
        return _ordered_values(list(value.table.values()))
    if t is StBag:
        out: list[Any] = []
        for element, count in _ordered_entries(list(value.table.values())):
            out.extend([element] * count)
        return out
    if t is StDict:
        return [item for _key, item in _dict_items(value)]
    if t is StInterval:
        return list(value.values())
    return []


def _all_ints(values: list[Any]) -> bool:
    return all(type(v) is int for v in values)


def _ordered_values(values: list[Any]) -> list[Any]:
    """Hashed collections print small integers in ascending order (their Pharo hash
    order); anything else in insertion order."""
    if values and _all_ints(values):
        return sorted(values)
    return values


def _ordered_entries(entries: list[Any]) -> list[Any]:
    if entries and _all_ints([e[0] for e in entries]):
        return sorted(entries, key=lambda e: e[0])
    return entries


def _dict_items(value: StDict) -> list[tuple[Any, Any]]:
    """Associations in Pharo's print order: `keysSortedSafely` (strings and symbols
    by text, numbers by value, other keys of one class by printString, mixed classes
    by class name)."""
    items = [(k, v) for k, v in value.table.values()]
    if len(items) > 1:
        items = _merge_sorted(items)
    return items


def _key_text(key: Any) -> str | None:
    if type(key) is StString:
        return str(key.chars)
    if type(key) is str:
        return key
    return None


def _key_before(x: Any, y: Any) -> bool:
    tx, ty = _key_text(x), _key_text(y)
    if tx is not None and ty is not None:
        return tx <= ty
    numeric = (int, float, Fraction)
    if type(x) in numeric and type(y) in numeric:
        return bool(x <= y)
    if type(x) is Char and type(y) is Char:
        return x.code <= y.code
    cx, cy = class_of(x), class_of(y)
    if cx is cy:
        return _plain_print(x) <= _plain_print(y)
    return cx.name <= cy.name


def _plain_print(value: Any) -> str:
    if isinstance(value, HeapObject) and not isinstance(value, (StClass, StArray)):
        return repr(id(value))
    writer = Writer(1000)
    try:
        _write_native_plain(value, writer)
    except _Full:
        pass
    return writer.text()


def _write_native_plain(value: Any, out: Writer) -> None:
    if isinstance(value, StClass):
        out.write(value.name)
    elif type(value) is StArray:
        out.write("#(")
        for item in value.items:
            _write_native_plain(item, out)
            out.write(" ")
        out.write(")")
    elif value is None or type(value) in (bool, Char, str):
        out.write(repr(value))
    else:
        out.write(str(value))


def _merge_sorted(items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    if len(items) <= 1:
        return items
    mid = len(items) // 2
    left, right = _merge_sorted(items[:mid]), _merge_sorted(items[mid:])
    out: list[tuple[Any, Any]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if _key_before(left[i][0], right[j][0]):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out + left[i:] + right[j:]


def dict_items(value: StDict) -> list[tuple[Any, Any]]:
    return _dict_items(value)


# ---------------------------------------------------------------------- scalars

_CHAR_NAMES = {
    0: "null",
    8: "backspace",
    9: "tab",
    10: "lf",
    12: "newPage",
    13: "cr",
    27: "escape",
    32: "space",
    127: "delete",
}


def char_print_string(char: Char) -> str:
    name = _CHAR_NAMES.get(char.code)
    if name is not None:
        return f"Character {name}"
    if char.code < 32:
        return f"Character value: {char.code}"
    return "$" + char.text


def string_print_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_LITERAL_SYMBOL = re.compile(
    r"[A-Za-z_][A-Za-z0-9_]*\Z"
    r"|(?:[A-Za-z_][A-Za-z0-9_]*:)+\Z"
    r"|[-+*/\\<>=~@%&?,|!]+\Z"
)


def symbol_print_string(name: str) -> str:
    if _LITERAL_SYMBOL.match(name):
        return "#" + name
    return "#" + string_print_string(name)


_STR_SAFE = 10**4000  # computed once: `10**4000` per call cost ~40 µs


def int_to_str(value: int, base: int = 10) -> str:
    """Integer -> digits in `base` (uppercase), for any size (CPython's str() refuses
    more than 4300 digits)."""
    if base == 10 and -_STR_SAFE < value < _STR_SAFE:
        return str(value)
    if value < 0:
        return "-" + int_to_str(-value, base)
    if base != 10:
        if value == 0:
            return "0"
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        if base in (2, 4, 8, 16, 32):
            shift = base.bit_length() - 1
            mask = base - 1
            out = []
            while value:
                out.append(digits[value & mask])
                value >>= shift
            return "".join(reversed(out))
        out = []
        while value:
            value, rem = divmod(value, base)
            out.append(digits[rem])
        return "".join(reversed(out))
    return _big_decimal(value)


def _big_decimal(value: int) -> str:
    """Divide and conquer over powers of ten (value >= 0)."""
    if value < 10**4000:
        return str(value)
    half = int(value.bit_length() * 0.30102999566398) // 2
    high, low = divmod(value, 10**half)
    return _big_decimal(high) + _big_decimal(low).rjust(half, "0")


def float_to_str(value: float) -> str:
    """Pharo's Float printString: shortest round-trip digits, fixed notation when
    the decimal exponent is in -4..5 (e.g. 100.0, 0.001), else 1.0e15-style."""
    if value != value:
        return "Float nan"
    if value == float("inf"):
        return "Float infinity"
    if value == float("-inf"):
        return "Float infinity negated"
    if value == 0.0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    decimal = Decimal(repr(abs(value)))
    _, digit_tuple, exponent = decimal.as_tuple()
    digits = "".join(str(d) for d in digit_tuple).rstrip("0") or "0"
    assert isinstance(exponent, int)
    # value = 0.DIGITS x 10^point
    point = len(digit_tuple) + exponent
    if -3 <= point <= 6:
        if point <= 0:
            return sign + "0." + "0" * (-point) + digits
        if len(digits) <= point:
            return sign + digits + "0" * (point - len(digits)) + ".0"
        return sign + digits[:point] + "." + digits[point:]
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}e{point - 1}"


def scaled_print_string(value: ScaledDecimal) -> str:
    """ScaledDecimal>>printOn: (Pharo 12): sign, integer part, then `scale` digits of
    the fraction part, truncated (not rounded), then `s` and the scale."""
    magnitude = abs(value.fraction)
    whole = int(magnitude)
    text = ("-" if value.fraction < 0 else "") + int_to_str(whole)
    if value.scale > 0:
        digits = int((magnitude - whole) * 10**value.scale)
        text += "." + str(digits).rjust(value.scale, "0")
    return f"{text}s{value.scale}"


def scaled_is_literal(value: ScaledDecimal) -> bool:
    """ScaledDecimal>>isLiteral: only values whose decimal expansion ends (the
    denominator has no prime factor but 2 and 5) print back as themselves."""
    denominator = value.fraction.denominator
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator //= factor
    return denominator == 1


def value_print_string(value: ValueObject) -> str:
    if isinstance(value, ScaledDecimal):
        return scaled_print_string(value)
    if isinstance(value, Date):
        return date_print_string(value)
    if isinstance(value, Time):
        return time_print_string(value)
    if isinstance(value, DateAndTime):
        return date_and_time_print_string(value)
    if isinstance(value, Duration):
        return duration_print_string(value)
    return _article(value.cls.name)


def _article(name: str) -> str:
    return ("an " if name[:1] in "AEIOU" else "a ") + name


# ---------------------------------------------------------------------- exceptions


def exception_message_text(interp: Interpreter, exc: StException) -> str:
    """messageText as Pharo computes it when none was given."""
    text = exc.slots[0]
    if type(text) is StString or type(text) is str:
        return str(text.chars if type(text) is StString else text)
    if text is not None:
        return print_string(interp, text)
    cls = exc.cls
    names = cls.ivars
    if cls.inherits_from(S["MessageNotUnderstood"]):
        message = exc.slots[names.index("message")]
        receiver = exc.slots[names.index("receiver")]
        if isinstance(message, StMessage):
            if receiver is None:
                return f'receiver of "{message.selector}" is nil'
            return f"Message not understood: {class_of(receiver).name} >> #{message.selector}"
    if cls.inherits_from(S["SubscriptOutOfBounds"]):
        subscript = exc.slots[names.index("subscript")]
        lower = exc.slots[names.index("lowerBound")]
        upper = exc.slots[names.index("upperBound")]
        text = "subscript" if subscript is None else print_string(interp, subscript)
        if lower is not None and upper is not None:
            text += (
                f" is not between {print_string(interp, lower)} and {print_string(interp, upper)}"
            )
        return text
    if cls.inherits_from(S["KeyNotFound"]):
        key = exc.slots[names.index("key")]
        return f"key {print_string(interp, key)} not found in Dictionary"
    return ""


def exception_description(interp: Interpreter, exc: StException) -> str:
    """Exception>>description: 'Error: text', or the class name alone."""
    cls = exc.cls
    if cls.inherits_from(S["MessageNotUnderstood"]) and exc.slots[0] is None:
        names = cls.ivars
        message = exc.slots[names.index("message")]
        receiver = exc.slots[names.index("receiver")]
        if isinstance(message, StMessage):
            if receiver is None:
                return f"{symbol_print_string(message.selector)} was sent to nil"
            return (
                f"Instance of {class_of(receiver).name} did not understand "
                f"{symbol_print_string(message.selector)}"
            )
    text = (
        interp.send(exc, "messageText", ())
        if interp.active
        else exception_message_text(interp, exc)
    )
    message_text = _text_of(text) if text is not None else None
    if message_text:
        return f"{cls.name}: {message_text}"
    return cls.name
