"""ByteArray specifics (the rest is the sequenceable protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel import new_string
from ._registry import primitive
from .support import (
    Args,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


@primitive("ByteArray", "asString")
def _bytes_as_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(bytes(rcv.data).decode("latin-1"))
