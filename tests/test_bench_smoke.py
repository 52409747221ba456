"""Smoke runs of the benchmark suites (``python -m bench --suite NAME --quick``).

Each run starts real processes (a redis-server, the echo floor, node processes) on 127.0.0.1,
measures for a second or two and stops them; the test checks that it exited 0 and that its
Markdown tables hold numbers where the measurements go. These are not measurements: ``--quick``
shrinks every size and window. Together they take over a minute, so all but the fastest are
marked ``slow`` and run only with STUI_SLOW=1 (see ``conftest.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT = 240

NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?(×|%| \(.*\))?$")


def _evaluator_works() -> bool:
    try:
        from nodes.smalltalk import Image

        return Image.new().evaluate("3 + 4").print_string == "7"
    except Exception:
        return False


needs_evaluator = pytest.mark.skipif(
    not _evaluator_works(), reason="the Smalltalk evaluator (nodes/smalltalk) does not run yet"
)


def run_suite(suite: str, *extra: str) -> str:
    """Run one suite with ``--quick``; return its stdout (the Markdown report)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--suite", suite, "--quick", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, (
        f"bench --suite {suite} --quick exited {done.returncode}\n"
        f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    )
    assert "[bench +" in done.stderr, "progress lines go to stderr"
    return done.stdout


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table line (an escaped ``\\|`` stays inside its cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def tables(markdown: str) -> list[list[dict[str, str]]]:
    """Every Markdown table of the report, as rows of {column header: cell}."""
    found: list[list[dict[str, str]]] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("|") and index + 1 < len(lines) and lines[index + 1].startswith("|--"):
            headers = _cells(line)
            rows = []
            index += 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(dict(zip(headers, _cells(lines[index]), strict=False)))
                index += 1
            found.append(rows)
        else:
            index += 1
    return found


def column(markdown: str, header: str, table_with: str | None = None) -> list[str]:
    """The cells under ``header`` in the first table that has that column (and the column
    ``table_with``, when given)."""
    for rows in tables(markdown):
        if rows and header in rows[0] and (table_with is None or table_with in rows[0]):
            return [row[header] for row in rows]
    raise AssertionError(f"no table with a column {header!r} in:\n{markdown}")


def assert_numbers(values: list[str], what: str) -> None:
    assert values, f"{what}: no rows"
    for value in values:
        assert NUMBER.match(value), f"{what}: {value!r} is not a number"


def assert_floors(markdown: str) -> None:
    """The floors were measured in the same run, and the suite's tables give ratios."""
    floors = column(markdown, "floor (this run)")
    assert any("redis GET" in f for f in floors) and any("ws echo" in f for f in floors)
    assert_numbers(column(markdown, "p50 ms", "floor (this run)"), "floor p50")
    assert_numbers(column(markdown, "ops/s", "floor (this run)"), "floor ops/s")
    assert "÷" in markdown, "ratios against the floors"


def test_idle_quick_smoke() -> None:
    """The fastest suite, small enough for every run of the tests (~10 s)."""
    out = run_suite("idle", "--sizes", "50", "--duration", "0.5", "--warmup", "0.1")
    assert_floors(out)
    assert column(out, "idle connections") == ["0", "50"]
    assert_numbers(column(out, "ping p50 ms"), "ping p50")
    assert_numbers(column(out, "ping p99 ms"), "ping p99")
    assert_numbers(column(out, "node RSS MiB"), "node RSS")
    assert column(out, "node says") == ["1", "51"], "the node holds the idle connections"
    assert "p50 ÷ GET p50" in out and "p50 ÷ echo p50" in out


ROUND_TRIPS = re.compile(r"^(–|\d+\.\d+)$")
"""A round-trip count, or "–" for a node without ``stui_redis_round_trips_total``."""
VERDICT = re.compile(r"^(ok|OVER: .+|–)( \(\? .+\))?$")
OPERATIONS = ["ping", "create_session", "restore_session", "update_session_state",
              "evaluate `x := x + 1` (warm)"]


def assert_summary(rows: list[dict[str, str]], what: str) -> None:
    """Rows of a per-operation summary table (issue 9): numbers where measured, verdicts."""
    nodes = [r for r in rows if not r["operation"].startswith("floor:")]
    assert nodes, f"{what}: no operation rows"
    for row in nodes:
        for header in ("ops/s", "p50 ms", "p99 ms", "Redis commands/op", "server CPU µs/op",
                       "ops/s ÷ echo"):
            assert NUMBER.match(row[header]), f"{what}: {header} {row[header]!r} in {row}"
        assert ROUND_TRIPS.match(row["Redis round trips/op"]), row
        assert VERDICT.match(row["budget"]), row


@needs_evaluator
@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_sessions_smoke_with_workers_and_plots(tmp_path: Path) -> None:
    """The default suite, shrunk: every operation, one and two workers, charts (~25 s)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--duration", "0.4", "--warmup", "0.1",
         "--clients", "2", "--redis-tasks", "1", "--workers", "1,2", "--plots", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    out = done.stdout
    assert "Pinned:" in out or "Nothing pinned" in out, "the header says what was pinned"
    summaries = [rows for rows in tables(out) if rows and "budget" in rows[0]]
    assert len(summaries) == 2, "one summary per worker count"
    for rows in summaries:
        assert_summary(rows, "sessions summary")
        assert [r["operation"] for r in rows if not r["operation"].startswith("floor:")] == (
            OPERATIONS
        )
    floors = [r["operation"] for r in summaries[0] if r["operation"].startswith("floor:")]
    assert any("echo" in f for f in floors) and any("redis GET" in f for f in floors)
    assert_numbers(column(out, "2 ÷ 1"), "2 workers ÷ 1")
    assert all(column(out, "saturated (2 workers)")), "what saturated is named"
    for split in column(out, "connections per worker"):  # the 2 clients, over both workers
        assert sum(int(n) for n in split.split(" / ")) == 2 and split.count("/") == 1, split
    assert "### Summary: 2 workers, unpinned" in out
    for name in ("sessions-throughput.png", "sessions-latency.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert (tmp_path / "sessions.md").read_text().startswith("## STUI Cluster benchmark")


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 30)
@needs_evaluator
def test_persistence_quick_smoke(tmp_path: Path) -> None:
    out = run_suite("persistence", "--plots", str(tmp_path))
    summary = [rows for rows in tables(out) if rows and "budget" in rows[0]]
    assert len(summary) == 1
    assert_summary(summary[0], "persistence summary")
    assert (tmp_path / "persistence-throughput.png").read_bytes()[:4] == b"\x89PNG"
    assert_floors(out)
    warm = "evaluation, heap objects (HLEN)"
    assert_numbers(column(out, "p50 ms", warm), "evaluation p50")
    assert_numbers(column(out, "p50 ÷ GET p50", warm), "ratio to the Redis floor")
    assert_numbers(column(out, "Redis commands/eval"), "commands per evaluation")
    assert_numbers(column(out, "bytes to Redis/eval"), "bytes per evaluation")
    heap = column(out, "heap objects")
    assert heap[:2] == ["10", "2,000"], heap


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_fairness_quick_smoke() -> None:
    out = run_suite("fairness")
    assert_floors(out)
    operations = column(out, "operation (10 clients)")
    assert len(operations) == 4 and sum("whileTrue" in o for o in operations) == 2
    assert_numbers(column(out, "p99 ms", "operation (10 clients)"), "p99")
    assert "Timeout" in out, "the looping evaluation was stopped by the node's limit"


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_failover_quick_smoke() -> None:
    out = run_suite("failover")
    assert_floors(out)
    assert_numbers(column(out, "p50 ms", "per affected session"), "restore after kill")
    assert_numbers(column(out, "conflicts per success"), "conflicts per success")
    cleaned = column(out, "all gone p50 ms")
    assert len(cleaned) == 2, cleaned
    assert_numbers(cleaned, "cleanup delay")
    assert "could not enable keyspace events" in out


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT + 30)
@needs_evaluator
def test_scaling_quick_smoke() -> None:
    out = run_suite("scaling")
    assert_floors(out)
    assert column(out, "nodes") == ["1", "1", "2", "2"]
    assert_numbers(column(out, "evals/s"), "evaluations per second")
    assert_numbers(column(out, "node 1 CPU"), "node CPU")


@pytest.mark.timeout(RUN_TIMEOUT + 30)
@needs_evaluator
def test_shared_quick_smoke() -> None:
    """Issue 11's numbers: conflict retries and fan-out latency with the floors of the same
    run (~10 s, so it runs every time)."""
    out = run_suite("shared")
    assert_floors(out)
    assert_numbers(column(out, "p50 ms", "floor"), "pub/sub floor")
    fanout = column(out, "p99 ms", "fan-out, one writer")
    assert_numbers(fanout, "fan-out latency")
    assert_numbers(column(out, "p50 ÷ floor p50"), "fan-out ratio to the floor")
    assert column(out, "connections closed")[1:] == ["0"]
    assert column(out, "exact count")[1:] == ["yes"]
    assert_numbers(column(out, "races lost per success")[1:], "races lost per success")


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_redis_ha_quick_smoke() -> None:
    """Standalone, Sentinel and Cluster in one run: requests at both durability levels, and a
    kill -9 and a graceful failover on each topology that fails over."""
    out = run_suite("redis-ha")
    assert_floors(out)
    topologies = column(out, "topology", "operation")
    assert {"standalone", "sentinel", "cluster"} <= set(topologies)
    assert_numbers(column(out, "ops ÷ standalone", "operation"), "ratio to standalone")
    assert_numbers(column(out, "round trips", "operation"), "round trips")
    recovery = column(out, "first commit after it, p50 s")
    assert len(recovery) == 6
    assert_numbers(recovery, "failover times")
