"""Which evaluations run inline on the Trio thread, and which in a worker thread
(nodes/workspace.py, :class:`Pacing`).

The promise: the first run of a snippet in a session is in a worker thread; a snippet that ran
short before runs inline, under tight limits; one that outgrows them is rolled back and run
again in a thread with the session's real limits (same answer, nothing run twice in effect);
a session that holds a large object never runs inline.
"""

from __future__ import annotations

import threading

import pytest
import trio

from cluster.store import Records
from nodes.smalltalk import Limits
from nodes.workspace import LARGE_OBJECT, Pacing, run_evaluation, workspace_from

pytestmark = pytest.mark.timeout(30)


class Evaluator:
    def __init__(self) -> None:
        self.entry = workspace_from("s" * 22, 1, Records())
        self.pacing = Pacing()
        self.limiter = trio.CapacityLimiter(2)

    async def run(self, code: str) -> str:
        outcome, _ = await run_evaluation(
            self.entry,
            code,
            session_id="s" * 22,
            limits=Limits(max_seconds=30),
            interrupt=threading.Event(),
            limiter=self.limiter,
            pacing=self.pacing,
        )
        return outcome.print_string

    @property
    def counts(self) -> tuple[int, int, int]:
        p = self.pacing
        return p.thread_runs, p.inline_runs, p.fallbacks


async def test_a_snippet_runs_in_a_thread_first_then_inline():
    ev = Evaluator()
    assert await ev.run("x := 0") == "0"
    assert await ev.run("x := x + 1") == "1"
    assert ev.counts == (2, 0, 0)  # each snippet's first run: a thread
    assert await ev.run("x := x + 1") == "2"
    assert await ev.run("x := x + 1") == "3"
    assert ev.counts == (2, 2, 0)  # known short: inline


async def test_a_snippet_that_outgrows_the_inline_limits_runs_again_in_a_thread():
    ev = Evaluator()
    assert await ev.run("n := 10") == "10"
    code = "t := 0. 1 to: n do: [:i | t := t + i]. t"
    assert await ev.run(code) == "55"
    assert await ev.run(code) == "55"
    assert ev.counts == (2, 1, 0)
    await ev.run("n := 100000")
    # Too many steps for inline: rolled back (t is not half-summed) and run in a thread.
    assert await ev.run(code) == "5000050000"
    assert ev.counts[2] == 1
    assert await ev.run("t") == "5000050000"
    # It took long: no longer tried inline.
    runs = ev.counts
    await ev.run(code)
    assert ev.counts[1] == runs[1] and ev.counts[0] == runs[0] + 1


async def test_big_allocations_fall_back_too():
    ev = Evaluator()
    code = "s := String new: k withAll: $a. s size"
    await ev.run("k := 10")
    assert await ev.run(code) == "10"
    assert await ev.run(code) == "10"
    await ev.run("k := 200000")
    assert await ev.run(code) == "200000"
    assert ev.counts[2] == 1


async def test_a_session_holding_a_large_object_never_runs_inline():
    ev = Evaluator()
    await ev.run(f"a := (1 to: {LARGE_OBJECT}) asOrderedCollection. 0")
    assert await ev.run("a size") == str(LARGE_OBJECT)
    assert await ev.run("a size") == str(LARGE_OBJECT)
    assert await ev.run("a size") == str(LARGE_OBJECT)
    assert ev.counts[1] == 0  # never inline: one primitive scanning `a` could take long


async def test_errors_inline_are_the_same_errors():
    ev = Evaluator()
    code = "1/0"
    first = await ev.run(code)
    second = await ev.run(code)
    assert first == second
    assert ev.counts[1] == 1
