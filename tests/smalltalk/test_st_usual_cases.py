"""Usual cases: a send to a system class's primitive whose receiver and arguments are of
the common kinds is written into its send site, and a chain of them keeps the Strings in
between as Python strs (nodes/smalltalk/usual_sends.py).

Each must answer what the primitive answers, with the same class, for every receiver:
here the written-in code is compared with `perform:`, which always sends."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from st_support import ps

from nodes.smalltalk import Image, LimitExceeded, Limits
from nodes.smalltalk.primitives._registry import (
    USUAL_CASES,
    UsualCase,
    _check_usual_case,
    install,
)

# (receiver, selector, arguments): Smalltalk source of each. The receivers take in the
# usual case and each way out of it: non-ASCII byte text, a WideString, a Symbol, an
# Integer too large for the written-in printString, an argument of another kind.
SENDS = [
    *[(rcv, sel, ()) for rcv in ("'hello'", "'h\u00e9llo'", "'\u0100bc'", "#sym", "''")
      for sel in ("size", "reversed", "reverse", "asUppercase", "asLowercase")],
    ("'stra\u00dfe'", "asUppercase", ()),
    ("'abc'", ",", ("'def'",)),
    ("'abc'", ",", ("'\u0100'",)),
    ("'abc'", ",", ("#sym",)),
    ("'\u0100'", ",", ("'abc'",)),
    ("'abc'", "indexOf:", ("$b",)),
    ("'abc'", "indexOf:", ("$z",)),
    ("'abc'", "indexOf:", ("3",)),
    ("'item12'", "copyReplaceAll:with:", ("'item'", "'entry-'")),
    ("'item12'", "copyReplaceAll:with:", ("''", "'x'")),
    ("'item12'", "copyReplaceAll:with:", ("'item'", "'\u0100'")),
    ("'aaa'", "copyReplaceAll:with:", ("'a'", "'aa'")),
    *[(rcv, sel, ()) for rcv in ("42", "-7", "0", "999999999999999999", "1000000000000000000",
                                  "(2 raisedTo: 70)", "3/4", "2.5")
      for sel in ("printString", "displayString", "asString")],
]


def _keyword(selector: str, args: tuple[str, ...]) -> str:
    if not args:
        return selector
    if not selector[0].isalpha():
        return f"{selector} {args[0]}"
    parts = selector.split(":")[:-1]
    return " ".join(f"{part}: {arg}" for part, arg in zip(parts, args, strict=True))


def _perform(selector: str, args: tuple[str, ...]) -> str:
    return f"perform: #{selector}" + "".join(f" with: {arg}" for arg in args)


@pytest.mark.parametrize(("rcv", "selector", "args"), SENDS)
def test_a_written_in_send_answers_what_the_primitive_answers(
    rcv: str, selector: str, args: tuple[str, ...]
) -> None:
    sent = f"({rcv}) {_keyword(selector, args)}"
    performed = f"({rcv}) {_perform(selector, args)}"
    for probe in ("", " class"):
        assert ps(f"({sent}){probe}") == ps(f"({performed}){probe}"), sent


def test_every_selector_with_a_usual_case_is_covered_here() -> None:
    install()
    covered = {selector for _rcv, selector, _args in SENDS} | {"nextPutAll:", "nextPut:"}
    assert set(USUAL_CASES) <= covered


def test_a_write_stream_takes_its_usual_case_with_any_argument() -> None:
    code = (
        "| ws | ws := WriteStream on: String new. "
        "ws nextPutAll: 'ab'; nextPut: $c; nextPutAll: #de; nextPutAll: 'f\u0100'. "
        "{ws contents. ws contents class. (ws nextPutAll: 'x') class. "
        "[ws nextPut: 3] on: Error do: [:e | e messageText]}"
    )
    expected = (
        "an Array('abcdef\u0100' WideString ByteString 'Improper store into indexable object')"
    )
    assert ps(code) == expected


def test_a_string_literal_answered_by_a_written_in_call_is_a_fresh_copy() -> None:
    # nextPutAll: answers its argument: the site passes a shared String and swaps it.
    code = (
        "| ws a b | ws := WriteStream on: String new. "
        "a := ws nextPutAll: 'lit'. a at: 1 put: $X. "
        "b := ws nextPutAll: 'lit'. {a. b. a == b}"
    )
    assert ps(code) == "#('Xit' 'lit' false)"


def test_a_session_subclass_of_string_is_sent_to() -> None:
    image = Image.new()
    ps("String subclass: #MyString", image)
    ps("MyString compile: 'reversed ^''mine''. '", image)
    ps("MyString compile: 'size ^42'", image)
    assert ps("(MyString new: 3) reversed", image) == "'mine'"
    assert ps("(MyString new: 3) size", image) == "42"
    # in a chain too: the inner send answers a MyString, not text
    assert ps("(MyString new: 3) reversed size", image) == "4"
    assert ps("((MyString new: 3) , 'ab') reversed size", image) == "5"


# (first receiver, its sends in order): each a chain the compiler keeps as text in
# between; the reference sends each message with perform:, which is never written in.
CHAINS: list[tuple[str, list[tuple[str, tuple[str, ...]]]]] = [
    ("'item12'", [("copyReplaceAll:with:", ("'item'", "'entry-'")), ("reversed", ()),
                  ("asUppercase", ())]),
    ("'h\u00e9llo'", [(",", ("'x'",)), ("reversed", ()), ("asUppercase", ())]),
    ("'abc'", [("copyReplaceAll:with:", ("'b'", "'\u0100'")), ("reversed", ()), ("size", ())]),
    ("'abc'", [(",", ("'\u0100'",)), ("reversed", ())]),
    ("'abc'", [("copyReplaceAll:with:", ("'b'", "'\u0100'")), ("reverse", ()), (",", ("'d'",))]),
    ("'ab'", [(",", ("'cd'",)), ("reversed", ()), ("reversed", ()), (",", ("'e'",))]),
    ("'ab'", [(",", ("'c'",)), ("indexOf:", ("$c",))]),
    ("'ab'", [(",", ("'c'",)), ("indexOf:", ("3",))]),
    ("12", [("printString", ()), (",", ("'x'",)), ("size", ())]),
    ("''", [(",", ("''",)), ("reversed", ()), ("size", ())]),
    ("'abc'", [("copyReplaceAll:with:", ("''", "'x'")), ("reversed", ())]),
    ("'abc'", [(",", ("#def",)), ("reversed", ()), ("asUppercase", ())]),
    ("'stra\u00dfe'", [("reversed", ()), ("asUppercase", ()), ("asLowercase", ())]),
]


@pytest.mark.parametrize(("base", "sends"), CHAINS)
def test_a_chain_answers_what_its_sends_one_by_one_answer(
    base: str, sends: list[tuple[str, tuple[str, ...]]]
) -> None:
    chain = reference = f"({base})"
    for selector, args in sends:
        chain = f"({chain} {_keyword(selector, args)})"
        reference = f"({reference} {_perform(selector, args)})"
    assert ps(f"{{{chain}. {chain} class}}") == ps(f"{{{reference}. {reference} class}}")


def test_written_in_sends_are_charged_to_the_heap_limit() -> None:
    image = Image.new()
    code = "| s | s := 'abc'. 1 to: 2000 do: [:i | s reversed]. 0"
    with pytest.raises(LimitExceeded) as caught:
        image.evaluate(code, limits=Limits(max_objects=1000))
    assert caught.value.kind == "heap"
    code = "| s | s := 'abc'. 1 to: 2000 do: [:i | s , s]. 0"
    with pytest.raises(LimitExceeded):
        image.evaluate(code, limits=Limits(max_objects=1000))


def test_a_chain_makes_only_its_answer() -> None:
    # 600 iterations, one String each: the reversed Strings in between are never made.
    code = "| s | s := 'abc'. 1 to: 600 do: [:i | s reversed asUppercase]. 0"
    assert ps(code, max_objects=1000) == "0"
    with pytest.raises(LimitExceeded):
        Image.new().evaluate(code.replace("600", "1100"), limits=Limits(max_objects=1000))


def test_a_long_answer_still_meets_the_string_limit() -> None:
    code = "| s | s := 'abcdefghij'. 1 to: 5 do: [:i | s := s , s]. s size"
    assert ps(code) == "320"
    with pytest.raises(LimitExceeded) as caught:
        Image.new().evaluate(code, limits=Limits(max_string=100))
    assert caught.value.kind == "string"


def test_install_refuses_a_usual_case_of_a_primitive_the_class_does_not_find() -> None:
    install()
    size = USUAL_CASES["size"][0]
    with pytest.raises(TypeError, match="not the primitive"):
        _check_usual_case(size, "size", lambda it, rcv, args: 0)
    with pytest.raises(TypeError, match="argument kinds"):
        _check_usual_case(UsualCase("ByteString", (), "0"), "indexOf:", lambda *a: 0)


# ---------------------------------------------------------------------- differential

_CHARS = "ab-I i\u00e9\u00df\u0100"
_TEXT = st.text(alphabet=_CHARS, max_size=5)
_STRING = _TEXT.map(lambda text: f"'{text}'")
_RECEIVER = st.one_of(
    _STRING,
    st.text(alphabet="abI", min_size=1, max_size=4).map(lambda text: f"#{text}"),
    st.integers(-10**20, 10**20).map(lambda value: f"({value})"),
)
_MESSAGE = st.one_of(
    st.sampled_from([("reversed", ()), ("reverse", ()), ("asUppercase", ()),
                     ("asLowercase", ()), ("size", ()), ("printString", ()),
                     ("displayString", ()), ("asString", ())]),
    st.tuples(st.just(","), st.tuples(st.sampled_from(["'x\u0100'", "'\u00e9'", "#sym", "3"]))),
    st.tuples(st.just(","), st.tuples(_STRING)),
    st.tuples(st.just("indexOf:"), st.tuples(st.sampled_from(["$a", "$-", "$\u0100", "7"]))),
    st.tuples(st.just("copyReplaceAll:with:"), st.tuples(_STRING, _STRING)),
    st.tuples(st.just("copyReplaceAll:with:"), st.tuples(st.just("'a'"), st.just("'\u0100'"))),
)


def _outcome(code: str) -> tuple[bool, str | None, str]:
    outcome = Image.new().evaluate(code)
    return outcome.has_error, outcome.error_class, outcome.print_string


# (the first evaluation in a process raises the recursion limit, which hypothesis notes)
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_RECEIVER, st.lists(_MESSAGE, min_size=1, max_size=4))
def test_any_chain_answers_what_perform_answers(
    base: str, sends: list[tuple[str, tuple[str, ...]]]
) -> None:
    """Random receivers (ASCII, Latin-1, wide, Symbols, Integers small and large) and
    random chains of the messages with usual cases, against perform: one by one: the
    same answer, class and error."""
    chain = reference = f"({base})"
    for selector, args in sends:
        chain = f"({chain} {_keyword(selector, args)})"
        reference = f"({reference} {_perform(selector, args)})"
    probe = "{{{0}. {0} class}}"
    assert _outcome(probe.format(chain)) == _outcome(probe.format(reference)), chain


def test_a_written_in_printstring_meets_the_string_limit_as_the_primitive_does() -> None:
    code = "123456789 printString"
    with pytest.raises(LimitExceeded) as caught:
        Image.new().evaluate(code, limits=Limits(max_string=5))
    assert caught.value.kind == "string"
    with pytest.raises(LimitExceeded):
        Image.new().evaluate(f"{code[:-12]} perform: #printString", limits=Limits(max_string=5))
    assert ps(code, max_string=9) == "'123456789'"


# ---------------------------------------------------------------------- text arguments

TEXT_ARGUMENTS = [
    "'n = ' , 42 printString",
    "'a' , 'bc' reversed",
    "'a' , #sym reversed",
    "'a' , 3.5 printString",
    "'a' , (2 raisedTo: 70) printString",
    "'a' , 'x\u0100' reversed",
    "'a\u0100' , 'xy' asUppercase",
    "#sym , 7 printString",
    "3 , 4 printString",
    "('ab' , 'cd' reversed) , 5 printString",
]


@pytest.mark.parametrize("code", TEXT_ARGUMENTS)
def test_a_string_argument_answered_by_a_usual_case_is_as_if_made(code: str) -> None:
    # The argument's String is never made while both sends take their usual cases.
    rcv, _, arg = code.rpartition(" , ")
    arg_rcv, _, arg_selector = arg.rpartition(" ")
    reference = f"({rcv}) perform: #, with: (({arg_rcv}) perform: #{arg_selector})"
    probe = "{{{0}. ({0}) class}}"
    assert _outcome(probe.format(code)) == _outcome(probe.format(reference)), code


STREAM_WRITES = [
    ("String new", "ws nextPutAll: 42 printString; nextPutAll: 'xy' reversed"),
    ("String new", "ws nextPutAll: 'x\u0100' reversed. ws nextPutAll: 3 printString"),
    ("String new", "ws nextPutAll: 3.5 printString; nextPutAll: #sym reversed"),
    ("Array new", "ws nextPutAll: 12 printString; nextPutAll: 'ab' reversed"),
    ("String new", "ws nextPutAll: (2 raisedTo: 70) printString"),
]


@pytest.mark.parametrize(("collection", "writes"), STREAM_WRITES)
def test_a_stream_written_a_usual_case_answer_gets_its_text(collection: str, writes: str) -> None:
    code = "| ws | ws := WriteStream on: {0}. {1}. {{ws contents. ws position}}"
    performed = writes.replace("nextPutAll: ", "perform: #nextPutAll: with: ")
    assert _outcome(code.format(collection, writes)) == _outcome(
        code.format(collection, performed))


def test_a_used_answer_of_nextputall_is_still_its_argument_string() -> None:
    code = (
        "| ws a | ws := WriteStream on: String new. a := ws nextPutAll: 42 printString. "
        "{a. a class. ws contents. ([ (ReadStream on: 'x') nextPutAll: 1 printString ] "
        "on: Error do: [:e | e messageText])}"
    )
    assert ps(code) == (
        "an Array('42' ByteString '42' 'This message is not appropriate for this object')"
    )
    # (its answer unused: the usual case's test still refuses a ReadStream)
    unused = "[(ReadStream on: 'x') nextPutAll: 1 printString. nil] on: Error do: [:e | 0]"
    assert ps(unused) == "0"


def test_an_argument_string_never_made_is_not_charged() -> None:
    # 1,100 numbers written, under a limit of 1,000 objects: their Strings are never made.
    loop = "| ws s | ws := WriteStream on: String new. 1 to: 1100 do: [:i | {0}]. ws contents size"
    digits = sum(len(str(i)) for i in range(1, 1101))
    assert ps(loop.format("ws nextPutAll: i printString"), max_objects=1000) == str(digits)
    # Through a variable, each String is made, and charged.
    with pytest.raises(LimitExceeded):
        Image.new().evaluate(loop.format("s := i printString. ws nextPutAll: s"),
                             limits=Limits(max_objects=1000))


@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_RECEIVER, _RECEIVER, _MESSAGE.filter(lambda m: not m[1]))
def test_any_text_argument_answers_what_perform_answers(
    base: str, arg_base: str, message: tuple[str, tuple[str, ...]]
) -> None:
    selector = message[0]
    code = f"({base}) , (({arg_base}) {selector})"
    reference = f"({base}) perform: #, with: (({arg_base}) perform: #{selector})"
    probe = "{{{0}. ({0}) class}}"
    assert _outcome(probe.format(code)) == _outcome(probe.format(reference)), code
    stream = ("| ws r | ws := WriteStream on: String new. r := [ws nextPutAll: {0}. nil] "
              "on: Error do: [:e | e class]. {{r. ws contents}}")
    assert _outcome(stream.format(f"(({arg_base}) {selector})")) == _outcome(
        stream.format(f"(({arg_base}) perform: #{selector})")), code
