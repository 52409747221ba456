"""``python -m bench`` (or ``scripts/bench``): run a benchmark suite and print its tables.

Exit codes: 0 done; 1 the run failed (a server did not start, the time cap was hit, or a cell
had errors); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import trio

from .procs import StartFailed

SUITES = (
    "sessions", "smalltalk", "persistence", "fairness", "failover", "idle", "scaling", "shared",
    "redis-ha",
)
SUITE_MODULES = ("persistence", "fairness", "failover", "idle", "scaling", "shared", "redis-ha")
"""Suites run by :func:`run_suite`: each module has ``options(args)``, ``cap(options)`` and
``async run(options, progress) -> common.Report``."""
SHORT_OPERATIONS = {
    "ping": "ping",
    "create": "create_session",
    "restore": "restore_session",
    "update": "update_session_state",
    "evaluate": "evaluate",
}


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers")
    if not counts or any(n < 1 for n in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more counts of at least 1")
    return counts


def _operations(text: str) -> tuple[str, ...]:
    names = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name = SHORT_OPERATIONS.get(part, part)
        if name not in SHORT_OPERATIONS.values():
            choices = ", ".join(SHORT_OPERATIONS)
            raise argparse.ArgumentTypeError(f"unknown operation {part!r} (choose from {choices})")
        names.append(name)
    if not names:
        raise argparse.ArgumentTypeError("give at least one operation")
    return tuple(names)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Benchmark STUI Cluster on this machine. The default suite, sessions "
        "(issue 2), starts its own redis-server, a raw WebSocket echo server and a node "
        "process on 127.0.0.1, measures the floors (a coredis GET round trip, a trio-websocket "
        "echo) and then ping, create_session, restore_session, update_session_state and a warm "
        "evaluate through the node at each concurrency, and prints Markdown tables on stdout "
        "(progress on stderr): per operation ops/s, p50, p99, Redis round trips, Redis "
        "commands and node CPU per request, the ratio to the echo floor and issue 9's budget "
        "verdict (bench/budgets.py). "
        "Everything it starts is stopped at the end; the run is capped in time. The other "
        "suites work the same way (their own floors in the same run, tables with ratios): "
        "persistence (x := x + 1 as the session's heap grows), fairness (other clients "
        "beside an endless loop), failover (restore after SIGKILL of a node, conflict "
        "retries, expiry cleanup), idle (idle connections per node), scaling (evaluation "
        "throughput on one node and two), shared (a shared session's conflict retries "
        "and its fan-out latency from a commit on one node to the event on the other, with "
        "the pub/sub floor of the same run), redis-ha (requests on Redis Sentinel and Redis "
        "Cluster beside standalone, at --min-replicas 0 and 1, and the time from a primary's "
        "kill -9 or a graceful failover to the first commit).",
        epilog="Results and how to read them: docs/performance.md. The smalltalk suite is "
        "bench/bench_smalltalk.py; arguments other than --suite are passed to it.",
    )
    p.add_argument("--suite", choices=SUITES, default="sessions", help="default: sessions")
    p.add_argument(
        "--quick", action="store_true",
        help="a smoke run: small sizes and short windows (not for numbers); not for sessions",
    )
    p.add_argument(
        "--duration", type=_positive, default=None,
        help="measured seconds per cell (default: 3 for sessions; each suite has its own)",
    )
    p.add_argument(
        "--warmup", type=_non_negative, default=None,
        help="seconds of warm-up before each cell's window, excluded (default: 1; see "
        "each suite)",
    )
    p.add_argument(
        "--clients", type=_counts, default=None,
        help="concurrent clients (connections) for the node and the echo floor (sessions, "
        "default 1,50,200; scaling, default 50); fairness: the number of other clients "
        "(default 10); failover: the writers of the conflict cells (default 2,8,16); "
        "shared: the shared writers of the contention cells (default 2,8); redis-ha: "
        "default 1,50",
    )
    p.add_argument(
        "--sizes", type=_counts, default=None,
        help="persistence: heap sizes in objects (default 10,10000,100000); idle: idle "
        "connections (default 1000,5000,10000); failover: the number of sessions of a kill "
        "round (first value, default 50)",
    )
    p.add_argument(
        "--cleanup-interval", type=int, default=None,
        help="failover: the node's --cleanup-interval for the expiry cells without keyspace "
        "events (default: the node's default, 60 s; --quick: 2)",
    )
    p.add_argument(
        "--redis-tasks", type=_counts, default=(1, 50),
        help="concurrent tasks for the Redis GET floor (default: 1,50)",
    )
    p.add_argument(
        "--operations", type=_operations, default=tuple(SHORT_OPERATIONS.values()),
        help="sessions: node operations to measure: ping, create, restore, update, evaluate "
        "(a warm `x := x + 1`; default: all five)",
    )
    p.add_argument(
        "--workers", type=_counts, default=(1,),
        help="sessions: run the node with each of these worker counts (`stui-node --workers "
        "N`; default 1). With 1,2 the tables put them side by side and name what saturated; "
        "cells with more than one worker run unpinned",
    )
    p.add_argument(
        "--pin", choices=("auto", "on", "off"), default="auto",
        help="sessions, persistence: the node under test (one worker) and the echo floor's "
        "server on one CPU (taskset), this process (the load generator) and redis-server on "
        "another, as issue 9 measures; auto (default): on when taskset exists and two CPUs "
        "are usable",
    )
    p.add_argument(
        "--plots", metavar="DIR", type=Path,
        help="sessions, persistence: also write PNG charts (throughput, latency; needs "
        "matplotlib, the bench extra) and the Markdown report (<suite>.md) into DIR",
    )
    p.add_argument("--json", metavar="FILE", type=Path, help="also write the raw numbers here")
    p.add_argument(
        "--json-samples", action="store_true",
        help="include every latency sample (µs) in the --json file",
    )
    p.add_argument(
        "--node-arg", metavar="FLAG", action="append", default=[],
        help="an extra flag for the node, after the bench's own (repeat it; use the = form: "
        "--node-arg=--client-rate=0 turns the rate limit off); see python -m nodes --help",
    )
    p.add_argument(
        "--profile-node", metavar="FILE",
        help="run the node under cProfile and write its stats to FILE (read them with "
        "`python -m pstats FILE`); the profiler slows the node, so that run's numbers are not "
        "comparable",
    )
    p.add_argument(
        "--timeout", type=_positive, default=None,
        help="cap on the whole run in seconds (default: computed from the cells)",
    )
    return p


def run_smalltalk(argv: Sequence[str]) -> int:
    """Run ``bench.bench_smalltalk.main`` with the arguments other than ``--suite``."""
    try:
        module = importlib.import_module("bench.bench_smalltalk")
    except ModuleNotFoundError as exc:
        if exc.name != "bench.bench_smalltalk":
            raise
        print("bench: the smalltalk suite (bench/bench_smalltalk.py) is not there yet",
              file=sys.stderr)
        return 2
    main = module.main
    args = [list(argv)] if inspect.signature(main).parameters else []
    result: Any = trio.run(main, *args) if inspect.iscoroutinefunction(main) else main(*args)
    return result if isinstance(result, int) else 0


def _without_suite(argv: Sequence[str]) -> list[str]:
    rest: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--suite":
            skip = True
        elif not arg.startswith("--suite="):
            rest.append(arg)
    return rest


def _run_capped(cap: float, run: Callable[[], Awaitable[Any]]) -> Any:
    """``trio.run`` the suite under a time cap; None (after saying why) on an expected
    failure: the cap was hit, or a server did not start."""

    async def capped() -> Any:
        with trio.fail_after(cap):
            return await run()

    try:
        return trio.run(capped)
    except (trio.TooSlowError, StartFailed, BaseExceptionGroup) as exc:
        failure = _known_failure(exc)
        if failure is None:
            raise
        if isinstance(failure, trio.TooSlowError):
            print(f"bench: the run hit its cap of {cap:.0f} s; everything was stopped (server "
                  "logs, if any: /tmp/stui-bench-*.log)", file=sys.stderr)
        else:
            print(f"bench: {failure}", file=sys.stderr)
        return None


def _known_failure(exc: BaseException) -> BaseException | None:
    """The first expected failure in ``exc`` (a server that did not start, the time cap), or
    None when anything else is in there (then it is a bug, and its traceback is shown)."""
    if isinstance(exc, BaseExceptionGroup):
        _, rest = exc.split((StartFailed, trio.TooSlowError))
        if rest is not None:
            return None
        first: BaseException = exc
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        return first
    return exc if isinstance(exc, (StartFailed, trio.TooSlowError)) else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser().parse_known_args(argv)
    if args.suite == "smalltalk":
        return run_smalltalk(_without_suite(argv))
    if unknown:
        parser().error(f"unrecognized arguments: {' '.join(unknown)}")
    _check_pin_and_plots(args)
    if args.suite in SUITE_MODULES:
        return run_suite(args)
    if args.quick:
        parser().error("--quick is for the suites other than sessions")
    return run_sessions(args)


def _check_pin_and_plots(args: argparse.Namespace) -> None:
    """Refuse, before anything starts, what the run could not do at its end."""
    from .pinning import can_pin

    if args.pin == "on" and not can_pin():
        parser().error("--pin on needs taskset and at least two usable CPUs")
    if args.plots is not None:
        try:
            import matplotlib  # noqa: F401
        except ModuleNotFoundError:
            parser().error("--plots needs matplotlib: .venv/bin/pip install -e '.[bench]'")
    if args.suite not in ("sessions", "persistence") and (args.plots or args.pin != "auto"):
        parser().error("--plots and --pin are for the sessions and persistence suites")
    if args.suite != "sessions" and args.workers != (1,):
        parser().error("--workers is for the sessions suite")


def run_suite(args: argparse.Namespace) -> int:
    """Run one of :data:`SUITE_MODULES`: Markdown on stdout, progress on stderr."""
    from .sessions import Progress

    module: Any = importlib.import_module(f"bench.{args.suite.replace('-', '_')}")
    options = module.options(args)
    cap = args.timeout or module.cap(options)
    progress = Progress()
    progress(f"{args.suite} suite{' (quick)' if args.quick else ''}: capped at {cap:.0f} s")

    report = _run_capped(cap, lambda: module.run(options, progress))
    if report is None:
        return 1
    if args.plots:
        written = module.write_plots(report, args.plots)
        report.sections.append(
            "### Charts\n\n" + "\n".join(f"![{Path(p).stem}]({Path(p).name})" for p in written)
        )
        (args.plots / f"{args.suite}.md").write_text(report.markdown() + "\n")
        progress(f"charts and {args.suite}.md written to {args.plots}")
    print(report.markdown())
    if args.json:
        args.json.write_text(json.dumps(report.as_json(), indent=2, default=str) + "\n")
        progress(f"raw numbers written to {args.json}")
    progress("done" if not report.failed else "done, with failures (see the notes)")
    return 1 if report.failed else 0


def run_sessions(args: argparse.Namespace) -> int:
    from . import report, sessions

    options = sessions.Options(
        duration=args.duration if args.duration is not None else 3.0,
        warmup=args.warmup if args.warmup is not None else 1.0,
        clients=args.clients or (1, 50, 200),
        redis_tasks=args.redis_tasks,
        operations=args.operations,
        profile_node=str(Path(args.profile_node).resolve()) if args.profile_node else None,
        node_args=tuple(args.node_arg),
        workers=args.workers,
        pin=args.pin,
    )
    if options.profile_node and max(options.workers) > 1:
        parser().error("--profile-node profiles one node process: use it with --workers 1")
    cap = args.timeout or 120 + options.cell_count * (options.warmup + options.duration + 30)
    progress = sessions.Progress()
    progress(f"sessions suite: {options.cell_count} cells, capped at {cap:.0f} s")

    result = _run_capped(cap, lambda: sessions.run(options, progress))
    if result is None:
        return 1
    plots: list[str] = []
    if args.plots:
        plots = report.write_plots(result, args.plots)
    text = report.markdown(result, options, plots=plots)
    print(text)
    if args.plots:
        (args.plots / "sessions.md").write_text(text + "\n")
        progress(f"charts and sessions.md written to {args.plots}")
    if args.json:
        data = report.as_json(result, options, samples=args.json_samples)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        progress(f"raw numbers written to {args.json}")
    failed = any(c.errors or c.timed_out for c in result.cells) or bool(result.notes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
