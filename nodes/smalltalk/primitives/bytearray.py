"""ByteArray specifics (the rest is the sequenceable protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..kernel import new_string
from ._registry import primitive
from .support import (
    Args,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter

_ARRAY = S["Array"]
_ORDERED = S["OrderedCollection"]
_SET = S["Set"]
_BAG = S["Bag"]
_SORTED = S["SortedCollection"]
_DICT = S["Dictionary"]
_INTERVAL = S["Interval"]


@primitive("ByteArray", "asString")
def _bytes_as_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(bytes(rcv.data).decode("latin-1"))
