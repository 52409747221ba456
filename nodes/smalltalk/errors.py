"""Python exceptions at the evaluator's boundary, and the private ones that carry
Smalltalk control flow (non-local return, handler unwinding, resumption) through
Python frames.

The control-flow exceptions derive from BaseException so that no `except Exception`
inside a primitive can swallow them by accident.
"""

from __future__ import annotations

from typing import Any


class SmalltalkSyntaxError(Exception):
    """The snippet does not parse (or cannot be compiled: assignment to `self`, ...).

    `line` and `column` are 1-based; `hint` is a short human-readable reason."""

    def __init__(self, line: int, column: int, hint: str) -> None:
        super().__init__(f"line {line}, column {column}: {hint}")
        self.line = line
        self.column = column
        self.hint = hint


class LimitExceeded(Exception):
    """An evaluation exceeded a resource limit or was interrupted.

    Smalltalk code cannot catch it; the image is rolled back before it reaches the host.
    `kind` is one of steps, time, depth, heap, string, interrupted."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        self.error_type = "Timeout" if kind in ("time", "interrupted") else "ResourceLimit"
        super().__init__(detail or f"{self.error_type}: {kind} limit exceeded")


class CorruptRecord(Exception):
    """Image.load met a record it cannot read."""

    def __init__(self, oid: str, reason: str) -> None:
        super().__init__(f"record {oid}: {reason}")
        self.oid = oid
        self.reason = reason


class ControlFlow(BaseException):
    """Base of the exceptions that implement Smalltalk control transfers."""


class NonLocalReturn(ControlFlow):
    """`^value` leaving the activation `home` (raised from inside a block or an inlined
    block that is not in statement position)."""

    def __init__(self, home: Any, value: Any) -> None:
        self.home = home
        self.value = value


class HandlerUnwind(ControlFlow):
    """Leave an `on:do:` activation: `retry` re-runs the protected block, otherwise
    `value` becomes the value of `on:do:` (`return:` or falling off the handler)."""

    def __init__(self, entry: Any, value: Any, retry: bool = False) -> None:
        self.entry = entry
        self.value = value
        self.retry = retry


class Resumption(ControlFlow):
    """`anException resume: value`: return `value` from the matching `signal`/`outer`."""

    def __init__(self, token: object, value: Any) -> None:
        self.token = token
        self.value = value


class UnhandledError(ControlFlow):
    """No handler took an Error: the evaluation ends with has_error."""

    def __init__(self, exception: Any) -> None:
        self.exception = exception
