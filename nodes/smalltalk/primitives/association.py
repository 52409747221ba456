"""LookupKey and Association (`key -> value`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..objects import (
    StAssoc,
)
from ._registry import primitive
from .support import (
    Args,
    touch,
)

if TYPE_CHECKING:
    from ..runtime import Interpreter


@primitive("LookupKey", "key")
def _assoc_key(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.key


@primitive("Association", "value")
def _assoc_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.value


@primitive("LookupKey", "key:")
def _assoc_key_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.key = args[0]
    return rcv


@primitive("Association", "value:")
def _assoc_value_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.value = args[0]
    return rcv


@primitive("Association", "key:value:")
def _assoc_key_value_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    touch(it, rcv)
    rcv.key, rcv.value = args
    return rcv


@primitive("Association class", "key:value:")
def _assoc_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StAssoc(rcv, args[0], args[1])


@primitive("LookupKey", "<")
def _assoc_less(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    return it.send(rcv.key, "<", (other.key if type(other) is StAssoc else other,))
