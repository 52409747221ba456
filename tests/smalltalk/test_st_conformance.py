"""Conformance table for the Pharo Smalltalk evaluator in ``nodes.smalltalk``.

Every row is a workspace snippet evaluated in a fresh ``Image`` together with what
Pharo 12 answers for it: the print-it string (``Outcome.print_string``), the class of the
result (``Outcome.class_name``), the class of an unhandled error (``Outcome.error_class``),
what was written to the Transcript, or a ``SmalltalkSyntaxError`` for code that does not parse.

How the rows were chosen
------------------------
* Only behaviour that is documented for Pharo, or that follows directly from the Pharo 12
  class library sources (``printOn:`` / ``printElementsOn:`` / ``storeOn:`` of the classes
  involved), and that a Pharo 12 Playground print-it shows.  Rows whose answer differs between
  Pharo releases, or that I could not pin down with confidence, were left out on purpose.
* Expected strings are exactly what print-it shows: a String result is shown quoted
  (``'abc'``), a Symbol with ``#``, a Character with ``$``; collections use
  ``printElementsOn:`` (elements separated by one space), a Dictionary prints its
  associations sorted by key with a trailing space before ``)`` (``keysSortedSafely``).
* Each snippet is independent (fresh image per row) and cheap (no big loops).

Pharo-version caveats (why some obvious rows are missing)
---------------------------------------------------------
* Floats: Pharo prints the shortest representation that reads back (like Python ``repr``)
  but switches to exponent notation outside a fixed range (``1.0e10`` style) whose bounds
  have differed between releases; only floats with magnitude in [0.001, 1e6) are pinned here.
* ``[] class``: Pharo 12 compiles blocks as ``FullBlockClosure``; blocks that capture nothing
  may become ``CleanBlockClosure`` when the clean-block compiler option is on, so the block
  class rows use blocks that capture an outer variable.
* ``Symbol , String`` answers a String in older images and a Symbol in newer ones;
  ``Symbol = String`` and the default ``messageText`` of an exception without text also
  changed between releases: none of these are pinned.
* Literal arrays and strings are read-only in recent Pharo: rows that mutate collections
  work on copies or on freshly created collections.
* ``String new: 3`` is filled with ``Character value: 0`` (not spaces), so only its size is
  pinned; ``String new: 3 withAll: $ `` is used for a string of spaces.
* ``Transcript cr`` writes ``Character cr`` in Pharo; the transcript rows compare after
  mapping CR / CRLF to ``\\n`` so both a Pharo-faithful and a normalising host pass.
* A snippet that defines a class and uses it in later statements relies on the Playground
  behaviour of resolving the (then undeclared) global at run time.
"""

from __future__ import annotations

import pytest
from conformance_support import check_print, params, run

from nodes.smalltalk import SmalltalkSyntaxError

# --------------------------------------------------------------------------- helpers


def st(text: str) -> str:
    """A Smalltalk string literal for ``text`` (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- literals

LITERALS = [
    ("42", "42"),
    ("0", "0"),
    ("-5", "-5"),
    ("16r1F", "31"),
    ("2r1010", "10"),
    ("36rZZ", "1295"),
    ("8r777", "511"),
    ("16r10", "16"),
    ("-16rFF", "-255"),
    ("1e10", "10000000000"),
    ("1e2", "100"),
    ("2e3", "2000"),
    ("1000000000000", "1000000000000"),
    ("123456789012345678901234567890", "123456789012345678901234567890"),
    ("-123456789012345678901234567890", "-123456789012345678901234567890"),
    ("1.5e3", "1500.0"),
    ("1.0e2", "100.0"),
    ("2.5", "2.5"),
    ("0.5", "0.5"),
    ("-2.5", "-2.5"),
    ("3.14", "3.14"),
    ("1.0", "1.0"),
    ("123.456", "123.456"),
    ("0.001", "0.001"),
    ("1/3", "(1/3)"),
    ("$a", "$a"),
    ("$Z", "$Z"),
    ("$5", "$5"),
    ("'hello'", "'hello'"),
    ("''", "''"),
    ("'it''s'", "'it''s'"),
    ("'say \"hi\"'", "'say \"hi\"'"),
    ("#foo", "#foo"),
    ("#Foo", "#Foo"),
    ("#foo:", "#foo:"),
    ("#at:put:", "#at:put:"),
    ("#+", "#+"),
    ("#'with space'", "#'with space'"),
    ("#(1 2 3)", "#(1 2 3)"),
    ("#()", "#()"),
    ("#(1 $a 'x' #y (2 3) true nil foo)", "#(1 $a 'x' #y #(2 3) true nil #foo)"),
    ("#(#(1 2) #(3))", "#(#(1 2) #(3))"),
    ("#(foo bar: #+)", "#(#foo #bar: #+)"),
    ("#(1.5 -2)", "#(1.5 -2)"),
    ("#(true false nil)", "#(true false nil)"),
    ("#($a $b)", "#($a $b)"),
    ("#(1 #[1 2])", "#(1 #[1 2])"),
    ("#[1 2]", "#[1 2]"),
    ("#[1 2 255]", "#[1 2 255]"),
    ("#[]", "#[]"),
    ("{1+1. 2}", "#(2 2)"),
    ("{}", "#()"),
    ("{1. $a. 'x'. #y}", "#(1 $a 'x' #y)"),
    ("{1. {2. 3}}", "#(1 #(2 3))"),
    ("{nil. true}", "#(nil true)"),
    ("{Object new}", "an Array(an Object)"),
    ("true", "true"),
    ("false", "false"),
    ("nil", "nil"),
    ('"a comment" 3 + 4', "7"),
    ("3 + 4.", "7"),
]


@pytest.mark.parametrize(("code", "expected"), params(LITERALS))
def test_literals(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- precedence

PRECEDENCE = [
    ("2 + 3 * 4", "20"),
    ("2 + (3 * 4)", "14"),
    ("2 * 3 + 4", "10"),
    ("10 - 4 - 3", "3"),
    ("100 / 10 / 2", "5"),
    ("12 // 5 * 5", "10"),
    ("2 raisedTo: 3 + 1", "16"),
    ("(2 raisedTo: 3) + 1", "9"),
    ("3 factorial + 4 factorial", "30"),
    ("2 raisedTo: 3 factorial", "64"),
    ("3 factorial factorial", "720"),
    ("2 + 3 factorial", "8"),
    ("2 + 3 negated", "-1"),
    ("-2 abs + 3", "5"),
    ("3 - -2", "5"),
    ("1 max: 2 + 3", "5"),
    ("3 between: 1 + 1 and: 2 * 2", "true"),
    ("#(1 2 3) size * 2", "6"),
    ("'abc' size + 'de' size", "5"),
    ("1 + 2 = 3", "true"),
    ("(3 + 4) printString", "'7'"),
    ("3 printString , 4 printString", "'34'"),
    ("Array with: 1 + 2 with: 3 * 4", "#(3 12)"),
    ("3 > 2 and: [4 > 3]", "true"),
    ("(3 > 2) & (1 > 2)", "false"),
    ("(3 > 2) | (1 > 2)", "true"),
    ("#(1 2 3) inject: 0 into: [:a :b | a + b]", "6"),
    ("(2 raisedTo: 2) raisedTo: 3", "64"),
]


@pytest.mark.parametrize(("code", "expected"), params(PRECEDENCE))
def test_message_precedence(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- cascades

CASCADES = [
    ("OrderedCollection new add: 1; add: 2; yourself", "an OrderedCollection(1 2)"),
    ("OrderedCollection new add: 1; add: 2", "2"),
    ("3 + 4; * 10", "30"),
    ("3 printString; yourself", "3"),
    ("(3 max: 4) printString; + 1", "5"),
    ("Set new add: 1; add: 1; add: 2; size", "2"),
    ("OrderedCollection new addFirst: 1; addFirst: 2; yourself", "an OrderedCollection(2 1)"),
    ("OrderedCollection new add: 3; add: 4; removeFirst; yourself", "an OrderedCollection(4)"),
    ("OrderedCollection new add: 2 + 3; add: 4 * 2; yourself", "an OrderedCollection(5 8)"),
    ("'abc' copy at: 1 put: $z; yourself", "'zbc'"),
    ("(Array new: 3) at: 1 put: 7; at: 3 put: 9; yourself", "#(7 nil 9)"),
    ("Dictionary new at: #k put: 1; at: #k put: 2; yourself", "a Dictionary(#k->2 )"),
    ("(WriteStream on: String new) nextPutAll: 'ab'; nextPut: $c; contents", "'abc'"),
    ("| oc | oc := OrderedCollection new. oc add: 1; add: 2. oc size", "2"),
    (
        "(1 to: 3) asOrderedCollection addFirst: 0; addLast: 4; yourself",
        "an OrderedCollection(0 1 2 3 4)",
    ),
    ("#(1 2 3) asOrderedCollection removeLast; removeLast; yourself", "an OrderedCollection(1)"),
    ("Bag new add: 1; add: 1; occurrencesOf: 1", "2"),
    ("Set new add: 3; yourself", "a Set(3)"),
]


@pytest.mark.parametrize(("code", "expected"), params(CASCADES))
def test_cascades(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- assignment

ASSIGNMENT = [
    ("| a | a := 5. a * 2", "10"),
    ("| a | a := 5", "5"),
    ("| a | a", "nil"),
    ("| a b | a := b := 3. a + b", "6"),
    ("| a | a := 1. a := a + 1. a", "2"),
    ("| a | (a := 4) + 1", "5"),
    ("| a | a := 3. a := a * a. a", "9"),
    ("| s | s := 'abc'. s size", "3"),
    ("| a | a := #(1 2 3). a last", "3"),
    ("| a | a := OrderedCollection new. a add: 5. a", "an OrderedCollection(5)"),
    ("| blk | blk := [:x | x * 2]. blk value: 21", "42"),
    ("| a | a := 1. [a := a + 1] value. a", "2"),
    ("| t | t := 0. #(1 2 3) do: [:e | t := t + e]. t", "6"),
    ("x := 3. x + 4", "7"),
    ("x := 3. y := x * 2. x + y", "9"),
    ("acc := OrderedCollection new. acc add: 1. acc add: 2. acc", "an OrderedCollection(1 2)"),
]


@pytest.mark.parametrize(("code", "expected"), params(ASSIGNMENT))
def test_assignment_and_temporaries(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- blocks

BLOCKS = [
    ("[3] value", "3"),
    ("[] value", "nil"),
    ("[1. 2. 3] value", "3"),
    ("[:x | x + 1] value: 2", "3"),
    ("[:x | ] value: 3", "nil"),
    ("[:x | x > 3] value: 5", "true"),
    ("[:a :b | a + b] value: 1 value: 2", "3"),
    ("[:a :b :c | a + b + c] value: 1 value: 2 value: 3", "6"),
    ("[:a :b :c :d | a + b + c + d] value: 1 value: 2 value: 3 value: 4", "10"),
    ("[:x :y | x * y] valueWithArguments: #(3 4)", "12"),
    ("[:a :b | a , b] value: 'x' value: 'y'", "'xy'"),
    ("[] numArgs", "0"),
    ("[:x | x] numArgs", "1"),
    ("[:a :b :c | a] numArgs", "3"),
    ("[:a | | t | t := a * 2. t + 1] value: 5", "11"),
    ("(([:x | [:y | x + y]] value: 3) value: 4)", "7"),
    ("| adder | adder := [:n | [:x | x + n]]. (adder value: 10) value: 5", "15"),
    ("| a b | a := 10. b := [:x | x + a]. a := 20. b value: 1", "21"),
    ("| make c | make := [| n | n := 0. [n := n + 1]]. c := make value. c value. c value", "2"),
    (
        "| make c1 c2 | make := [| n | n := 0. [n := n + 1]]. "
        "c1 := make value. c2 := make value. c1 value. c1 value. c2 value",
        "1",
    ),
    (
        "| blocks | blocks := (1 to: 3) collect: [:i | [i * 10]]. blocks collect: [:b | b value]",
        "#(10 20 30)",
    ),
    ("[:x | x = 0 ifTrue: [^ 'zero']. 'nonzero'] value: 0", "'zero'"),
    ("[:x | x = 0 ifTrue: [^ 'zero']. 'nonzero'] value: 1", "'nonzero'"),
    ("#(1 2 3) do: [:x | x = 2 ifTrue: [^ x * 10]]. 99", "20"),
    ("[^ 5] value. 6", "5"),
    ("| i s | i := 0. s := 0. [i < 5] whileTrue: [i := i + 1. s := s + i]. s", "15"),
    ("| i | i := 0. [i < 3] whileTrue: [i := i + 1]", "nil"),
    ("| i | i := 10. [i <= 0] whileFalse: [i := i - 3]. i", "-2"),
    ("| i | i := 0. [i := i + 1. i < 5] whileTrue. i", "5"),
    ("| c | c := 0. [c := c + 1. c >= 3] whileFalse. c", "3"),
    ("| s | s := 0. 1 to: 10 do: [:i | s := s + i]. s", "55"),
    ("| s | s := 0. 10 to: 1 by: -2 do: [:i | s := s + i]. s", "30"),
    ("| n | n := 0. 1 to: 10 by: 2 do: [:i | n := n + i]. n", "25"),
    (
        "| r | r := OrderedCollection new. 5 to: 1 by: -1 do: [:i | r add: i]. r",
        "an OrderedCollection(5 4 3 2 1)",
    ),
    ("| r | r := OrderedCollection new. 1 to: 0 do: [:i | r add: i]. r", "an OrderedCollection()"),
    (
        "| r | r := OrderedCollection new. 1 to: 10 by: 3 do: [:i | r add: i]. r",
        "an OrderedCollection(1 4 7 10)",
    ),
    ("| n | n := 0. 5 timesRepeat: [n := n + 2]. n", "10"),
    ("| f | f := 1. 1 to: 5 do: [:i | f := f * i]. f", "120"),
    (
        "| r | r := OrderedCollection new. #(1 2 3) reverseDo: [:e | r add: e]. r",
        "an OrderedCollection(3 2 1)",
    ),
    (
        "| r | r := OrderedCollection new. #(10 20) withIndexDo: [:e :i | r add: i -> e]. r",
        "an OrderedCollection(1->10 2->20)",
    ),
    ("| s | s := 0. #(10 20) keysAndValuesDo: [:i :e | s := s + (i * e)]. s", "50"),
    ("| s | s := 0. #(1 2 3) with: #(4 5 6) do: [:a :b | s := s + (a * b)]. s", "32"),
    (
        "| fib | fib := nil. fib := [:n | n < 2 ifTrue: [n] "
        "ifFalse: [(fib value: n - 1) + (fib value: n - 2)]]. fib value: 15",
        "610",
    ),
    ("| b | b := [:x | x > 2 ifTrue: ['big'] ifFalse: ['small']]. b value: 3", "'big'"),
    ("#(1 2 3) do: [:x | x]", "#(1 2 3)"),
]


@pytest.mark.parametrize(("code", "expected"), params(BLOCKS))
def test_blocks(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- control

CONTROL = [
    ("3 > 2 ifTrue: ['yes'] ifFalse: ['no']", "'yes'"),
    ("3 < 2 ifTrue: ['yes'] ifFalse: ['no']", "'no'"),
    ("3 > 2 ifTrue: ['yes']", "'yes'"),
    ("3 < 2 ifTrue: ['yes']", "nil"),
    ("3 < 2 ifFalse: ['no']", "'no'"),
    ("3 > 2 ifFalse: ['no']", "nil"),
    ("true ifFalse: [1] ifTrue: [2]", "2"),
    ("true ifTrue: [1] ifFalse: [2]", "1"),
    ("false ifTrue: [1] ifFalse: [nil]", "nil"),
    ("1 = 1 ifTrue: ['same']", "'same'"),
    ("(1 < 2) and: [2 < 3]", "true"),
    ("(1 < 2) and: [2 > 3]", "false"),
    ("(1 > 2) or: [2 < 3]", "true"),
    ("(1 > 2) or: [2 > 3]", "false"),
    ("false and: [1/0]", "false"),
    ("true or: [1/0]", "true"),
    ("true & false", "false"),
    ("true & true", "true"),
    ("true | false", "true"),
    ("false | false", "false"),
    ("true not", "false"),
    ("false not", "true"),
    ("true xor: false", "true"),
    ("true xor: true", "false"),
    ("nil ifNil: [1] ifNotNil: [:x | x]", "1"),
    ("5 ifNil: [1] ifNotNil: [:x | x * 2]", "10"),
    ("nil ifNotNil: [:x | 1] ifNil: [2]", "2"),
    ("nil ifNil: ['was nil']", "'was nil'"),
    ("7 ifNil: ['was nil']", "7"),
    ("nil ifNotNil: [:x | x]", "nil"),
    ("7 ifNotNil: [:x | x + 1]", "8"),
    ("(nil ifNil: [0]) + 1", "1"),
    ("nil isNil", "true"),
    ("3 isNil", "false"),
    ("nil notNil", "false"),
    ("3 notNil", "true"),
    ("nil isNil and: [true]", "true"),
    ("3 max: 7", "7"),
    ("3 min: 7", "3"),
    ("-3 max: -7", "-3"),
    ("5 between: 1 and: 10", "true"),
    ("15 between: 1 and: 10", "false"),
    ("1 between: 1 and: 1", "true"),
    ("| x | x := 5. x > 3 ifTrue: [x := x * 2]. x", "10"),
    ("3 even ifTrue: ['even'] ifFalse: ['odd']", "'odd'"),
    ("3 even ifTrue: [1]", "nil"),
    ("#() isEmpty ifTrue: ['empty']", "'empty'"),
    ("#(1) ifEmpty: ['e'] ifNotEmpty: [:c | c size]", "1"),
    ("#() ifEmpty: ['e']", "'e'"),
    ("#(1 2) ifNotEmpty: [:c | c first]", "1"),
    ("3 isString", "false"),
    ("'a' isString", "true"),
    ("3 isNumber", "true"),
    ("3 isInteger", "true"),
    ("(1/2) isInteger", "false"),
    ("3 isKindOf: Integer", "true"),
    ("3 isKindOf: Float", "false"),
    ("3 isMemberOf: SmallInteger", "true"),
    ("3 respondsTo: #printString", "true"),
    ("3 respondsTo: #fooBarBaz", "false"),
    ("3 perform: #+ with: 4", "7"),
    ("3 perform: #factorial", "6"),
    ("3 perform: #between:and: with: 1 with: 5", "true"),
]


@pytest.mark.parametrize(("code", "expected"), params(CONTROL))
def test_control_messages(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- arithmetic

HUNDRED_FACTORIAL = (
    "93326215443944152681699238856266700490715968264381621468592963895217599993229915608941"
    "463976156518286253697920827223758251185210916864000000000000000000000000"
)

ARITHMETIC = [
    ("3 + 4", "7"),
    ("3 - 5", "-2"),
    ("6 * 7", "42"),
    ("6 / 3", "2"),
    ("7 / 7", "1"),
    ("2 raisedTo: 10", "1024"),
    ("2 raisedTo: 0", "1"),
    ("-2 raisedTo: 3", "-8"),
    ("2 raisedTo: -1", "(1/2)"),
    ("(2/3) raisedTo: 2", "(4/9)"),
    ("3 squared", "9"),
    ("-5 abs", "5"),
    ("5 negated", "-5"),
    ("5 reciprocal", "(1/5)"),
    ("3 sign", "1"),
    ("-3 sign", "-1"),
    ("0 sign", "0"),
    ("4 even", "true"),
    ("7 odd", "true"),
    ("97 isPrime", "true"),
    ("91 isPrime", "false"),
    ("12 gcd: 18", "6"),
    ("4 lcm: 6", "12"),
    ("0 gcd: 5", "5"),
    ("10 factorial", "3628800"),
    ("0 factorial", "1"),
    ("20 factorial", "2432902008176640000"),
    ("25 factorial", "15511210043330985984000000"),
    ("30 factorial", "265252859812191058636308480000000"),
    ("100 factorial", HUNDRED_FACTORIAL),
    ("100 factorial printString size", "158"),
    ("100 factorial / 98 factorial", "9900"),
    ("2 raisedTo: 100", "1267650600228229401496703205376"),
    ("(2 raisedTo: 100) printString size", "31"),
    ("(2 raisedTo: 100) printString: 16", "'10000000000000000000000000'"),
    ("(2 raisedTo: 100) negated", "-1267650600228229401496703205376"),
    ("2 raisedTo: 64", "18446744073709551616"),
    ("(2 raisedTo: 64) - 1", "18446744073709551615"),
    ("(2 raisedTo: 64) // (2 raisedTo: 32)", "4294967296"),
    ("(2 raisedTo: 100) / (2 raisedTo: 98)", "4"),
    ("(2 raisedTo: 100) - (2 raisedTo: 100)", "0"),
    ("(2 raisedTo: 100) \\\\ 7", "2"),
    ("(2 raisedTo: 100) // 3", "422550200076076467165567735125"),
    ("(2 raisedTo: 100) negated // 3", "-422550200076076467165567735126"),
    ("(2 raisedTo: 100) negated \\\\ 3", "2"),
    ("(2 raisedTo: 100) negated rem: 3", "-1"),
    ("(2 raisedTo: 100) negated quo: 3", "-422550200076076467165567735125"),
    ("(2 raisedTo: 100) gcd: (2 raisedTo: 50)", "1125899906842624"),
    ("12345678901234567890 + 1", "12345678901234567891"),
    ("12345678901234567890 - 12345678901234567890", "0"),
    ("1000000 * 1000000", "1000000000000"),
    ("1000000000 * 1000000000", "1000000000000000000"),
    ("SmallInteger maxVal", "1152921504606846975"),
    ("SmallInteger minVal", "-1152921504606846976"),
    ("SmallInteger maxVal + 1", "1152921504606846976"),
    ("(2 raisedTo: 100) > (2 raisedTo: 99)", "true"),
    ("(2 raisedTo: 70) = (2 raisedTo: 70)", "true"),
    ("7 // 2", "3"),
    ("-7 // 2", "-4"),
    ("7 \\\\ 2", "1"),
    ("-7 \\\\ 2", "1"),
    ("7 \\\\ -2", "-1"),
    ("-7 rem: 2", "-1"),
    ("-7 quo: 2", "-3"),
    ("7 rem: -2", "1"),
    ("7 quo: -2", "-3"),
    ("17 // 5", "3"),
    ("17 \\\\ 5", "2"),
    ("-17 // 5", "-4"),
    ("-17 \\\\ 5", "3"),
    ("-5 // 3", "-2"),
    ("-5 \\\\ 3", "1"),
    ("5 // -3", "-2"),
    ("5 \\\\ -3", "-1"),
    ("-5 rem: 3", "-2"),
    ("-5 quo: 3", "-1"),
    ("1 bitShift: 10", "1024"),
    ("6 bitAnd: 3", "2"),
    ("6 bitOr: 3", "7"),
    ("6 bitXor: 3", "5"),
    # fractions
    ("2/4", "(1/2)"),
    ("(2/4)", "(1/2)"),
    ("(1/2) + (1/2)", "1"),
    ("(1/2) + (1/3)", "(5/6)"),
    ("(1/3) + (1/6)", "(1/2)"),
    ("(1/2) * (2/3)", "(1/3)"),
    ("(2/3) * (3/2)", "1"),
    ("(3/4) - (1/4)", "(1/2)"),
    ("(1/2) - (1/2)", "0"),
    ("(3/4) / (3/8)", "2"),
    ("(1/2) / (1/4)", "2"),
    ("(1/2) + 1", "(3/2)"),
    ("1 - (1/3)", "(2/3)"),
    ("1/2 + 1", "(3/2)"),
    ("3/4 * 4", "3"),
    ("1 / 3 * 3", "1"),
    ("(1/3) + (1/3)", "(2/3)"),
    ("6/3", "2"),
    ("1 / -2", "(-1/2)"),
    ("(1/2) negated", "(-1/2)"),
    ("(3/4) negated", "(-3/4)"),
    ("(1/2) reciprocal", "2"),
    ("(1/3) reciprocal", "3"),
    ("(3/4) numerator", "3"),
    ("(6/4) denominator", "2"),
    ("(1/2) < (2/3)", "true"),
    ("(1/2) < (1/3)", "false"),
    ("(1/2) max: (1/3)", "(1/2)"),
    ("(1/2) = (2/4)", "true"),
    ("(7/2) floor", "3"),
    ("(7/2) ceiling", "4"),
    ("(7/2) truncated", "3"),
    ("(-7/2) floor", "-4"),
    ("(1/2) isFraction", "true"),
    ("(1/2) asFloat", "0.5"),
    ("(1/4) asFloat", "0.25"),
    ("(1/3) asFloat", "0.3333333333333333"),
    # floats (only values Pharo prints in plain decimal notation)
    ("0.1 + 0.2", "0.30000000000000004"),
    ("0.1 + 0.2 = 0.3", "false"),
    ("0.1 * 3", "0.30000000000000004"),
    ("0.1 + 0.7", "0.7999999999999999"),
    ("1.0 - 0.9", "0.09999999999999998"),
    ("2 sqrt", "1.4142135623730951"),
    ("2 sqrt squared", "2.0000000000000004"),
    ("Float pi", "3.141592653589793"),
    ("1/2.0", "0.5"),
    ("1 / 3.0", "0.3333333333333333"),
    ("3 / 4.0", "0.75"),
    ("10 / 4.0", "2.5"),
    ("7 / 2.0", "3.5"),
    ("100 asFloat", "100.0"),
    ("(2 raisedTo: 10) asFloat", "1024.0"),
    ("2.5 * 2", "5.0"),
    ("2 * 0.5", "1.0"),
    ("1.5 + 1", "2.5"),
    ("0.5 + 0.25", "0.75"),
    ("(1/2) + 0.5", "1.0"),
    ("1.5 + (1/2)", "2.0"),
    ("1.0 / 3.0 * 3.0", "1.0"),
    ("2.0 raisedTo: 3", "8.0"),
    ("0.5 reciprocal", "2.0"),
    ("-2.5 abs", "2.5"),
    ("2.5 negated", "-2.5"),
    ("0.0", "0.0"),
    ("3.7 floor", "3"),
    ("3.2 ceiling", "4"),
    ("3.5 rounded", "4"),
    ("2.5 rounded", "3"),
    ("-3.7 rounded", "-4"),
    ("3.7 rounded", "4"),
    ("-3.7 truncated", "-3"),
    ("3.14 truncated", "3"),
    # comparisons
    ("3 < 5", "true"),
    ("5 <= 5", "true"),
    ("5 > 3", "true"),
    ("3 >= 4", "false"),
    ("3 = 3", "true"),
    ("3 = 4", "false"),
    ("3 ~= 4", "true"),
    ("3 = 3.0", "true"),
    ("1.5 < 2", "true"),
    ("0.5 < (2/3)", "true"),
    ("(1/2) = 0.5", "true"),
    ("-1 < 0", "true"),
    ("3 = 'three'", "false"),
    # points
    ("3 @ 4", "(3@4)"),
    ("(3 @ 4) + 1", "(4@5)"),
    ("(1 @ 2) + (3 @ 4)", "(4@6)"),
    ("(3 @ 4) * 2", "(6@8)"),
    ("(3 @ 4) x", "3"),
    ("(3 @ 4) y", "4"),
    ("(3 @ 4) = (3 @ 4)", "true"),
    ("(1 @ 2) < (3 @ 4)", "true"),
    # arithmetic on collections
    ("#(1 2 3) * 2", "#(2 4 6)"),
    ("#(1 2 3) + 1", "#(2 3 4)"),
    ("(1 to: 5) + 1", "(2 to: 6)"),
]


@pytest.mark.parametrize(("code", "expected"), params(ARITHMETIC))
def test_arithmetic(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- class names

CLASS_NAMES = [
    ("3", "SmallInteger"),
    ("-5", "SmallInteger"),
    ("1e10", "SmallInteger"),
    ("1000000000000", "SmallInteger"),
    ("SmallInteger maxVal", "SmallInteger"),
    ("SmallInteger maxVal + 1", "LargePositiveInteger"),
    ("SmallInteger minVal - 1", "LargeNegativeInteger"),
    ("(2 raisedTo: 60) - 1", "SmallInteger"),
    ("2 raisedTo: 60", "LargePositiveInteger"),
    ("2 raisedTo: 100", "LargePositiveInteger"),
    ("(2 raisedTo: 100) negated", "LargeNegativeInteger"),
    ("100 factorial", "LargePositiveInteger"),
    ("20 factorial", "LargePositiveInteger"),
    ("1000000000 * 1000000000", "SmallInteger"),
    ("1e100", "LargePositiveInteger"),
    ("(2 raisedTo: 100) - (2 raisedTo: 100)", "SmallInteger"),
    ("(2 raisedTo: 100) / (2 raisedTo: 98)", "SmallInteger"),
    ("1.5", "SmallFloat64"),
    ("0.1 + 0.2", "SmallFloat64"),
    ("2 sqrt", "SmallFloat64"),
    ("Float pi", "SmallFloat64"),
    ("1/2.0", "SmallFloat64"),
    ("(1/2) asFloat", "SmallFloat64"),
    ("1/2", "Fraction"),
    ("(1/2) + (1/2)", "SmallInteger"),
    ("4/2", "SmallInteger"),
    ("$a", "Character"),
    ("97 asCharacter", "Character"),
    ("'a'", "ByteString"),
    ("'hello' asUppercase", "ByteString"),
    ("'abc' reversed", "ByteString"),
    ("#foo asString", "ByteString"),
    ("42 printString", "ByteString"),
    ("$a asString", "ByteString"),
    ("String new", "ByteString"),
    ("#a", "ByteSymbol"),
    ("'abc' asSymbol", "ByteSymbol"),
    ("nil", "UndefinedObject"),
    ("true", "True"),
    ("false", "False"),
    ("1 = 1", "True"),
    ("1 to: 3", "Interval"),
    ("1 -> 2", "Association"),
    ("#a -> 1", "Association"),
    ("Object new", "Object"),
    ("#(1)", "Array"),
    ("{1}", "Array"),
    ("Array new: 2", "Array"),
    ("(1 to: 3) collect: [:x | x * 2]", "Array"),
    ("(1 to: 6) select: [:x | x even]", "Array"),
    ("#[1]", "ByteArray"),
    ("'abc' asByteArray", "ByteArray"),
    ("OrderedCollection new", "OrderedCollection"),
    ("#(1 2) asOrderedCollection", "OrderedCollection"),
    ("#(3 1) asSortedCollection collect: [:x | x]", "OrderedCollection"),
    ("Set new", "Set"),
    ("#(1 2) asSet", "Set"),
    ("Dictionary new", "Dictionary"),
    ("Bag new", "Bag"),
    ("3 @ 4", "Point"),
    ("#(3 1) asSortedCollection", "SortedCollection"),
    ("ReadStream on: #(1 2)", "ReadStream"),
    ("WriteStream on: String new", "WriteStream"),
    ("Error new", "Error"),
    ("ZeroDivide new", "ZeroDivide"),
    ("Object", "Object class"),
    ("Object class", "Metaclass"),
    ("OrderedCollection", "OrderedCollection class"),
    ("[1/0] on: ZeroDivide do: [:e | e]", "ZeroDivide"),
]


@pytest.mark.parametrize(("code", "expected"), params(CLASS_NAMES))
def test_class_name_of_result(code: str, expected: str) -> None:
    outcome = run(code)
    assert not outcome.has_error, f"{code!r}: {outcome.error_class}"
    assert outcome.class_name == expected


@pytest.mark.parametrize(("code", "expected"), params(CLASS_NAMES))
def test_class_message_prints_class_name(code: str, expected: str) -> None:
    check_print(f"({code}) class", expected)


CLASS_PRINTS = [
    ("3 class", "SmallInteger"),
    ("(2 raisedTo: 100) class", "LargePositiveInteger"),
    ("1.5 class", "SmallFloat64"),
    ("(1/2) class", "Fraction"),
    ("$a class", "Character"),
    ("'a' class", "ByteString"),
    ("#a class", "ByteSymbol"),
    ("nil class", "UndefinedObject"),
    ("true class", "True"),
    ("| x | x := 1. [x] class", "FullBlockClosure"),
    ("| x | x := 1. [:y | x + y] class", "FullBlockClosure"),
    ("(1 to: 3) class", "Interval"),
    ("(1->2) class", "Association"),
    ("Object new", "an Object"),
    ("Object new printString", "'an Object'"),
    ("Object", "Object"),
    ("Object class", "Object class"),
    ("Object class class", "Metaclass"),
    ("Object name asString", "'Object'"),
    ("3 class name", "#SmallInteger"),
    ("3 class == SmallInteger", "true"),
    ("Object superclass", "ProtoObject"),
    ("ProtoObject superclass", "nil"),
    ("SmallInteger superclass", "Integer"),
    ("Integer superclass", "Number"),
    ("Number superclass", "Magnitude"),
    ("Character superclass", "Magnitude"),
    ("SmallFloat64 superclass", "Float"),
    ("Fraction superclass", "Number"),
    ("OrderedCollection superclass", "SequenceableCollection"),
    ("SortedCollection superclass", "OrderedCollection"),
    ("Interval superclass", "SequenceableCollection"),
    ("Array superclass", "ArrayedCollection"),
    ("ByteString superclass", "String"),
    ("ByteSymbol superclass", "Symbol"),
    ("Symbol superclass", "String"),
    ("String superclass", "ArrayedCollection"),
    ("Set superclass", "HashedCollection"),
    ("Dictionary superclass", "HashedCollection"),
    ("Bag superclass", "Collection"),
    ("Association superclass", "LookupKey"),
    ("True superclass", "Boolean"),
    ("UndefinedObject superclass", "Object"),
    ("FullBlockClosure superclass", "BlockClosure"),
    ("ZeroDivide superclass", "ArithmeticError"),
    ("ArithmeticError superclass", "Error"),
    ("MessageNotUnderstood superclass", "Error"),
    ("Error superclass", "Exception"),
    ("Exception superclass", "Object"),
]


@pytest.mark.parametrize(("code", "expected"), params(CLASS_PRINTS))
def test_class_printing_and_hierarchy(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- printStrings

PRINT_STRINGS = [
    ("#(1 2 3)", "#(1 2 3)"),
    ("#(1 $a 'x' #y)", "#(1 $a 'x' #y)"),
    ("Array new: 3", "#(nil nil nil)"),
    ("Array new", "#()"),
    ("Array with: 1 with: 2", "#(1 2)"),
    ("(Array new: 2) at: 1 put: 5; yourself", "#(5 nil)"),
    ("'abc' asArray", "#($a $b $c)"),
    ("#(1 2 3) asOrderedCollection", "an OrderedCollection(1 2 3)"),
    ("OrderedCollection new", "an OrderedCollection()"),
    ("OrderedCollection with: $a", "an OrderedCollection($a)"),
    ("OrderedCollection with: #(1 2) with: 'x'", "an OrderedCollection(#(1 2) 'x')"),
    ("OrderedCollection with: #a with: 1/2", "an OrderedCollection(#a (1/2))"),
    ("Set new add: 1; yourself", "a Set(1)"),
    ("#(1 1 1) asSet", "a Set(1)"),
    ("Set new", "a Set()"),
    ("Bag new add: 7; add: 7; yourself", "a Bag(7 7)"),
    ("Bag new add: 'x'; yourself", "a Bag('x')"),
    ("Bag new", "a Bag()"),
    ("Dictionary new at: #a put: 1; yourself", "a Dictionary(#a->1 )"),
    ("Dictionary new at: #a put: 1; at: #b put: 2; yourself", "a Dictionary(#a->1 #b->2 )"),
    ("Dictionary new at: #b put: 2; at: #a put: 1; yourself", "a Dictionary(#a->1 #b->2 )"),
    ("Dictionary new at: 2 put: 'b'; at: 1 put: 'a'; yourself", "a Dictionary(1->'a' 2->'b' )"),
    ("Dictionary new at: 'x' put: 1; yourself", "a Dictionary('x'->1 )"),
    ("Dictionary newFrom: {1->2. 3->4}", "a Dictionary(1->2 3->4 )"),
    ("Dictionary new", "a Dictionary()"),
    ("#(3 1 2) asSortedCollection", "a SortedCollection(1 2 3)"),
    ("#(3 1 2) asSortedCollection: [:a :b | a > b]", "a SortedCollection(3 2 1)"),
    ("SortedCollection new", "a SortedCollection()"),
    ("1 to: 5", "(1 to: 5)"),
    ("(1 to: 5)", "(1 to: 5)"),
    ("1 to: 10 by: 2", "(1 to: 10 by: 2)"),
    ("5 to: 1 by: -1", "(5 to: 1 by: -1)"),
    ("1 to: 0", "(1 to: 0)"),
    ("#[1 2 3]", "#[1 2 3]"),
    ("ByteArray new: 2", "#[0 0]"),
    ("'abc' asByteArray", "#[97 98 99]"),
    ("#[1 2] , #[3]", "#[1 2 3]"),
    ("#a -> 1", "#a->1"),
    ("1 -> 2", "1->2"),
    ("'k' -> 'v'", "'k'->'v'"),
    ("1 -> (2 -> 3)", "1->2->3"),
    ("#()", "#()"),
    ("1/2", "(1/2)"),
    ("3 @ 4", "(3@4)"),
    ("'abc' printString", "'''abc'''"),
    ("'it''s' printString", "'''it''''s'''"),
    ("#foo printString", "'#foo'"),
    ("$a printString", "'$a'"),
    ("42 printString", "'42'"),
    ("#(1 2) printString", "'#(1 2)'"),
    ("(1/2) printString", "'(1/2)'"),
    ("nil printString", "'nil'"),
    ("42 displayString", "'42'"),
    ("'x' displayString", "'x'"),
]


@pytest.mark.parametrize(("code", "expected"), params(PRINT_STRINGS))
def test_collection_and_object_print_strings(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- collections

COLLECTIONS = [
    # enumeration
    ("| s | s := 0. #(1 2 3 4) do: [:x | s := s + x]. s", "10"),
    ("#(1 2 3) collect: [:x | x * x]", "#(1 4 9)"),
    ("#(1 2 3) collect: [:x | x printString]", "#('1' '2' '3')"),
    ("#(1 2 3) collect: [:x | x odd]", "#(true false true)"),
    ("#(1 2 3) asOrderedCollection collect: [:x | x * 10]", "an OrderedCollection(10 20 30)"),
    ("(1 to: 3) collect: [:x | x * 2]", "#(2 4 6)"),
    ("#(1 2 3 4) select: [:x | x even]", "#(2 4)"),
    ("#(1 2 3 4) reject: [:x | x even]", "#(1 3)"),
    ("#(1 2 3) asOrderedCollection select: [:x | x > 1]", "an OrderedCollection(2 3)"),
    ("#(1 2 3) asOrderedCollection reject: [:x | x > 1]", "an OrderedCollection(1)"),
    ("(1 to: 6) select: [:x | x even]", "#(2 4 6)"),
    ("(1 to: 5) reject: [:x | x odd]", "#(2 4)"),
    ("#(1 2 3 4) detect: [:x | x > 2]", "3"),
    ("#(1 2 3) detect: [:x | x > 5] ifNone: [0]", "0"),
    ("(1 to: 10) detect: [:x | x * x > 20]", "5"),
    ("#(1 2 3 4) inject: 0 into: [:a :b | a + b]", "10"),
    ("(1 to: 5) inject: 1 into: [:a :b | a * b]", "120"),
    ("#('a' 'b' 'c') inject: '' into: [:acc :e | acc , e]", "'abc'"),
    ("#(1 2 3) includes: 2", "true"),
    ("#(1 2 3) includes: 5", "false"),
    ("#(1 2 3) anySatisfy: [:x | x > 2]", "true"),
    ("#(1 2 3) anySatisfy: [:x | x > 3]", "false"),
    ("#(1 2 3) allSatisfy: [:x | x > 0]", "true"),
    ("#(1 2 3) allSatisfy: [:x | x > 1]", "false"),
    ("#(1 2 3) noneSatisfy: [:x | x > 5]", "true"),
    ("#(1 2 3 4) count: [:x | x even]", "2"),
    ("#('a' 'abc' 'ab') detectMax: [:s | s size]", "'abc'"),
    ("#('a' 'abc' 'ab') detectMin: [:s | s size]", "'a'"),
    ("#(1 2 3) with: #(4 5 6) collect: [:a :b | a + b]", "#(5 7 9)"),
    (
        "| r | r := OrderedCollection new. #(1 2 3) do: [:e | r add: e] separatedBy: [r add: 0]. r",
        "an OrderedCollection(1 0 2 0 3)",
    ),
    # sorting
    ("#(3 1 2) asSortedCollection asArray", "#(1 2 3)"),
    ("#(5 3 9 1) asSortedCollection first", "1"),
    ("#(5 3 9 1) asSortedCollection last", "9"),
    ("(#(3 1 2) asSortedCollection: [:a :b | a >= b]) asArray", "#(3 2 1)"),
    ("#(3 1 2) asSortedCollection add: 0; yourself", "a SortedCollection(0 1 2 3)"),
    (
        "(SortedCollection sortBlock: [:a :b | a > b]) add: 3; add: 7; add: 5; yourself",
        "a SortedCollection(7 5 3)",
    ),
    ("#('pear' 'apple' 'fig') asSortedCollection asArray", "#('apple' 'fig' 'pear')"),
    ("#(3 1 2) asSortedCollection collect: [:x | x * 10]", "an OrderedCollection(10 20 30)"),
    ("#(3 1 2) asSortedCollection select: [:x | x > 1]", "a SortedCollection(2 3)"),
    ("#(3 1 2) asSortedCollection removeFirst", "1"),
    ("#(3 1 2) sorted", "#(1 2 3)"),
    ("#(3 1 2) sorted: [:a :b | a > b]", "#(3 2 1)"),
    ("#('bb' 'a' 'ccc') sorted: [:a :b | a size < b size]", "#('a' 'bb' 'ccc')"),
    ("#(3 1 2) copy sort", "#(1 2 3)"),
    ("#(3 1 2) copy sort: [:a :b | a > b]", "#(3 2 1)"),
    ("#(3 1 2) asOrderedCollection sort: [:a :b | a > b]; yourself", "an OrderedCollection(3 2 1)"),
    ("#(#b #a) asSortedCollection asArray", "#(#a #b)"),
    # concatenation, access, copying
    ("#(1 2) , #(3)", "#(1 2 3)"),
    ("#(1 2 3) , #(4 5)", "#(1 2 3 4 5)"),
    ("(OrderedCollection with: 1) , #(2)", "an OrderedCollection(1 2)"),
    ("#(1 2 3 4) sum", "10"),
    ("#(1 2 3) asOrderedCollection sum", "6"),
    ("(1 to: 5) sum", "15"),
    ("(1 to: 100) sum", "5050"),
    ("#(5 3 9) max", "9"),
    ("#(5 3 9) min", "3"),
    ("#(2 6 7) average", "5"),
    ("#(3 5 7 7) average", "(11/2)"),
    ("#(1 2) average", "(3/2)"),
    ("#(1 2 3) first", "1"),
    ("#(1 2 3) last", "3"),
    ("#(1 2 3) second", "2"),
    ("#(1 2 3) first: 2", "#(1 2)"),
    ("#(1 2 3) last: 2", "#(2 3)"),
    ("#(1 2 3) allButFirst", "#(2 3)"),
    ("#(1 2 3) allButLast", "#(1 2)"),
    ("#(1 2 3) reversed", "#(3 2 1)"),
    ("#(5 6 7) indexOf: 6", "2"),
    ("#(5 6 7) indexOf: 9", "0"),
    ("#(#a #b) indexOf: #b", "2"),
    ("#(1 2 3 4 5) copyFrom: 2 to: 4", "#(2 3 4)"),
    ("#(1 2 3) copyWith: 4", "#(1 2 3 4)"),
    ("#(1 2 3 2) copyWithout: 2", "#(1 3)"),
    ("#(1 2 3) at: 2", "2"),
    ("#(1 2 3) size", "3"),
    ("(1 to: 5) asArray", "#(1 2 3 4 5)"),
    ("(1 to: 10 by: 3) asArray", "#(1 4 7 10)"),
    ("(5 to: 1 by: -1) asArray", "#(5 4 3 2 1)"),
    ("(1 to: 3) asOrderedCollection", "an OrderedCollection(1 2 3)"),
    ("(1 to: 5) size", "5"),
    ("(1 to: 0) size", "0"),
    ("(1 to: 0) isEmpty", "true"),
    ("(1 to: 10) last", "10"),
    ("(1 to: 9 by: 3) last", "7"),
    ("(1 to: 5) includes: 3", "true"),
    ("(1 to: 3) first", "1"),
    ("#(1 2 3) asOrderedCollection asArray", "#(1 2 3)"),
    ("#(1 2 2 3) asSet size", "3"),
    ("#(1 2 3) asBag size", "3"),
    ("#() isEmpty", "true"),
    ("#(1) isEmpty", "false"),
    ("#(1) notEmpty", "true"),
    ("#() notEmpty", "false"),
    ("#(1 2 3) isArray", "true"),
    ("#(1 2 1 1) occurrencesOf: 1", "3"),
    ("#(1 2) = #(1 2)", "true"),
    ("#(1 2) = #(1 2) asOrderedCollection", "false"),
    # OrderedCollection protocol
    ("OrderedCollection new add: 5", "5"),
    ("OrderedCollection new addFirst: 5", "5"),
    ("(OrderedCollection withAll: #(5 6 7)) at: 2", "6"),
    ("#(1 2 3) asOrderedCollection removeFirst", "1"),
    ("#(1 2 3) asOrderedCollection removeLast", "3"),
    ("#(1 2 3) asOrderedCollection removeFirst; yourself", "an OrderedCollection(2 3)"),
    ("(OrderedCollection new add: 1; yourself) addFirst: 0; yourself", "an OrderedCollection(0 1)"),
    ("(OrderedCollection withAll: #(1 2 3)) remove: 2; yourself", "an OrderedCollection(1 3)"),
    ("(OrderedCollection withAll: #(1 2 3)) remove: 2", "2"),
    ("(OrderedCollection withAll: #(1 2 3)) remove: 5 ifAbsent: ['none']", "'none'"),
    (
        "(OrderedCollection withAll: #(1 2 3)) removeAll: #(1 2); yourself",
        "an OrderedCollection(3)",
    ),
    ("OrderedCollection new addAll: #(3 4); yourself", "an OrderedCollection(3 4)"),
    ("(OrderedCollection new add: 1; yourself) at: 1 put: 9; yourself", "an OrderedCollection(9)"),
    (
        "(OrderedCollection withAll: #(1 2 3)) add: 4 beforeIndex: 1; yourself",
        "an OrderedCollection(4 1 2 3)",
    ),
    ("(OrderedCollection withAll: #(1 2 3)) indexOf: 3", "3"),
    ("OrderedCollection new isEmpty", "true"),
    ("(OrderedCollection with: 1) = (OrderedCollection with: 1)", "true"),
    # Set / Bag
    ("(Set withAll: #(1 2 2 3)) size", "3"),
    ("#(1 2 3) asSet includes: 2", "true"),
    ("(#(1 2 3) asSet remove: 2; yourself) size", "2"),
    ("Set new add: 5", "5"),
    ("(Bag withAll: #(1 1 2)) occurrencesOf: 1", "2"),
    ("(Bag withAll: #(1 1 2)) size", "3"),
    ("(Bag new add: 'x' withOccurrences: 3; yourself) size", "3"),
    # Dictionary
    ("| d | d := Dictionary new. d at: #a put: 1. d at: #a", "1"),
    ("Dictionary new at: #a put: 1", "1"),
    ("(Dictionary new at: #a put: 1; yourself) keys", "#(#a)"),
    ("(Dictionary new at: #a put: 1; yourself) values", "#(1)"),
    ("(Dictionary new at: #a put: 1; yourself) keys class", "Array"),
    (
        "two-key dictionary keys sorted",
        "(Dictionary new at: 1 put: 10; at: 2 put: 20; yourself) keys asSortedCollection asArray",
        "#(1 2)",
    ),
    (
        "two-key dictionary values sorted",
        "(Dictionary new at: 1 put: 10; at: 2 put: 20; yourself) values asSortedCollection asArray",
        "#(10 20)",
    ),
    ("(Dictionary new at: 1 put: 10; at: 2 put: 20; yourself) size", "2"),
    ("(Dictionary new at: #a put: 1; yourself) at: #z ifAbsent: [0]", "0"),
    ("(Dictionary new at: #a put: 1; yourself) at: #a ifAbsent: [0]", "1"),
    ("(Dictionary new at: #a put: 1; yourself) at: #a ifAbsentPut: [5]", "1"),
    ("| d | d := Dictionary new. d at: #b ifAbsentPut: [5]. d", "a Dictionary(#b->5 )"),
    ("(Dictionary new at: #a put: 1; yourself) at: #a ifPresent: [:v | v * 10]", "10"),
    ("(Dictionary new at: #a put: 1; yourself) at: #b ifPresent: [:v | v]", "nil"),
    ("(Dictionary new at: #a put: 1; yourself) includesKey: #a", "true"),
    ("(Dictionary new at: #a put: 1; yourself) includesKey: #b", "false"),
    ("(Dictionary new at: #a put: 1; yourself) includes: 1", "true"),
    ("(Dictionary new at: #a put: 1; yourself) keyAtValue: 1", "#a"),
    ("(Dictionary new at: #a put: 1; yourself) removeKey: #a", "1"),
    (
        "(Dictionary new at: #a put: 1; at: #b put: 2; yourself) removeKey: #a; yourself",
        "a Dictionary(#b->2 )",
    ),
    ("(Dictionary new at: #a put: 1; yourself) removeKey: #z ifAbsent: [0]", "0"),
    ("(Dictionary new at: #a put: 1; yourself) collect: [:v | v * 2]", "a Dictionary(#a->2 )"),
    (
        "(Dictionary new at: #a put: 1; at: #b put: 2; yourself) select: [:v | v > 1]",
        "a Dictionary(#b->2 )",
    ),
    (
        "| d s | d := Dictionary new. d at: 1 put: 10; at: 2 put: 20. s := 0. "
        "d keysAndValuesDo: [:k :v | s := s + (k * v)]. s",
        "50",
    ),
    (
        "| d s | d := Dictionary new. d at: 1 put: 10; at: 2 put: 20. s := 0. "
        "d do: [:v | s := s + v]. s",
        "30",
    ),
    ("(Dictionary new at: 1 put: 2; yourself) = (Dictionary new at: 1 put: 2; yourself)", "true"),
    ("Dictionary new isEmpty", "true"),
    ("(1 -> 2) key", "1"),
    ("(1 -> 2) value", "2"),
]


@pytest.mark.parametrize(("code", "expected"), params(COLLECTIONS))
def test_collection_protocol(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- strings

STRINGS = [
    ("'abc' , 'def'", "'abcdef'"),
    ("'hello' , ' ' , 'world'", "'hello world'"),
    ("'hello' size", "5"),
    ("'' size", "0"),
    ("'it''s' size", "4"),
    ("'hello' asUppercase", "'HELLO'"),
    ("'Hello World' asLowercase", "'hello world'"),
    ("'hello' capitalized", "'Hello'"),
    ("'hello' reversed", "'olleh'"),
    ("'hello' asSymbol", "#hello"),
    ("'hello world' asSymbol", "#'hello world'"),
    ("#foo asString", "'foo'"),
    ("'42' asNumber", "42"),
    ("'42' asNumber + 1", "43"),
    ("'-7' asNumber", "-7"),
    ("'3.5' asNumber", "3.5"),
    ("'42' asInteger", "42"),
    ("'hello world' substrings", "#('hello' 'world')"),
    ("'a b c' substrings size", "3"),
    ("'one two' substrings first", "'one'"),
    ("'a:b' substrings: ':'", "#('a' 'b')"),
    ("'a,b,c' substrings: ','", "#('a' 'b' 'c')"),
    ("'abc' includesSubstring: 'b'", "true"),
    ("'abc' includesSubstring: 'z'", "false"),
    ("'hello world' includesSubstring: 'o w'", "true"),
    ("'hello' at: 1", "$h"),
    ("'hello' first", "$h"),
    ("'hello' last", "$o"),
    ("'hello' copyReplaceAll: 'l' with: 'L'", "'heLLo'"),
    ("'hello world' copyReplaceAll: 'world' with: 'there'", "'hello there'"),
    ("'a-b-c' copyReplaceAll: '-' with: ''", "'abc'"),
    ("'hello' copyFrom: 2 to: 4", "'ell'"),
    ("'hello' copyWith: $!", "'hello!'"),
    ("'hello' copyWithout: $l", "'heo'"),
    ("'hello' indexOf: $l", "3"),
    ("'hello' indexOf: $z", "0"),
    ("'hello' occurrencesOf: $l", "2"),
    ("'hello' includes: $e", "true"),
    ("'hello' includes: $z", "false"),
    ("'hello' asSet size", "4"),
    ("'hello' asBag occurrencesOf: $l", "2"),
    ("'hello' select: [:c | c isVowel]", "'eo'"),
    ("'hello' reject: [:c | c = $l]", "'heo'"),
    ("'hello' collect: [:c | c asUppercase]", "'HELLO'"),
    ("'hello' detect: [:c | c isVowel]", "$e"),
    ("'hello' inject: 0 into: [:n :c | n + 1]", "5"),
    ("'abc' max", "$c"),
    ("'cab' asSortedCollection asArray", "#($a $b $c)"),
    ("'hello' beginsWith: 'he'", "true"),
    ("'hello' endsWith: 'lo'", "true"),
    ("'hello' beginsWith: 'lo'", "false"),
    ("'  hi  ' trimBoth", "'hi'"),
    ("'abc' < 'abd'", "true"),
    ("'abc' > 'abd'", "false"),
    ("'abc' = 'abc'", "true"),
    ("'abc' = 'ABC'", "false"),
    ("'abc' ~= 'abd'", "true"),
    ("'' isEmpty", "true"),
    ("'abc' notEmpty", "true"),
    ("'abc' isString", "true"),
    ("'abc' isSymbol", "false"),
    ("42 printString", "'42'"),
    ("42 printString size", "2"),
    ("42 printString: 2", "'101010'"),
    ("10 printString: 2", "'1010'"),
    ("255 printString: 16", "'FF'"),
    ("255 printStringBase: 16", "'FF'"),
    ("5 printPaddedWith: $0 to: 3", "'005'"),
    ("-42 printString", "'-42'"),
    ("'abc' printString", "'''abc'''"),
    ("'abc' printString size", "5"),
    ("'x' displayString", "'x'"),
    ("42 displayString", "'42'"),
    ("3 printString , 'x'", "'3x'"),
    ("'abc' asUppercase asSymbol", "#ABC"),
    ("'hello' asSymbol size", "5"),
    ("'hello' asByteArray", "#[104 101 108 108 111]"),
    ("#[104 105] asString", "'hi'"),
    ("'abc' copy at: 2 put: $X; yourself", "'aXc'"),
    ("(String new: 3) size", "3"),
    ("String new: 3 withAll: $z", "'zzz'"),
    ("String new: 2 withAll: $ ", "'  '"),
    ("String new", "''"),
    ("'Hello' first isUppercase", "true"),
    ("'x' -> 3", "'x'->3"),
    ("'abc' hash = 'abc' copy hash", "true"),
]


@pytest.mark.parametrize(("code", "expected"), params(STRINGS))
def test_strings(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- characters

CHARACTERS = [
    ("$a value", "97"),
    ("$a asInteger", "97"),
    ("$A value", "65"),
    ("97 asCharacter", "$a"),
    ("Character value: 65", "$A"),
    ("($a value + 1) asCharacter", "$b"),
    ("$z value - $a value", "25"),
    ("$a isVowel", "true"),
    ("$b isVowel", "false"),
    ("$a asUppercase", "$A"),
    ("$A asLowercase", "$a"),
    ("$a isLetter", "true"),
    ("$5 isDigit", "true"),
    ("$a isDigit", "false"),
    ("$5 digitValue", "5"),
    ("$a isUppercase", "false"),
    ("$A isUppercase", "true"),
    ("$  isSeparator", "true"),
    ("$a < $b", "true"),
    ("$a = $a", "true"),
    ("$a == $a", "true"),
    ("$a asString", "'a'"),
    ("$a asSymbol", "#a"),
    ("$a isCharacter", "true"),
]


@pytest.mark.parametrize(("code", "expected"), params(CHARACTERS))
def test_characters(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- symbols

SYMBOLS = [
    ("#foo == #foo", "true"),
    ("'foo' asSymbol == #foo", "true"),
    ("#foo asSymbol == #foo", "true"),
    ("#foo asString = 'foo'", "true"),
    ("#with:with: numArgs", "2"),
    ("#foo:bar: numArgs", "2"),
    ("#at:put: numArgs", "2"),
    ("#foo numArgs", "0"),
    ("#+ numArgs", "1"),
    ("#foo size", "3"),
    ("#foo first", "$f"),
    ("#foo isSymbol", "true"),
    ("#foo isString", "true"),
    ("#abc includes: $b", "true"),
    ("#a < #b", "true"),
    ("(#foo -> 3) key", "#foo"),
    ("#Foo asString", "'Foo'"),
]


@pytest.mark.parametrize(("code", "expected"), params(SYMBOLS))
def test_symbols(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- identity

IDENTITY = [
    ("'abc' = 'abc'", "true"),
    ("'abc' copy = 'abc'", "true"),
    ("'abc' copy == 'abc'", "false"),
    ("#abc == #abc", "true"),
    ("3 == 3", "true"),
    ("3 = 3.0", "true"),
    ("1 = 1.0", "true"),
    ("(1/2) = 0.5", "true"),
    ("(1/3) = (2/6)", "true"),
    ("Object new = Object new", "false"),
    ("Object new == Object new", "false"),
    ("| o | o := Object new. o == o", "true"),
    ("| o | o := Object new. o = o", "true"),
    ("#(1 2 3) = #(1 2 3)", "true"),
    ("#(1 $a) = #(1 $a)", "true"),
    ("OrderedCollection new = OrderedCollection new", "true"),
    ("(1 -> 2) = (1 -> 2)", "true"),
    ("(3 @ 4) = (3 @ 4)", "true"),
    ("nil == nil", "true"),
    ("nil = false", "false"),
    ("3 ~~ 4", "true"),
    ("$a == $a", "true"),
    ("| a b | a := OrderedCollection new. b := a. b add: 1. a", "an OrderedCollection(1)"),
    ("| a b | a := OrderedCollection new. b := a copy. b add: 1. a", "an OrderedCollection()"),
]


@pytest.mark.parametrize(("code", "expected"), params(IDENTITY))
def test_identity_and_equality(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- streams

STREAMS = [
    ("(ReadStream on: #(1 2 3)) next", "1"),
    ("(ReadStream on: #(1 2 3)) next; next", "2"),
    ("| s | s := ReadStream on: #(1 2 3). s next. s upToEnd", "#(2 3)"),
    ("(ReadStream on: #(1 2 3)) upToEnd", "#(1 2 3)"),
    ("(ReadStream on: #(1 2 3 4)) next: 2", "#(1 2)"),
    ("(ReadStream on: #(1 2 3)) atEnd", "false"),
    ("| s | s := ReadStream on: #(1 2). s next; next. s atEnd", "true"),
    ("(ReadStream on: 'hello world') upTo: $ ", "'hello'"),
    ("(ReadStream on: 'abcdef') next: 3", "'abc'"),
    ("| s | s := ReadStream on: 'abcdef'. s skip: 2. s upToEnd", "'cdef'"),
    ("'abc' readStream peek", "$a"),
    ("'hello' readStream next; next; next", "$l"),
    ("#(1 2 3) readStream upToEnd", "#(1 2 3)"),
    (
        "| w | w := WriteStream on: String new. w nextPutAll: 'ab'; nextPutAll: 'cd'. w contents",
        "'abcd'",
    ),
    (
        "| w | w := WriteStream on: String new. w nextPutAll: 'abc'; nextPut: $d. w contents",
        "'abcd'",
    ),
    ("| w | w := WriteStream on: String new. w print: 3; space; print: 4. w contents", "'3 4'"),
    ("| w | w := WriteStream on: (Array new: 0). w nextPut: 1; nextPut: 2. w contents", "#(1 2)"),
    ("| w | w := WriteStream on: String new. w << 'ab'; << 'cd'. w contents", "'abcd'"),
    ("String streamContents: [:s | s nextPutAll: 'a'; print: 42; nextPut: $!]", "'a42!'"),
    ("String streamContents: [:s | s print: 'q']", "'''q'''"),
    ("String streamContents: [:s | s nextPut: $a; space; nextPut: $b]", "'a b'"),
    (
        "String streamContents: [:s | #(1 2 3) do: [:e | s print: e] "
        "separatedBy: [s nextPutAll: ', ']]",
        "'1, 2, 3'",
    ),
    ("(WriteStream on: String new) contents", "''"),
]


@pytest.mark.parametrize(("code", "expected"), params(STREAMS))
def test_streams(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- exceptions

EXCEPTIONS = [
    ("[1/0] on: ZeroDivide do: [:e | -1]", "-1"),
    ("[1/0] on: ArithmeticError do: [:e | 3]", "3"),
    ("[1/0] on: Error do: [:e | e class]", "ZeroDivide"),
    ("[1/0] on: ZeroDivide do: [:e | e isKindOf: ArithmeticError]", "true"),
    ("[1/0] on: ZeroDivide do: [:e | e return: 0]", "0"),
    ("[1/0] on: ZeroDivide do: [:e | e return]", "nil"),
    ("[1/0. 5] on: ZeroDivide do: [:e | 7]", "7"),
    ("[1] on: Error do: [:e | 2]", "1"),
    ("[Error signal: 'boom'] on: Error do: [:e | e messageText]", "'boom'"),
    ("[Error new signal: 'abc'] on: Error do: [:e | e messageText]", "'abc'"),
    ("[Error signal: 'abc'] on: Error do: [:e | e messageText , '!']", "'abc!'"),
    ("[Error signal: 'abc'] on: Error do: [:e | e messageText size]", "3"),
    ("[(Error new messageText: 'm') signal] on: Error do: [:e | e messageText]", "'m'"),
    ("[ZeroDivide new signal: 'zd'] on: ZeroDivide do: [:e | e messageText]", "'zd'"),
    ("[Error signal: 'x'] on: Error do: [:e | e return: 5]", "5"),
    ("[Error signal: 'x'] on: Error do: [:e | e class]", "Error"),
    ("[Error signal: 'x'] on: Error do: [:e | ]", "nil"),
    ("[Error signal: 'x'] on: Exception do: [:e | 'exc']", "'exc'"),
    ("[Error signal. 1] on: Error do: [:e | 2]", "2"),
    ("[Error signal: 'x'] on: Error do: [:e | e isResumable]", "false"),
    ("[Warning signal: 'x'] on: Warning do: [:e | e isResumable]", "true"),
    ("[Error new signal: 'a'] on: ZeroDivide, Error do: [:e | 1]", "1"),
    ("[Error signal] on: Error, ZeroDivide do: [:e | 1]", "1"),
    ("[1/0] on: ZeroDivide, MessageNotUnderstood do: [:e | e class]", "ZeroDivide"),
    ("[nil foo] on: ZeroDivide, MessageNotUnderstood do: [:e | e class]", "MessageNotUnderstood"),
    ("[nil foo] on: MessageNotUnderstood do: [:e | e message selector]", "#foo"),
    ("[nil foo: 1 bar: 2] on: MessageNotUnderstood do: [:e | e message arguments]", "#(1 2)"),
    ("[3 zork] on: MessageNotUnderstood do: [:e | e receiver]", "3"),
    ("[nil foo] on: MessageNotUnderstood do: [:e | e return: 42]", "42"),
    ("[nil foo] on: Error do: [:e | 2]", "2"),
    ("[Object new bar] on: MessageNotUnderstood do: [:e | e message selector]", "#bar"),
    ("[#(1 2) at: 5] on: SubscriptOutOfBounds do: [:e | 0]", "0"),
    ("[#(1 2 3) at: 10] on: Error do: [:e | 'caught']", "'caught'"),
    ("[Dictionary new at: #z] on: KeyNotFound do: [:e | 0]", "0"),
    ("[Dictionary new at: #z] on: Error do: [:e | e class]", "KeyNotFound"),
    ("[#(1 2 3) detect: [:x | x > 5]] on: NotFound do: [:e | 0]", "0"),
    ("[#() first] on: Error do: [:e | 0]", "0"),
    ("[10] ensure: [20]", "10"),
    (
        "| log | log := OrderedCollection new. [log add: 1] ensure: [log add: 2]. log",
        "an OrderedCollection(1 2)",
    ),
    ("| x | x := 0. [x := 1] ensure: [x := x + 10]. x", "11"),
    (
        "| log | log := OrderedCollection new. "
        "[[1/0] ensure: [log add: #e]] on: ZeroDivide do: [:e | log add: #h]. log",
        "an OrderedCollection(#h #e)",
    ),
    (
        "| log | log := OrderedCollection new. "
        "[[log add: 1. Error signal: 'e'. log add: 2] ensure: [log add: 3]] "
        "on: Error do: [:e | log add: 4]. log",
        "an OrderedCollection(1 4 3)",
    ),
    ("[5] ifCurtailed: [6]", "5"),
    (
        "| log | log := OrderedCollection new. "
        "[[1/0] ifCurtailed: [log add: #c]] on: ZeroDivide do: [:e | nil]. log",
        "an OrderedCollection(#c)",
    ),
    (
        "| log | log := OrderedCollection new. "
        "[[log add: 1] ifCurtailed: [log add: #c]] value. log",
        "an OrderedCollection(1)",
    ),
    (
        "| n | n := 0. [n := n + 1. n < 3 ifTrue: [Error signal: 'again']. n] "
        "on: Error do: [:e | e retry]",
        "3",
    ),
    ("| n | n := 0. [n := n + 1. n < 3 ifTrue: [1/0]. n] on: ZeroDivide do: [:e | e retry]", "3"),
    ("[Error signal: 'x'. 10] on: Error do: [:e | e retryUsing: [7]]", "7"),
    ("[Error signal: 'x'] on: Error do: [:e | e retryUsing: ['alt']]", "'alt'"),
    ("[(Warning signal: 'w') + 1] on: Warning do: [:e | e resume: 41]", "42"),
    ("[Warning signal: 'w'] on: Warning do: [:e | e resume: 5]", "5"),
    ("[Warning signal: 'w'. 'resumed'] on: Warning do: [:e | e resume]", "'resumed'"),
    (
        "[(Warning signal: 'w') ifNil: ['nil result']] on: Warning do: [:e | e resume]",
        "'nil result'",
    ),
    ("[(Notification signal: 'n') + 1] on: Notification do: [:e | e resume: 8]", "9"),
    ("[Notification signal. 5] on: Notification do: [:e | e resume]", "5"),
    ("Notification signal", "nil"),
    ("Notification signal: 'n'. 5", "5"),
    (
        "[[Error signal: 'inner'] on: Error do: [:e | e pass]] "
        "on: Error do: [:e | 'outer ' , e messageText]",
        "'outer inner'",
    ),
    ("[[1/0] on: ZeroDivide do: [:e | e pass]] on: ZeroDivide do: [:e | 9]", "9"),
    ("[[1/0] on: ZeroDivide do: [:e | e signal]] on: ZeroDivide do: [:e | 4]", "4"),
    ("[[1/0] on: MessageNotUnderstood do: [:e | 1]] on: ZeroDivide do: [:e | 2]", "2"),
    ("[[Error signal: 'a'] on: ZeroDivide do: [:e | 1]] on: Error do: [:e | 2]", "2"),
    (
        "[[Error signal: 'in'] on: Error do: [:e | Error signal: 'out']] "
        "on: Error do: [:e | e messageText]",
        "'out'",
    ),
    ("[[Error signal: 'in'] ensure: [nil]] on: Error do: [:e | e messageText]", "'in'"),
    (
        "[1/0] on: ZeroDivide do: [:e | [nil foo] on: MessageNotUnderstood do: [:e2 | 'both']]",
        "'both'",
    ),
]


@pytest.mark.parametrize(("code", "expected"), params(EXCEPTIONS))
def test_exceptions_handled(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- session classes

DEF_ACCOUNT = (
    "Object subclass: #Account instanceVariableNames: 'balance' "
    "classVariableNames: '' package: 'Demo'. "
    "Account compile: 'deposit: x balance := (balance ifNil: [0]) + x'. "
    "Account compile: 'balance ^balance'. "
)
PRINT_ON = (
    "Account compile: "
    + st("printOn: aStream aStream nextPutAll: 'Account('; print: balance; nextPutAll: ')'")
    + ". "
)
DEF_SAVINGS = (
    "Account subclass: #Savings instanceVariableNames: '' "
    "classVariableNames: '' package: 'Demo'. "
    "Savings compile: 'deposit: x super deposit: x * 2'. "
)
DEF_MYERROR = (
    "Error subclass: #MyError instanceVariableNames: '' classVariableNames: '' package: 'Demo'. "
)
DEF_ANIMALS = (
    "Object subclass: #Animal instanceVariableNames: '' "
    "classVariableNames: '' package: 'Demo'. "
    "Animal compile: " + st("speak ^'generic'") + ". "
    "Animal subclass: #Dog instanceVariableNames: '' "
    "classVariableNames: '' package: 'Demo'. "
    "Dog compile: " + st("speak ^'Woof'") + ". "
    "Dog compile: " + st("describe ^super speak , '/' , self speak") + ". "
)

SESSION_CLASSES = [
    (
        "define returns class",
        "Object subclass: #Account instanceVariableNames: 'balance' "
        "classVariableNames: '' package: 'Demo'",
        "Account",
    ),
    (
        "deposit cascade",
        DEF_ACCOUNT + "(Account new deposit: 5; deposit: 7; yourself) balance",
        "12",
    ),
    ("new prints with article", DEF_ACCOUNT + "Account new", "an Account"),
    ("uninitialised ivar is nil", DEF_ACCOUNT + "Account new balance", "nil"),
    ("deposit answers self", DEF_ACCOUNT + "Account new deposit: 5", "an Account"),
    ("class prints its name", DEF_ACCOUNT + "Account", "Account"),
    ("name asString", DEF_ACCOUNT + "Account name asString", "'Account'"),
    ("superclass", DEF_ACCOUNT + "Account superclass", "Object"),
    ("metaclass", DEF_ACCOUNT + "Account class", "Account class"),
    ("metaclass class", DEF_ACCOUNT + "Account class class", "Metaclass"),
    ("instance class", DEF_ACCOUNT + "Account new class", "Account"),
    (
        "selectors sorted",
        DEF_ACCOUNT + "Account selectors asSortedCollection asArray",
        "#(#balance #deposit:)",
    ),
    ("selectors size", DEF_ACCOUNT + "Account selectors size", "2"),
    ("includesSelector", DEF_ACCOUNT + "Account includesSelector: #balance", "true"),
    ("sourceCodeAt", DEF_ACCOUNT + "Account sourceCodeAt: #balance", "'balance ^balance'"),
    ("instVarNames size", DEF_ACCOUNT + "Account instVarNames size", "1"),
    ("respondsTo own", DEF_ACCOUNT + "Account new respondsTo: #deposit:", "true"),
    ("respondsTo missing", DEF_ACCOUNT + "Account new respondsTo: #withdraw:", "false"),
    ("respondsTo inherited", DEF_ACCOUNT + "Account new respondsTo: #printString", "true"),
    ("canUnderstand inherited", DEF_ACCOUNT + "Account canUnderstand: #printString", "true"),
    ("isKindOf Object", DEF_ACCOUNT + "Account new isKindOf: Object", "true"),
    ("isMemberOf", DEF_ACCOUNT + "Account new isMemberOf: Account", "true"),
    ("inheritsFrom", DEF_ACCOUNT + "Account inheritsFrom: Object", "true"),
    ("perform unary", DEF_ACCOUNT + "Account new perform: #balance", "nil"),
    ("perform keyword", DEF_ACCOUNT + "(Account new perform: #deposit: with: 5) balance", "5"),
    (
        "self send",
        DEF_ACCOUNT + "Account compile: 'double ^self balance * 2'. "
        "(Account new deposit: 4; yourself) double",
        "8",
    ),
    (
        "recompile replaces method",
        DEF_ACCOUNT + "Account compile: 'balance ^balance ifNil: [0]'. Account new balance",
        "0",
    ),
    (
        "initialize sent by new",
        DEF_ACCOUNT + "Account compile: 'initialize balance := 100'. Account new balance",
        "100",
    ),
    (
        "method temps and loop",
        DEF_ACCOUNT
        + "Account compile: 'sumTo: n | s | s := 0. 1 to: n do: [:i | s := s + i]. ^s'. "
        "Account new sumTo: 10",
        "55",
    ),
    (
        "recursive method",
        DEF_ACCOUNT
        + "Account compile: "
        + st("fact: n ^n <= 1 ifTrue: [1] ifFalse: [n * (self fact: n - 1)]")
        + ". Account new fact: 20",
        "2432902008176640000",
    ),
    (
        "non-local return from method block",
        DEF_ACCOUNT
        + "Account compile: "
        + st("firstEven: c c do: [:x | x even ifTrue: [^x]]. ^nil")
        + ". Account new firstEven: #(1 3 4 6)",
        "4",
    ),
    (
        "non-local return not taken",
        DEF_ACCOUNT
        + "Account compile: "
        + st("firstEven: c c do: [:x | x even ifTrue: [^x]]. ^nil")
        + ". Account new firstEven: #(1 3)",
        "nil",
    ),
    (
        "method returning string",
        "Object subclass: #Greeter instanceVariableNames: '' classVariableNames: '' "
        "package: 'Demo'. Greeter compile: "
        + st("greet: name ^'Hello, ' , name , '!'")
        + ". Greeter new greet: 'Bob'",
        "'Hello, Bob!'",
    ),
    ("printOn override", DEF_ACCOUNT + PRINT_ON + "Account new deposit: 5; yourself", "Account(5)"),
    ("printOn override nil", DEF_ACCOUNT + PRINT_ON + "Account new", "Account(nil)"),
    (
        "printString uses printOn",
        DEF_ACCOUNT + PRINT_ON + "(Account new deposit: 5; yourself) printString",
        "'Account(5)'",
    ),
    (
        "displayString uses printOn",
        DEF_ACCOUNT + PRINT_ON + "(Account new deposit: 7; yourself) displayString",
        "'Account(7)'",
    ),
    (
        "printOn inside collection",
        DEF_ACCOUNT + PRINT_ON + "OrderedCollection new add: (Account new deposit: 1; yourself); "
        "yourself",
        "an OrderedCollection(Account(1))",
    ),
    (
        "equality override",
        DEF_ACCOUNT
        + "Account compile: "
        + st("= other ^(other isKindOf: Account) and: [balance = other balance]")
        + ". Account compile: 'hash ^balance hash'. "
        "(Account new deposit: 1; yourself) = (Account new deposit: 1; yourself)",
        "true",
    ),
    (
        "class-side method",
        DEF_ACCOUNT + "Account class compile: 'withBalance: n ^self new deposit: n; yourself'. "
        "(Account withBalance: 3) balance",
        "3",
    ),
    (
        "class-side respondsTo",
        DEF_ACCOUNT + "Account class compile: 'withBalance: n ^self new deposit: n; yourself'. "
        "Account respondsTo: #withBalance:",
        "true",
    ),
    (
        "class-side new with super",
        DEF_ACCOUNT + "Account class compile: 'new ^super new deposit: 1; yourself'. "
        "Account new balance",
        "1",
    ),
    (
        "class variable",
        "Object subclass: #Counter instanceVariableNames: '' classVariableNames: 'Count' "
        "package: 'Demo'. Counter class compile: 'bump Count := (Count ifNil: [0]) + 1. ^Count'. "
        "Counter bump. Counter bump",
        "2",
    ),
    (
        "subclass super send",
        DEF_ACCOUNT + DEF_SAVINGS + "(Savings new deposit: 5; yourself) balance",
        "10",
    ),
    ("subclass prints with article", DEF_ACCOUNT + DEF_SAVINGS + "Savings new", "a Savings"),
    ("subclass superclass", DEF_ACCOUNT + DEF_SAVINGS + "Savings superclass", "Account"),
    ("subclass inherits accessor", DEF_ACCOUNT + DEF_SAVINGS + "Savings new balance", "nil"),
    ("subclass isKindOf", DEF_ACCOUNT + DEF_SAVINGS + "Savings new isKindOf: Account", "true"),
    (
        "subclass isMemberOf superclass",
        DEF_ACCOUNT + DEF_SAVINGS + "Savings new isMemberOf: Account",
        "false",
    ),
    (
        "subclass respondsTo inherited",
        DEF_ACCOUNT + DEF_SAVINGS + "Savings new respondsTo: #balance",
        "true",
    ),
    ("subclass cascade", DEF_ACCOUNT + DEF_SAVINGS + "Savings new deposit: 3; balance", "6"),
    (
        "subclass inherits printOn",
        DEF_ACCOUNT + PRINT_ON + DEF_SAVINGS + "Savings new deposit: 2; yourself",
        "Account(4)",
    ),
    (
        "polymorphism",
        DEF_ANIMALS + "{Animal new. Dog new} collect: [:a | a speak]",
        "#('generic' 'Woof')",
    ),
    ("super vs self", DEF_ANIMALS + "Dog new describe", "'generic/Woof'"),
    ("override superclass", DEF_ANIMALS + "Dog superclass", "Animal"),
    (
        "custom error handled",
        DEF_MYERROR + "[MyError signal: 'm'] on: MyError do: [:e | e messageText]",
        "'m'",
    ),
    (
        "custom error caught as Error",
        DEF_MYERROR + "[MyError new signal] on: Error do: [:e | e class]",
        "MyError",
    ),
    ("custom error superclass", DEF_MYERROR + "MyError superclass", "Error"),
    (
        "custom error messageText override",
        DEF_MYERROR
        + "MyError compile: "
        + st("messageText ^'custom'")
        + ". [MyError signal] on: MyError do: [:e | e messageText]",
        "'custom'",
    ),
    (
        "custom error with state",
        "Error subclass: #CodeError instanceVariableNames: 'code' classVariableNames: '' "
        "package: 'Demo'. CodeError compile: 'code ^code'. "
        "CodeError compile: 'code: c code := c'. "
        "[CodeError new code: 42; signal] on: CodeError do: [:e | e code]",
        "42",
    ),
]


@pytest.mark.parametrize(("code", "expected"), params(SESSION_CLASSES))
def test_session_classes(code: str, expected: str) -> None:
    check_print(code, expected)


# --------------------------------------------------------------------------- unhandled errors

UNHANDLED_ERRORS = [
    ("1/0", "ZeroDivide"),
    ("1 // 0", "ZeroDivide"),
    ("7 \\\\ 0", "ZeroDivide"),
    ("2.0 / 0", "ZeroDivide"),
    ("nil foo", "MessageNotUnderstood"),
    ("Object new bar", "MessageNotUnderstood"),
    ("3 zork", "MessageNotUnderstood"),
    ("3 + nil", "MessageNotUnderstood"),
    ("nil + 1", "MessageNotUnderstood"),
    ("'abc' foo: 1 bar: 2", "MessageNotUnderstood"),
    ("Object foo", "MessageNotUnderstood"),
    ("3 max: 4 max: 5", "MessageNotUnderstood"),
    ("3 = 1 + 2", "MessageNotUnderstood"),
    ("#(1 2) at: 3", "SubscriptOutOfBounds"),
    ("#(1 2) at: 0", "SubscriptOutOfBounds"),
    ("'abc' at: 10", "SubscriptOutOfBounds"),
    ("Dictionary new at: #missing", "KeyNotFound"),
    ("Dictionary new removeKey: #missing", "KeyNotFound"),
    ("#(1 2 3) detect: [:x | x > 5]", "NotFound"),
    ("Error signal: 'x'", "Error"),
    ("Error new signal", "Error"),
    ("self error: 'oops'", "Error"),
    ("ZeroDivide new signal", "ZeroDivide"),
    ("[Error signal: 'x'] ensure: [nil]", "Error"),
    ("[1/0] ifCurtailed: [nil]", "ZeroDivide"),
    ("[Error signal: 'inner'] on: ZeroDivide do: [:e | 0]", "Error"),
    ("[nil foo] on: ZeroDivide do: [:e | 0]", "MessageNotUnderstood"),
    ("[1/0] on: ZeroDivide do: [:e | e pass]", "ZeroDivide"),
    ("[1/0] on: ZeroDivide do: [:e | nil foo]", "MessageNotUnderstood"),
    ("| a | a := 0. 10 / a", "ZeroDivide"),
    ("custom error unhandled", DEF_MYERROR + "MyError signal: 'm'", "MyError"),
    (
        "custom error not caught by other class",
        DEF_MYERROR + "[MyError signal: 'm'] on: ZeroDivide do: [:e | 1]",
        "MyError",
    ),
    (
        "session class missing method",
        DEF_ACCOUNT + "Account new withdraw: 5",
        "MessageNotUnderstood",
    ),
    # error class not pinned (differs between releases), only that the evaluation fails
    ("[:x | x] value", None),
    ("[:x | x] value: 1 value: 2", None),
    ("OrderedCollection new removeFirst", None),
    ("#() first", None),
    ("3 at: 1", None),
]


@pytest.mark.parametrize(("code", "error_class"), params(UNHANDLED_ERRORS))
def test_unhandled_errors(code: str, error_class: str | None) -> None:
    outcome = run(code)
    assert outcome.has_error, f"{code!r} answered {outcome.print_string!r}"
    if error_class is not None:
        assert outcome.error_class == error_class


ERROR_MESSAGES = [
    ("Error signal: 'boom'", "boom"),
    ("Error new signal: 'bang'", "bang"),
    ("ZeroDivide new signal: 'zd'", "zd"),
    ("self error: 'oops'", "oops"),
    ("custom error message", DEF_MYERROR + "MyError signal: 'custom'", "custom"),
]


@pytest.mark.parametrize(("code", "message"), params(ERROR_MESSAGES))
def test_unhandled_error_messages(code: str, message: str) -> None:
    outcome = run(code)
    assert outcome.has_error
    assert outcome.error_message == message


# --------------------------------------------------------------------------- transcript


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


TRANSCRIPT = [
    ("Transcript show: 'hi'", "hi"),
    ("Transcript show: 'hi'; cr", "hi\n"),
    ("Transcript show: 3 printString", "3"),
    ("Transcript show: 'a'; show: 'b'", "ab"),
    ("Transcript show: 'a' , 'b'", "ab"),
    ("Transcript show: 'a'; space; show: 'b'", "a b"),
    ("Transcript show: 'a'; tab; show: 'b'", "a\tb"),
    ("Transcript show: 42 printString; cr; show: 'end'", "42\nend"),
    ("Transcript show: 'it''s'", "it's"),
    (
        "#(1 2 3) do: [:x | Transcript show: x printString] separatedBy: [Transcript show: ',']",
        "1,2,3",
    ),
    ("1 to: 3 do: [:i | Transcript show: i printString]", "123"),
    ("[Transcript show: 'body'] ensure: [Transcript show: '+ensure']", "body+ensure"),
    ("[1/0] on: ZeroDivide do: [:e | Transcript show: 'caught']", "caught"),
    ("3 + 4", ""),
    (
        "method writes transcript",
        DEF_ACCOUNT
        + "Account compile: "
        + st("log Transcript show: 'logged'")
        + ". Account new log",
        "logged",
    ),
]


@pytest.mark.parametrize(("code", "expected"), params(TRANSCRIPT))
def test_transcript(code: str, expected: str) -> None:
    outcome = run(code)
    assert not outcome.has_error, f"{code!r}: {outcome.error_class}"
    assert _lf(outcome.transcript) == expected


def test_transcript_does_not_change_the_result() -> None:
    outcome = run("Transcript show: 'x'. 42")
    assert outcome.print_string == "42"
    assert outcome.transcript == "x"


# --------------------------------------------------------------------------- syntax errors

SYNTAX_ERRORS = [
    ("1 +", None),
    ("(1 + 2", None),
    ("[1 + 2", None),
    ("{1. 2", None),
    ("#(1 2", None),
    ("'unterminated", None),
    ("[:x x]", None),
    ("x := := 3", None),
    ("| a b", None),
    ("3 foo:", None),
    ("1 + + 2", None),
    (")", None),
    ("1 2", None),
    ("#(1 2)]", None),
    ("^", None),
    ("'a' ,", None),
]


@pytest.mark.parametrize(("code", "_unused"), params(SYNTAX_ERRORS))
def test_syntax_errors(code: str, _unused: None) -> None:
    with pytest.raises(SmalltalkSyntaxError) as info:
        run(code)
    assert isinstance(info.value.line, int)
    assert isinstance(info.value.column, int)
    assert isinstance(info.value.hint, str)


def test_syntax_error_reports_the_later_line() -> None:
    with pytest.raises(SmalltalkSyntaxError) as first:
        run("3 +")
    with pytest.raises(SmalltalkSyntaxError) as second:
        run("3 + 4.\n5 +")
    assert second.value.line > first.value.line
