"""Limits: every kind raises LimitExceeded, Smalltalk handlers cannot catch it, the
image is rolled back, checkpoints are called, and deep recursion stays clean, also
in a worker thread (the host evaluates in one)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from st_support import ps

from nodes.smalltalk import Image, LimitExceeded, Limits


def snapshot(image: Image) -> tuple[dict[str, Any], dict[str, Any]]:
    records = {oid: image.dump_object(oid) for oid in image.object_ids()}
    return json.loads(json.dumps(records)), json.loads(json.dumps(image.dump_workspace()))


def expect_limit(image: Image, code: str, kind: str, **limits: Any) -> LimitExceeded:
    with pytest.raises(LimitExceeded) as caught:
        image.evaluate(code, limits=Limits(**limits))
    assert caught.value.kind == kind
    return caught.value


def test_infinite_loop_stops_on_steps() -> None:
    err = expect_limit(Image.new(), "[true] whileTrue", "steps", max_steps=100_000)
    assert err.error_type == "ResourceLimit"


def test_infinite_loop_stops_on_time() -> None:
    err = expect_limit(Image.new(), "[true] whileTrue: [3 + 4]", "time", max_seconds=0.2)
    assert err.error_type == "Timeout"


def test_non_inlined_loops_and_repeat_also_stop() -> None:
    expect_limit(Image.new(), "| b | b := [true]. b whileTrue", "steps", max_steps=50_000)
    expect_limit(Image.new(), "[] repeat", "steps", max_steps=50_000)
    expect_limit(Image.new(), "[:x | x] value: 1. [1] repeat", "steps", max_steps=50_000)


def test_smalltalk_handlers_cannot_catch_limits() -> None:
    image = Image.new()
    expect_limit(image, "[[true] whileTrue] on: Error do: [:e | 1]", "steps", max_steps=10_000)
    expect_limit(image, "[[true] whileTrue] on: Exception do: [:e | 1]", "steps", max_steps=10_000)
    expect_limit(image, "[[true] whileTrue] ensure: [x := 1]", "steps", max_steps=10_000)
    assert ps("x", image) == "nil"


def test_deep_recursion_hits_depth_limit_cleanly() -> None:
    image = Image.new()
    ps(
        "Object subclass: #R. R compile: 'down: n ^n = 0 ifTrue: [0] ifFalse: [1 + (self down: "
        "n - 1)]'",
        image,
    )
    assert ps("R new down: 900", image) == "900"
    expect_limit(image, "R new down: 100000", "depth")
    expect_limit(image, "| b | b := nil. b := [:n | b value: n + 1]. b value: 0", "depth")


def test_deep_recursion_in_a_worker_thread() -> None:
    image = Image.new()
    ps(
        "Object subclass: #R. R compile: 'down: n ^n = 0 ifTrue: [0] ifFalse: [1 + (self down: "
        "n - 1)]'",
        image,
    )
    results: list[str] = []

    def work() -> None:
        results.append(image.evaluate("R new down: 990").print_string)
        try:
            image.evaluate("R new down: 1000000")
        except LimitExceeded as err:
            results.append(err.kind)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)
    assert results == ["990", "depth"]


def test_heap_limit_counts_new_objects() -> None:
    expect_limit(
        Image.new(),
        "| c | c := OrderedCollection new. [true] whileTrue: [c add: Object new]",
        "heap",
        max_objects=10_000,
    )
    expect_limit(Image.new(), "Array new: 100000000", "heap")
    # Splitting charges its pieces all at once (kernel.new_strings): 3,000 words do not
    # fit 1,000 objects, 300 do.
    words = "| s | s := String new: {n} withAll: $ . 1 to: {n} by: 2 do: [:i | s at: i put: $x]. "
    expect_limit(Image.new(), words.format(n=6000) + "s substrings", "heap", max_objects=1000)
    assert ps(words.format(n=600) + "s substrings size", max_objects=1000) == "300"


def test_string_limit() -> None:
    expect_limit(Image.new(), "| s | s := 'x'. [true] whileTrue: [s := s , s]", "string")
    expect_limit(Image.new(), "String new: 50 withAll: $a", "string", max_string=10)
    expect_limit(
        Image.new(), "[true] whileTrue: [Transcript show: 'xxxxxxxxxx']", "string", max_string=1000
    )


def test_huge_integers_are_bounded() -> None:
    expect_limit(Image.new(), "2 raisedTo: 1000000000", "heap")
    expect_limit(Image.new(), "| x | x := 2. 40 timesRepeat: [x := x * x]. x", "heap")


def test_interrupt_is_checked_at_checkpoints() -> None:
    event = threading.Event()
    event.set()
    with pytest.raises(LimitExceeded) as caught:
        Image.new().evaluate("[true] whileTrue", interrupt=event)
    assert caught.value.kind == "interrupted" and caught.value.error_type == "Timeout"


def test_checkpoint_callback_runs_every_n_steps() -> None:
    calls: list[int] = []
    outcome = Image.new().evaluate(
        "| s | s := 0. 1 to: 10000 do: [:i | s := s + i]. s",
        limits=Limits(checkpoint_every=1000),
        checkpoint=lambda: calls.append(1),
    )
    assert outcome.print_string == "50005000"
    assert 9 <= len(calls) <= 11


def test_limit_rolls_back_every_change() -> None:
    image = Image.new()
    ps(
        "a := OrderedCollection new. a add: 1. Object subclass: #K. K compile: 'f ^1'. d := "
        "Dictionary new",
        image,
    )
    before = snapshot(image)
    expect_limit(
        image,
        "a add: 2. a removeFirst. d at: #k put: a. K compile: 'f ^2'. K compile: 'g ^3'. "
        "Object subclass: #Other. z := 9. [true] whileTrue",
        "steps",
        max_steps=20_000,
    )
    assert snapshot(image) == before
    assert ps("a", image) == "an OrderedCollection(1)"
    assert ps("K new f", image) == "1"
    assert ps("K new respondsTo: #g", image) == "false"
    assert ps("Other", image) == "nil"


def test_unhandled_error_rolls_back_too() -> None:
    image = Image.new()
    ps("a := Array new: 2", image)
    before = snapshot(image)
    outcome = image.evaluate("a at: 1 put: 5. b := 3. 1/0")
    assert outcome.has_error and outcome.changed == {} and not outcome.workspace_changed
    assert snapshot(image) == before


def test_deeply_nested_data_never_overflows_the_c_stack() -> None:
    """Printing, hashing and comparing 100k-deep nesting (no Smalltalk recursion,
    so the depth limit does not apply) end cleanly, in a worker thread too."""
    build = (
        "a := Array new: 1. b := a. "
        "1 to: 100000 do: [:i | c := Array new: 1. b at: 1 put: c. b := c]"
    )
    results: list[object] = []

    def work() -> None:
        image = Image.new()
        image.evaluate(build, limits=Limits(max_steps=10**7))
        results.append(image.evaluate("a printString size > 1000").print_string)
        results.append(image.evaluate("a = a copy").print_string)
        try:
            image.evaluate("Set new add: a; yourself")
        except LimitExceeded as err:
            results.append(err.kind)
        results.append(image.evaluate("x := Array new: 1. x at: 1 put: x. x").print_string[-9:])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=120)
    assert results == ["true", "true", "depth", "...etc..."]
