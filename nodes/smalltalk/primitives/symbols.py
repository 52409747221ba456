"""Symbol: the selector protocol (numArgs, precedence, keywords, asMutator ...) and
the class side. Symbols are Python strs; the String protocol applies to them too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kernel import new_array
from ._registry import primitive
from .support import Args, text_arg, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter


def precedence(selector: str) -> int:
    """Symbol>>precedence: 0 for an empty symbol, 2 if it does not start with a
    letter (binary), 3 if it ends with a colon (keyword), else 1 (unary)."""
    if not selector:
        return 0
    if not selector[0].isalpha():
        return 2
    return 3 if selector.endswith(":") else 1


def num_args(selector: str) -> int:
    """Symbol>>numArgs: 1 for a binary selector, else the number of colons."""
    kind = precedence(selector)
    if kind == 2:
        return 1
    return selector.count(":") if kind == 3 else 0


@primitive("String", "numArgs")
def _num_args(it: Interpreter, rcv: Any, args: Args) -> Any:
    return num_args(text_of(rcv) or "")


@primitive("String", "numArgs:")
def _with_num_args(it: Interpreter, rcv: Any, args: Args) -> Any:
    """A selector like the receiver taking `n` arguments: `#foo numArgs: 2` is
    #foo:with:; a selector already taking as many (or more) is answered as it is."""
    selector = text_of(rcv) or ""
    wanted = args[0]
    if type(wanted) is not int:
        return it.error("Error", "numArgs: needs an Integer")
    have = num_args(selector)
    if have >= wanted:
        return selector
    if have == 0:
        return selector + ":" + "with:" * (wanted - 1)
    return selector + "with:" * (wanted - have)


@primitive("Symbol", "precedence")
def _precedence(it: Interpreter, rcv: Any, args: Args) -> Any:
    return precedence(rcv)


@primitive("Symbol", "isUnary")
def _is_unary(it: Interpreter, rcv: Any, args: Args) -> Any:
    return precedence(rcv) == 1


@primitive("Symbol", "isBinary")
def _is_binary(it: Interpreter, rcv: Any, args: Args) -> Any:
    return precedence(rcv) == 2


@primitive("Symbol", "isKeyword")
def _is_keyword(it: Interpreter, rcv: Any, args: Args) -> Any:
    return precedence(rcv) == 3


@primitive("Symbol", "keywords")
def _keywords(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The keywords of a keyword selector (`#at:put:` -> #(#at: #put:)); any other
    Symbol answers an Array holding itself."""
    if precedence(rcv) != 3:
        return new_array([rcv])
    parts = [part + ":" for part in rcv.split(":")[:-1]]
    return new_array(parts)


@primitive("Symbol", "asMutator")
def _as_mutator(it: Interpreter, rcv: Any, args: Args) -> Any:
    """The setter of a getter: `#name asMutator` is #name:."""
    return rcv + ":"


@primitive("Symbol", "asGetter")
def _as_getter(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.removesuffix(":")


@primitive("Symbol class", "new:", "new")
def _symbol_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "Symbols cannot be created with new")


@primitive("Symbol class", "intern:", "fromString:")
def _symbol_intern(it: Interpreter, rcv: Any, args: Args) -> Any:
    return text_arg(it, args[0])
