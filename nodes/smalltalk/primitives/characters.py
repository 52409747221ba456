"""Character: code points, classification (Unicode-aware, like Pharo's character
tables), case, comparison and the named characters of the class side."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel import new_array, new_string
from ..limits import check_string
from ..objects import Char
from ._registry import primitive
from .support import SEPARATORS, Args, elements, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter


@primitive("Character", "value", "asInteger", "charCode", "codePoint", "asciiValue")
def _char_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.code


@primitive("Character", "asCharacter")
def _char_as_character(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Character", "isVowel")
def _is_vowel(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text.lower() in "aeiou"


@primitive("Character", "isLetter")
def _is_letter(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text.isalpha()


@primitive("Character", "isDigit")
def _is_digit(it: Interpreter, rcv: Any, args: Args) -> Any:
    return "0" <= rcv.text <= "9"


@primitive("Character", "isAlphaNumeric")
def _is_alnum(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text.isalnum()


@primitive("Character", "isUppercase")
def _is_upper(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text.isupper()


@primitive("Character", "isLowercase")
def _is_lower(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text.islower()


@primitive("Character", "isSeparator")
def _is_separator(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text in SEPARATORS


@primitive("Character", "isPunctuation")
def _is_punctuation(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text in ".,:;!?"


@primitive("Character", "asUppercase")
def _char_upper(it: Interpreter, rcv: Any, args: Args) -> Any:
    upper = rcv.text.upper()
    return Char.of(ord(upper)) if len(upper) == 1 else rcv


@primitive("Character", "asLowercase")
def _char_lower(it: Interpreter, rcv: Any, args: Args) -> Any:
    lower = rcv.text.lower()
    return Char.of(ord(lower)) if len(lower) == 1 else rcv


@primitive("Character", "asString")
def _char_as_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(rcv.text)


@primitive("Character", "asSymbol")
def _char_as_symbol(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.text


@primitive("Character", "digitValue")
def _digit_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = rcv.text
    if text.isdigit():
        return int(text)
    if text.isalpha() and text.isascii():
        return ord(text.upper()) - ord("A") + 10
    return -1


def _char_compare(op: Any) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        other = args[0]
        if type(other) is not Char:
            return it.error("Error", f"{it.print_string(other)} is not a Character")
        return op(rcv.code, other.code)

    return prim


primitive("Character", "<")(_char_compare(lambda a, b: a < b))
primitive("Character", ">")(_char_compare(lambda a, b: a > b))
primitive("Character", "<=")(_char_compare(lambda a, b: a <= b))
primitive("Character", ">=")(_char_compare(lambda a, b: a >= b))


@primitive("Character", "=")
def _char_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is args[0]


@primitive("Character", "hash")
def _char_hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.code


@primitive("Character", "to:")
def _char_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    if type(other) is not Char:
        return it.error("Error", "to: needs a Character")
    return new_array([Char.of(c) for c in range(rcv.code, other.code + 1)])


@primitive("Character", "copy", "deepCopy", "shallowCopy")
def _char_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Character", "*")
def _char_times(it: Interpreter, rcv: Any, args: Args) -> Any:
    count = args[0]
    if type(count) is not int:
        return it.error("Error", "* needs an Integer")
    check_string(count)
    return new_string(rcv.text * count)


_NAMED_CHARS = {
    "cr": 13,
    "lf": 10,
    "tab": 9,
    "space": 32,
    "null": 0,
    "escape": 27,
    "newPage": 12,
    "backspace": 8,
    "delete": 127,
    "nbsp": 160,
    "linefeed": 10,
    "enter": 3,
}


def _named(code: int) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return Char.of(code)

    return prim


for _name, _code in _NAMED_CHARS.items():
    primitive("Character class", _name)(_named(_code))


@primitive("Character class", "value:", "codePoint:")
def _char_class_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    code = args[0]
    if type(code) is not int or not 0 <= code <= 0x10FFFF:
        return it.error("Error", "Character value out of range")
    return Char.of(code)


@primitive("Character class", "digitValue:")
def _char_class_digit(it: Interpreter, rcv: Any, args: Args) -> Any:
    return Char.of(ord("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[args[0]]))


@primitive("Character class", "new")
def _char_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "Characters are created with value:")


@primitive("Character", "join:")
def _char_join(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`$, join: #('a' 'b')` -> 'a,b' (Character>>join: is `self asString join:`)."""
    parts = [text_of(x) for x in elements(args[0])]
    if any(part is None for part in parts):
        return it.error("Error", "join: needs a collection of Strings")
    return new_string(rcv.text.join(p for p in parts if p is not None))
