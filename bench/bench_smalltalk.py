"""Benchmark of the Smalltalk evaluator against the same work in plain CPython.

Run from the repository root:  scripts/bench --suite smalltalk [--runs 5] [--quick] [--json F]

Each case is timed `--runs` times in a fresh Image (compilation included, as a user's
print-it would be), alternating with the plain Python function that does the same work
in the same process; the table shows both medians, their ratio, and the spread (lowest
and highest ratio of a Smalltalk run to the CPython median). The Smalltalk answer is
checked against the Python one, so neither side can skip work.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table, table_row
from nodes.gc_tuning import YOUNG_OBJECTS, tune_gc
from nodes.smalltalk import Image, Limits

_UNBOUNDED = Limits(max_steps=10**12, max_seconds=3600.0, max_objects=10**9)


@dataclass(frozen=True)
class Case:
    name: str
    setup: str | None
    code: str
    python: Callable[[], Any]


# ---------------------------------------------------------------------- inject:into:


def _python_sum(limit: int) -> int:
    total = 0
    for value in range(1, limit + 1):
        total = total + value
    return total


# ---------------------------------------------------------------------- fib: in a class

_FIB_CLASS = (
    "Object subclass: #Bench. "
    "Bench compile: 'fib: n n < 2 ifTrue: [^n]. ^(self fib: n - 1) + (self fib: n - 2)'"
)


def _python_fib(n: int) -> int:
    return n if n < 2 else _python_fib(n - 1) + _python_fib(n - 2)


# ---------------------------------------------------------------------- collections


def _collections_code(n: int) -> str:
    return (
        "| oc d evens squares found total sorted | "
        "oc := OrderedCollection new. "
        f"1 to: {n} do: [:i | oc add: i * 7919 \\\\ 10007]. "
        "d := Dictionary new. "
        "oc do: [:x | d at: x \\\\ 1000 put: (d at: x \\\\ 1000 ifAbsent: [0]) + 1]. "
        "evens := oc select: [:x | x even]. "
        "squares := evens collect: [:x | x * x]. "
        "found := squares detect: [:x | x > 100000000] ifNone: [0]. "
        "total := squares inject: 0 into: [:a :b | a + b]. "
        f"sorted := (oc first: {n // 10}) asSortedCollection: [:a :b | a >= b]. "
        "{d size. evens size. found. total. sorted first. sorted last}"
    )


def _python_collections(n: int) -> list[Any]:
    oc = []
    for i in range(1, n + 1):
        oc.append(i * 7919 % 10007)
    d: dict[int, int] = {}
    for x in oc:
        d[x % 1000] = d.get(x % 1000, 0) + 1
    evens = [x for x in oc if x % 2 == 0]
    squares = [x * x for x in evens]
    found = next((x for x in squares if x > 100_000_000), 0)
    total = functools.reduce(lambda a, b: a + b, squares, 0)
    def descending(a: int, b: int) -> int:
        return -1 if a >= b else 1

    ordered = sorted(oc[: n // 10], key=functools.cmp_to_key(descending))
    return [len(d), len(evens), found, total, ordered[0], ordered[-1]]


# ---------------------------------------------------------------------- strings


def _strings_code(n: int) -> str:
    return (
        "| ws text count | "
        "ws := WriteStream on: String new. "
        f"1 to: {n} do: [:i | ws nextPutAll: 'item'; nextPutAll: i printString; nextPut: $ ]. "
        "text := ws contents. "
        "count := 0. "
        "(text substrings: ' ') do: [:w | | r | "
        "r := (w copyReplaceAll: 'item' with: 'entry-') reversed asUppercase. "
        "count := count + (r indexOf: $-) + (w , r) size]. "
        "{text size. count}"
    )


def _python_strings(n: int) -> list[Any]:
    parts = []
    for i in range(1, n + 1):
        parts.append("item")
        parts.append(str(i))
        parts.append(" ")
    text = "".join(parts)
    count = 0
    for w in text.split():
        r = w.replace("item", "entry-")[::-1].upper()
        count = count + (r.find("-") + 1) + len(w + r)
    return [len(text), count]


# ---------------------------------------------------------------------- one message

# (a loop body sending one message, the same operation in CPython): what a single send
# costs, net of the loop around it. `s` is a String, `t` another, `i` the loop counter.
MESSAGES: tuple[tuple[str, str], ...] = (
    ("s size", "len(s)"),
    ("s indexOf: $1", "s.find('1') + 1"),
    ("s reversed", "s[::-1]"),
    ("s asUppercase", "s.upper()"),
    ("s , t", "s + t"),
    ("s copyReplaceAll: 'item' with: 'entry-'", "s.replace('item', 'entry-')"),
    ("i printString", "str(i)"),
)


def _smalltalk_loop(body: str, count: int) -> float:
    code = f"| s t | s := 'item12345'. t := 'abc'. 1 to: {count} do: [:i | {body}]"
    image = Image.new()
    image.evaluate(code, limits=_UNBOUNDED)  # compiled and its inline caches filled
    started = time.perf_counter()
    image.evaluate(code, limits=_UNBOUNDED)
    return time.perf_counter() - started


def _python_loop(statement: str, count: int) -> float:
    namespace: dict[str, Any] = {}
    exec(  # (our own constant statements)
        f"def loop(n):\n    s = 'item12345'\n    t = 'abc'\n"
        f"    for i in range(1, n + 1):\n        {statement}\n",
        namespace,
    )
    started = time.perf_counter()
    namespace["loop"](count)
    return time.perf_counter() - started


def measure_messages(count: int, runs: int) -> list[dict[str, Any]]:
    """Nanoseconds per message in each language (best of `runs`, less the best empty
    loop of the same length)."""

    def best(timer: Callable[[str, int], float], code: str) -> float:
        return min(timer(code, count) for _ in range(runs))

    empty_st, empty_py = best(_smalltalk_loop, ""), best(_python_loop, "pass")
    rows = []
    for body, statement in MESSAGES:
        st = max(best(_smalltalk_loop, body) - empty_st, 0.0) / count * 1e9
        py = max(best(_python_loop, statement) - empty_py, 0.0) / count * 1e9
        rows.append({"message": body, "smalltalk_ns": st, "cpython_ns": py,
                     "ratio": st / py if py else float("inf")})
    return rows


def print_messages(rows: list[dict[str, Any]]) -> None:
    headers = ["one message (net of the loop)", "Smalltalk ns", "CPython ns", "ratio"]
    cells = [[row["message"], f"{row['smalltalk_ns']:.0f}", f"{row['cpython_ns']:.0f}",
              f"{row['ratio']:.1f}x"] for row in rows]
    print(f"\n{table(headers, cells)}", flush=True)


# ---------------------------------------------------------------------- the collector

# Snippets that build 100,000 objects that live on: what nodes/gc_tuning.py is for.
ALLOCATING: tuple[str, ...] = (
    "((1 to: 100000) collect: [:i | Object new]) size",
    "((1 to: 100000) collect: [:i | i printString]) size",
    "| d | d := Dictionary new. 1 to: 100000 do: [:i | d at: i printString put: i]. d size",
    "| o | o := OrderedCollection new. 1 to: 100000 do: [:i | o add: i @ i]. o size",
)


def measure_collector(runs: int) -> list[dict[str, Any]]:
    """Each snippet's median time with CPython's young generation (700 objects) and with
    the node's, alternating in this process."""
    saved = gc.get_threshold()
    samples: dict[tuple[str, int], list[float]] = {}
    try:
        for _ in range(runs):
            for young in (700, YOUNG_OBJECTS):
                gc.set_threshold(young, saved[1], saved[2])
                for code in ALLOCATING:
                    image = Image.new()
                    started = time.perf_counter()
                    image.evaluate(code, limits=_UNBOUNDED)
                    elapsed = time.perf_counter() - started
                    samples.setdefault((code, young), []).append(elapsed)
    finally:
        gc.set_threshold(*saved)
    return [{"code": code, "default_s": statistics.median(samples[code, 700]),
             "tuned_s": statistics.median(samples[code, YOUNG_OBJECTS])}
            for code in ALLOCATING]


def print_collector(rows: list[dict[str, Any]]) -> None:
    headers = ["builds 100,000 objects", "young 700 s", f"young {YOUNG_OBJECTS:,} s", "gain"]
    cells = [[row["code"], f"{row['default_s']:.3f}", f"{row['tuned_s']:.3f}",
              f"{1 - row['tuned_s'] / row['default_s']:.0%}"] for row in rows]
    print(f"\n{table(headers, cells)}", flush=True)


# ---------------------------------------------------------------------- running


def cases(quick: bool, sum_to: int | None, fib: int | None) -> list[Case]:
    sum_to = sum_to or (20_000 if quick else 1_000_000)
    fib = fib or (15 if quick else 25)
    size = 5_000 if quick else 100_000
    words = 2_000 if quick else 50_000
    return [
        Case(
            f"(1 to: {sum_to:,}) inject: 0 into: [:a :b | a + b]",
            None,
            f"(1 to: {sum_to}) inject: 0 into: [:a :b | a + b]",
            lambda: _python_sum(sum_to),
        ),
        Case(
            f"fib: {fib} (a session class's method)",
            _FIB_CLASS,
            f"Bench new fib: {fib}",
            lambda: _python_fib(fib),
        ),
        Case(
            f"collections: {size:,} in an OrderedCollection, Dictionary, "
            "select:/collect:/detect:/inject:, sort a tenth",
            None,
            _collections_code(size),
            lambda: _python_collections(size),
        ),
        Case(
            f"strings: WriteStream of {words:,} words, substrings:, copyReplaceAll:, "
            "reversed, asUppercase, indexOf:, ,",
            None,
            _strings_code(words),
            lambda: _python_strings(words),
        ),
    ]


def smalltalk_print(value: Any) -> str:
    """How Smalltalk prints the Python reference's answer (ints and lists of ints)."""
    if isinstance(value, list):
        return "#(" + " ".join(smalltalk_print(v) for v in value) + ")"
    return str(value)


def _run_smalltalk(case: Case, expected: str) -> float:
    image = Image.new()
    started = time.perf_counter()
    if case.setup:
        image.evaluate(case.setup, limits=_UNBOUNDED)
    outcome = image.evaluate(case.code, limits=_UNBOUNDED)
    elapsed = time.perf_counter() - started
    if outcome.print_string != expected:
        raise SystemExit(
            f"{case.name}: Smalltalk answered {outcome.print_string!r}, expected {expected!r}"
        )
    return elapsed


def _run_python(case: Case) -> tuple[float, Any]:
    started = time.perf_counter()
    value = case.python()
    return time.perf_counter() - started, value


def measure(case: Case, runs: int) -> dict[str, Any]:
    """Alternate Smalltalk and CPython runs (so load on the machine hits both alike)."""
    st_samples: list[float] = []
    py_samples: list[float] = []
    _, reference = _run_python(case)
    expected = smalltalk_print(reference)
    for _ in range(runs):
        st_samples.append(_run_smalltalk(case, expected))
        py_time, _ = _run_python(case)
        py_samples.append(py_time)
    st = statistics.median(st_samples)
    py = statistics.median(py_samples)
    return {
        "case": case.name,
        "smalltalk_s": st,
        "cpython_s": py,
        "ratio": st / py,
        "ratio_low": min(st_samples) / py,
        "ratio_high": max(st_samples) / py,
        "smalltalk_samples": st_samples,
        "cpython_samples": py_samples,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench --suite smalltalk",
        description="Time the Smalltalk evaluator against the same work in plain CPython "
        "(median of runs, measured in the same process).",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per case (default 5)")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--sum-to", type=int, default=None, help="N in (1 to: N) inject:into:")
    parser.add_argument("--fib", type=int, default=None, help="n in fib: n (default 25)")
    parser.add_argument("--only", default=None, help="run the cases whose name contains this")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--collector", action="store_true",
        help="also time snippets that build 100,000 objects under CPython's young "
        "generation and the node's (nodes/gc_tuning.py)",
    )
    parser.add_argument(
        "--messages", action="store_true",
        help="also time single String messages (what one send that makes a String costs)",
    )
    args = parser.parse_args(argv)

    selected = [c for c in cases(args.quick, args.sum_to, args.fib)
                if args.only is None or args.only in c.name]
    tune_gc()  # as a node runs (nodes/gc_tuning.py); the CPython side runs under it too
    print(f"Python {sys.version.split()[0]}, median of {args.runs} runs; spread = lowest and "
          "highest Smalltalk run over the CPython median; the collector's young generation "
          f"as the node sets it ({YOUNG_OBJECTS:,} objects)", file=sys.stderr)
    rows = []
    print(table(["case", "Smalltalk s", "CPython s", "ratio", "spread"], []), flush=True)
    for case in selected:
        row = measure(case, args.runs)
        rows.append(row)
        print(table_row([case.name, f"{row['smalltalk_s']:.3f}", f"{row['cpython_s']:.4f}",
                         f"{row['ratio']:.1f}x",
                         f"{row['ratio_low']:.1f}-{row['ratio_high']:.1f}"]), flush=True)
    messages = []
    if args.messages:
        messages = measure_messages(2_000 if args.quick else 200_000, args.runs)
        print_messages(messages)
    collector = []
    if args.collector:
        collector = measure_collector(args.runs)
        print_collector(collector)
    if args.json is not None:
        args.json.write_text(json.dumps({"python": sys.version, "runs": args.runs,
                                         "cases": rows, "messages": messages,
                                         "collector": collector}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
