"""What the compiler to Python code must keep of Smalltalk's meaning: non-local return,
SmallInteger overflow, limits (depth, steps, interrupts) inside generated loops and
calls, method caches that follow recompilation, doesNotUnderstand:, and exceptions
unwinding through generated activations. Each test states one rule."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from st_support import ps

from nodes.smalltalk import Image, LimitExceeded, Limits


def limit_kind(image: Image, code: str, **limits: Any) -> str:
    with pytest.raises(LimitExceeded) as caught:
        image.evaluate(code, limits=Limits(**limits))
    return caught.value.kind


def with_class(definitions: str) -> Image:
    image = Image.new()
    ps(definitions, image)
    return image


# ---------------------------------------------------------------------- non-local return


def test_caret_in_a_block_nested_in_blocks_returns_from_the_method() -> None:
    image = with_class(
        "Object subclass: #Finder. "
        "Finder compile: 'pairIn: rows summingTo: n "
        "rows do: [:row | row do: [:a | row do: [:b | a + b = n ifTrue: [^{a. b}]]]]. ^nil'"
    )
    assert ps("Finder new pairIn: #(#(1 2) #(3 4 5)) summingTo: 9", image) == "#(4 5)"
    assert ps("Finder new pairIn: #(#(1 2)) summingTo: 9", image) == "nil"


def test_caret_leaves_only_its_own_home_activation() -> None:
    image = with_class(
        "Object subclass: #R. "
        "R compile: 'inner #(1 2 3) do: [:x | x = 2 ifTrue: [^x * 100]]. ^0'. "
        "R compile: 'outer | r | r := OrderedCollection new. "
        "#(1 2) do: [:i | r add: self inner + i]. ^r'"
    )
    assert ps("R new outer", image) == "an OrderedCollection(201 202)"


def test_caret_from_a_block_whose_method_returned_is_block_cannot_return() -> None:
    image = with_class(
        "Object subclass: #Maker. Maker compile: 'make ^[:x | [:y | ^x + y]]'"
    )
    outcome = image.evaluate("((Maker new make) value: 1) value: 2")
    assert outcome.has_error and outcome.error_class == "BlockCannotReturn"


def test_caret_in_a_doit_block_ends_the_evaluation_from_inside_a_method() -> None:
    image = with_class("Object subclass: #Each. Each compile: 'each: b #(1 2 3) do: b'")
    assert ps("Each new each: [:x | x = 2 ifTrue: [^#stopped]]. #finished", image) == "#stopped"


# ---------------------------------------------------------------------- integers


def test_small_integer_overflows_into_large_integers_inside_loops() -> None:
    assert ps("| x | x := SmallInteger maxVal - 2. 1 to: 5 do: [:i | x := x + 1]. x class") == (
        "LargePositiveInteger"
    )
    assert ps("| x | x := SmallInteger minVal + 2. 5 timesRepeat: [x := x - 1]. x class") == (
        "LargeNegativeInteger"
    )
    assert ps("| x | x := 1. 1 to: 30 do: [:i | x := x * 1000]. x = (10 raisedTo: 90)") == "true"
    assert ps("| x | x := SmallInteger maxVal + 1. (x - 1) class") == "SmallInteger"


def test_integer_fast_paths_fall_back_to_sends_for_other_operands() -> None:
    assert ps("(1/2) + 1") == "(3/2)"
    assert ps("| s | s := 0. 1 to: 3 do: [:i | s := s + (i / 2)]. s") == "3"
    assert ps("1.5 < 2") == "true"
    assert ps("| s | s := 0. 1 to: 2 by: 0.5 do: [:x | s := s + x]. s") == "4.5"
    # A zero divisor is not a Python error: the send signals ZeroDivide.
    assert Image.new().evaluate("7 \\\\ 0").error_class == "ZeroDivide"
    assert Image.new().evaluate("7 // 0").error_class == "ZeroDivide"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("3 and: 4", "#(14 3 false 12 3)"),
        ("(SmallInteger maxVal) and: 1", None),  # LargeInteger sums, still Python ints
        ("2.5 and: 1", "#(7.0 2 false 2.5 3)"),
        ("(1/2) and: (1/3)", "an Array((5/3) 1 false (1/6) 2)"),
        ("0 and: 0", "#(0 1 true 0 2)"),
    ],
)
def test_a_method_whose_arguments_are_tested_for_small_integers_answers_alike_for_all(
    args: str, expected: str | None
) -> None:
    # The method has a copy for int arguments (chosen on entry, its fast paths untested)
    # beside the general one: both must answer what the sends answer.
    image = with_class(
        "Object subclass: #K. K compile: 'mix: a and: b "
        "| c | c := a + b. ^{c * 2. a // 1 max: 1. a = b. a * b. c < 3 ifTrue: [2] ifFalse: [3]}'"
    )
    answer = ps(f"K new mix: {args}", image)
    if expected is None:
        big = 2**60 - 1
        assert answer == f"#({(big + 1) * 2} {big} false {big} 3)", answer
    else:
        assert answer == expected
    assert Image.new().evaluate("Object subclass: #K. K compile: 'twice: a ^a + a'. "
                                "K new twice: 'x'").error_class == "MessageNotUnderstood"


# ---------------------------------------------------------------------- limits


def test_depth_limit_counts_method_and_block_activations() -> None:
    image = with_class(
        "Object subclass: #D. D compile: 'down: n ^n = 0 ifTrue: [0] ifFalse: [self down: n - 1]'"
    )
    assert ps("D new down: 40", image, max_depth=50) == "0"
    assert limit_kind(image, "D new down: 60", max_depth=50) == "depth"
    blocks = "| b | b := nil. b := [:n | n = 0 ifTrue: [0] ifFalse: [b value: n - 1]]. b value: 60"
    assert limit_kind(image, blocks, max_depth=50) == "depth"


def test_a_method_returning_from_its_leading_statements_that_send_nothing_counts_no_depth() -> None:
    # `n = 0 ifTrue: [^0]` sends nothing (SmallInteger fast path), so the activation
    # that returns there, the innermost one, is not counted: 50 nested activations
    # above it fit a limit of 50, 51 do not.
    image = with_class(
        "Object subclass: #G. G compile: 'down: n n = 0 ifTrue: [^0]. ^self down: n - 1'"
    )
    assert ps("G new down: 50", image, max_depth=50) == "0"
    assert limit_kind(image, "G new down: 51", max_depth=50) == "depth"
    # Without the fast path (a Float), the comparison is a real send from that uncounted
    # part; its own activation counts, and the answer is the same.
    fib = "fib: n n < 2 ifTrue: [^n]. ^(self fib: n - 1) + (self fib: n - 2)"
    image = with_class(f"Object subclass: #H. H compile: '{fib}'")
    assert ps("H new fib: 10.0", image) == "55.0"
    assert ps("H new fib: 20", image, max_depth=19) == "6765"
    assert limit_kind(image, "H new fib: 22", max_depth=19) == "depth"


def test_depth_is_restored_when_returns_and_exceptions_unwind_activations() -> None:
    image = with_class(
        "Object subclass: #U. "
        "U compile: 'find: n #(1) do: [:x | n = 0 ifTrue: [^0]. ^self find: n - 1]'. "
        "U compile: 'fail: n n = 0 ifTrue: [^1/0]. ^self fail: n - 1'"
    )
    # Each round leaves 20 activations by a ^ or by a handled error; 500 rounds would
    # exceed a depth limit of 100 many times over if any activation were not undone.
    assert ps("500 timesRepeat: [U new find: 20]. #ok", image, max_depth=100) == "#ok"
    loop = "500 timesRepeat: [[U new fail: 20] on: ZeroDivide do: [:e | e return: 0]]. #ok"
    assert ps(loop, image, max_depth=100) == "#ok"


def test_step_limit_stops_generated_loops_and_leaf_blocks() -> None:
    image = Image.new()
    assert limit_kind(image, "1 to: 100000000 do: [:i | ]", max_steps=10_000) == "steps"
    loop = "| i | i := 0. [i < 100000000] whileTrue: [i := i + 1]"
    assert limit_kind(image, loop, max_steps=10_000) == "steps"
    inject = "(1 to: 100000000) inject: 0 into: [:a :b | a + b]"
    assert limit_kind(image, inject, max_steps=10_000) == "steps"
    ps("Object subclass: #F. F compile: 'fib: n n < 2 ifTrue: [^n]. "
       "^(self fib: n - 1) + (self fib: n - 2)'", image)
    # Recursion without any loop: method entries count too.
    assert limit_kind(image, "F new fib: 60", max_steps=10_000) == "steps"


def test_steps_count_activations_and_loop_iterations() -> None:
    outcome = Image.new().evaluate("| s | s := 0. 1 to: 1000 do: [:i | s := s + i]. s")
    assert outcome.print_string == "500500"
    assert 1000 <= outcome.steps <= 1010


@pytest.mark.parametrize(
    "code",
    [
        "[true] whileTrue",
        "| i | i := 0. [i >= 0] whileTrue: [i := i + 1]",
        "(1 to: 1000000000) inject: 0 into: [:a :b | a + b]",
        "Object subclass: #Fib. Fib compile: 'fib: n n < 2 ifTrue: [^n]. "
        "^(self fib: n - 1) + (self fib: n - 2)'. Fib new fib: 60",
    ],
)
def test_an_interrupt_from_another_thread_stops_the_evaluation(code: str) -> None:
    event = threading.Event()
    result: list[str] = []

    def evaluate() -> None:
        try:
            Image.new().evaluate(code, interrupt=event, limits=Limits(max_seconds=600))
            result.append("finished")
        except LimitExceeded as err:
            result.append(err.kind)

    worker = threading.Thread(target=evaluate)
    worker.start()
    time.sleep(0.05)
    event.set()
    worker.join(timeout=60)
    assert result == ["interrupted"]


# ---------------------------------------------------------------------- caches


def test_recompiling_a_method_takes_effect_at_a_send_site_already_used() -> None:
    image = with_class("Object subclass: #K. K compile: 'f ^1'")
    code = (
        "| o r | o := K new. r := OrderedCollection new. "
        "1 to: 3 do: [:i | r add: o f. i = 2 ifTrue: [K compile: 'f ^2']]. r"
    )
    assert ps(code, image) == "an OrderedCollection(1 1 2)"


def test_an_override_added_to_a_subclass_takes_effect_at_a_used_send_site() -> None:
    image = with_class("Object subclass: #A. A subclass: #B. A compile: 'f ^#a'")
    code = (
        "| o r | o := B new. r := OrderedCollection new. "
        "1 to: 2 do: [:i | r add: o f. B compile: 'f ^#b']. r"
    )
    assert ps(code, image) == "an OrderedCollection(#a #b)"


def test_adding_an_instance_variable_recompiles_methods_that_use_slots() -> None:
    image = with_class(
        "Object subclass: #P instanceVariableNames: 'y' classVariableNames: '' package: 'T'. "
        "P compile: 'y ^y'. P compile: 'y: v y := v'. p := P new y: 5"
    )
    ps("Object subclass: #P instanceVariableNames: 'x y' classVariableNames: '' package: 'T'",
       image)
    assert ps("p y", image) == "5"
    assert ps("(P new y: 7) y", image) == "7"


def test_a_rolled_back_recompile_leaves_the_old_method_in_the_caches() -> None:
    image = with_class("Object subclass: #K. K compile: 'f ^1'")
    assert ps("K new f", image) == "1"
    outcome = image.evaluate("K compile: 'f ^2'. K new f. 1/0")
    assert outcome.has_error
    assert ps("K new f", image) == "1"


def test_a_polymorphic_send_site_answers_each_receivers_method() -> None:
    image = with_class(
        "Object subclass: #Sq. Object subclass: #Ci. "
        "Sq compile: 'area ^4'. Ci compile: 'area ^3'"
    )
    code = "((1 to: 6) collect: [:i | (i odd ifTrue: [Sq new] ifFalse: [Ci new]) area]) asArray"
    assert ps(code, image) == "#(4 3 4 3 4 3)"


# ---------------------------------------------------------------------- doesNotUnderstand:


def test_does_not_understand_from_generated_sends() -> None:
    outcome = Image.new().evaluate("| s | s := 0. 1 to: 3 do: [:i | s := s + i foo]. s")
    assert outcome.error_class == "MessageNotUnderstood"
    assert ps("[3 foo: 4 bar: 5] on: MessageNotUnderstood do: [:e | e message arguments]") == (
        "#(4 5)"
    )
    assert ps("[nil foo] on: MessageNotUnderstood do: [:e | e return: 7]") == "7"


def test_a_session_class_may_answer_messages_it_does_not_understand() -> None:
    image = with_class(
        "Object subclass: #Ghost. "
        "Ghost compile: 'doesNotUnderstand: aMessage ^aMessage selector'. "
        "Ghost compile: 'probe ^self vanish: 1'"
    )
    assert ps("Ghost new probe", image) == "#vanish:"
    assert ps("(1 to: 3) collect: [:i | Ghost new boo]", image) == "#(#boo #boo #boo)"


# ---------------------------------------------------------------------- exceptions


def test_exceptions_unwind_through_generated_activations_running_ensure_blocks() -> None:
    image = with_class(
        "Object subclass: #E. "
        "E compile: 'deep: n log: l n = 0 ifTrue: [^Error signal: ''boom'']. "
        "^[self deep: n - 1 log: l] ensure: [l add: n]'"
    )
    code = (
        "| l r | l := OrderedCollection new. "
        "r := [E new deep: 3 log: l] on: Error do: [:e | e messageText]. {r. l asArray}"
    )
    assert ps(code, image) == "#('boom' #(1 2 3))"


def test_resume_continues_a_generated_loop_at_the_signal() -> None:
    code = (
        "| s | s := 0. "
        "[1 to: 5 do: [:i | s := s + (Warning signal: i)]] on: Warning do: [:e | e resume: 10]. s"
    )
    assert ps(code) == "50"


def test_retry_reruns_the_protected_block() -> None:
    code = (
        "| n | n := 0. "
        "[n := n + 1. n < 3 ifTrue: [Error signal]. n] on: Error do: [:e | e retry]"
    )
    assert ps(code) == "3"


# ---------------------------------------------------------------------- shapes of code


def test_control_messages_nested_past_the_inlining_depth_still_run() -> None:
    depth = 12
    code = "| x | x := 0. " + "true ifTrue: [" * depth + "x := 42" + "]" * depth + ". x"
    assert ps(code) == "42"
    loops = "| s | s := 0. " + "1 to: 2 do: [:i | " * depth + "s := s + 1" + "]" * depth + ". s"
    assert ps(loops, max_steps=10**7) == str(2**depth)


def test_arguments_are_evaluated_left_to_right_before_the_send() -> None:
    assert ps("| x | x := 1. {x. x := 2. x}") == "#(1 2 2)"
    assert ps("| x | x := 1. x + (x := 10)") == "11"
    assert ps("| x | x := 1. (Array with: x with: (x := 5) with: x)") == "#(1 5 5)"


def test_blocks_keep_their_own_copies_of_arguments_and_share_captured_temps() -> None:
    assert ps("((1 to: 3) collect: [:i | [i * 10]]) collect: [:b | b value]") == "#(10 20 30)"
    code = "| n inc get | n := 0. inc := [n := n + 1]. get := [n]. inc value. inc value. get value"
    assert ps(code) == "2"


def test_a_send_site_seeing_many_classes_still_answers_each_ones_method() -> None:
    names = [f"C{i}" for i in range(12)]
    image = with_class(
        ". ".join(f"Object subclass: #{n}. {n} compile: 'tag ^#{n.lower()}'" for n in names)
    )
    code = "({" + ". ".join(f"{n} new" for n in names * 2) + "} collect: [:o | o tag]) asArray"
    assert ps(code, image) == "#(" + " ".join(f"#{n.lower()}" for n in names * 2) + ")"


def test_a_send_site_follows_a_method_recompiled_many_times() -> None:
    image = with_class("Object subclass: #K. K compile: 'f ^0'. K compile: 'g ^self f'")
    for i in range(1, 12):
        assert ps(f"K compile: 'f ^{i}'. K new g", image) == str(i)


# ---------------------------------------------------------------------- enumerations inline


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("| s | s := 0. #(1 2 3) do: [:x | s := s + x]. s", "6"),
        ("| s | s := 0. (OrderedCollection withAll: #(4 5)) do: [:x | s := s + x]. s", "9"),
        ("| s | s := 0. (1 to: 10 by: 3) do: [:x | s := s + x]. s", "22"),
        ("| s | s := 0. (1/2 to: 3) do: [:x | s := s + x]. s", "(9/2)"),
        ("| s | s := 0. (3 to: 1) do: [:x | s := s + 1]. s", "0"),
        ("| s | s := 0. (Set withAll: #(3 3 4)) do: [:x | s := s + x]. s", "7"),
        ("| s | s := ''. 'abc' do: [:c | s := s , c asString , '.']. s", "'a.b.c.'"),
        ("#(1 2 3) do: [:x | x]", "#(1 2 3)"),
        ("#(1 2 3) collect: [:x | x * x]", "#(1 4 9)"),
        ("(1 to: 3) collect: [:x | x * 2]", "#(2 4 6)"),
        ("'abc' collect: [:c | c asUppercase]", "'ABC'"),
        ("'abc' collect: [:c | c value]", "#(97 98 99)"),
        ("(OrderedCollection withAll: #(1 2 3 4)) select: [:x | x even]",
         "an OrderedCollection(2 4)"),
        ("(1 to: 6) reject: [:x | x even]", "#(1 3 5)"),
        ("#(3 1 2) asSortedCollection select: [:x | x > 1]", "a SortedCollection(2 3)"),
        ("#(1 2 3) select: [:x | x := 7. true]", "#(1 2 3)"),
        ("#(1 2 3) detect: [:x | x > 1] ifNone: [0]", "2"),
        ("#(1 2 3) detect: [:x | x > 5] ifNone: [#none]", "#none"),
        ("(1 to: 100) inject: 0 into: [:a :b | a + b]", "5050"),
        ("#(1 2 3) inject: 'x' into: [:a :b | a , b printString]", "'x123'"),
        ("(Dictionary new at: 1 put: 2; yourself) collect: [:v | v * 10]",
         "a Dictionary(1->20 )"),
        ("#() inject: 7 into: [:a :b | a + b]", "7"),
        ("#(1 2) collect: [:x | ]", "#(nil nil)"),
        ("#(1 2) do: [:x | | t | t isNil ifFalse: [^#leaked]. t := x]. #ok", "#ok"),
        ("| d | d := Dictionary new. d at: #a put: 1. (d at: #a ifAbsent: [0]) -> "
         "(d at: #b ifAbsent: [0])", "1->0"),
        ("| d | d := Dictionary new. (d at: 'k' ifAbsentPut: [3]) + (d at: 'k' ifAbsentPut: "
         "[4]) + d size", "7"),
        ("| d | d := IdentityDictionary new. d at: 'k' put: 1. d at: 'k' ifAbsent: [#no]", "#no"),
        ("#(5 6) at: 3 ifAbsent: [#none]", "#none"),
        ("#(5 6) at: 2 ifAbsent: [#none]", "6"),
        ("(Dictionary new at: 1 ifAbsent: [])", "nil"),
    ],
)
def test_enumerations_inline_answer_what_the_primitives_answer(code: str, expected: str) -> None:
    assert ps(code) == expected


def test_an_enumeration_inline_reads_the_receiver_and_arguments_once_in_order() -> None:
    code = "| log c | log := OrderedCollection new. " \
        "c := [:x | log add: x. x]. " \
        "((c value: #(1 2)) inject: (c value: 10) into: [:a :b | a + b]) -> log asArray"
    assert ps(code) == "13->#(#(1 2) 10)"


def test_a_session_class_overriding_an_enumeration_gets_the_block() -> None:
    image = with_class(
        "OrderedCollection subclass: #Twice. "
        "Twice compile: 'do: aBlock super do: aBlock. super do: aBlock'. "
        "OrderedCollection subclass: #Plain"
    )
    code = "| s | s := 0. (Twice new add: 1; add: 2; yourself) do: [:x | s := s + x]. s"
    assert ps(code, image) == "6"
    code = "| s | s := 0. (Plain new add: 1; add: 2; yourself) do: [:x | s := s + x]. s"
    assert ps(code, image) == "3"
    # One send site, receivers of both kinds.
    code = (
        "| s | s := 0. {Twice new add: 1; yourself. #(5). Plain new add: 2; yourself} "
        "do: [:c | c do: [:x | s := s + x]]. s"
    )
    assert ps(code, image) == "9"


def test_an_enumeration_sent_to_what_does_not_understand_it_signals() -> None:
    outcome = Image.new().evaluate("3 do: [:x | x]")
    assert outcome.error_class == "MessageNotUnderstood"
    outcome = Image.new().evaluate("#(1 2) select: [:x | x]")
    assert outcome.error_class == "NonBooleanReceiver"


def test_a_caret_in_an_inline_enumeration_returns_from_its_home() -> None:
    image = with_class(
        "Object subclass: #Find. "
        "Find compile: 'first: aCollection aCollection do: [:x | x > 2 ifTrue: [^x]]. ^nil'. "
        "Find compile: 'inBlock: aCollection ^[:c | c do: [:x | x > 1 ifTrue: [^x]]. 0] "
        "value: aCollection'"
    )
    assert ps("Find new first: #(1 2 3 4)", image) == "3"
    assert ps("Find new first: #(1)", image) == "nil"
    assert ps("Find new inBlock: (OrderedCollection withAll: #(1 5 6))", image) == "5"
    assert ps("| r | r := 0. #(1 2 3) do: [:x | x = 2 ifTrue: [^x * 100]]. r") == "200"


def test_each_element_of_an_enumeration_inline_takes_a_step() -> None:
    outcome = Image.new().evaluate("| s | s := 0. (1 to: 1000) do: [:i | s := s + i]. s")
    assert outcome.print_string == "500500"
    assert 1000 <= outcome.steps <= 1010
    image = Image.new()
    code = "(1 to: 100000000) do: [:i | ]"
    assert limit_kind(image, code, max_steps=10_000) == "steps"
    assert limit_kind(image, "(1 to: 10000000) collect: [:i | i]", max_steps=10_000) == "steps"


def test_blocks_made_inside_an_enumeration_inline_persist_and_reload() -> None:
    from tests.smalltalk.test_st_persistence import reload

    image = Image.new()
    ps("| n | n := 5. keep := OrderedCollection new. "
       "#(1 2) do: [:x | keep add: [:k | n := n + k]]. keep size", image)
    loaded = reload(image)
    assert ps("(keep first value: 1) + (keep last value: 10)", loaded) == "22"


def test_dictionary_lookups_inline_hash_keys_as_the_primitives_do() -> None:
    image = with_class(
        "Object subclass: #Key instanceVariableNames: 'n' classVariableNames: 'Hashes' "
        "package: 'T'. "
        "Key class compile: 'n: x ^self new setN: x'. Key compile: 'setN: x n := x'. "
        "Key compile: 'n ^n'. Key compile: '= other ^(other isKindOf: Key) and: [n = other n]'. "
        "Key compile: 'hash Hashes := (Hashes ifNil: [0]) + 1. ^n hash'. "
        "Key class compile: 'hashes ^Hashes'. "
        "Dictionary subclass: #Loud. "
        "Loud compile: 'at: k ifAbsent: aBlock ^#loud'"
    )
    code = (
        "| d | d := Dictionary new. d at: (Key n: 1) put: #one. "
        "{d at: (Key n: 1) ifAbsent: [#none]. d at: (Key n: 2) ifAbsent: [#none]. "
        "d at: (Key n: 3) ifAbsentPut: [#three]. d size. Key hashes}"
    )
    # at:put: hashes once, at:ifAbsent: once each, at:ifAbsentPut: twice (look, then put).
    assert ps(code, image) == "#(#one #none #three 2 5)"
    assert ps("Loud new at: 1 ifAbsent: [0]", image) == "#loud"
    assert ps("| s | s := 0. {Loud new. Dictionary new} do: [:d | "
              "(d at: 1 ifAbsent: [s := s + 1]) ]. s", image) == "1"


def test_a_sort_block_sees_the_pairs_of_a_top_down_merge_sort_in_order() -> None:
    code = (
        "| log s | log := OrderedCollection new. "
        "s := #(5 3 9 1 7 3 8) asSortedCollection: [:a :b | log add: a -> b. a <= b]. "
        "{s asArray. log size. (log first: 6) asArray}"
    )
    expected = "an Array(#(1 3 3 5 7 8 9) 14 an Array(3->9 5->3 5->9 1->7 3->8 1->3))"
    assert ps(code) == expected  # (what main's merge sort answered, comparisons included)


def test_objects_made_in_an_enumeration_inline_count_against_the_allocation_limit() -> None:
    image = Image.new()
    code = "(1 to: 1000000) do: [:i | Array new: 1]"
    assert limit_kind(image, code, max_objects=1000) == "heap"
    code = "| d | d := Dictionary new. (1 to: 1000000) do: [:i | d at: i ifAbsentPut: ['x' copy]]"
    assert limit_kind(image, code, max_objects=1000) == "heap"


# ---------------------------------------------------------------------- shared String literals
# A String literal argument of a primitive that only reads it (`borrows_strings`:
# nextPutAll:, copyReplaceAll:with:, `,`) is passed as a shared object; nothing may tell.


def test_a_string_literal_a_primitive_answers_is_still_a_fresh_mutable_string() -> None:
    code = (
        "| ws r all | ws := WriteStream on: String new. all := OrderedCollection new. "
        "3 timesRepeat: [r := ws nextPutAll: 'abc'. r at: 1 put: $X. all add: r]. "
        "r := ws nextPutAll: 'de'; nextPutAll: 'fg'. r at: 1 put: $Y. all add: r. "
        "r := ws nextPutAll: 'fg'; yourself. "
        "{ws contents. all first == (all at: 2). all asArray. 'abc'. 'fg'. "
        "'abc' copyReplaceAll: 'b' with: 'x'. 'ab' , 'cd'}"
    )
    expected = ("#('abcabcabcdefgfg' false #('Xbc' 'Xbc' 'Xbc' 'Yg') 'abc' 'fg' 'axc' "
                "'abcd')")
    assert ps(code) == expected


def test_a_session_method_at_a_site_that_shares_literals_gets_fresh_strings() -> None:
    image = with_class(
        "Object subclass: #Keeper instanceVariableNames: 'kept' classVariableNames: '' "
        "package: 'T'. "
        "Keeper compile: 'initialize kept := OrderedCollection new'. "
        "Keeper compile: 'kept ^kept'. "
        "Keeper compile: 'nextPutAll: s s at: 1 put: $Z. kept add: s. ^s'. "
        "Object subclass: #Catcher. "
        "Catcher compile: 'doesNotUnderstand: aMessage "
        "aMessage arguments first at: 1 put: $Q. ^aMessage arguments first'"
    )
    code = (
        "| plain keeper catcher caught | plain := WriteStream on: String new. "
        "keeper := Keeper new. catcher := Catcher new. caught := OrderedCollection new. "
        "{plain. plain. keeper. keeper. keeper. catcher. catcher. plain. keeper} do: "
        "[:target | caught add: (target nextPutAll: 'ab')]. "
        "{plain contents. (keeper kept at: 2) == (keeper kept at: 3). caught asArray. 'ab'}"
    )
    # (the site's cache holds each receiver's method in turn, so most sends hit it)
    expected = "#('ababab' false #('ab' 'ab' 'Zb' 'Zb' 'Zb' 'Qb' 'Qb' 'ab' 'Zb') 'ab')"
    assert ps(code, image) == expected


def test_sends_that_share_string_literals_still_count_steps_objects_and_sizes() -> None:
    image = Image.new()
    keep = ("| ws all | ws := WriteStream on: String new. all := OrderedCollection new. "
            "1 to: 100000 do: [:i | all add: (ws nextPutAll: 'abc')]")
    assert limit_kind(image, keep, max_objects=1000) == "heap"
    loop = "| ws | ws := WriteStream on: String new. [ws nextPutAll: 'abc'] repeat"
    assert limit_kind(image, loop, max_steps=10_000) == "steps"
    grow = "| ws | ws := WriteStream on: String new. 1 to: 100000 do: [:i | ws nextPutAll: 'abc']"
    assert limit_kind(image, grow, max_string=70_000) == "string"
    concat = "| s | s := ''. 1 to: 100000 do: [:i | s := s , 'abc']"
    assert limit_kind(image, concat, max_string=1_000) == "string"


def test_strings_answered_by_sends_that_share_literals_persist_and_reload() -> None:
    from tests.smalltalk.test_st_persistence import reload

    image = Image.new()
    ps("ws := WriteStream on: String new. kept := ws nextPutAll: 'abc'. "
       "other := ws nextPutAll: 'abc'. joined := 'x' , 'abc'. kept == other", image)
    loaded = reload(image)
    assert ps("kept at: 1 put: $K. {kept. other. joined. ws contents. kept == other}",
              loaded) == "#('Kbc' 'abc' 'xabc' 'abcabc' false)"
