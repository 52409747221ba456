"""Resource limits of one evaluation, and the per-thread allocation budget.

Object and string limits are enforced where objects are born (HeapObject and
StString constructors) rather than at every call site that creates one; the budget
is thread-local because several images may evaluate at once in different worker
threads of the same process.
"""

from __future__ import annotations

import threading

import attrs

from .errors import LimitExceeded


@attrs.frozen
class Limits:
    max_steps: int = 50_000_000
    max_seconds: float = 10.0
    max_depth: int = 1_000
    max_objects: int = 1_000_000
    max_string: int = 10_000_000
    checkpoint_every: int = 1_000


_UNLIMITED = 1 << 62


class _Budget(threading.local):
    """What the evaluation running on this thread may still allocate."""

    objects_left: int = _UNLIMITED
    max_string: int = _UNLIMITED
    max_int_bits: int = _UNLIMITED


BUDGET = _Budget()


def start_budget(objects_left: int, max_string: int) -> None:
    BUDGET.objects_left = objects_left
    BUDGET.max_string = max_string
    # A LargeInteger may not hold more digits than a String may hold characters.
    BUDGET.max_int_bits = max_string * 4


def end_budget() -> None:
    BUDGET.objects_left = _UNLIMITED
    BUDGET.max_string = _UNLIMITED
    BUDGET.max_int_bits = _UNLIMITED


def charge_objects(count: int = 1) -> None:
    budget = BUDGET
    budget.objects_left -= count
    if budget.objects_left < 0:
        raise LimitExceeded("heap", "ResourceLimit: too many objects")


def check_string(size: int) -> None:
    if size > BUDGET.max_string:
        raise LimitExceeded("string", f"ResourceLimit: string of {size} characters")


def check_collection(size: int) -> None:
    """A collection of `size` slots: bounded like a string so `Array new: 10**9`
    cannot exhaust memory before any other limit notices."""
    if size > BUDGET.max_string:
        raise LimitExceeded("heap", f"ResourceLimit: collection of {size} elements")


def check_int_bits(bits: int) -> None:
    if bits > BUDGET.max_int_bits:
        raise LimitExceeded("heap", f"ResourceLimit: integer of {bits} bits")
