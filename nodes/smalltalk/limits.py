"""Resource limits of one evaluation, and the per-thread allocation budget.

Object and string limits are enforced where objects are born (HeapObject and
StString constructors) rather than at every call site that creates one. The budget
lives in a context variable, so each worker thread (several images may evaluate at
once in one process) sees its own: reading it costs ~12 ns, a threading.local ~70 ns.
"""

from __future__ import annotations

from contextvars import ContextVar

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


class Allowance:
    """What one evaluation may still allocate (a plain object: reading it through the
    thread-local once per allocation is what makes allocation cheap)."""

    __slots__ = ("max_int_bits", "max_string", "objects_left")

    def __init__(self) -> None:
        self.objects_left = _UNLIMITED
        self.max_string = _UNLIMITED
        self.max_int_bits = _UNLIMITED


_NO_LIMITS = Allowance()  # outside evaluations (loading, the class table)
_ALLOWANCE: ContextVar[Allowance] = ContextVar("smalltalk_allowance", default=_NO_LIMITS)
current_allowance = _ALLOWANCE.get


def start_budget(objects_left: int, max_string: int) -> None:
    allowance = Allowance()
    allowance.objects_left = objects_left
    allowance.max_string = max_string
    # A LargeInteger may not hold more digits than a String may hold characters.
    allowance.max_int_bits = max_string * 4
    _ALLOWANCE.set(allowance)


def end_budget() -> None:
    _ALLOWANCE.set(_NO_LIMITS)


def charge_objects(count: int = 1) -> None:
    allowance = current_allowance()
    allowance.objects_left -= count
    if allowance.objects_left < 0:
        raise LimitExceeded("heap", "ResourceLimit: too many objects")


def check_string(size: int) -> None:
    if size > current_allowance().max_string:
        raise LimitExceeded("string", f"ResourceLimit: string of {size} characters")


def check_collection(size: int) -> None:
    """A collection of `size` slots: bounded like a string so `Array new: 10**9`
    cannot exhaust memory before any other limit notices."""
    if size > current_allowance().max_string:
        raise LimitExceeded("heap", f"ResourceLimit: collection of {size} elements")


def check_int_bits(bits: int) -> None:
    if bits > current_allowance().max_int_bits:
        raise LimitExceeded("heap", f"ResourceLimit: integer of {bits} bits")
