"""String searching, splitting, trimming, replacing and formatting, after Pharo 12's
String / CharacterArray methods of the same names (Symbols answer Strings here, as
their species is ByteString). Index results are 1-based, 0 for "not found"."""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Any

from ..kernel import new_array, new_ordered, new_string, new_strings
from ..limits import check_string
from ..objects import Char, StDict, StString
from ._registry import borrows_strings, positional_primitive, primitive, usual_case
from .support import SEPARATORS, Args, elements, size_of, text_arg, text_of, touch, truth

if TYPE_CHECKING:
    from ..runtime import Interpreter


def _rcv_text(rcv: Any) -> str:
    return text_of(rcv) or ""


def _fold(text: str, case_sensitive: bool) -> str:
    return text if case_sensitive else text.lower()


def find_string(text: str, key: str, start: int, case_sensitive: bool = True) -> int:
    """Pharo's findString:startingAt:caseSensitive:: 1-based index, 0 if absent (an
    empty key is never found)."""
    if not key or start < 1:
        return 0
    return _fold(text, case_sensitive).find(_fold(key, case_sensitive), start - 1) + 1


def _char_set(it: Interpreter, value: Any) -> str | None:
    """Delimiters: a Character, a String, or a collection of Characters."""
    if type(value) is Char:
        return value.text
    text = text_of(value)
    if text is not None:
        return text
    items = elements(value)
    if all(type(c) is Char for c in items):
        return "".join(c.text for c in items)
    it.error("Error", "delimiters must be Characters")
    return None


# ---------------------------------------------------------------------- searching


@primitive("String", "includesSubstring:")
def _includes_substring(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    return key is not None and find_string(_rcv_text(rcv), key, 1) > 0


@primitive("String", "includesSubstring:caseSensitive:")
def _includes_substring_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    return key is not None and find_string(_rcv_text(rcv), key, 1, args[1] is not False) > 0


@primitive("String", "findString:", "indexOfSubCollection:")
def _find_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    return 0 if key is None else find_string(_rcv_text(rcv), key, 1)


@primitive("String", "findString:startingAt:", "indexOfSubCollection:startingAt:")
def _find_string_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    if key is None or type(args[1]) is not int:
        return it.error("Error", "findString:startingAt: needs a String and an Integer")
    return find_string(_rcv_text(rcv), key, args[1])


@primitive("String", "findString:startingAt:caseSensitive:")
def _find_string_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    if key is None or type(args[1]) is not int:
        return it.error("Error", "findString:startingAt: needs a String and an Integer")
    return find_string(_rcv_text(rcv), key, args[1], args[2] is not False)


@primitive("String", "occurrencesOfString:")
def _occurrences_of_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Non-overlapping occurrences, counted left to right (as Pharo's loop over
    findString:startingAt:)."""
    key = text_arg(it, args[0])
    return _rcv_text(rcv).count(key) if key else 0


@positional_primitive("String", "indexOf:")
@usual_case("ByteString", ("Character",), "{r}.chars.find({a0}.text) + 1")
def _index_of(it: Interpreter, rcv: Any, char: Any) -> Any:
    if type(rcv) is StString and type(char) is Char:  # (the usual case)
        return rcv.chars.find(char.text) + 1
    return _rcv_text(rcv).find(char.text) + 1 if type(char) is Char else 0


@primitive("String", "indexOf:startingAt:")
def _index_of_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    char, start = args
    if type(char) is not Char or type(start) is not int or start < 1:
        return 0
    return _rcv_text(rcv).find(char.text, start - 1) + 1


@primitive("String", "lastIndexOf:")
def _last_index_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    return _rcv_text(rcv).rfind(char.text) + 1 if type(char) is Char else 0


def _has_affix(it: Interpreter, rcv: Any, arg: Any, sensitive: bool, at_end: bool) -> bool:
    """beginsWith: / endsWith: (and their caseSensitive: forms): whether the receiver's
    text starts (ends) with the String `arg`; never for an empty one, an Error for
    anything but a String or Symbol."""
    affix = text_arg(it, arg)
    if affix is None or affix == "":
        return False
    text, affix = _fold(_rcv_text(rcv), sensitive), _fold(affix, sensitive)
    return text.endswith(affix) if at_end else text.startswith(affix)


@primitive("String", "beginsWith:", "startsWith:")
def _begins_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _has_affix(it, rcv, args[0], True, False)


@primitive("String", "beginsWith:caseSensitive:")
def _begins_with_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _has_affix(it, rcv, args[0], args[1] is not False, False)


@primitive("String", "endsWith:")
def _ends_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _has_affix(it, rcv, args[0], True, True)


@primitive("String", "endsWith:caseSensitive:")
def _ends_with_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _has_affix(it, rcv, args[0], args[1] is not False, True)


@primitive("String", "beginsWithAnyOf:")
def _begins_with_any(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = _rcv_text(rcv)
    return any(text.startswith(p) for p in map(text_of, elements(args[0])) if p is not None)


@primitive("String", "endsWithAnyOf:")
def _ends_with_any(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = _rcv_text(rcv)
    return any(text.endswith(s) for s in map(text_of, elements(args[0])) if s is not None)


@primitive("String", "endsWithDigit")
def _ends_with_digit(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = _rcv_text(rcv)
    return bool(text) and "0" <= text[-1] <= "9"


@primitive("String", "match:")
def _match(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`pattern match: text`: `*` any sequence, `#` any one character, ignoring case."""
    text = text_arg(it, args[0])
    if text is None:
        return False
    pattern = "".join(
        "*" if c == "*" else "?" if c == "#" else "[" + c + "]" if c in "[]?" else c
        for c in _rcv_text(rcv).lower()
    )
    return fnmatch.fnmatchcase(text.lower(), pattern)


@primitive("String", "compare:caseSensitive:")
def _compare_case(it: Interpreter, rcv: Any, args: Args) -> Any:
    """1 (before), 2 (equal) or 3 (after)."""
    other = text_arg(it, args[0])
    if other is None:
        return None
    sensitive = args[1] is not False
    a, b = _fold(_rcv_text(rcv), sensitive), _fold(other, sensitive)
    return 1 if a < b else (2 if a == b else 3)


# ---------------------------------------------------------------------- copying parts


@primitive("String", "copyUpToSubstring:")
def _copy_up_to_substring(it: Interpreter, rcv: Any, args: Args) -> Any:
    key = text_arg(it, args[0])
    text = _rcv_text(rcv)
    index = find_string(text, key or "", 1)
    return new_string(text if index == 0 else text[: index - 1])


def _copy_around_char(last: bool, after: bool) -> Any:
    """copyUpTo: / copyAfter: (first occurrence) and copyUpToLast: / copyAfterLast:
    (last): the text before (after) the Character argument; all of it (none of it)
    when the Character is not there or the argument is not a Character."""

    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        text, char = _rcv_text(rcv), args[0]
        if type(char) is not Char:
            index = -1
        else:
            index = text.rfind(char.text) if last else text.find(char.text)
        if after:
            return new_string("" if index < 0 else text[index + 1 :])
        return new_string(text if index < 0 else text[:index])

    return prim


primitive("String", "copyAfter:")(_copy_around_char(last=False, after=True))
primitive("String", "copyAfterLast:")(_copy_around_char(last=True, after=True))
primitive("String", "copyUpTo:")(_copy_around_char(last=False, after=False))
primitive("String", "copyUpToLast:")(_copy_around_char(last=True, after=False))


@primitive("String", "skipAnySubstring:startingAt:")
def _skip_any_substring(it: Interpreter, rcv: Any, args: Args) -> Any:
    delimiters, start = args
    if type(start) is not int or start < 1:
        return it.error("Error", "skipAnySubstring:startingAt: needs a positive Integer")
    return skip_any_substring(_rcv_text(rcv), elements(delimiters), start)


def skip_any_substring(text: str, delimiters: list[Any], start: int) -> int:
    """Pharo's String>>skipAnySubstring:startingAt:: the index of the first character
    from `start` that begins none of `delimiters` (Characters or Strings), or size + 1.
    Like Pharo's loop, a delimiter longer than the rest of the text cancels a match of
    an earlier delimiter at the same index."""
    index = start
    while index <= len(text):
        matched = False
        for delimiter in delimiters:
            if type(delimiter) is Char:
                if text[index - 1] == delimiter.text:
                    matched = True
                continue
            piece = text_of(delimiter) or ""
            if not piece:
                continue
            if len(piece) > len(text) - index + 1:
                matched = False
            elif text.startswith(piece, index - 1):
                index += len(piece) - 1
                matched = True
        if not matched:
            return index
        index += 1
    return len(text) + 1


def _find_any_substring(text: str, delimiters: list[str], start: int) -> int:
    """The index of the first delimiter occurrence from `start`, or size + 1."""
    found = [text.find(d, start - 1) for d in delimiters if d]
    hits = [f for f in found if f >= 0]
    return min(hits) + 1 if hits else len(text) + 1


# ---------------------------------------------------------------------- splitting


def _split_on_chars(text: str, separators: str) -> list[str]:
    """The runs of characters between separators (several in a row count as one)."""
    if not separators:
        return [text] if text else []
    first = separators[0]
    if len(separators) > 1:  # every separator becomes the first, then one split
        text = text.translate({ord(ch): first for ch in separators})
    return [part for part in text.split(first) if part]


@primitive("String", "substrings", "subStrings")
def _substrings(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(new_strings(_split_on_chars(_rcv_text(rcv), SEPARATORS)))


@primitive("String", "substrings:", "subStrings:")
def _substrings_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    """An Array (Pharo's substrings: answers `result asArray`)."""
    separators = _char_set(it, args[0])
    if separators is None:
        return None
    return new_array(new_strings(_split_on_chars(_rcv_text(rcv), separators)))


@primitive("String", "findTokens:")
def _find_tokens(it: Interpreter, rcv: Any, args: Args) -> Any:
    """An OrderedCollection, as Pharo's findTokens: builds one."""
    separators = _char_set(it, args[0])
    if separators is None:
        return None
    return new_ordered(new_strings(_split_on_chars(_rcv_text(rcv), separators)))


@primitive("String", "findTokens:keep:")
def _find_tokens_keep(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Like findTokens:, but a delimiter that is also in `keepers` is a token itself."""
    separators, keepers = _char_set(it, args[0]), _char_set(it, args[1])
    if separators is None or keepers is None:
        return None
    tokens: list[Any] = []
    current: list[str] = []
    for ch in _rcv_text(rcv):
        if ch in separators:
            if current:
                tokens.append(new_string("".join(current)))
                current = []
            if ch in keepers:
                tokens.append(new_string(ch))
        else:
            current.append(ch)
    if current:
        tokens.append(new_string("".join(current)))
    return new_ordered(tokens)


@primitive("String", "findTokens:escapedBy:")
def _find_tokens_escaped(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Tokens between delimiters, where a delimiter inside a pair of quote characters
    is literal and a doubled quote inside quotes is one quote character; two delimiters
    in a row give an empty token (CSV-style)."""
    separators, quotes = _char_set(it, args[0]), _char_set(it, args[1])
    if separators is None or quotes is None:
        return None
    text = _rcv_text(rcv)
    tokens: list[Any] = []
    current: list[str] = []
    quote = ""
    index = 0
    while index < len(text):
        ch = text[index]
        if quote:
            if ch == quote:
                if index + 1 < len(text) and text[index + 1] == quote:
                    current.append(quote)
                    index += 1
                else:
                    quote = ""
            else:
                current.append(ch)
        elif ch in quotes:
            quote = ch
        elif ch in separators:
            tokens.append(new_string("".join(current)))
            current = []
        else:
            current.append(ch)
        index += 1
    if current or text:
        tokens.append(new_string("".join(current)))
    return new_ordered(tokens)


@primitive("String", "findTokens:includes:")
def _find_tokens_includes(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The first token (split on the delimiters) that contains `subString`, or nil."""
    separators, key = _char_set(it, args[0]), text_arg(it, args[1])
    if separators is None or key is None:
        return None
    for part in _split_on_chars(_rcv_text(rcv), separators):
        if key in part:
            return new_string(part)
    return None


@primitive("String", "findBetweenSubstrs:", "findBetweenSubStrs:")
def _find_between_substrings(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Tokens separated by any of the delimiters (Strings or Characters)."""
    delimiters = elements(args[0]) if type(args[0]) is not Char else [args[0]]
    pieces = [d.text if type(d) is Char else text_of(d) or "" for d in delimiters]
    text = _rcv_text(rcv)
    tokens: list[Any] = []
    stop = 1
    while stop <= len(text):
        start = skip_any_substring(text, delimiters, stop)
        stop = _find_any_substring(text, pieces, start)
        if start < stop:
            tokens.append(new_string(text[start - 1 : stop - 1]))
    return new_ordered(tokens)


@primitive("String", "lines")
def _lines(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(new_strings(split_lines(_rcv_text(rcv))))


@primitive("String", "linesDo:")
def _lines_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    for line in split_lines(_rcv_text(rcv)):
        it.call_block(args[0], (new_string(line),))
    return rcv


def split_lines(text: str) -> list[str]:
    """Lines ended by CR, LF or CRLF (only those, unlike str.splitlines); a final line
    ending does not start an empty line."""
    lines: list[str] = []
    start = index = 0
    while index < len(text):
        ch = text[index]
        if ch == "\r" or ch == "\n":
            lines.append(text[start:index])
            if ch == "\r" and text[index + 1 : index + 2] == "\n":
                index += 1
            start = index + 1
        index += 1
    if start < len(text):
        lines.append(text[start:])
    return lines


@primitive("String", "splitOn:")
def _split_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    sep = args[0]
    sep_text = sep.text if type(sep) is Char else (text_of(sep) or "")
    if not sep_text:
        return new_ordered([new_string(_rcv_text(rcv))])
    return new_ordered(new_strings(_rcv_text(rcv).split(sep_text)))


# ---------------------------------------------------------------------- trimming, padding


def _trim(rcv: Any, left: bool, right: bool) -> Any:
    text = _rcv_text(rcv)
    if left:
        text = text.lstrip(SEPARATORS)
    if right:
        text = text.rstrip(SEPARATORS)
    return new_string(text)


@primitive("String", "trimBoth", "trimmed", "withBlanksTrimmed", "trim")
def _trim_both(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim(rcv, True, True)


@primitive("String", "trimLeft", "withoutLeadingBlanks")
def _trim_left(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim(rcv, True, False)


@primitive("String", "trimRight", "withoutTrailingBlanks")
def _trim_right(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim(rcv, False, True)


def _trim_by(it: Interpreter, rcv: Any, block: Any, left: bool, right: bool) -> Any:
    text = _rcv_text(rcv)
    start, stop = 0, len(text)
    while left and start < stop and truth(it, it.call_block(block, (Char.of(ord(text[start])),))):
        start += 1
    while (
        right and stop > start and truth(it, it.call_block(block, (Char.of(ord(text[stop - 1])),)))
    ):
        stop -= 1
    return new_string(text[start:stop])


@primitive("String", "trimBoth:")
def _trim_both_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim_by(it, rcv, args[0], True, True)


@primitive("String", "trimLeft:")
def _trim_left_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim_by(it, rcv, args[0], True, False)


@primitive("String", "trimRight:")
def _trim_right_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _trim_by(it, rcv, args[0], False, True)


def _pad(it: Interpreter, rcv: Any, width: Any, fill: Any, left: bool) -> Any:
    if type(width) is not int or type(fill) is not Char:
        return it.error("Error", "padding needs an Integer and a Character")
    text = _rcv_text(rcv)
    check_string(width)
    padding = fill.text * max(0, width - len(text))
    return new_string(padding + text if left else text + padding)


@primitive("String", "padLeftTo:")
def _pad_left(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _pad(it, rcv, args[0], Char.of(32), True)


@primitive("String", "padLeftTo:with:")
def _pad_left_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _pad(it, rcv, args[0], args[1], True)


@primitive("String", "padRightTo:")
def _pad_right(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _pad(it, rcv, args[0], Char.of(32), False)


@primitive("String", "padRightTo:with:")
def _pad_right_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return _pad(it, rcv, args[0], args[1], False)


@primitive("String", "truncateTo:")
def _truncate_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    size = args[0]
    if type(size) is not int:
        return it.error("Error", "truncateTo: needs an Integer")
    return new_string(_rcv_text(rcv)[: max(0, size)])


@primitive("String", "surroundedBy:")
def _surrounded_by(it: Interpreter, rcv: Any, args: Args) -> Any:
    edge = args[0].text if type(args[0]) is Char else text_arg(it, args[0])
    return None if edge is None else new_string(edge + _rcv_text(rcv) + edge)


@primitive("String", "surroundedBySingleQuotes")
def _surrounded_by_quotes(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("'" + _rcv_text(rcv) + "'")


# ---------------------------------------------------------------------- replacing


@primitive("String", "replaceAll:with:")
def _replace_all(it: Interpreter, rcv: Any, args: Args) -> Any:
    """In place, Character for Character (SequenceableCollection>>replaceAll:with:)."""
    old, new = args
    if type(rcv) is not StString:
        return it.error("Error", "Symbols can not be modified.")
    if type(old) is not Char or type(new) is not Char:
        return it.error("Error", "Improper store into indexable object")
    touch(it, rcv)
    rcv.chars = rcv.chars.replace(old.text, new.text)
    return rcv


@positional_primitive("String", "copyReplaceAll:with:")
@borrows_strings
@usual_case("ByteString", ("String", "String"),
            "new_string({r}.chars.replace({a0}.chars, {a1}.chars))", test="{a0}.chars")
def _copy_replace_all(it: Interpreter, rcv: Any, old: Any, new: Any) -> Any:
    usual = type(rcv) is StString and type(old) is StString and type(new) is StString
    if usual and old.chars:  # (the usual case, without the general checks)
        return new_string(rcv.chars.replace(old.chars, new.chars))
    old_text, new_text = text_arg(it, old), text_arg(it, new)
    if old_text is None or new_text is None:
        return None
    text = _rcv_text(rcv)
    return new_string(text.replace(old_text, new_text) if old_text else text)


@primitive("String", "copyReplacing:with:")
def _copy_replacing(it: Interpreter, rcv: Any, args: Args) -> Any:
    old, new = args
    if type(old) is not Char or type(new) is not Char:
        return it.error("Error", "copyReplacing:with: needs Characters")
    return new_string(_rcv_text(rcv).replace(old.text, new.text))


@primitive("String", "copyWithout:")
def _copy_without(it: Interpreter, rcv: Any, args: Args) -> Any:
    char = args[0]
    text = _rcv_text(rcv)
    return new_string(text.replace(char.text, "") if type(char) is Char else text)


@primitive("String", "withCRs")
def _with_crs(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Every backslash becomes a carriage return (String>>withCRs)."""
    return new_string(_rcv_text(rcv).replace("\\", "\r"))


# ---------------------------------------------------------------------- formatting


@primitive("String", "format:")
def _format(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Pharo's String>>format:: `{1}` is `collection at: 1`, `{name}` is `collection
    at: 'name'`, each answer shown by its `asString`; `\\` makes the next character
    literal. A missing index or key is the collection's own error."""
    values = args[0]
    template = _rcv_text(rcv)
    out: list[str] = []
    index = 0
    while index < len(template):
        ch = template[index]
        index += 1
        if ch == "\\":
            if index < len(template):
                out.append(template[index])
                index += 1
        elif ch == "{":
            close = template.find("}", index)
            key_text = template[index:] if close < 0 else template[index:close]
            index = len(template) if close < 0 else close + 1
            value = it.send(values, "at:", (_format_key(values, key_text),))
            shown = it.send(value, "asString", ())
            out.append(text_of(shown) or it.display_string(value))
        else:
            out.append(ch)
    return new_string("".join(out))


def _format_key(values: Any, key_text: str) -> Any:
    """An Integer for digits; for a Dictionary whose keys are Symbols, the Symbol (in
    Pharo 'name' and #name are equal and hash alike, so either finds the value)."""
    if key_text.isdigit():
        return int(key_text)
    if type(values) is StDict and ("#", key_text) in values.table:
        return key_text
    return new_string(key_text)


@primitive("String", "join:")
def _join(it: Interpreter, rcv: Any, args: Args) -> Any:
    parts = []
    for item in elements(args[0]):
        text = text_of(item)
        parts.append(text if text is not None else text_of(it.send(item, "asString", ())) or "")
    return new_string(_rcv_text(rcv).join(parts))


@primitive("String", "asPluralBasedOn:")
def _as_plural_based_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Append 's' unless the argument is 1 or a collection of size 1."""
    count = args[0]
    is_collection = it.send(count, "isCollection", ()) is True
    single = size_of(count) == 1 if is_collection else it.equal(count, 1)
    text = _rcv_text(rcv)
    return new_string(text if single else text + "s")
