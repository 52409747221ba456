"""The Smalltalk benchmark (`scripts/bench --suite smalltalk`) runs every case and checks
its answers against CPython's. A smoke run with small sizes: the numbers are not judged,
only that each case has them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_every_case_against_cpython(tmp_path: Path) -> None:
    out = tmp_path / "smalltalk.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--suite", "smalltalk", "--quick", "--runs", "1",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    cases = json.loads(out.read_text())["cases"]
    assert [c["case"].split(":")[0] for c in cases] == ["(1 to", "fib", "collections", "strings"]
    for case in cases:
        assert case["smalltalk_s"] > 0 and case["cpython_s"] > 0 and case["ratio"] > 0
    rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert len(rows) == len(cases) + 2  # header, rule, one row per case


def test_a_wrong_smalltalk_answer_fails_the_run() -> None:
    spec = importlib.util.spec_from_file_location("bench_smalltalk", ROOT / "bench" /
                                                  "bench_smalltalk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_smalltalk"] = module  # (dataclasses look their module up there)
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["bench_smalltalk"]
    case = module.Case("wrong", None, "3 + 4", lambda: 8)
    with pytest.raises(SystemExit, match="expected '8'"):
        module.measure(case, 1)


def test_messages_table_times_each_message_in_both_languages(tmp_path: Path) -> None:
    out = tmp_path / "messages.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--suite", "smalltalk", "--quick", "--runs", "1",
         "--only", "no such case", "--messages", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    messages = json.loads(out.read_text())["messages"]
    assert [m["message"] for m in messages][:3] == ["s size", "s indexOf: $1", "s reversed"]
    for message in messages:  # (net of the loop, so a quick run may round to 0)
        assert message["smalltalk_ns"] >= 0 and message["cpython_ns"] >= 0
    table = [line for line in done.stdout.splitlines() if line.startswith("| s ")]
    assert len(table) == len([m for m in messages if m["message"].startswith("s ")])


def test_collector_table_times_each_snippet_under_both_young_generations(
    tmp_path: Path,
) -> None:
    out = tmp_path / "collector.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--suite", "smalltalk", "--runs", "1",
         "--only", "no such case", "--collector", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(out.read_text())["collector"]
    assert len(rows) == 4
    for row in rows:
        assert row["default_s"] > 0 and row["tuned_s"] > 0
    assert len([line for line in done.stdout.splitlines() if "100000" in line]) == 4
