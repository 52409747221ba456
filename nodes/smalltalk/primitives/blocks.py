"""BlockClosure: evaluation, loops, and the exception-handling entry points
(`on:do:`, `ensure:`, `ifCurtailed:`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel import new_string
from ..objects import StBlock
from ._registry import positional_primitive, primitive
from .support import Args, elements, python_block

if TYPE_CHECKING:
    from ..runtime import Interpreter


@positional_primitive("BlockClosure", "value")
def _value0(it: Interpreter, rcv: Any) -> Any:
    if type(rcv) is StBlock and rcv.code.nargs == 0:  # (what call_block checks)
        return rcv.code.fn(rcv)
    return it.call_block(rcv, ())


@positional_primitive("BlockClosure", "value:")
def _value1(it: Interpreter, rcv: Any, arg: Any) -> Any:
    if type(rcv) is StBlock and rcv.code.nargs == 1:  # (what call_block checks)
        return rcv.code.fn(rcv, arg)
    return it.call_block(rcv, (arg,))


@primitive("BlockClosure", "value:value:", "value:value:value:", "value:value:value:value:")
def _value_n(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block(rcv, args)


@primitive("BlockClosure", "valueWithArguments:")
def _value_with_arguments(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block(rcv, tuple(elements(args[0])))


@primitive("BlockClosure", "cull:", "cull:cull:", "cull:cull:cull:", "valueWithPossibleArgs:")
def _cull(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block_flexible(rcv, args)


@primitive("BlockClosure", "numArgs", "argumentCount")
def _num_args(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.code.nargs


@primitive("BlockClosure", "whileTrue:")
def _while_true(it: Interpreter, rcv: Any, args: Args) -> Any:
    while it.call_block(rcv, ()) is True:
        it.call_block(args[0], ())
    return None


@primitive("BlockClosure", "whileFalse:")
def _while_false(it: Interpreter, rcv: Any, args: Args) -> Any:
    while it.call_block(rcv, ()) is False:
        it.call_block(args[0], ())
    return None


@primitive("BlockClosure", "whileTrue")
def _while_true0(it: Interpreter, rcv: Any, args: Args) -> Any:
    while it.call_block(rcv, ()) is True:
        pass
    return None


@primitive("BlockClosure", "whileFalse")
def _while_false0(it: Interpreter, rcv: Any, args: Args) -> Any:
    while it.call_block(rcv, ()) is False:
        pass
    return None


@primitive("BlockClosure", "repeat")
def _repeat(it: Interpreter, rcv: Any, args: Args) -> Any:
    while True:
        it.call_block(rcv, ())


@primitive("BlockClosure", "on:do:")
def _on_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.on_do(rcv, args[0], args[1])


@primitive("BlockClosure", "on:do:on:do:")
def _on_do_on_do(it: Interpreter, rcv: Any, args: Args) -> Any:
    inner = rcv

    def outer_protected() -> Any:
        return it.on_do(inner, args[0], args[1])

    return it.on_do(python_block(outer_protected), args[2], args[3])


@primitive("BlockClosure", "ensure:")
def _ensure(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.ensure(rcv, args[0])


@primitive("BlockClosure", "ifCurtailed:")
def _if_curtailed(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.if_curtailed(rcv, args[0])


@primitive("BlockClosure", "printString", "displayString", "asString")
def _print_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(rcv.code.source)


@primitive("BlockClosure", "sourceString", "sourceCode")
def _source(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(rcv.code.source)
