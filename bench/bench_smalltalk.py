"""Benchmark of the Smalltalk evaluator against the same work in plain CPython.

Run from the repository root:  python bench/bench_smalltalk.py [--runs 3] [--sum-to N] [--fib N]

Each benchmark is timed `--runs` times in a fresh Image (compilation included, as a
user's print-it would be) and the median is reported with the median of the plain
Python equivalent and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodes.smalltalk import Image, Limits

_UNBOUNDED = Limits(max_steps=10**12, max_seconds=3600.0, max_objects=10**9)
_FIB_CLASS = (
    "Object subclass: #Bench. "
    "Bench compile: 'fib: n n < 2 ifTrue: [^n]. ^(self fib: n - 1) + (self fib: n - 2)'"
)


def _python_sum(limit: int) -> int:
    total = 0
    for value in range(1, limit + 1):
        total = total + value
    return total


def _python_fib(n: int) -> int:
    return n if n < 2 else _python_fib(n - 1) + _python_fib(n - 2)


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _smalltalk(setup: str | None, code: str, expected: str) -> Callable[[], object]:
    def action() -> object:
        image = Image.new()
        if setup:
            image.evaluate(setup, limits=_UNBOUNDED)
        outcome = image.evaluate(code, limits=_UNBOUNDED)
        if outcome.print_string != expected:
            raise SystemExit(f"{code!r} answered {outcome.print_string!r}, expected {expected!r}")
        return outcome

    return action


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time the Smalltalk evaluator against plain CPython (median of runs)."
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark (default 3)")
    parser.add_argument(
        "--sum-to", type=int, default=1_000_000, help="N in (1 to: N) inject:into: (1000000)"
    )
    parser.add_argument("--fib", type=int, default=25, help="n in fib: n (default 25)")
    args = parser.parse_args(argv)

    total = args.sum_to * (args.sum_to + 1) // 2
    rows = [
        (
            f"(1 to: {args.sum_to}) inject: 0 into: [:a :b | a + b]",
            _smalltalk(None, f"(1 to: {args.sum_to}) inject: 0 into: [:a :b | a + b]", str(total)),
            lambda: _python_sum(args.sum_to),
        ),
        (
            f"Bench new fib: {args.fib} (session class method)",
            _smalltalk(_FIB_CLASS, f"Bench new fib: {args.fib}", str(_python_fib(args.fib))),
            lambda: _python_fib(args.fib),
        ),
    ]
    print(f"Python {sys.version.split()[0]}, median of {args.runs} runs")
    header = f"| {'benchmark':<56} | {'Smalltalk s':>11} | {'CPython s':>9} | {'ratio':>6} |"
    print(header)
    print("|" + "-" * 58 + "|" + "-" * 13 + "|" + "-" * 11 + "|" + "-" * 8 + "|")
    for name, smalltalk, python in rows:
        st_time = _median_seconds(smalltalk, args.runs)
        py_time = _median_seconds(python, args.runs)
        print(f"| {name:<56} | {st_time:>11.3f} | {py_time:>9.4f} | {st_time / py_time:>5.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
