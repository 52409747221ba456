"""Control flow and closures: non-local return, captured variables, blocks that
outlive their frame, workspace semantics, and the exception machinery (ensure order,
retry, return:, pass, outer, resume:)."""

from __future__ import annotations

from st_support import ps

from nodes.smalltalk import Image


def test_value_of_snippet_is_last_statement_or_return() -> None:
    assert ps("1. 2. 3") == "3"
    assert ps("^1. 2") == "1"
    assert ps("") == "nil"


def test_caret_inside_block_returns_from_whole_evaluation() -> None:
    assert ps("#(1 2 3) do: [:x | x = 2 ifTrue: [^x * 10]]. 0") == "20"
    assert ps("[:x | ^x] value: 7. 99") == "7"


def test_non_local_return_from_method_through_blocks() -> None:
    image = Image.new()
    ps("Object subclass: #Finder", image)
    ps(
        "Finder compile: 'find: n in: coll coll do: [:x | x = n ifTrue: [^#found]]. ^#missing'",
        image,
    )
    assert ps("Finder new find: 2 in: #(1 2 3)", image) == "#found"
    assert ps("Finder new find: 9 in: #(1 2 3)", image) == "#missing"


def test_caret_in_inlined_block_used_as_value() -> None:
    image = Image.new()
    ps("Object subclass: #T", image)
    ps("T compile: 'pick: b | r | r := b ifTrue: [^1] ifFalse: [2]. ^r + 10'", image)
    assert ps("T new pick: true", image) == "1"
    assert ps("T new pick: false", image) == "12"


def test_return_from_dead_method_is_block_cannot_return() -> None:
    image = Image.new()
    ps("Object subclass: #Maker", image)
    ps("Maker compile: 'make ^[:x | ^x]'", image)
    outcome = image.evaluate("(Maker new make) value: 3")
    assert outcome.has_error and outcome.error_class == "BlockCannotReturn"


def test_method_without_caret_answers_self() -> None:
    image = Image.new()
    ps("Object subclass: #S. S compile: 'noop 1 + 1'", image)
    assert ps("s := S new. s noop == s", image) == "true"


def test_closures_capture_variables_not_values() -> None:
    assert ps("| x b | x := 1. b := [x]. x := 2. b value") == "2"
    assert ps("| c | c := 0. #(1 2 3) do: [:e | c := c + e]. c") == "6"


def test_blocks_outlive_their_frame_and_keep_state() -> None:
    image = Image.new()
    ps("Object subclass: #Counter", image)
    ps("Counter compile: 'make | n | n := 0. ^[n := n + 1]'", image)
    assert ps("c := Counter new make. c value. c value. c value", image) == "3"
    assert ps("d := Counter new make. d value", image) == "1"
    assert ps("c value", image) == "4"


def test_each_block_activation_has_its_own_arguments() -> None:
    assert ps("((1 to: 3) collect: [:i | [:x | x + i]]) collect: [:b | b value: 10]") == (
        "#(11 12 13)"
    )
    assert ps(
        "| f | f := nil. f := [:n | n < 2 ifTrue: [1] ifFalse: [n * (f value: n - 1)]]. f value: 10"
    ) == ("3628800")


def test_workspace_variables_persist_and_temporaries_do_not() -> None:
    image = Image.new()
    ps("x := 41", image)
    assert ps("x + 1", image) == "42"
    ps("| t | t := 5", image)
    assert ps("t", image) == "nil"
    assert "t" not in image.dump_workspace()["bindings"]


def test_undefined_variable_answers_nil() -> None:
    assert ps("neverAssigned") == "nil"
    assert ps("neverAssigned isNil") == "true"


def test_inlined_loops_and_conditionals() -> None:
    assert ps("| i | i := 0. [i < 10] whileTrue: [i := i + 1]. i") == "10"
    assert ps("| s | s := 0. 1 to: 10 by: 2 do: [:k | s := s + k]. s") == "25"
    assert ps("| s | s := 0. 10 to: 1 by: -1 do: [:k | s := s * 10 + k]. s") == "10987654321"
    assert ps("3 > 2 ifTrue: ['y'] ifFalse: ['n']") == "'y'"
    assert ps("nil ifNil: [1] ifNotNil: [:v | v]") == "1"
    assert ps("5 ifNotNil: [:v | v * 2]") == "10"


def test_non_boolean_receiver_of_inlined_conditional() -> None:
    outcome = Image.new().evaluate("3 ifTrue: [1]")
    assert outcome.error_class == "NonBooleanReceiver"


def test_ensure_runs_after_handler_in_pharo_order() -> None:
    code = (
        "| log | log := OrderedCollection new. "
        "[[log add: #body. 1/0] ensure: [log add: #ensure]] "
        "on: ZeroDivide do: [:e | log add: #handler]. log"
    )
    assert ps(code) == "an OrderedCollection(#body #handler #ensure)"


def test_ensure_runs_on_normal_and_non_local_exit() -> None:
    image = Image.new()
    ps("log := OrderedCollection new", image)
    ps("[log add: 1] ensure: [log add: 2]", image)
    ps("[:x | [^x] ensure: [log add: 3]] value: 0", image)
    assert ps("log", image) == "an OrderedCollection(1 2 3)"


def test_if_curtailed_only_on_abnormal_exit() -> None:
    assert ps("| log | log := OrderedCollection new. [1] ifCurtailed: [log add: 1]. log") == (
        "an OrderedCollection()"
    )
    assert (
        ps(
            "| log | log := OrderedCollection new. [[1/0] ifCurtailed: [log add: 1]] on: "
            "ZeroDivide do: [:e | 0]. log"
        )
        == "an OrderedCollection(1)"
    )


def test_retry_return_resume_pass_outer() -> None:
    assert (
        ps(
            "| n | n := 0. [n := n + 1. n < 3 ifTrue: [Error signal]. n] on: Error do: [:e | e "
            "retry]"
        )
        == "3"
    )
    assert ps("[Error signal: 'x'. 5] on: Error do: [:e | e return: 7]") == "7"
    assert ps("[Error signal: 'x'. 5] on: Error do: [:e | 8]") == "8"
    assert ps("[(Warning signal: 'w') + 1] on: Warning do: [:e | e resume: 41]") == "42"
    assert ps("[(1/0) + 1] on: ZeroDivide do: [:e | e resume: 1]") == "2"
    assert ps("[[1/0] on: ZeroDivide do: [:e | e pass]] on: ZeroDivide do: [:e | 9]") == "9"
    assert (
        ps(
            "[[(Warning signal) + 1] on: Warning do: [:e | e outer + 100]] on: Warning do: [:e "
            "| e resume: 1]"
        )
        == "101"
    )
    assert ps("[Error signal: 'x'] on: Error do: [:e | e retryUsing: [3]]") == "3"


def test_resume_of_error_is_illegal() -> None:
    outcome = Image.new().evaluate("[Error signal. 1] on: Error do: [:e | e resume: 5]")
    assert outcome.error_class == "IllegalResumeAttempt"


def test_handler_does_not_catch_its_own_signals() -> None:
    code = "[[1/0] on: ZeroDivide do: [:e | 1/0]] on: ZeroDivide do: [:e | #outer]"
    assert ps(code) == "#outer"


def test_exception_sets_and_classes() -> None:
    assert ps("[nil foo] on: ZeroDivide, MessageNotUnderstood do: [:e | e class]") == (
        "MessageNotUnderstood"
    )
    assert ps("[#() first] on: Error do: [:e | e class]") == "SubscriptOutOfBounds"
    assert ps("[Dictionary new at: #z] on: KeyNotFound do: [:e | e messageText]") == (
        "'key #z not found in Dictionary'"
    )
    assert ps("[3 zork] on: MessageNotUnderstood do: [:e | e message selector]") == "#zork"
    assert ps("[3 zork] on: MessageNotUnderstood do: [:e | e return: e receiver]") == "3"
    assert ps("[self error: 'boom'] on: Error do: [:e | e messageText]") == "'boom'"
    assert ps("[Error new signal: 'x'] on: Error do: [:e | e description]") == "'Error: x'"


def test_session_error_subclass() -> None:
    image = Image.new()
    ps(
        "Error subclass: #AppError instanceVariableNames: 'code' classVariableNames: '' "
        "package: 'App'",
        image,
    )
    ps("AppError compile: 'code ^code'. AppError compile: 'code: c code := c'", image)
    assert (
        ps("[(AppError new) code: 42; signal: 'bad'] on: AppError do: [:e | e code]", image) == "42"
    )
    outcome = image.evaluate("AppError new signal: 'unhandled'")
    assert outcome.has_error and outcome.error_class == "AppError"
    assert outcome.error_message == "unhandled"
    assert outcome.print_string == "AppError: unhandled"


def test_unhandled_errors_report_class_and_text() -> None:
    image = Image.new()
    dnu = image.evaluate("3 foo")
    assert dnu.error_class == "MessageNotUnderstood"
    assert dnu.print_string == "Instance of SmallInteger did not understand #foo"
    not_indexable = image.evaluate("3 at: 1")
    assert not_indexable.error_class == "Error"
    assert not_indexable.error_message == "Instances of SmallInteger are not indexable"
    zero = image.evaluate("1/0")
    assert zero.error_class == "ZeroDivide"


def test_transcript_output_is_captured() -> None:
    outcome = Image.new().evaluate(
        "Transcript show: 'a'; cr; tab; space; print: 'q'; display: 'd'; show: 3 printString"
    )
    assert outcome.transcript == "a\n\t 'q'd3"


def test_transcript_survives_an_error_but_image_does_not() -> None:
    image = Image.new()
    outcome = image.evaluate("Transcript show: 'before'. x := 1. 1/0")
    assert outcome.has_error and outcome.transcript == "before"
    assert ps("x", image) == "nil"


def test_print_on_override_used_by_print_string_and_collections() -> None:
    image = Image.new()
    ps("Object subclass: #P instanceVariableNames: 'v' classVariableNames: '' package: 'X'", image)
    ps("P compile: 'v: x v := x'", image)
    ps(
        "P compile: 'printOn: aStream aStream nextPutAll: ''P<''; print: v; nextPutAll: ''>'''",
        image,
    )
    assert ps("P new v: 3", image) == "P<3>"
    assert ps("(P new v: 'a') printString", image) == "'P<''a''>'"
    assert ps("Array with: (P new v: 1) with: 2", image) == "an Array(P<1> 2)"


def test_cyclic_structures_print_with_a_limit() -> None:
    text = ps("a := OrderedCollection new. a add: a. a")
    assert text.startswith("an OrderedCollection(an OrderedCollection(")
    assert text.endswith("...etc...")
