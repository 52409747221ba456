"""Shared helpers for the Smalltalk evaluator tests (imported, not collected)."""

from __future__ import annotations

from typing import Any

from nodes.smalltalk import Image, Limits, Outcome


def run(image: Image, code: str, **limits: Any) -> Outcome:
    return image.evaluate(code, limits=Limits(**limits)) if limits else image.evaluate(code)


def ps(code: str, image: Image | None = None) -> str:
    """printString of `code` evaluated in `image` (a fresh one by default); fails the
    test on an unhandled Smalltalk error."""
    outcome = (image or Image.new()).evaluate(code)
    assert not outcome.has_error, f"{code!r}: {outcome.error_class}: {outcome.error_message}"
    return outcome.print_string
