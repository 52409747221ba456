"""Conformance rows for String, Symbol and Character beyond the basics of
test_st_conformance.py: Pharo 12's answers, from the sources of the methods named in
the comments (String, CharacterArray, Symbol, Character, SequenceableCollection).

Left out on purpose: rows whose answer depends on details not pinned down in Pharo's
sources (`Symbol>>keywords` element class, `'' asNumber`-style failures' error
class, `compare:` of mixed-case strings under Pharo's collation tables)."""

from __future__ import annotations

import pytest
from conformance_support import check_error, check_print, params

SEARCHING = [
    # String>>includesSubstring:[caseSensitive:] -> findString:startingAt:caseSensitive:
    ("'hello world' includesSubstring: 'o w'", "true"),
    ("'Hello' includesSubstring: 'ELL' caseSensitive: false", "true"),
    ("'Hello' includesSubstring: 'ELL' caseSensitive: true", "false"),
    ("'Hello' includesSubstring: 'ell' caseSensitive: true", "true"),
    ("'hello world' findString: 'o'", "5"),
    ("'hello world' findString: 'o' startingAt: 6", "8"),
    ("'hello world' findString: 'z' startingAt: 1", "0"),
    ("'Hello World' findString: 'WORLD' startingAt: 1 caseSensitive: false", "7"),
    ("'Hello World' findString: 'WORLD' startingAt: 1 caseSensitive: true", "0"),
    ("'hello' indexOf: $l", "3"),
    ("'hello' lastIndexOf: $l", "4"),
    # String>>compare:caseSensitive: answers 1 (before), 2 (equal), 3 (after)
    ("'abc' compare: 'ABC' caseSensitive: false", "2"),
    ("'abc' compare: 'abd' caseSensitive: true", "1"),
    ("'abd' compare: 'abc' caseSensitive: true", "3"),
    ("'abc' compare: 'abc' caseSensitive: true", "2"),
    ("'abc' sameAs: 'ABC'", "true"),
    ("'hello' beginsWith: 'he'", "true"),
    ("'hello' beginsWith: 'lo'", "false"),
    ("'hello' endsWith: 'lo'", "true"),
    ("'hello' endsWith: 'he'", "false"),
    ("'hello' beginsWithAnyOf: #('x' 'he')", "true"),
    ("'hello' endsWithAnyOf: #('x' 'y')", "false"),
    ("'abc1' endsWithDigit", "true"),
    ("'abc' endsWithDigit", "false"),
    # String>>occurrencesOfString: counts non-overlapping matches left to right
    ("'hello hello' occurrencesOfString: 'll'", "2"),
    ("'aaaa' occurrencesOfString: 'aa'", "2"),
    ("'abc' occurrencesOfString: 'z'", "0"),
    ("'hello world' copyUpToSubstring: 'wor'", "'hello '"),
    ("'hello' copyUpToSubstring: 'z'", "'hello'"),
    ("'key=value' copyUpTo: $=", "'key'"),
    ("'key=value' copyAfter: $=", "'value'"),
    ("'a/b/c' copyAfterLast: $/", "'c'"),
    ("'a/b/c' copyUpToLast: $/", "'a/b'"),
    # String>>skipAnySubstring:startingAt: answers the first index not starting a delimiter
    ("'abcabcxyz' skipAnySubstring: #('abc') startingAt: 1", "7"),
    ("'--x' skipAnySubstring: #($-) startingAt: 1", "3"),
    ("'abc' skipAnySubstring: #('abc') startingAt: 1", "4"),
    # String>>match: -- the receiver is the pattern; * and # wildcards, case ignored
    ("'h*o' match: 'hello'", "true"),
    ("'H*' match: 'hello'", "true"),
    ("'h#llo' match: 'hello'", "true"),
    ("'h*x' match: 'hello'", "false"),
]

SPLITTING = [
    ("'hello world' substrings", "#('hello' 'world')"),
    ("'  a  b  ' substrings", "#('a' 'b')"),
    ("'a,b;c' substrings: ',;'", "#('a' 'b' 'c')"),
    ("'a,,b' substrings: ','", "#('a' 'b')"),
    # String>>findTokens: builds an OrderedCollection; several delimiters count as one
    ("'a b  c' findTokens: ' '", "an OrderedCollection('a' 'b' 'c')"),
    ("'a,b' findTokens: $,", "an OrderedCollection('a' 'b')"),
    ("'a+b-c' findTokens: '+-' keep: '+'", "an OrderedCollection('a' '+' 'b' 'c')"),
    ("'abc def ghi' findTokens: ' ' includes: 'ef'", "'def'"),
    ("'abc def' findTokens: ' ' includes: 'z'", "nil"),
    ("'a--b--c' findBetweenSubStrs: #('--')", "an OrderedCollection('a' 'b' 'c')"),
    # String>>lines: CR, LF and CRLF end lines; no empty line after the last ending
    ("('a', String cr, 'b', String lf, 'c', String crlf) lines", "#('a' 'b' 'c')"),
    ("('a', String lf, String lf, 'b') lines", "#('a' '' 'b')"),
    ("'' lines", "#()"),
    ("'one line' lines", "#('one line')"),
    ("| n | n := 0. ('a', String cr, 'b') linesDo: [:l | n := n + l size]. n", "2"),
    ("', ' join: #('a' 'b' 'c')", "'a, b, c'"),
    ("'' join: #('a' 'b')", "'ab'"),
    ("', ' join: #()", "''"),
    ("$, join: #('a' 'b')", "'a,b'"),
]

CASE = [
    ("'hello World' asUppercase", "'HELLO WORLD'"),
    ("'ÀÉÎ' asLowercase", "'àéî'"),
    ("'àéî' asUppercase", "'ÀÉÎ'"),
    ("'αβγ' asUppercase", "'ΑΒΓ'"),
    ("'ΑΒΓ' asLowercase", "'αβγ'"),
    # Character>>asUppercase maps one character to one character: sharp s stays
    ("'straße' asUppercase", "'STRAßE'"),
    ("'αβγ' asUppercase class", "WideString"),
    ("'ABC' copy translateToLowercase", "'abc'"),
    ("| s | s := 'abc' copy. s translateToUppercase. s", "'ABC'"),
    ("#foo asUppercase", "#FOO"),
    ("'hello' capitalized", "'Hello'"),
    ("'Hello' uncapitalized", "'hello'"),
]

CONVERSIONS = [
    # String>>asInteger (asSignedInteger): the first run of digits, signed; nil without one
    ("'42' asInteger", "42"),
    ("'abc-12x' asInteger", "-12"),
    ("'x12y34' asInteger", "12"),
    ("'abc' asInteger", "nil"),
    ("'12.7' asInteger", "12"),
    # String>>initialIntegerOrNil: leading digits only
    ("'42abc' initialIntegerOrNil", "42"),
    ("'abc42' initialIntegerOrNil", "nil"),
    ("'' initialIntegerOrNil", "nil"),
    # String>>asNumber reads a Smalltalk number literal (NumberParser)
    ("'42' asNumber", "42"),
    ("'-3.5' asNumber", "-3.5"),
    ("'16rFF' asNumber", "255"),
    ("'2r1010' asNumber", "10"),
    ("'1e3' asNumber", "1000"),
    ("'1e-2' asNumber", "(1/100)"),
    ("'2.5e2' asNumber", "250.0"),
    ("'3.14s2' asNumber", "3.14s2"),
    ("'3.14s2' asNumber class", "ScaledDecimal"),
    ("'hello' asSymbol", "#hello"),
    ("'hello world' asSymbol", "#'hello world'"),
    ("'abc' asWideString class", "WideString"),
    ("'abc' asWideString", "'abc'"),
    ("'abc' asWideString = 'abc'", "true"),
    ("'abc' isWideString", "false"),
    ("'abc' asWideString isWideString", "true"),
    ("'λx' isWideString", "true"),
    ("'abc' isByteString", "true"),
    ("'  ' isAllSeparators", "true"),
    ("' a ' isAllSeparators", "false"),
    ("'123' isAllDigits", "true"),
    ("'12a' isAllDigits", "false"),
]

FORMATTING = [
    # String>>format: -- {n} is `collection at: n`, {key} a Dictionary key, values asString
    ("'{1} + {2}' format: #(3 4)", "'3 + 4'"),
    ("'{1}' format: {#sym}", "'sym'"),
    ("'{1}' format: {'str'}", "'str'"),
    ("'{1}{1}' format: #(7)", "'77'"),
    (
        "'{name} is {age}' format: "
        "(Dictionary new at: #name put: 'Bob'; at: #age put: 42; yourself)",
        "'Bob is 42'",
    ),
    # a backslash makes the next character literal
    ("'a\\{b}' format: #()", "'a{b}'"),
    ("'no fields' format: #()", "'no fields'"),
    # String>>withCRs: every backslash becomes Character cr
    ("'a\\b' withCRs size", "3"),
    ("('a\\b' withCRs at: 2) = Character cr", "true"),
    ("'  hi  ' trimBoth", "'hi'"),
    ("'  hi  ' trimLeft", "'hi  '"),
    ("'  hi  ' trimRight", "'  hi'"),
    ("'  hi  ' trimmed", "'hi'"),
    ("(String tab, 'x', String cr) trimBoth", "'x'"),
    ("'xxhixx' trimBoth: [:c | c = $x]", "'hi'"),
    ("'xxhixx' trimLeft: [:c | c = $x]", "'hixx'"),
    ("'xxhixx' trimRight: [:c | c = $x]", "'xxhi'"),
    # String>>asPluralBasedOn: appends s unless the argument is 1 or has size 1
    ("'apple' asPluralBasedOn: 2", "'apples'"),
    ("'apple' asPluralBasedOn: 1", "'apple'"),
    ("'apple' asPluralBasedOn: 0", "'apples'"),
    ("'apple' asPluralBasedOn: #(1)", "'apple'"),
    ("'apple' asPluralBasedOn: #(1 2)", "'apples'"),
    ("'hello' padLeftTo: 8", "'   hello'"),
    ("'7' padLeftTo: 3 with: $0", "'007'"),
    ("'hello' padRightTo: 7", "'hello  '"),
    ("'hello' padLeftTo: 2", "'hello'"),
    ("'hello' truncateTo: 3", "'hel'"),
    ("'hello' surroundedBy: '*'", "'*hello*'"),
    ("'abc' copyReplaceAll: 'b' with: 'XY'", "'aXYc'"),
    ("'hello' copyReplacing: $l with: $L", "'heLLo'"),
    ("'hello' copy replaceAll: $l with: $L; yourself", "'heLLo'"),
]

SYMBOLS = [
    # Symbol>>numArgs
    ("#foo numArgs", "0"),
    ("#+ numArgs", "1"),
    ("#foo: numArgs", "1"),
    ("#at:put: numArgs", "2"),
    ("#-> numArgs", "1"),
    # String>>numArgs: adds `with:` keywords up to n arguments
    ("#foo numArgs: 1", "#foo:"),
    ("#foo numArgs: 2", "#foo:with:"),
    ("#foo: numArgs: 3", "#foo:with:with:"),
    ("#at:put: numArgs: 1", "#at:put:"),
    # Symbol>>precedence: 1 unary, 2 binary, 3 keyword
    ("#foo precedence", "1"),
    ("#+ precedence", "2"),
    ("#at:put: precedence", "3"),
    ("#foo isUnary", "true"),
    ("#+ isBinary", "true"),
    ("#foo isBinary", "false"),
    ("#at: isKeyword", "true"),
    ("#foo isKeyword", "false"),
    ("#at:put: keywords size", "2"),
    ("(#at:put: keywords collect: [:k | k asString]) asArray", "#('at:' 'put:')"),
    ("#foo keywords size", "1"),
    # Symbol>>asMutator: a getter's setter
    ("#name asMutator", "#name:"),
    ("#name asMutator numArgs", "1"),
    ("#foo asString", "'foo'"),
    ("#foo size", "3"),
]


@pytest.mark.parametrize(("code", "expected"), params(SEARCHING))
def test_string_searching(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(SPLITTING))
def test_string_splitting_and_joining(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(CASE))
def test_string_case(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(CONVERSIONS))
def test_string_conversions(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(FORMATTING))
def test_string_formatting(code: str, expected: str) -> None:
    check_print(code, expected)


@pytest.mark.parametrize(("code", "expected"), params(SYMBOLS))
def test_symbol_selector_protocol(code: str, expected: str) -> None:
    check_print(code, expected)


ERRORS = [
    ("'{1}' format: #()", "SubscriptOutOfBounds"),
    ("'{x}' format: Dictionary new", "KeyNotFound"),
]


@pytest.mark.parametrize(("code", "error_class"), params(ERRORS))
def test_string_errors(code: str, error_class: str) -> None:
    check_error(code, error_class)
