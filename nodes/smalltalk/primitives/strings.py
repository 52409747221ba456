"""String (ByteString / WideString) and what Symbols share with it: comparing,
access, case, conversions and the class side. Searching, splitting and formatting are
in string_search.py, the selector protocol of Symbols in symbols.py.

Strings are mutable heap objects (StString); Symbols are immutable Python strs
(immediates). Most read-only messages work on both through `text_of`; results are
Strings, except where Pharo answers a Symbol (asSymbol, Symbol asUppercase ...).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import is_byte_text, new_array, new_bytes, new_string
from ..limits import check_string
from ..objects import Char, StString, make_string
from ._registry import borrows_strings, positional_primitive, primitive, usual_case
from .support import (
    SEPARATORS,
    Args,
    concatenate,
    elements,
    index_error,
    make_write_stream,
    read_number_or_fail,
    stable_hash,
    stream_contents,
    text_of,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


_WIDE = S["WideString"]


def _same_kind(rcv: Any, text: str) -> Any:
    """A Symbol for a Symbol receiver, a String otherwise."""
    return text if type(rcv) is str else new_string(text)


# ---------------------------------------------------------------------- comparing


@positional_primitive("String", "=")
def _equal(it: Interpreter, rcv: Any, other: Any) -> Any:
    if type(rcv) is str:
        return type(other) is str and rcv == other
    other_text = text_of(other)
    return other_text is not None and rcv.chars == other_text


@primitive("String", "hash")
def _hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return stable_hash(text_of(rcv) or "")


def _compare(op: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = text_of(args[0])
        if other is None:
            return it.error("Error", f"{it.print_string(args[0])} is not a String")
        return op(text_of(rcv), other)

    return prim


primitive("String", "<")(_compare(lambda a, b: a < b))
primitive("String", ">")(_compare(lambda a, b: a > b))
primitive("String", "<=")(_compare(lambda a, b: a <= b))
primitive("String", ">=")(_compare(lambda a, b: a >= b))
primitive("String", "sameAs:")(_compare(lambda a, b: a.lower() == b.lower()))
primitive("String", "caseSensitiveLessOrEqual:")(_compare(lambda a, b: a <= b))


@primitive("String", "compare:")
def _compare3(it: Interpreter, rcv: Any, args: Args) -> Any:
    a, b = (text_of(rcv) or "").lower(), (text_of(args[0]) or "").lower()
    return 1 if a < b else (2 if a == b else 3)


# ---------------------------------------------------------------------- access


@positional_primitive("String", "size")
@usual_case("ByteString", value="len({r}.chars)")
def _size(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is StString:
        return len(rcv.chars)
    return len(text_of(rcv) or "")


@primitive("String", "at:put:")
def _at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    index, value = args
    if type(rcv) is str:
        return it.error("Error", "Symbols can not be modified.")
    if type(value) is not Char:
        return it.error("Error", "Improper store into indexable object")
    chars = rcv.chars
    if type(index) is not int or not 1 <= index <= len(chars):
        return index_error(it, rcv, index, len(chars))
    touch(it, rcv)
    rcv.chars = chars[: index - 1] + value.text + chars[index:]
    if value.code > 255 and rcv.cls is S["ByteString"]:
        rcv.cls = S["WideString"]
    return value


@primitive("String", "replaceFrom:to:with:startingAt:")
def _replace_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop, source, source_start = args
    replacement = elements(source)[source_start - 1 : source_start - 1 + stop - start + 1]
    for offset, char in enumerate(replacement):
        _at_put(it, rcv, (start + offset, char))
    return rcv


@positional_primitive("String", ",")
@borrows_strings
@usual_case("ByteString", ("String",), "new_string({r}.chars + {a0}.chars)")
def _concat(it: Interpreter, rcv: Any, other: Any) -> Any:
    if type(rcv) is StString and type(other) is StString:  # the usual case
        return new_string(rcv.chars + other.chars)
    other_text = text_of(other)
    if other_text is None:
        if type(other) is Char:
            return it.error("Error", "Improper store into indexable object")
        return concatenate(it, rcv, other)
    return new_string((text_of(rcv) or "") + other_text)


@primitive("String", "asString", "displayString")
def _as_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is str:
        return new_string(rcv)
    return rcv


@primitive("String", "printString")
def _print_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.print_string(rcv))


@primitive("String", "asSymbol", "asKeyword")
def _as_symbol(it: Interpreter, rcv: Any, args: Args) -> Any:
    return text_of(rcv)


def change_case(text: str, upper: bool, byte_only: bool) -> str:
    """Character by character, as Pharo's Character>>asUppercase: a character whose
    case mapping is not one character (German sharp s) stays as it is; in a ByteString
    one whose mapping is not a byte character (y with diaeresis) does too, as Pharo's
    byte case tables leave it."""
    if text.isascii():
        # ASCII maps to ASCII one for one: str's own case mapping is the same here.
        return text.upper() if upper else text.lower()
    out = []
    for ch in text:
        mapped = ch.upper() if upper else ch.lower()
        if len(mapped) != 1 or (byte_only and mapped > "\xff"):
            mapped = ch
        out.append(mapped)
    return "".join(out)


def _is_byte_receiver(rcv: Any) -> bool:
    text = text_of(rcv) or ""
    return is_byte_text(text) and not (type(rcv) is StString and rcv.cls is _WIDE)


@positional_primitive("String", "asUppercase")
@usual_case("ByteString", value="new_byte_string({r}.chars.upper())", test="{r}.chars.isascii()")
def _upper(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is StString and rcv.chars.isascii():  # (byte text, the usual case)
        return new_string(rcv.chars.upper())
    return _same_kind(rcv, change_case(text_of(rcv) or "", True, _is_byte_receiver(rcv)))


@positional_primitive("String", "asLowercase")
@usual_case("ByteString", value="new_byte_string({r}.chars.lower())", test="{r}.chars.isascii()")
def _lower(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is StString and rcv.chars.isascii():  # (byte text, the usual case)
        return new_string(rcv.chars.lower())
    return _same_kind(rcv, change_case(text_of(rcv) or "", False, _is_byte_receiver(rcv)))


def _translate_case(it: Interpreter, rcv: Any, upper: bool) -> Any:
    """In place (String>>translateToLowercase / translateToUppercase)."""
    if type(rcv) is not StString:
        return it.error("Error", "Symbols can not be modified.")
    touch(it, rcv)
    rcv.chars = change_case(rcv.chars, upper, rcv.cls is not S["WideString"])
    return rcv


@primitive("String", "translateToLowercase")
def _translate_to_lowercase(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _translate_case(it, rcv, False)


@primitive("String", "translateToUppercase")
def _translate_to_uppercase(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _translate_case(it, rcv, True)


@primitive("String", "asWideString")
def _as_wide_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return make_string(S["WideString"], text_of(rcv) or "")


@primitive("String", "asByteString")
def _as_byte_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    if not is_byte_text(text):
        return it.error("Error", "the String has characters beyond 255")
    return make_string(S["ByteString"], text)


@primitive("String", "isWideString")
def _is_wide_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(rcv) is StString and rcv.cls.inherits_from(S["WideString"])


@primitive("String", "isByteString")
def _is_byte_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(rcv) is StString and rcv.cls.inherits_from(S["ByteString"])


@primitive("String", "capitalized")
def _capitalized(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return _same_kind(rcv, text[:1].upper() + text[1:])


@primitive("String", "uncapitalized")
def _uncapitalized(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return _same_kind(rcv, text[:1].lower() + text[1:])


@positional_primitive("String", "reversed", "reverse")
@usual_case("ByteString", value="new_byte_string({r}.chars[::-1])")
def _reversed(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is StString:
        return new_string(rcv.chars[::-1])
    return new_string((text_of(rcv) or "")[::-1])


@primitive("String", "asNumber")
def _as_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return read_number_or_fail(it, text_of(rcv) or "")


@primitive("String", "asInteger", "asSignedInteger")
def _as_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The first run of digits, negative when a `-` precedes it; nil without digits."""
    match = re.search(r"-?[0-9]+", text_of(rcv) or "")
    return int(match.group(0)) if match else None


@primitive("String", "asUnsignedInteger")
def _as_unsigned_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    match = re.search(r"[0-9]+", text_of(rcv) or "")
    return int(match.group(0)) if match else None


@primitive("String", "initialIntegerOrNil")
def _initial_integer_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The integer the receiver's leading digits spell, nil if it starts otherwise."""
    match = re.match(r"[0-9]+", text_of(rcv) or "")
    return int(match.group(0)) if match else None


@primitive("String", "isAllSeparators")
def _is_all_separators(it: Interpreter, rcv: Any, args: Args) -> Any:
    return all(c in SEPARATORS for c in text_of(rcv) or "")


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


@primitive("String", "romanNumber")
def _roman_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    """'MCMXCIV' -> 1994 (a smaller digit before a larger one subtracts)."""
    text = (text_of(rcv) or "").upper()
    if not text or any(c not in _ROMAN_VALUES for c in text):
        return it.error("Error", f"{text!s} is not a roman number")
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < following else value
    return total


@primitive("String", "isAllDigits")
def _is_all_digits(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return all(c.isdigit() for c in text)


@primitive("String", "asSymbolOrNil")
def _as_symbol_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return text_of(rcv)


@primitive("String", "isString")
def _is_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


@primitive("String", "isSymbol")
def _is_symbol(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(rcv) is str


@primitive("String", "asByteArray")
def _as_byte_array(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_bytes(bytearray((text_of(rcv) or "").encode("latin-1", errors="replace")))


@primitive("String", "first")
def _first(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    if not text:
        return index_error(it, rcv, 1, 0)
    return Char.of(ord(text[0]))


@primitive("String", "last")
def _last(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    if not text:
        return index_error(it, rcv, 0, 0)
    return Char.of(ord(text[-1]))


@primitive("String", "isEmpty")
def _is_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not (text_of(rcv) or "")


@primitive("String", "notEmpty", "isNotEmpty")
def _not_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return bool(text_of(rcv) or "")


@primitive("String", "includes:")
def _includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    return type(char) is Char and char.text in (text_of(rcv) or "")


@primitive("String", "occurrencesOf:")
def _occurrences_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    return (text_of(rcv) or "").count(char.text) if type(char) is Char else 0


@primitive("String", "copyFrom:to:")
def _copy_from_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    start, stop = args
    text = text_of(rcv) or ""
    if type(start) is not int or type(stop) is not int:
        return it.error("Error", "copyFrom:to: needs Integers")
    if stop < start:
        return new_string("")
    if start < 1 or stop > len(text):
        return index_error(it, rcv, start if start < 1 else stop, len(text))
    return new_string(text[start - 1 : stop])


@primitive("String", "asArray")
def _as_array(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(elements(rcv))


@primitive("String", "value:")
def _symbol_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(args[0], text_of(rcv), ())


@primitive("String", "value:value:")
def _symbol_value2(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(args[0], text_of(rcv), (args[1],))


@primitive("String", "cull:")
def _symbol_cull(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(args[0], text_of(rcv), ())


@primitive("String", "copy", "shallowCopy", "deepCopy")
def _copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is str:
        return rcv
    return make_string(rcv.cls, rcv.chars)


@primitive("String", "isVowel")
def _string_is_vowel(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "isVowel is a Character message")


# ---------------------------------------------------------------------- String class


@primitive("String class", "new")
def _string_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv in (S["String"], S["ByteString"]):
        return new_string("")
    if rcv.inherits_from(S["Symbol"]):
        return it.error("Error", "Symbols cannot be created with new")
    return make_string(rcv, "")


@primitive("String class", "cr")
def _string_cr(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("\r")


@primitive("String class", "lf")
def _string_lf(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("\n")


@primitive("String class", "crlf")
def _string_crlf(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("\r\n")


@primitive("String class", "tab")
def _string_tab(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("\t")


@primitive("String class", "space")
def _string_space(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(" ")


@primitive("String class", "empty")
def _string_empty(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("")


@primitive("String class", "streamContents:")
def _stream_contents(it: Interpreter, rcv: Any, args: Args) -> Any:
    stream = make_write_stream(it, S["WriteStream"], new_string(""), append=False)
    it.call_block(args[0], (stream,))
    return stream_contents(it, stream)


@primitive("String class", "new:withAll:")
def _string_new_with_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    size, char = args
    if type(size) is not int or type(char) is not Char:
        return it.error("Error", "new:withAll: needs an Integer and a Character")
    check_string(size)
    return new_string(char.text * size)
