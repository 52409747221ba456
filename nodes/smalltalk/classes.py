"""The system class table: Pharo's class names and hierarchy, shared by every image.

System classes are created once per process and never modified by a session (they
hold only primitives); session classes live in their image. Each class gets a
metaclass ("Foo class") whose superclass chain ends, as in Pharo, at Class.
"""

from __future__ import annotations

from .objects import VALUE_TYPES, StClass, WellKnown

_EXCEPTION_IVARS = [
    "messageText",
    "tag",
    "signaler",
    "signalContext",
    "handlerContext",
    "outerContext",
]

# (name, superclass, own instance variables, layout of instances, category)
_DEFINITIONS: list[tuple[str, str | None, list[str], str, str]] = [
    ("ProtoObject", None, [], "object", "Kernel-Objects"),
    ("Object", "ProtoObject", [], "object", "Kernel-Objects"),
    ("Boolean", "Object", [], "none", "Kernel-Objects"),
    ("True", "Boolean", [], "none", "Kernel-Objects"),
    ("False", "Boolean", [], "none", "Kernel-Objects"),
    ("UndefinedObject", "Object", [], "none", "Kernel-Objects"),
    ("Magnitude", "Object", [], "object", "Kernel-Numbers"),
    ("Character", "Magnitude", [], "none", "Kernel-BasicObjects"),
    ("Number", "Magnitude", [], "none", "Kernel-Numbers"),
    ("Integer", "Number", [], "none", "Kernel-Numbers"),
    ("SmallInteger", "Integer", [], "none", "Kernel-Numbers"),
    ("LargePositiveInteger", "Integer", [], "none", "Kernel-Numbers"),
    ("LargeNegativeInteger", "LargePositiveInteger", [], "none", "Kernel-Numbers"),
    ("Float", "Number", [], "none", "Kernel-Numbers"),
    ("SmallFloat64", "Float", [], "none", "Kernel-Numbers"),
    ("BoxedFloat64", "Float", [], "none", "Kernel-Numbers"),
    ("Fraction", "Number", [], "none", "Kernel-Numbers"),
    ("Collection", "Object", [], "object", "Collections-Abstract"),
    ("SequenceableCollection", "Collection", [], "object", "Collections-Abstract"),
    ("ArrayedCollection", "SequenceableCollection", [], "array", "Collections-Abstract"),
    ("Array", "ArrayedCollection", [], "array", "Collections-Sequenceable"),
    ("String", "ArrayedCollection", [], "string", "Collections-Strings"),
    ("ByteString", "String", [], "string", "Collections-Strings"),
    ("WideString", "String", [], "string", "Collections-Strings"),
    ("Symbol", "String", [], "none", "Collections-Strings"),
    ("ByteSymbol", "Symbol", [], "none", "Collections-Strings"),
    ("WideSymbol", "Symbol", [], "none", "Collections-Strings"),
    ("ByteArray", "ArrayedCollection", [], "bytes", "Collections-Native"),
    ("Interval", "SequenceableCollection", [], "interval", "Collections-Sequenceable"),
    ("OrderedCollection", "SequenceableCollection", [], "ordered", "Collections-Sequenceable"),
    ("SortedCollection", "OrderedCollection", [], "sorted", "Collections-Sequenceable"),
    ("HashedCollection", "Collection", [], "set", "Collections-Abstract"),
    ("Dictionary", "HashedCollection", [], "dict", "Collections-Unordered"),
    ("IdentityDictionary", "Dictionary", [], "dict", "Collections-Unordered"),
    ("Set", "HashedCollection", [], "set", "Collections-Unordered"),
    ("IdentitySet", "Set", [], "set", "Collections-Unordered"),
    ("Bag", "Collection", [], "bag", "Collections-Unordered"),
    ("LookupKey", "Magnitude", [], "assoc", "Collections-Support"),
    ("Association", "LookupKey", [], "assoc", "Collections-Support"),
    ("Point", "Object", [], "point", "Kernel-BasicObjects"),
    ("BlockClosure", "Object", [], "none", "Kernel-Methods"),
    ("FullBlockClosure", "BlockClosure", [], "none", "Kernel-Methods"),
    ("Context", "Object", [], "none", "Kernel-Methods"),
    ("Message", "Object", [], "message", "Kernel-Methods"),
    ("Stream", "Object", [], "none", "Collections-Streams"),
    ("PositionableStream", "Stream", [], "none", "Collections-Streams"),
    ("ReadStream", "PositionableStream", [], "stream", "Collections-Streams"),
    ("WriteStream", "PositionableStream", [], "stream", "Collections-Streams"),
    ("ReadWriteStream", "WriteStream", [], "stream", "Collections-Streams"),
    ("ThreadSafeTranscript", "Object", [], "none", "Transcript-Core"),
    ("SmalltalkImage", "Object", [], "none", "System-Support"),
    ("ExceptionSet", "Object", [], "exset", "Kernel-Exceptions"),
    ("Exception", "Object", _EXCEPTION_IVARS, "exception", "Kernel-Exceptions"),
    ("Error", "Exception", [], "exception", "Kernel-Exceptions"),
    ("ArithmeticError", "Error", [], "exception", "Kernel-Exceptions"),
    ("ZeroDivide", "ArithmeticError", ["dividend"], "exception", "Kernel-Exceptions"),
    ("DomainError", "ArithmeticError", [], "exception", "Kernel-Exceptions"),
    (
        "MessageNotUnderstood",
        "Error",
        ["message", "receiver", "reachedDefaultHandler"],
        "exception",
        "Kernel-Exceptions",
    ),
    (
        "SubscriptOutOfBounds",
        "Error",
        ["subscript", "lowerBound", "upperBound"],
        "exception",
        "Kernel-Exceptions",
    ),
    ("NotFound", "Error", ["object"], "exception", "Kernel-Exceptions"),
    ("KeyNotFound", "NotFound", ["key"], "exception", "Kernel-Exceptions"),
    ("CollectionIsEmpty", "Error", ["collection"], "exception", "Kernel-Exceptions"),
    ("NonBooleanReceiver", "Error", ["object"], "exception", "Kernel-Exceptions"),
    ("ArgumentsCountMismatch", "Error", [], "exception", "Kernel-Exceptions"),
    ("IllegalResumeAttempt", "Error", [], "exception", "Kernel-Exceptions"),
    ("BlockCannotReturn", "Error", ["result"], "exception", "Kernel-Exceptions"),
    ("AssertionFailure", "Error", [], "exception", "Kernel-Exceptions"),
    ("InvalidArgument", "Error", [], "exception", "Kernel-Exceptions"),
    ("SyntaxErrorNotification", "Error", [], "exception", "Kernel-Exceptions"),
    ("Notification", "Exception", [], "exception", "Kernel-Exceptions"),
    ("Warning", "Exception", [], "exception", "Kernel-Exceptions"),
    ("Halt", "Exception", [], "exception", "Kernel-Exceptions"),
    ("Behavior", "Object", [], "none", "Kernel-Classes"),
    ("ClassDescription", "Behavior", [], "none", "Kernel-Classes"),
    ("Class", "ClassDescription", [], "none", "Kernel-Classes"),
    ("Metaclass", "ClassDescription", [], "none", "Kernel-Classes"),
    ("ScaledDecimal", "Number", [], "none", "Kernel-Numbers"),
    ("Duration", "Magnitude", [], "none", "Kernel-Chronology"),
    ("Time", "Magnitude", [], "none", "Kernel-Chronology"),
    ("DateAndTime", "Magnitude", [], "none", "Kernel-Chronology"),
    ("Timespan", "Magnitude", [], "none", "Kernel-Chronology"),
    ("Date", "Timespan", [], "none", "Kernel-Chronology"),
]

SYSTEM_CLASSES: dict[str, StClass] = {}


def _build() -> None:
    for name, super_name, ivars, layout, category in _DEFINITIONS:
        superclass = SYSTEM_CLASSES[super_name] if super_name else None
        SYSTEM_CLASSES[name] = StClass(
            name, superclass, ivars, layout, system=True, category=category
        )
    metaclass_class = SYSTEM_CLASSES["Metaclass"]
    class_class = SYSTEM_CLASSES["Class"]
    for name, super_name, _ivars, _layout, category in _DEFINITIONS:
        cls = SYSTEM_CLASSES[name]
        meta_super = SYSTEM_CLASSES[super_name].cls if super_name else class_class
        meta = StClass(
            f"{name} class", meta_super, [], "class", system=True, is_meta=True, category=category
        )
        meta.instance_class = cls
        meta.cls = metaclass_class
        cls.cls = meta


_build()

# Value objects (objects.ValueObject) answer their class through a class attribute.
for _value_type in VALUE_TYPES:
    _value_type.cls = SYSTEM_CLASSES[_value_type.__name__]


def system_class(name: str) -> StClass:
    return SYSTEM_CLASSES[name]


OBJECT = SYSTEM_CLASSES["Object"]
TRANSCRIPT = WellKnown(SYSTEM_CLASSES["ThreadSafeTranscript"], "Transcript")
SMALLTALK = WellKnown(SYSTEM_CLASSES["SmalltalkImage"], "Smalltalk")

WELL_KNOWN: dict[str, WellKnown] = {"Transcript": TRANSCRIPT, "Smalltalk": SMALLTALK}


def global_named(name: str) -> object | None:
    """A system global by name (system class or well-known object), or None."""
    cls = SYSTEM_CLASSES.get(name)
    if cls is not None:
        return cls
    return WELL_KNOWN.get(name)


def make_metaclass_name(name: str) -> str:
    return f"{name} class"
