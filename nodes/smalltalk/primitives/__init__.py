"""Primitives: the methods of system classes, written in Python, one module per
family of classes. Each module registers its functions with `@primitive`; `install`
puts them into the shared system classes' method dictionaries once per process.

A primitive is `fn(interp, receiver, args) -> value`; it reports Smalltalk errors
through `interp.error(...)` (whose value, if a handler resumes, is the result).
"""

from __future__ import annotations

from ._registry import install, primitive

__all__ = ["install", "primitive"]
