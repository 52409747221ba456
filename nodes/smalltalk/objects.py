"""The object model: how each kind of Smalltalk object is held in Python.

Immediates (never heap records): nil/true/false are None/True/False, integers are
Python ints (SmallInteger or LargePositive/NegativeInteger by range), floats are
Python floats, Fractions are `fractions.Fraction`, Symbols are Python `str`, and
Characters are interned `Char`s.

Everything else is a HeapObject: it has a class (`cls`), an `oid` (None until the
object first becomes persistent), and `slots` for named instance variables. Each
kind adds its Python state, can `snapshot`/`restore` that state (the undo log of the
write barrier) and list the values it refers to (`refs`, for reachability).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import LimitExceeded
from .limits import check_string, current_allowance


class Char:
    """A Character; interned, so `==` on equal characters holds as in Pharo."""

    __slots__ = ("code", "text")
    _table: ClassVar[dict[int, Char]] = {}

    def __init__(self, code: int) -> None:
        self.code = code
        self.text = chr(code)  # (kept: string primitives read it on every call)

    @classmethod
    def of(cls, code: int) -> Char:
        char = cls._table.get(code)
        if char is None:
            char = cls._table[code] = Char(code)
        return char

    def __repr__(self) -> str:
        return f"Char({chr(self.code)!r})"


class HeapObject:
    """Base of every object that lives in the heap (and may be persisted)."""

    __slots__ = ("cls", "oid", "slots")
    kind: ClassVar[str] = "object"

    def __init__(self, cls: StClass, slots: list[Any] | None = None) -> None:
        allowance = current_allowance()
        allowance.objects_left -= 1
        if allowance.objects_left < 0:
            raise LimitExceeded("heap", "ResourceLimit: too many objects")
        self.cls = cls
        self.oid: str | None = None
        if slots is None:
            count = len(cls.ivars) if cls is not None else 0
            slots = [None] * count if count else []
        self.slots = slots

    # -- undo log support
    def snapshot(self) -> Any:
        return list(self.slots)

    def restore(self, state: Any) -> None:
        self.slots[:] = state

    def refs(self) -> Iterator[Any]:
        yield self.cls
        yield from self.slots

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.cls.name if self.cls else '?'} oid={self.oid}>"


class StObject(HeapObject):
    """A pointer object: an instance of Object or of a session class."""

    __slots__ = ()


class StException(HeapObject):
    """An instance of Exception or a subclass. Besides its instance variables it
    carries transient signal state, never persisted: the active handler entry and
    its index in the handler stack, the resumption targets of `signal`/`outer`, and
    the Python-side origin used for error reports."""

    __slots__ = ("handler", "handler_index", "tokens")
    kind = "exception"

    def __init__(self, cls: StClass, slots: list[Any] | None = None) -> None:
        HeapObject.__init__(self, cls, slots)
        self.handler: Any = None
        self.handler_index = -1
        self.tokens: list[object] = []


class StString(HeapObject):
    """A mutable String (ByteString or WideString by content). Made by `make_string`
    (any class) or `kernel.new_string` (ByteString or WideString by content), never by
    `StString()` (which sets nothing): with object's `__init__` that is CPython's
    quickest way to make an instance (no argument tuple, no Python-level call), and
    Strings are the objects primitives make most."""

    __slots__ = ("chars",)
    kind = "string"
    if TYPE_CHECKING:

        def __init__(self) -> None: ...

    else:
        # object's own, not HeapObject's: CPython then runs no Python code to make one
        __init__ = object.__init__

    def snapshot(self) -> Any:
        # The class too: storing a wide Character turns a ByteString into a WideString.
        return (list(self.slots), self.chars, self.cls)

    def restore(self, state: Any) -> None:
        self.slots[:], self.chars, self.cls = state


def make_string(cls: StClass, chars: str) -> StString:
    """A String of class `cls` (its named instance variables nil), charged to the
    evaluation's allowance like any object."""
    allowance = current_allowance()
    if len(chars) > allowance.max_string:
        check_string(len(chars))
    allowance.objects_left -= 1
    if allowance.objects_left < 0:
        raise LimitExceeded("heap", "ResourceLimit: too many objects")
    string = StString()
    string.cls = cls
    string.oid = None
    string.slots = [None] * len(cls.ivars) if cls.ivars else []
    string.chars = chars
    return string


class StByteArray(HeapObject):
    __slots__ = ("data",)
    kind = "bytes"

    def __init__(self, cls: StClass, data: bytearray) -> None:
        if len(data) > current_allowance().max_string:
            check_string(len(data))
        HeapObject.__init__(self, cls)
        self.data = data

    def snapshot(self) -> Any:
        return (list(self.slots), bytes(self.data))

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.data[:] = state[1]


class StArray(HeapObject):
    __slots__ = ("items",)
    kind = "array"

    def __init__(self, cls: StClass, items: list[Any]) -> None:
        HeapObject.__init__(self, cls)
        self.items = items

    def snapshot(self) -> Any:
        return (list(self.slots), list(self.items))

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.items[:] = state[1]

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield from self.items


class StOrdered(HeapObject):
    """OrderedCollection (a growable list)."""

    __slots__ = ("items",)
    kind = "ordered"

    def __init__(self, cls: StClass, items: list[Any] | None = None) -> None:
        HeapObject.__init__(self, cls)
        self.items = items if items is not None else []

    def snapshot(self) -> Any:
        return (list(self.slots), list(self.items))

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.items[:] = state[1]

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield from self.items


class StSorted(StOrdered):
    """SortedCollection: items kept sorted by `sort_block` (nil = `<=`)."""

    __slots__ = ("sort_block",)
    kind = "sorted"

    def __init__(self, cls: StClass, items: list[Any] | None = None, sort_block: Any = None):
        StOrdered.__init__(self, cls, items)
        self.sort_block = sort_block

    def snapshot(self) -> Any:
        return (list(self.slots), list(self.items), self.sort_block)

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.items[:] = state[1]
        self.sort_block = state[2]

    def refs(self) -> Iterator[Any]:
        yield from StOrdered.refs(self)
        yield self.sort_block


class StDict(HeapObject):
    """Dictionary / IdentityDictionary: `table` maps a hash key to [key, value] in
    insertion order (see equality.hash_key)."""

    __slots__ = ("table",)
    kind = "dict"

    def __init__(self, cls: StClass) -> None:
        HeapObject.__init__(self, cls)
        self.table: dict[Any, list[Any]] = {}

    def snapshot(self) -> Any:
        return (list(self.slots), [(h, list(kv)) for h, kv in self.table.items()])

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.table = {h: kv for h, kv in state[1]}

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        for key, value in self.table.values():
            yield key
            yield value


class StSet(HeapObject):
    """Set / IdentitySet: `table` maps a hash key to the element."""

    __slots__ = ("table",)
    kind = "set"

    def __init__(self, cls: StClass) -> None:
        HeapObject.__init__(self, cls)
        self.table: dict[Any, Any] = {}

    def snapshot(self) -> Any:
        return (list(self.slots), dict(self.table))

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.table = dict(state[1])

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield from self.table.values()


class StBag(HeapObject):
    """Bag: `table` maps a hash key to [element, occurrences]."""

    __slots__ = ("table",)
    kind = "bag"

    def __init__(self, cls: StClass) -> None:
        HeapObject.__init__(self, cls)
        self.table: dict[Any, list[Any]] = {}

    def snapshot(self) -> Any:
        return (list(self.slots), [(h, list(ec)) for h, ec in self.table.items()])

    def restore(self, state: Any) -> None:
        self.slots[:] = state[0]
        self.table = {h: ec for h, ec in state[1]}

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        for element, _count in self.table.values():
            yield element


class StInterval(HeapObject):
    """Interval `start to: stop by: step` (immutable, elements computed)."""

    __slots__ = ("start", "step", "stop")
    kind = "interval"

    def __init__(self, cls: StClass, start: Any, stop: Any, step: Any) -> None:
        HeapObject.__init__(self, cls)
        self.start = start
        self.stop = stop
        self.step = step

    def size(self) -> int:
        if self.step == 0:
            return 0
        count = (self.stop - self.start) // self.step + 1
        return max(0, int(count))

    def element(self, index: int) -> Any:
        value = self.start + index * self.step
        if type(value) is Fraction and value.denominator == 1:
            return value.numerator
        return value

    def values(self) -> list[Any]:
        return [self.element(i) for i in range(self.size())]


class StAssoc(HeapObject):
    __slots__ = ("key", "value")
    kind = "assoc"

    def __init__(self, cls: StClass, key: Any, value: Any) -> None:
        HeapObject.__init__(self, cls)
        self.key = key
        self.value = value

    def snapshot(self) -> Any:
        return (list(self.slots), self.key, self.value)

    def restore(self, state: Any) -> None:
        self.slots[:], self.key, self.value = state

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield self.key
        yield self.value


class StPoint(HeapObject):
    __slots__ = ("x", "y")
    kind = "point"

    def __init__(self, cls: StClass, x: Any, y: Any) -> None:
        HeapObject.__init__(self, cls)
        self.x = x
        self.y = y

    def snapshot(self) -> Any:
        return (list(self.slots), self.x, self.y)

    def restore(self, state: Any) -> None:
        self.slots[:], self.x, self.y = state

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield self.x
        yield self.y


class Frame(HeapObject):
    """An activation's variables (method, block or doit). Frames are heap objects
    only because a block that outlives its activation keeps its outer frame alive:
    such a frame is persisted (as a "context" record) with the block.

    `home` is the method (or doit) frame a `^` returns from; `alive` is False once
    that activation has returned."""

    __slots__ = ("alive", "home", "names", "outer", "rcv", "vars")
    kind = "context"

    def __init__(
        self,
        cls: StClass,
        vars_: list[Any],
        rcv: Any,
        outer: Frame | None,
        names: tuple[str, ...],
    ) -> None:
        # Frames are not counted against the object limit (they are activations,
        # bounded by the depth limit), so HeapObject.__init__ is bypassed.
        self.cls = cls
        self.oid = None
        self.slots = []
        self.vars = vars_
        self.rcv = rcv
        self.outer = outer
        self.home: Frame | None = self
        self.alive = True
        self.names = names

    def snapshot(self) -> Any:
        return list(self.vars)

    def restore(self, state: Any) -> None:
        self.vars[:] = state

    def refs(self) -> Iterator[Any]:
        yield from self.vars
        yield self.rcv
        yield self.outer


class BlockCode:
    """What a BlockClosure runs: `fn(block, *arguments)`, and what persisting the block
    needs (its source, the outer variables it reaches as `{name: (depth, slot)}` in its
    chain of outer frames, its method class). `names` are the variables its own
    activation keeps in a Frame.

    The compiler makes these for literal blocks; a primitive may make one around a
    Python callable: `body(block)` is then called with the block, whatever the
    arguments."""

    __slots__ = ("captures", "fn", "method_class", "names", "nargs", "source")

    def __init__(
        self,
        nargs: int,
        names: tuple[str, ...],
        body: Callable[[Any], Any] | None,
        source: str,
        captures: dict[str, tuple[int, int]],
        method_class: StClass | None,
    ) -> None:
        self.nargs = nargs
        self.names = names
        self.source = source
        self.captures = captures
        self.method_class = method_class
        self.fn: Callable[..., Any] = _native_block(body) if body is not None else _no_body


def _native_block(body: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(block: Any, *args: Any) -> Any:
        return body(block)

    return run


def _no_body(block: Any, *args: Any) -> Any:
    return None


class StBlock(HeapObject):
    """A BlockClosure: compiled code plus the frame it closes over."""

    __slots__ = ("code", "home", "outer", "rcv")
    kind = "block"

    def __init__(self, cls: StClass, code: BlockCode, outer: Frame | None, rcv: Any):
        HeapObject.__init__(self, cls)
        self.code = code
        self.outer = outer
        self.rcv = rcv
        self.home = outer.home if outer is not None else None

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield self.outer
        yield self.rcv


class StStream(HeapObject):
    """ReadStream / WriteStream / ReadWriteStream over a String or Array.

    `pos` is the 0-based position, `limit` the read limit (end of valid data).
    Text appended at the end of a String collection waits in `pending` (so that
    building a long String costs linear time); `flush` moves it into the String and
    every operation other than appending flushes first."""

    __slots__ = ("coll", "limit", "pending", "pos")
    kind = "stream"

    def __init__(self, cls: StClass, coll: HeapObject, pos: int, limit: int) -> None:
        HeapObject.__init__(self, cls)
        self.coll = coll
        self.pos = pos
        self.limit = limit
        self.pending: list[str] = []

    def flush(self) -> None:
        if self.pending:
            coll = self.coll
            assert isinstance(coll, StString)
            coll.chars = coll.chars + "".join(self.pending)
            self.pending = []

    def snapshot(self) -> Any:
        self.flush()
        return (list(self.slots), self.coll, self.pos, self.limit)

    def restore(self, state: Any) -> None:
        self.slots[:], self.coll, self.pos, self.limit = state
        self.pending = []

    def refs(self) -> Iterator[Any]:
        self.flush()
        yield from HeapObject.refs(self)
        yield self.coll


class StMessage(HeapObject):
    """A Message (selector + arguments), as carried by MessageNotUnderstood."""

    __slots__ = ("args", "selector")
    kind = "message"

    def __init__(self, cls: StClass, selector: str, args: list[Any]) -> None:
        HeapObject.__init__(self, cls)
        self.selector = selector
        self.args = args

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield from self.args


class StExceptionSet(HeapObject):
    """`ZeroDivide, Error`: handles an exception any member handles."""

    __slots__ = ("members",)
    kind = "exset"

    def __init__(self, cls: StClass, members: list[Any]) -> None:
        HeapObject.__init__(self, cls)
        self.members = members

    def refs(self) -> Iterator[Any]:
        yield from HeapObject.refs(self)
        yield from self.members


class WellKnown(HeapObject):
    """A system singleton referenced by name (Transcript, Smalltalk), never copied."""

    __slots__ = ("global_name",)
    kind = "global"

    def __init__(self, cls: StClass, global_name: str) -> None:
        self.cls = cls
        self.oid = None
        self.slots = []
        self.global_name = global_name


PrimitiveFn = Callable[[Any, Any, tuple[Any, ...]], Any]


class Method:
    """A method in a class's method dictionary: a Python primitive, or Smalltalk
    source compiled on first use by the owning image's interpreter."""

    __slots__ = ("category", "fn", "owner", "primitive", "selector", "source")

    def __init__(
        self,
        selector: str,
        owner: StClass,
        fn: PrimitiveFn | None = None,
        source: str | None = None,
        category: str = "as yet unclassified",
    ) -> None:
        self.selector = selector
        self.owner = owner
        self.fn = fn
        self.source = source
        self.primitive = source is None
        self.category = category


class StClass(HeapObject):
    """A class or a metaclass.

    System classes are shared by every image (never persisted, referenced by name,
    never modified by a session); session classes are heap objects of one image.
    A class's `cls` is its metaclass; a metaclass's `cls` is Metaclass. Class-side
    instance variables live in the class's `slots`."""

    __slots__ = (
        "cache",
        "category",
        "classvars",
        "instance_class",
        "is_meta",
        "ivars",
        "layout",
        "methods",
        "name",
        "own_ivars",
        "superclass",
        "system",
    )
    kind = "class"

    def __init__(
        self,
        name: str,
        superclass: StClass | None,
        own_ivars: list[str],
        layout: str,
        *,
        system: bool,
        is_meta: bool = False,
        category: str = "",
    ) -> None:
        self.cls = None  # type: ignore[assignment]  # set once the metaclass exists
        self.oid = None
        self.slots = []
        self.name = name
        self.superclass = superclass
        self.own_ivars = list(own_ivars)
        self.ivars: list[str] = (list(superclass.ivars) if superclass else []) + self.own_ivars
        self.layout = layout
        self.system = system
        self.is_meta = is_meta
        self.instance_class: StClass | None = None
        self.classvars: dict[str, Any] = {}
        self.methods: dict[str, Method] = {}
        self.cache: dict[str, Any] = {}
        self.category = category

    def lookup(self, selector: str) -> Method | None:
        cls: StClass | None = self
        while cls is not None:
            method = cls.methods.get(selector)
            if method is not None:
                return method
            cls = cls.superclass
        return None

    def inherits_from(self, other: StClass) -> bool:
        cls: StClass | None = self
        while cls is not None:
            if cls is other:
                return True
            cls = cls.superclass
        return False

    def snapshot(self) -> Any:
        """A session class and its metaclass are one persisted object; the
        snapshot covers both."""
        meta = self.cls
        meta_state = None
        if meta is not None and meta.is_meta and not meta.system:
            meta_state = (
                meta.superclass,
                list(meta.own_ivars),
                list(meta.ivars),
                dict(meta.methods),
            )
        return (
            list(self.slots),
            self.superclass,
            list(self.own_ivars),
            list(self.ivars),
            dict(self.classvars),
            dict(self.methods),
            self.category,
            self.layout,
            meta_state,
        )

    def restore(self, state: Any) -> None:
        (
            slots,
            self.superclass,
            self.own_ivars,
            self.ivars,
            self.classvars,
            self.methods,
            self.category,
            self.layout,
            meta_state,
        ) = state
        self.slots[:] = slots
        self.cache = {}  # a new dict: inline caches compare its identity
        if meta_state is not None:
            meta = self.cls
            meta.superclass, meta.own_ivars, meta.ivars, meta.methods = meta_state
            meta.cache = {}

    def refs(self) -> Iterator[Any]:
        yield self.superclass
        yield from self.slots
        yield from self.classvars.values()
        if self.cls is not None and not self.is_meta:
            yield self.cls

    def __repr__(self) -> str:
        return f"<StClass {self.name}>"


# ---------------------------------------------------------------------- value objects


class ValueObject:
    """An immutable instance of a system class held as a plain Python value, like a
    Fraction: never a heap record (encoded inline, see records.encode), compared and
    hashed by value (Python `==`/`hash` are Smalltalk `=`/`hash`). Each subclass's
    `cls` is set when the class table is built (classes.py)."""

    __slots__ = ()
    cls: ClassVar[StClass]


class ScaledDecimal(ValueObject):
    """A ScaledDecimal: an exact rational `fraction` printed with `scale` decimals."""

    __slots__ = ("fraction", "scale")

    def __init__(self, fraction: Fraction, scale: int) -> None:
        self.fraction = fraction
        self.scale = scale

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ScaledDecimal):
            return self.fraction == other.fraction
        if type(other) is int or type(other) is Fraction or type(other) is float:
            return self.fraction == other  # exact, as Fraction = Float
        return False

    def __hash__(self) -> int:
        # Equal to the hash of the equal Integer or Fraction (Pharo: `fraction hash`).
        return hash(self.fraction)

    def __repr__(self) -> str:
        return f"ScaledDecimal({self.fraction}, {self.scale})"


class Duration(ValueObject):
    """A Duration: a signed number of nanoseconds."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self.nanos == other.nanos

    def __hash__(self) -> int:
        return hash(("Duration", self.nanos))

    def __repr__(self) -> str:
        return f"Duration({self.nanos})"


class Time(ValueObject):
    """A Time of day: nanoseconds since midnight (0 <= nanos < one day)."""

    __slots__ = ("nanos",)

    def __init__(self, nanos: int) -> None:
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Time) and self.nanos == other.nanos

    def __hash__(self) -> int:
        return hash(("Time", self.nanos))

    def __repr__(self) -> str:
        return f"Time({self.nanos})"


class Date(ValueObject):
    """A Date: a day, by its Julian day number (a day starts at midnight UTC)."""

    __slots__ = ("jdn",)

    def __init__(self, jdn: int) -> None:
        self.jdn = jdn

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Date) and self.jdn == other.jdn

    def __hash__(self) -> int:
        return hash(("Date", self.jdn))

    def __repr__(self) -> str:
        return f"Date({self.jdn})"


class DateAndTime(ValueObject):
    """A DateAndTime: an instant (`utc_nanos`, nanoseconds since midnight UTC of Julian
    day 0) seen from a time zone `offset` seconds east of UTC. Equal instants are equal
    whatever their offsets, as in Pharo."""

    __slots__ = ("offset", "utc_nanos")

    def __init__(self, utc_nanos: int, offset: int) -> None:
        self.utc_nanos = utc_nanos
        self.offset = offset

    @property
    def local_nanos(self) -> int:
        return self.utc_nanos + self.offset * 1_000_000_000

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateAndTime) and self.utc_nanos == other.utc_nanos

    def __hash__(self) -> int:
        return hash(("DateAndTime", self.utc_nanos))

    def __repr__(self) -> str:
        return f"DateAndTime({self.utc_nanos}, {self.offset})"


VALUE_TYPES: tuple[type[ValueObject], ...] = (ScaledDecimal, Duration, Time, Date, DateAndTime)
