"""Object, Boolean and UndefinedObject."""

from __future__ import annotations

import copy as _copy
from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..equality import equal
from ..kernel import class_of, identical, new_assoc, new_string
from ..limits import charge_objects
from ..objects import (
    Char,
    HeapObject,
    StArray,
    StBag,
    StByteArray,
    StClass,
    StDict,
    StException,
    StMessage,
    StOrdered,
    StSet,
    StStream,
)
from ..printing import native_print_string
from ._registry import primitive
from .support import Args, elements, not_indexable, stable_hash, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter


# ---------------------------------------------------------------------- comparing


@primitive("Object", "==")
def _identical(it: Interpreter, rcv: Any, args: Args) -> Any:
    return identical(rcv, args[0])


@primitive("Object", "~~")
def _not_identical(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not identical(rcv, args[0])


@primitive("Object", "=")
def _equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return equal(it, rcv, args[0])


@primitive("Object", "~=")
def _not_equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(rcv, "=", args) is not True


@primitive("Object", "hash")
def _hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    t = type(rcv)
    if t is int:
        return rcv
    if t is float:
        return int(rcv) if rcv == int(rcv) else hash(rcv) & 0x0FFFFFFF
    text = text_of(rcv)
    if text is not None:
        return stable_hash(text)
    if t is Char:
        return rcv.code
    key = it.hash_key(rcv)
    if key is rcv:
        return id(rcv) >> 4 & 0x0FFFFFFF
    return hash(key) & 0x0FFFFFFF


@primitive("Object", "identityHash", "basicIdentityHash")
def _identity_hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    if type(rcv) is int:
        return rcv
    return id(rcv) >> 4 & 0x0FFFFFFF


# ---------------------------------------------------------------------- class & testing


@primitive("Object", "class")
def _class(it: Interpreter, rcv: Any, args: Args) -> Any:
    return class_of(rcv)


@primitive("Object", "isKindOf:")
def _is_kind_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    cls = args[0]
    return isinstance(cls, StClass) and class_of(rcv).inherits_from(cls)


@primitive("Object", "isMemberOf:")
def _is_member_of(it: Interpreter, rcv: Any, args: Args) -> Any:
    return class_of(rcv) is args[0]


@primitive("Object", "respondsTo:")
def _responds_to(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(args[0]) is str and it.responds_to(rcv, args[0])


@primitive("Object", "isNil")
def _is_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is None


@primitive("Object", "notNil", "isNotNil")
def _not_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is not None


@primitive("Object", "isEmptyOrNil")
def _is_empty_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return False


def _is(name: str) -> Any:
    def test(it: Interpreter, rcv: Any, args: Args) -> Any:
        return class_of(rcv).inherits_from(S[name])

    return test


for _selector, _class_name in [
    ("isString", "String"),
    ("isSymbol", "Symbol"),
    ("isNumber", "Number"),
    ("isInteger", "Integer"),
    ("isFloat", "Float"),
    ("isFraction", "Fraction"),
    ("isCharacter", "Character"),
    ("isCollection", "Collection"),
    ("isArray", "Array"),
    ("isBlock", "BlockClosure"),
    ("isDictionary", "Dictionary"),
    ("isInterval", "Interval"),
    ("isBoolean", "Boolean"),
    ("isException", "Exception"),
    ("isPoint", "Point"),
    ("isAssociation", "Association"),
    ("isSequenceable", "SequenceableCollection"),
    ("isStream", "Stream"),
]:
    primitive("Object", _selector)(_is(_class_name))


@primitive("Object", "isClass", "isBehavior")
def _is_class(it: Interpreter, rcv: Any, args: Args) -> Any:
    return isinstance(rcv, StClass) and not rcv.is_meta


# ---------------------------------------------------------------------- nil tests


@primitive("Object", "ifNil:")
def _if_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Object", "ifNotNil:", "ifNotNilDo:")
def _if_not_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block_flexible(args[0], (rcv,))


@primitive("Object", "ifNil:ifNotNil:")
def _if_nil_if_not_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block_flexible(args[1], (rcv,))


@primitive("Object", "ifNotNil:ifNil:")
def _if_not_nil_if_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block_flexible(args[0], (rcv,))


@primitive("UndefinedObject", "ifNil:")
def _nil_if_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "value", ())


@primitive("UndefinedObject", "ifNotNil:", "ifNotNilDo:")
def _nil_if_not_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return None


@primitive("UndefinedObject", "ifNil:ifNotNil:")
def _nil_if_nil_if_not_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "value", ())


@primitive("UndefinedObject", "ifNotNil:ifNil:")
def _nil_if_not_nil_if_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[1], "value", ())


@primitive("UndefinedObject", "isEmptyOrNil")
def _nil_is_empty_or_nil(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


# ---------------------------------------------------------------------- printing


@primitive("Object", "printString")
def _print_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.print_string(rcv))


@primitive("Object", "printStringLimitedTo:")
def _print_string_limited(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = it.print_string(rcv)
    limit = args[0] if type(args[0]) is int else len(text)
    if len(text) > limit:
        text = text[:limit] + "...etc..."
    return new_string(text)


@primitive("Object", "displayString", "asString")
def _display_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.display_string(rcv))


@primitive("Object", "printOn:")
def _print_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.send(args[0], "nextPutAll:", (new_string(native_print_string(it, rcv)),))
    return rcv


@primitive("Object", "displayStringOn:", "displayOn:")
def _display_on(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.send(args[0], "nextPutAll:", (new_string(it.display_string(rcv)),))
    return rcv


@primitive("Object", "storeString")
def _store_string(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(it.print_string(rcv))


@primitive("Object", "printNl", "displayNl", "traceCr")
def _print_nl(it: Interpreter, rcv: Any, args: Args) -> Any:
    it.show(it.display_string(rcv) + "\n")
    return rcv


# ---------------------------------------------------------------------- misc


@primitive("Object", "yourself")
def _yourself(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Object", "value")
def _value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Object", "->")
def _associate(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_assoc(rcv, args[0])


@primitive("Object", "in:")
def _in(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.call_block(args[0], (rcv,))


@primitive("Object", "error:")
def _error(it: Interpreter, rcv: Any, args: Args) -> Any:
    text = text_of(args[0])
    return it.error("Error", text if text is not None else it.print_string(args[0]))


@primitive("Object", "assert:")
def _assert(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = args[0]
    if value is not True and value is not False:
        value = it.send(value, "value", ())
    if value is not True:
        return it.error("AssertionFailure", "Assertion failed")
    return rcv


@primitive("Object", "assert:description:")
def _assert_description(it: Interpreter, rcv: Any, args: Args) -> Any:
    value = args[0]
    if value is not True and value is not False:
        value = it.send(value, "value", ())
    if value is not True:
        text = text_of(args[1])
        return it.error("AssertionFailure", text if text is not None else it.print_string(args[1]))
    return rcv


@primitive("Object", "halt")
def _halt(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Halt", "Halt")


@primitive("Object", "subclassResponsibility")
def _subclass_responsibility(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "This method is a subclass responsibility")


@primitive("Object", "shouldNotImplement")
def _should_not_implement(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "This message is not appropriate for this object")


@primitive("Object", "notYetImplemented")
def _not_yet_implemented(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.error("Error", "Not yet implemented")


@primitive("Object", "doesNotUnderstand:")
def _does_not_understand(it: Interpreter, rcv: Any, args: Args) -> Any:
    message = args[0]
    if isinstance(message, StMessage):
        exc = it.new_exception(S["MessageNotUnderstood"], None, message=message, receiver=rcv)
        return it.signal(exc)
    return it.error("Error", "doesNotUnderstand: needs a Message")


@primitive("Object", "inspect", "explore", "flag:")
def _inspect(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Object", "perform:")
def _perform(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(rcv, args[0], ())


@primitive("Object", "perform:with:")
def _perform_with(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(rcv, args[0], args[1:])


@primitive("Object", "perform:with:with:")
def _perform_with2(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(rcv, args[0], args[1:])


@primitive("Object", "perform:with:with:with:")
def _perform_with3(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(rcv, args[0], args[1:])


@primitive("Object", "perform:withArguments:")
def _perform_with_arguments(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.perform(rcv, args[0], tuple(elements(args[1])))


# ---------------------------------------------------------------------- copying


@primitive("Object", "shallowCopy")
def _shallow_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return shallow_copy(it, rcv)


@primitive("Object", "copy")
def _copy_(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = shallow_copy(it, rcv)
    if result is not rcv and it.user_method(result, "postCopy") is not None:
        it.send(result, "postCopy", ())
    return result


@primitive("Object", "postCopy")
def _post_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Object", "deepCopy")
def _deep_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    result = shallow_copy(it, rcv)
    if isinstance(result, HeapObject) and result is not rcv:
        result.slots[:] = [shallow_copy(it, v) for v in result.slots]
        if isinstance(result, (StArray, StOrdered)):
            result.items[:] = [shallow_copy(it, v) for v in result.items]
    return result


def shallow_copy(it: Interpreter, rcv: Any) -> Any:
    """A new object of the same class with the same contents (immediates, classes
    and well-known objects answer themselves)."""
    if not isinstance(rcv, HeapObject) or isinstance(rcv, StClass) or rcv.kind == "global":
        return rcv
    charge_objects()
    original: Any = rcv
    clone: Any = _copy.copy(rcv)
    clone.oid = None
    clone.slots = list(original.slots)
    if isinstance(clone, (StArray, StOrdered)):
        clone.items = list(original.items)
    elif isinstance(clone, (StDict, StBag)):
        clone.table = {k: list(v) for k, v in original.table.items()}
    elif isinstance(clone, StSet):
        clone.table = dict(original.table)
    elif isinstance(clone, StByteArray):
        clone.data = bytearray(original.data)
    elif isinstance(clone, StException):
        clone.handler = None
        clone.handler_index = -1
        clone.tokens = []
    elif isinstance(clone, StStream):
        clone.pending = list(original.pending)
    return clone


# ---------------------------------------------------------------------- reflection on slots


def _slot_index(it: Interpreter, rcv: Any, index: Any) -> int | None:
    if (
        not isinstance(rcv, HeapObject)
        or type(index) is not int
        or not 1 <= index <= len(rcv.slots)
    ):
        it.error(
            "SubscriptOutOfBounds",
            None,
            subscript=index,
            lowerBound=1,
            upperBound=len(getattr(rcv, "slots", ())),
        )
        return None
    return index - 1


@primitive("Object", "instVarAt:")
def _inst_var_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = _slot_index(it, rcv, args[0])
    return None if index is None else rcv.slots[index]


@primitive("Object", "instVarAt:put:")
def _inst_var_at_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = _slot_index(it, rcv, args[0])
    if index is not None:
        if rcv.oid is not None:
            it.touch(rcv)
        rcv.slots[index] = args[1]
    return args[1]


def _named_index(it: Interpreter, rcv: Any, name: Any) -> int | None:
    text = text_of(name)
    names = class_of(rcv).ivars
    if text is None or text not in names or not isinstance(rcv, HeapObject):
        it.error("Error", f"{text} is not an instance variable of {class_of(rcv).name}")
        return None
    return names.index(text)


@primitive("Object", "instVarNamed:")
def _inst_var_named(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = _named_index(it, rcv, args[0])
    return None if index is None else rcv.slots[index]


@primitive("Object", "instVarNamed:put:")
def _inst_var_named_put(it: Interpreter, rcv: Any, args: Args) -> Any:
    index = _named_index(it, rcv, args[0])
    if index is not None:
        if rcv.oid is not None:
            it.touch(rcv)
        rcv.slots[index] = args[1]
    return args[1]


@primitive("Object", "at:", "basicAt:", "at:put:", "basicAt:put:")
def _not_indexable(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not_indexable(it, rcv)


@primitive("Object", "size", "basicSize")
def _size(it: Interpreter, rcv: Any, args: Args) -> Any:
    return 0


# ---------------------------------------------------------------------- Boolean


@primitive("Boolean", "not")
def _not(it: Interpreter, rcv: Any, args: Args) -> Any:
    return not rcv


@primitive("Boolean", "&")
def _and_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return args[0] if rcv else False


@primitive("Boolean", "|")
def _or_value(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True if rcv else args[0]


@primitive("Boolean", "and:")
def _and(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "value", ()) if rcv else False


@primitive("Boolean", "or:")
def _or(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True if rcv else it.send(args[0], "value", ())


@primitive("Boolean", "xor:")
def _xor(it: Interpreter, rcv: Any, args: Args) -> Any:
    other = args[0]
    if other is not True and other is not False:
        other = it.send(other, "value", ())
    return rcv is not other


@primitive("Boolean", "eqv:")
def _eqv(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is args[0]


@primitive("Boolean", "ifTrue:")
def _if_true(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0], "value", ()) if rcv else None


@primitive("Boolean", "ifFalse:")
def _if_false(it: Interpreter, rcv: Any, args: Args) -> Any:
    return None if rcv else it.send(args[0], "value", ())


@primitive("Boolean", "ifTrue:ifFalse:")
def _if_true_if_false(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[0] if rcv else args[1], "value", ())


@primitive("Boolean", "ifFalse:ifTrue:")
def _if_false_if_true(it: Interpreter, rcv: Any, args: Args) -> Any:
    return it.send(args[1] if rcv else args[0], "value", ())


@primitive("Boolean", "asBit")
def _as_bit(it: Interpreter, rcv: Any, args: Args) -> Any:
    return 1 if rcv else 0


@primitive("Boolean", "deepCopy", "shallowCopy", "copy")
def _bool_copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv
