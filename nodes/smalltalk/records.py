"""Value encoding and per-object records: what the host stores in Redis.

`encode` turns any value into JSON: immediates inline, heap objects as
{"ref": oid}, system classes and well-known objects as {"global": name}.
`to_record` writes one heap object (references encoded the same way) and
`Loader` reads records back in two phases (allocate every object, then fill
references) so identity and cycles survive. Records are deterministic: the same
object state always gives the same dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .classes import SYSTEM_CLASSES as S
from .classes import WELL_KNOWN
from .errors import CorruptRecord, SmalltalkSyntaxError
from .kernel import SMALL_MAX, SMALL_MIN
from .objects import (
    Char,
    Date,
    DateAndTime,
    Duration,
    Frame,
    HeapObject,
    Method,
    ScaledDecimal,
    StArray,
    StAssoc,
    StBag,
    StBlock,
    StByteArray,
    StClass,
    StDict,
    StException,
    StExceptionSet,
    StInterval,
    StMessage,
    StObject,
    StOrdered,
    StPoint,
    StSet,
    StSorted,
    StStream,
    StString,
    Time,
    ValueObject,
    WellKnown,
)
from .parser import parse_number
from .printing import dict_items, int_to_str

if TYPE_CHECKING:
    from .runtime import Interpreter

FORMAT_VERSION = 1


# ---------------------------------------------------------------------- values


def encode(value: Any) -> Any:
    t = type(value)
    if value is None or t is bool:
        return value
    if t is int:
        if SMALL_MIN <= value <= SMALL_MAX:
            return value
        return {"int": int_to_str(value)}
    if t is float:
        return {"float": repr(value)}
    if t is Fraction:
        return {"frac": f"{value.numerator}/{value.denominator}"}
    if t is Char:
        return {"char": value.text}
    if t is str:
        return {"sym": value}
    if t is StClass:
        if value.is_meta:
            assert value.instance_class is not None
            return {"meta": encode(value.instance_class)}
        if value.system:
            return {"global": value.name}
    if t is WellKnown:
        return {"global": value.global_name}
    if isinstance(value, ValueObject):
        return _encode_value_object(value)
    if isinstance(value, HeapObject):
        if value.oid is None:
            raise ValueError(f"{value!r} has not been persisted")
        return {"ref": value.oid}
    raise ValueError(f"cannot encode {value!r}")


def _encode_value_object(value: ValueObject) -> dict[str, str]:
    """Value objects are inline, like Fractions: one tag, one string."""
    if isinstance(value, ScaledDecimal):
        fraction = value.fraction
        return {"scaled": f"{fraction.numerator}/{fraction.denominator}s{value.scale}"}
    if isinstance(value, Duration):
        return {"duration": str(value.nanos)}
    if isinstance(value, Time):
        return {"time": str(value.nanos)}
    if isinstance(value, Date):
        return {"date": str(value.jdn)}
    if isinstance(value, DateAndTime):
        return {"dateAndTime": f"{value.utc_nanos} {value.offset}"}
    raise ValueError(f"cannot encode {value!r}")


def _decode_value_object(tag: str, payload: str) -> ValueObject | None:
    if tag == "scaled":
        fraction, scale = payload.split("s")
        num, den = fraction.split("/")
        return ScaledDecimal(Fraction(int(num), int(den)), int(scale))
    if tag == "duration":
        return Duration(int(payload))
    if tag == "time":
        return Time(int(payload))
    if tag == "date":
        return Date(int(payload))
    if tag == "dateAndTime":
        utc_nanos, offset = payload.split(" ")
        return DateAndTime(int(utc_nanos), int(offset))
    return None


def decode_with(value: Any, resolve: Callable[[str], HeapObject]) -> Any:
    if value is None or type(value) in (bool, int):
        return value
    if type(value) is dict and len(value) == 1:
        ((tag, payload),) = value.items()
        if tag == "ref":
            return resolve(payload)
        if tag == "int":
            return parse_number(payload)
        if tag == "float":
            return float(payload)
        if tag == "frac":
            num, den = payload.split("/")
            return Fraction(int(num), int(den))
        if tag == "char":
            return Char.of(ord(payload))
        if tag == "sym":
            return str(payload)
        if tag == "global":
            if payload in S:
                return S[payload]
            if payload in WELL_KNOWN:
                return WELL_KNOWN[payload]
            raise ValueError(f"unknown global {payload!r}")
        if type(payload) is str:
            value_object = _decode_value_object(tag, payload)
            if value_object is not None:
                return value_object
        if tag == "meta":
            cls = decode_with(payload, resolve)
            if not isinstance(cls, StClass):
                raise ValueError("meta of a non-class")
            return cls.cls
    raise ValueError(f"cannot decode {value!r}")


# ---------------------------------------------------------------------- records


def to_record(heap_object: HeapObject) -> dict[str, Any]:
    if isinstance(heap_object, StClass):
        return _class_record(heap_object)
    obj: Any = heap_object
    record: dict[str, Any] = {"kind": obj.kind}
    if not isinstance(obj, Frame):
        record["class"] = encode(obj.cls)
    if obj.slots:
        record["slots"] = [encode(v) for v in obj.slots]
    t = type(obj)
    if t is StString:
        record["chars"] = obj.chars
    elif t is StByteArray:
        record["hex"] = obj.data.hex()
    elif t is StArray or t is StOrdered:
        record["items"] = [encode(v) for v in obj.items]
    elif t is StSorted:
        record["items"] = [encode(v) for v in obj.items]
        record["sortBlock"] = encode(obj.sort_block)
    elif t is StDict:
        record["pairs"] = [[encode(k), encode(v)] for k, v in obj.table.values()]
    elif t is StSet:
        record["items"] = [encode(v) for v in obj.table.values()]
    elif t is StBag:
        record["counts"] = [[encode(e), c] for e, c in obj.table.values()]
    elif t is StInterval:
        record.update(start=encode(obj.start), stop=encode(obj.stop), step=encode(obj.step))
    elif t is StAssoc:
        record.update(key=encode(obj.key), value=encode(obj.value))
    elif t is StPoint:
        record.update(x=encode(obj.x), y=encode(obj.y))
    elif t is StBlock:
        code = obj.code
        record.update(
            source=code.source,
            outer=encode(obj.outer),
            receiver=encode(obj.rcv),
            captures={name: list(at) for name, at in sorted(code.captures.items())},
            methodClass=encode(code.method_class),
        )
    elif t is Frame:
        record.update(
            names=list(obj.names),
            vars=[encode(v) for v in obj.vars],
            receiver=encode(obj.rcv),
            outer=encode(obj.outer),
        )
    elif t is StStream:
        obj.flush()
        record.update(on=encode(obj.coll), position=obj.pos, limit=obj.limit)
    elif t is StMessage:
        record.update(selector=obj.selector, args=[encode(v) for v in obj.args])
    elif t is StExceptionSet:
        record["members"] = [encode(v) for v in obj.members]
    return record


def _methods_record(methods: Mapping[str, Method]) -> dict[str, Any]:
    return {
        selector: {"source": m.source, "category": m.category}
        for selector, m in sorted(methods.items())
        if m.source is not None
    }


def _class_record(cls: StClass) -> dict[str, Any]:
    meta = cls.cls
    return {
        "kind": "class",
        "name": cls.name,
        "superclass": encode(cls.superclass),
        "instVars": list(cls.own_ivars),
        "classVars": {name: encode(v) for name, v in sorted(cls.classvars.items())},
        "category": cls.category,
        "methods": _methods_record(cls.methods),
        "classMethods": _methods_record(meta.methods),
        "classInstVars": list(meta.own_ivars),
        "classSlots": [encode(v) for v in cls.slots],
    }


# ---------------------------------------------------------------------- loading


_SHELLS: dict[str, type[HeapObject]] = {
    "object": StObject,
    "exception": StException,
    "string": StString,
    "bytes": StByteArray,
    "array": StArray,
    "ordered": StOrdered,
    "sorted": StSorted,
    "dict": StDict,
    "set": StSet,
    "bag": StBag,
    "interval": StInterval,
    "assoc": StAssoc,
    "point": StPoint,
    "block": StBlock,
    "context": Frame,
    "stream": StStream,
    "message": StMessage,
    "exset": StExceptionSet,
}


class Loader:
    """Two-phase load of a set of records into `heap`."""

    def __init__(self, interp: Interpreter, records: Mapping[str, Mapping[str, Any]]) -> None:
        self.interp = interp
        self.records = records
        self.heap: dict[str, HeapObject] = {}

    def resolve(self, oid: str) -> HeapObject:
        obj = self.heap.get(oid)
        if obj is None:
            raise ValueError(f"reference to missing object {oid}")
        return obj

    def decode(self, value: Any) -> Any:
        return decode_with(value, self.resolve)

    def load(self) -> dict[str, HeapObject]:
        for oid, record in self.records.items():
            try:
                self.heap[oid] = self._allocate(record)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise CorruptRecord(oid, f"cannot allocate: {err}") from None
            self.heap[oid].oid = oid
        classes = [(oid, r) for oid, r in self.records.items() if r.get("kind") == "class"]
        for oid, record in classes:
            self._guard(oid, lambda r=record, o=oid: self._fill_class(self.heap[o], r))  # type: ignore[misc]
        self._compute_ivars([self.heap[oid] for oid, _ in classes])  # type: ignore[misc]
        # Hashed collections last: hashing a key needs the key's contents filled.
        hashed = ("dict", "set", "bag")
        for phase in (False, True):
            for oid, record in self.records.items():
                kind = record.get("kind")
                if kind != "class" and (kind in hashed) == phase:
                    self._guard(oid, lambda r=record, o=oid: self._fill(self.heap[o], r))  # type: ignore[misc]
        return self.heap

    def _guard(self, oid: str, action: Callable[[], None]) -> None:
        try:
            action()
        except CorruptRecord:
            raise
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            IndexError,
            SmalltalkSyntaxError,
        ) as err:
            raise CorruptRecord(oid, str(err)) from None

    def _allocate(self, record: Mapping[str, Any]) -> HeapObject:
        kind = record["kind"]
        if kind == "class":
            name = str(record["name"])
            cls = StClass(name, None, [], "object", system=False)
            meta = StClass(f"{name} class", None, [], "class", system=False, is_meta=True)
            meta.instance_class = cls
            meta.cls = S["Metaclass"]
            cls.cls = meta
            return cls
        shell_type = _SHELLS[kind]
        shell = shell_type.__new__(shell_type)
        shell.oid = None
        shell.slots = []
        shell.cls = S["Object"]
        return shell

    def _fill_class(self, cls: Any, record: Mapping[str, Any]) -> None:
        superclass = self.decode(record["superclass"])
        if superclass is not None and not isinstance(superclass, StClass):
            raise ValueError("superclass is not a class")
        cls.superclass = superclass
        cls.own_ivars = [str(n) for n in record.get("instVars", [])]
        cls.classvars = {str(k): self.decode(v) for k, v in record.get("classVars", {}).items()}
        cls.category = str(record.get("category", ""))
        meta = cls.cls
        meta.superclass = superclass.cls if superclass is not None else S["Class"]
        meta.own_ivars = [str(n) for n in record.get("classInstVars", [])]
        for selector, entry in record.get("methods", {}).items():
            cls.methods[selector] = Method(
                selector, cls, source=str(entry["source"]), category=str(entry.get("category", ""))
            )
        for selector, entry in record.get("classMethods", {}).items():
            meta.methods[selector] = Method(
                selector, meta, source=str(entry["source"]), category=str(entry.get("category", ""))
            )
        cls.slots = [self.decode(v) for v in record.get("classSlots", [])]

    def _compute_ivars(self, classes: list[StClass]) -> None:
        done: set[int] = set()

        def fix(cls: StClass, trail: tuple[int, ...] = ()) -> None:
            if id(cls) in done or cls.system:
                return
            if id(cls) in trail:
                raise CorruptRecord(cls.oid or "?", "circular superclass chain")
            if cls.superclass is not None:
                fix(cls.superclass, (*trail, id(cls)))
            base = list(cls.superclass.ivars) if cls.superclass is not None else []
            cls.ivars = base + cls.own_ivars
            cls.layout = cls.superclass.layout if cls.superclass is not None else "object"
            meta = cls.cls
            meta_base = list(meta.superclass.ivars) if meta.superclass is not None else []
            meta.ivars = meta_base + meta.own_ivars
            if len(cls.slots) < len(meta.ivars):
                cls.slots = cls.slots + [None] * (len(meta.ivars) - len(cls.slots))
            done.add(id(cls))

        for cls in classes:
            fix(cls)

    def _fill(self, obj: Any, record: Mapping[str, Any]) -> None:
        d = self.decode
        t = type(obj)
        if t is not Frame:
            cls = d(record["class"])
            if not isinstance(cls, StClass):
                raise ValueError("class is not a class")
            obj.cls = cls
        obj.slots = [d(v) for v in record.get("slots", [])]
        if t is StString:
            obj.chars = str(record["chars"])
        elif t is StByteArray:
            obj.data = bytearray.fromhex(record["hex"])
        elif t is StArray or t is StOrdered:
            obj.items = [d(v) for v in record["items"]]
        elif t is StSorted:
            obj.items = [d(v) for v in record["items"]]
            obj.sort_block = d(record.get("sortBlock"))
        elif t is StDict:
            obj.table = {}
            identity = obj.cls.inherits_from(S["IdentityDictionary"])
            for key_enc, value_enc in record["pairs"]:
                key = d(key_enc)
                obj.table[self.interp.hash_key(key, identity)] = [key, d(value_enc)]
        elif t is StSet:
            obj.table = {}
            identity = obj.cls.inherits_from(S["IdentitySet"])
            for item_enc in record["items"]:
                item = d(item_enc)
                obj.table[self.interp.hash_key(item, identity)] = item
        elif t is StBag:
            obj.table = {}
            for item_enc, count in record["counts"]:
                item = d(item_enc)
                obj.table[self.interp.hash_key(item)] = [item, int(count)]
        elif t is StInterval:
            obj.start, obj.stop, obj.step = d(record["start"]), d(record["stop"]), d(record["step"])
        elif t is StAssoc:
            obj.key, obj.value = d(record["key"]), d(record["value"])
        elif t is StPoint:
            obj.x, obj.y = d(record["x"]), d(record["y"])
        elif t is StBlock:
            method_class = d(record.get("methodClass"))
            captures = {
                str(k): (int(v[0]), int(v[1])) for k, v in record.get("captures", {}).items()
            }
            obj.code = self.interp.compiler.compile_block_source(
                str(record["source"]), captures, method_class
            )
            obj.outer = d(record.get("outer"))
            obj.rcv = d(record.get("receiver"))
            obj.home = None
        elif t is Frame:
            obj.cls = S["Context"]
            obj.names = tuple(str(n) for n in record["names"])
            obj.vars = [d(v) for v in record["vars"]]
            obj.rcv = d(record.get("receiver"))
            obj.outer = d(record.get("outer"))
            obj.home = None
            obj.alive = False
        elif t is StStream:
            obj.coll = d(record["on"])
            obj.pos = int(record["position"])
            obj.limit = int(record["limit"])
            obj.pending = []
        elif t is StMessage:
            obj.selector = str(record["selector"])
            obj.args = [d(v) for v in record["args"]]
        elif t is StExceptionSet:
            obj.members = [d(v) for v in record["members"]]
        elif t is StException:
            obj.handler = None
            obj.handler_index = -1
            obj.tokens = []
        if t is not Frame and len(obj.slots) != len(obj.cls.ivars):
            obj.slots = (obj.slots + [None] * len(obj.cls.ivars))[: len(obj.cls.ivars)]


def dict_pairs(obj: StDict) -> list[tuple[Any, Any]]:
    return dict_items(obj)
