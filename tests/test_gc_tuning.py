"""The node process gives the garbage collector's young generation room for 10,000 objects
(nodes/gc_tuning.py); the evaluator itself leaves the process's collector alone."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from nodes.gc_tuning import YOUNG_OBJECTS, tune_gc

ROOT = Path(__file__).resolve().parents[1]


def test_tune_gc_changes_only_the_young_generation() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)
        tune_gc()
        assert gc.get_threshold() == (YOUNG_OBJECTS, 11, 12)
    finally:
        gc.set_threshold(*saved)


def _young_generation_in_a_fresh_python(script: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUI_")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_importing_the_evaluator_and_the_node_leaves_the_collector_alone() -> None:
    script = "import gc, nodes.smalltalk, nodes.cli; print(gc.get_threshold()[0])"
    assert _young_generation_in_a_fresh_python(script) == 700  # CPython 3.11's default


def test_the_node_process_tunes_it_before_it_serves() -> None:
    # trio.run stands in for serving: it reports what the collector was set to by then.
    script = (
        "import gc, trio, nodes.cli; "
        "trio.run = lambda *args, **kwargs: print(gc.get_threshold()[0]); "
        "nodes.cli.main(['--redis-url', 'redis://127.0.0.1:1/0'])"
    )
    assert _young_generation_in_a_fresh_python(script) == YOUNG_OBJECTS
