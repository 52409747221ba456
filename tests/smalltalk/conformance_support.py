"""Helpers shared by the per-family conformance tables (test_st_conformance_*.py).

A row is ``(code, expected)`` or ``(id, code, expected)``: ``code`` is a workspace
snippet evaluated in a fresh ``Image``, ``expected`` what a Pharo 12 print-it shows for
it (or, in the error tables, the class of the unhandled error). A trailing comment on a
row names the Pharo method whose source or class comment the answer was checked against
when it is not the obvious one.
"""

from __future__ import annotations

from typing import Any

import pytest

from nodes.smalltalk import Image


def auto_id(code: str) -> str:
    text = " ".join(code.split())
    return text if len(text) <= 72 else text[:44] + " ... " + text[-24:]


def params(rows: list[tuple[Any, ...]]) -> list[Any]:
    out = []
    seen: dict[str, int] = {}
    for row in rows:
        if len(row) == 3:
            ident, code, expected = row
        else:
            code, expected = row
            ident = auto_id(code)
        count = seen.get(ident, 0)
        seen[ident] = count + 1
        if count:
            ident = f"{ident} #{count + 1}"
        out.append(pytest.param(code, expected, id=ident))
    return out


def run(code: str) -> Any:
    return Image.new().evaluate(code)


def check_print(code: str, expected: str) -> None:
    outcome = run(code)
    assert not outcome.has_error, (
        f"{code!r} ended with {outcome.error_class}: {outcome.error_message}"
    )
    assert outcome.print_string == expected, code


def check_error(code: str, error_class: str) -> None:
    outcome = run(code)
    assert outcome.has_error, f"{code!r} answered {outcome.print_string!r}"
    assert outcome.error_class == error_class, (code, outcome.error_message)


def st(text: str) -> str:
    """A Smalltalk string literal for ``text`` (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"
