"""String, Symbol and Character.

Strings are mutable heap objects (StString); Symbols are immutable Python strs
(immediates). Most read-only messages work on both through `text_of`; results are
Strings, except where Pharo answers a Symbol (asSymbol, Symbol asUppercase ...).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import is_byte_text, new_array, new_bytes, new_ordered, new_string
from ..limits import check_string
from ..objects import Char, StString
from ._registry import primitive
from .support import (
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


def _text(it: Interpreter, value: Any, what: str = "a String") -> str | None:
    text = text_of(value)
    if text is None:
        it.error("Error", f"{it.print_string(value)} is not {what}")
    return text


def _same_kind(rcv: Any, text: str) -> Any:
    """A Symbol for a Symbol receiver, a String otherwise."""
    return text if type(rcv) is str else new_string(text)


# ---------------------------------------------------------------------- comparing


@primitive("String", "=")
def _equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
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


@primitive("String", "size")
def _size(it: Interpreter, rcv: Any, args: Args) -> Any:
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


@primitive("String", ",")
def _concat(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
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


@primitive("String", "asUppercase")
def _upper(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _same_kind(rcv, (text_of(rcv) or "").upper())


@primitive("String", "asLowercase")
def _lower(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _same_kind(rcv, (text_of(rcv) or "").lower())


@primitive("String", "capitalized")
def _capitalized(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return _same_kind(rcv, text[:1].upper() + text[1:])


@primitive("String", "uncapitalized")
def _uncapitalized(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return _same_kind(rcv, text[:1].lower() + text[1:])


@primitive("String", "reversed", "reverse")
def _reversed(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string((text_of(rcv) or "")[::-1])


@primitive("String", "asNumber")
def _as_number(it: Interpreter, rcv: Any, args: Args) -> Any:
    return read_number_or_fail(it, text_of(rcv) or "")


@primitive("String", "asInteger")
def _as_integer(it: Interpreter, rcv: Any, args: Args) -> Any:
    match = re.search(r"-?[0-9]+", text_of(rcv) or "")
    return int(match.group(0)) if match else None


@primitive("String", "isAllDigits")
def _is_all_digits(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    return all(c.isdigit() for c in text)


@primitive("String", "includesSubstring:")
def _includes_substring(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0])
    return other is not None and other in (text_of(rcv) or "")


@primitive("String", "includesSubstring:caseSensitive:")
def _includes_substring_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0])
    text = text_of(rcv) or ""
    if other is None:
        return False
    if args[1] is False:
        return other.lower() in text.lower()
    return other in text


@primitive("String", "beginsWith:", "startsWith:")
def _begins_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0])
    return other is not None and (text_of(rcv) or "").startswith(other)


@primitive("String", "endsWith:")
def _ends_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0])
    return other is not None and (text_of(rcv) or "").endswith(other)


@primitive("String", "indexOf:")
def _index_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    if type(char) is not Char:
        return 0
    return (text_of(rcv) or "").find(char.text) + 1


@primitive("String", "indexOfSubCollection:", "findString:")
def _index_of_sub(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0])
    return (text_of(rcv) or "").find(other or "\x00\x00") + 1


@primitive("String", "occurrencesOfString:")
def _occurrences_of_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = _text(it, args[0]) or ""
    return (text_of(rcv) or "").count(other) if other else 0


@primitive("String", "substrings", "subStrings")
def _substrings(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array([new_string(part) for part in (text_of(rcv) or "").split()])


@primitive("String", "substrings:", "subStrings:", "findTokens:")
def _substrings_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    separators = args[0]
    seps = separators.text if type(separators) is Char else (text_of(separators) or "")
    parts: list[str] = []
    current: list[str] = []
    for ch in text_of(rcv) or "":
        if ch in seps:
            if current:
                parts.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        parts.append("".join(current))
    return new_array([new_string(p) for p in parts])


@primitive("String", "splitOn:")
def _split_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    sep = args[0]
    sep_text = sep.text if type(sep) is Char else (text_of(sep) or "")
    return new_ordered([new_string(p) for p in (text_of(rcv) or "").split(sep_text)])


@primitive("String", "lines")
def _lines(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array([new_string(line) for line in (text_of(rcv) or "").splitlines()])


@primitive("String", "trimBoth", "trimmed", "withBlanksTrimmed")
def _trim_both(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string((text_of(rcv) or "").strip())


@primitive("String", "trimLeft")
def _trim_left(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string((text_of(rcv) or "").lstrip())


@primitive("String", "trimRight")
def _trim_right(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string((text_of(rcv) or "").rstrip())


@primitive("String", "replaceAll:with:")
def _replace_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    old, new = args
    if type(rcv) is str:
        return it.error("Error", "Symbols can not be modified.")
    if type(old) is Char and type(new) is Char:
        touch(it, rcv)
        rcv.chars = rcv.chars.replace(old.text, new.text)
        return rcv
    old_text, new_text = text_of(old), text_of(new)
    if old_text is None or new_text is None:
        return it.error("Error", "replaceAll:with: needs Characters")
    return new_string(rcv.chars.replace(old_text, new_text))


@primitive("String", "copyReplaceAll:with:")
def _copy_replace_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    old, new = _text(it, args[0]), _text(it, args[1])
    if old is None or new is None:
        return None
    return new_string((text_of(rcv) or "").replace(old, new) if old else text_of(rcv) or "")


@primitive("String", "copyReplacing:with:")
def _copy_replacing(it: Interpreter, rcv: Any, args: Args) -> Any:
    old, new = args
    if type(old) is not Char or type(new) is not Char:
        return it.error("Error", "copyReplacing:with: needs Characters")
    return new_string((text_of(rcv) or "").replace(old.text, new.text))


@primitive("String", "copyWithout:")
def _copy_without(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    text = text_of(rcv) or ""
    return new_string(text.replace(char.text, "") if type(char) is Char else text)


@primitive("String", "format:")
def _format(it: Interpreter, rcv: Any, args: Args) -> Any:
    values = args[0]
    template = text_of(rcv) or ""
    is_dict = type(values).__name__ == "StDict"
    items = elements(values) if not is_dict else []

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if is_dict:
            value = it.send(values, "at:ifAbsent:", (key, None))
        elif key.isdigit() and 1 <= int(key) <= len(items):
            value = items[int(key) - 1]
        else:
            return match.group(0)
        return it.display_string(value)

    return new_string(re.sub(r"\{(\w+)\}", substitute, template))


@primitive("String", "join:")
def _join(it: Interpreter, rcv: Any, args: Args) -> Any:
    parts = [it.display_string(x) for x in elements(args[0])]
    return new_string((text_of(rcv) or "").join(parts))


@primitive("String", "asSymbolOrNil")
def _as_symbol_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return text_of(rcv)


@primitive("String", "isString")
def _is_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


@primitive("String", "isSymbol")
def _is_symbol(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(rcv) is str


@primitive("String", "numArgs")
def _num_args(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    if not text:
        return -1
    if text[0].isalpha() or text[0] == "_":
        return text.count(":")
    return 1


@primitive("String", "keywords")
def _keywords(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(rcv) or ""
    parts = re.findall(r"[^:]+:", text) or [text]
    return new_array([new_string(p) for p in parts])


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
    return StString(rcv.cls, rcv.chars)


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
    return StString(rcv, "")


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


@primitive("Symbol class", "new:", "new")
def _symbol_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "Symbols cannot be created with new")


@primitive("Symbol class", "intern:", "fromString:")
def _symbol_intern(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _text(it, args[0])


# ---------------------------------------------------------------------- Character


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
    return rcv.text in " \t\r\n\f"


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


def is_wide(text: str) -> bool:
    return not is_byte_text(text)
