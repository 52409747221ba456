"""Exception, its system subclasses, and ExceptionSet.

Signalling and handler search live in the Interpreter (runtime.py); these are the
messages Smalltalk code sends to exceptions and exception classes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..errors import UnhandledError
from ..kernel import new_array, new_string
from ..objects import StClass, StException, StExceptionSet, StMessage
from ..printing import exception_description, exception_message_text
from ._registry import primitive
from .support import Args, elements, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter

_EXCEPTION_SET = S["ExceptionSet"]


def _instantiate(it: Interpreter, cls: StClass) -> StException:
    exc = StException(cls)
    if it.user_method(exc, "initialize") is not None:
        it.send(exc, "initialize", ())
    return exc


@primitive("Exception class", "signal")
def _class_signal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(_instantiate(it, rcv), "signal", ())


@primitive("Exception class", "signal:")
def _class_signal_text(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(_instantiate(it, rcv), "signal:", args)


@primitive("Exception class", "signalOn:", "signalFor:")
def _class_signal_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    exc = _instantiate(it, rcv)
    exc.slots[2] = args[0]
    return it.send(exc, "signal", ())


@primitive("Exception class", ",")
def _class_comma(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StExceptionSet(_EXCEPTION_SET, [rcv, args[0]])


@primitive("Exception class", "handles:")
def _class_handles(it: Interpreter, rcv: Any, args: Args) -> Any:
    exc = args[0]
    return isinstance(exc, StException) and exc.cls.inherits_from(rcv)


@primitive("ExceptionSet", ",")
def _set_comma(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StExceptionSet(_EXCEPTION_SET, [*rcv.members, args[0]])


@primitive("ExceptionSet", "handles:")
def _set_handles(it: Interpreter, rcv: Any, args: Args) -> Any:
    exc = args[0]
    return isinstance(exc, StException) and it.handles(rcv, exc)


@primitive("Exception", "signal")
def _signal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.signal(rcv)


@primitive("Exception", "signal:")
def _signal_text(it: Interpreter, rcv: Any, args: Args) -> Any:
    _set_message_text(it, rcv, args[0])
    return it.signal(rcv)


def _set_message_text(it: Interpreter, exc: StException, text: Any) -> None:
    if exc.oid is not None:
        it.touch(exc)
    exc.slots[0] = text


@primitive("Exception", "messageText")
def _message_text(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = rcv.slots[0]
    if text is not None:
        return text
    computed = exception_message_text(it, rcv)
    if computed or not rcv.cls.inherits_from(S["Error"]):
        return new_string(computed)
    return new_string(computed)


@primitive("Exception", "messageText:")
def _message_text_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    _set_message_text(it, rcv, args[0])
    return rcv


@primitive("Exception", "description")
def _description(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(exception_description(it, rcv))


@primitive("Exception", "return:")
def _return(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.unwind_handler(rcv, args[0])


@primitive("Exception", "return")
def _return_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.unwind_handler(rcv, None)


@primitive("Exception", "retry")
def _retry(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.unwind_handler(rcv, None, retry=True)


@primitive("Exception", "retryUsing:")
def _retry_using(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.unwind_handler(rcv, args[0], retry=True)


@primitive("Exception", "resume")
def _resume_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.resume(rcv, None)


@primitive("Exception", "resume:")
def _resume(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.resume(rcv, args[0])


@primitive("Exception", "pass")
def _pass(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.pass_(rcv)


@primitive("Exception", "outer")
def _outer(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.outer(rcv)


@primitive("Exception", "resignalAs:")
def _resignal_as(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.signal(args[0])


@primitive("Exception", "isResumable")
def _is_resumable(it: Interpreter, rcv: Any, args: Args) -> Any:
    cls = rcv.cls
    if cls.inherits_from(S["MessageNotUnderstood"]) or cls.inherits_from(S["ArithmeticError"]):
        return True
    return not cls.inherits_from(S["Error"])


@primitive("Exception", "defaultAction")
def _default_action(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.cls.inherits_from(S["Notification"]):
        return None
    raise UnhandledError(rcv)


@primitive("Exception", "signalerContext", "signalContext")
def _signaler_context(it: Interpreter, rcv: Any, args: Args) -> Any:
    return None


@primitive("Exception", "tag")
def _tag(it: Interpreter, rcv: Any, args: Args) -> Any:
    tag = rcv.slots[1]
    return tag if tag is not None else it.send(rcv, "messageText", ())


@primitive("Exception", "tag:")
def _tag_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.oid is not None:
        it.touch(rcv)
    rcv.slots[1] = args[0]
    return rcv


@primitive("Exception", "signaler")
def _signaler(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.slots[2]


@primitive("Exception", "signaler:")
def _signaler_set(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.oid is not None:
        it.touch(rcv)
    rcv.slots[2] = args[0]
    return rcv


@primitive("Exception", "printString", "displayString")
def _print(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.print_string(rcv))


def _accessor(name: str) -> Any:
    def get(it: Interpreter, rcv: Any, args: Args) -> Any:
        return rcv.slots[rcv.cls.ivars.index(name)]

    return get


for _class_name, _ivars in [
    ("MessageNotUnderstood", ["message", "receiver", "reachedDefaultHandler"]),
    ("SubscriptOutOfBounds", ["subscript", "lowerBound", "upperBound"]),
    ("NotFound", ["object"]),
    ("KeyNotFound", ["key"]),
    ("ZeroDivide", ["dividend"]),
    ("CollectionIsEmpty", ["collection"]),
    ("BlockCannotReturn", ["result"]),
    ("NonBooleanReceiver", ["object"]),
]:
    for _ivar in _ivars:
        primitive(_class_name, _ivar)(_accessor(_ivar))


@primitive("Message", "selector")
def _message_selector(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.selector


@primitive("Message", "arguments")
def _message_arguments(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(list(rcv.args))


@primitive("Message class", "selector:arguments:")
def _message_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return StMessage(rcv, args[0], elements(args[1]))


def message_text_of(it: Interpreter, exc: StException) -> str:
    value = exc.slots[0]
    text = text_of(value)
    if text is not None:
        return text
    return exception_message_text(it, exc)
