"""The cyclic garbage collector's young generation, for a process that runs Smalltalk.

Every Smalltalk object is a Python object the collector tracks. CPython 3.11 collects the
young generation after every 700 net allocations of such objects, and the objects that
survive set off older-generation collections in turn, so code that builds many objects
that live on (a collection of 100,000 Objects, Strings or Points) spent a quarter of its
time in the collector. With room for 10,000 young objects (CPython 3.13 chose 2,000 for the
same reason) the same code runs 24-35% faster (docs/smalltalk.md, "Speed"); what it costs
is up to 10,000 more objects waiting for a collection, about a megabyte.

A process-wide setting, so the process's entry point makes it (`nodes.cli.main`, the
Smalltalk benchmark), never the evaluator on import.
"""

from __future__ import annotations

import gc

YOUNG_OBJECTS = 10_000


def tune_gc() -> None:
    """Give the young generation room for `YOUNG_OBJECTS` (the older ones keep theirs)."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
