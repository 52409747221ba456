"""Every primitive of the newer class families answers or signals a Smalltalk error for
arguments of the wrong kind: no Python exception escapes `Image.evaluate` (the host
would see an internal error and drop the session's image)."""

from __future__ import annotations

import pytest

from nodes.smalltalk import Image, LimitExceeded
from nodes.smalltalk.classes import SYSTEM_CLASSES
from nodes.smalltalk.primitives import install

RECEIVERS = {
    "ScaledDecimal": ["3.14s2", "-0.5s1"],
    "Duration": ["1 day", "90 seconds negated"],
    "Time": ["(Time hour: 14 minute: 5 second: 0)"],
    "Date": ["(Date year: 2024 month: 3 day: 1)"],
    "DateAndTime": ["(DateAndTime fromString: '2024-03-01T10:20:30+02:00')"],
    "Interval": ["(1 to: 10 by: 3)"],
    "Bag": ["(Bag withAll: #(1 1 2))"],
    "Symbol": ["#at:put:"],
    "String": ["'hello world'"],
    "Integer": ["255"],
    "Float": ["2.5"],
}
ARGUMENTS = ["0", "2", "2.5", "(1/2)", "3.14s2", "'a'", "#(1 2)", "nil", "[:x | x]", "1 day"]
SKIPPED = {"halt", "inspect", "timesRepeat:", "error:", "doesNotUnderstand:"}


def _snippets(class_name: str) -> list[str]:
    install()
    selectors = sorted(SYSTEM_CLASSES[class_name].methods)
    out = []
    for receiver in RECEIVERS[class_name]:
        for selector in selectors:
            if selector in SKIPPED or selector.count(":") > 1:
                continue
            if selector.endswith(":") or not selector[0].isalpha():
                out.extend(f"{receiver} {selector} {arg}" for arg in ARGUMENTS)
            else:
                out.append(f"{receiver} {selector}")
    return out


@pytest.mark.parametrize("class_name", sorted(RECEIVERS))
def test_no_python_exception_escapes(class_name: str) -> None:
    image = Image.new()
    escaped = []
    for code in _snippets(class_name):
        try:
            image.evaluate(code)
        except LimitExceeded:
            continue
        except Exception as exc:  # any escape is the failure this test reports
            escaped.append(f"{code}: {type(exc).__name__}: {exc}")
    assert not escaped, "\n".join(escaped[:20])
