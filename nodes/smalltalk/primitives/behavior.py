"""Classes as objects: instantiation, session class definition, `compile:`, and the
reflection a browser needs (name, superclass, selectors, sourceCodeAt: ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..classes import SYSTEM_CLASSES as S
from ..classes import global_named
from ..errors import SmalltalkSyntaxError
from ..kernel import new_array, new_ordered, new_string
from ..objects import (
    Method,
    StArray,
    StAssoc,
    StBag,
    StByteArray,
    StClass,
    StDict,
    StException,
    StExceptionSet,
    StObject,
    StOrdered,
    StPoint,
    StSet,
    StSorted,
    make_string,
)
from ..parser import parse_method
from ._registry import primitive
from .support import Args, elements, stable_hash, text_of

if TYPE_CHECKING:
    from ..runtime import Interpreter

_METACLASS = S["Metaclass"]


def basic_new(it: Interpreter, cls: StClass) -> Any:
    """An uninitialised instance of `cls`, by the layout it inherits."""
    if cls.is_meta:
        return it.error("Error", "Metaclasses cannot be instantiated")
    layout = cls.layout
    if layout == "object":
        return StObject(cls)
    if layout == "exception":
        return StException(cls)
    if layout == "array":
        return StArray(cls if cls is not S["ArrayedCollection"] else S["Array"], [])
    if layout == "string":
        return make_string(S["ByteString"] if cls is S["String"] else cls, "")
    if layout == "bytes":
        return StByteArray(cls, bytearray())
    if layout == "sorted":
        return StSorted(cls, [], None)
    if layout == "ordered":
        return StOrdered(cls, [])
    if layout == "dict":
        return StDict(cls)
    if layout == "set":
        return StSet(cls if cls is not S["HashedCollection"] else S["Set"])
    if layout == "bag":
        return StBag(cls)
    if layout == "assoc":
        return StAssoc(cls, None, None)
    if layout == "point":
        return StPoint(cls, None, None)
    if layout == "exset":
        return StExceptionSet(cls, [])
    return it.error("Error", f"{cls.name} cannot be instantiated with new")


@primitive("Behavior", "basicNew")
def _basic_new(it: Interpreter, rcv: Any, args: Args) -> Any:
    return basic_new(it, rcv)


@primitive("Behavior", "new")
def _new(it: Interpreter, rcv: Any, args: Args) -> Any:
    instance = basic_new(it, rcv)
    if it.user_method(instance, "initialize") is not None:
        it.send(instance, "initialize", ())
    return instance


@primitive("Behavior", "new:", "basicNew:")
def _new_sized(it: Interpreter, rcv: Any, args: Args) -> Any:
    if rcv.layout in ("object", "exception"):
        return it.error("Error", f"{rcv.name} cannot be instantiated with new:")
    return _new(it, rcv, ())


@primitive("Object", "initialize")
def _initialize(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


# ---------------------------------------------------------------------- reflection


@primitive("Behavior", "name")
def _name(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.name if not rcv.is_meta else new_string(rcv.name)


@primitive("Behavior", "printString", "displayString", "asString")
def _print(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string(rcv.name)


@primitive("Behavior", "superclass")
def _superclass(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.superclass


@primitive("Behavior", "class")
def _class(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.cls


@primitive("Behavior", "isMeta")
def _is_meta(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.is_meta


@primitive("Behavior", "instanceSide", "theNonMetaClass", "soleInstance")
def _instance_side(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv.instance_class if rcv.is_meta else rcv


@primitive("Behavior", "classSide", "theMetaClass")
def _class_side(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv if rcv.is_meta else rcv.cls


@primitive("Behavior", "selectors")
def _selectors(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(sorted(rcv.methods))


@primitive("Behavior", "includesSelector:")
def _includes_selector(it: Interpreter, rcv: Any, args: Args) -> Any:
    return args[0] in rcv.methods


@primitive("Behavior", "canUnderstand:")
def _can_understand(it: Interpreter, rcv: Any, args: Args) -> Any:
    return type(args[0]) is str and rcv.lookup(args[0]) is not None


@primitive("Behavior", "inheritsFrom:")
def _inherits_from(it: Interpreter, rcv: Any, args: Args) -> Any:
    return isinstance(args[0], StClass) and rcv is not args[0] and rcv.inherits_from(args[0])


@primitive("Behavior", "includesBehavior:")
def _includes_behavior(it: Interpreter, rcv: Any, args: Args) -> Any:
    return isinstance(args[0], StClass) and rcv.inherits_from(args[0])


@primitive("Behavior", "whichClassIncludesSelector:")
def _which_class(it: Interpreter, rcv: Any, args: Args) -> Any:
    method = rcv.lookup(args[0]) if type(args[0]) is str else None
    return method.owner if method is not None else None


@primitive("Behavior", "sourceCodeAt:")
def _source_code_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    method = rcv.methods.get(args[0]) if type(args[0]) is str else None
    if method is None:
        return it.error("KeyNotFound", None, key=args[0])
    if method.source is None:
        return new_string(f"{args[0]}\n\t<primitive>")
    return new_string(method.source)


@primitive("Behavior", "sourceCodeAt:ifAbsent:")
def _source_code_at_if_absent(it: Interpreter, rcv: Any, args: Args) -> Any:
    method = rcv.methods.get(args[0]) if type(args[0]) is str else None
    if method is None:
        return it.send(args[1], "value", ())
    return new_string(method.source or f"{args[0]}\n\t<primitive>")


@primitive("Behavior", "instanceVariableNames", "instVarNames")
def _inst_var_names(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(list(rcv.own_ivars))


@primitive("Behavior", "allInstVarNames")
def _all_inst_var_names(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_array(list(rcv.ivars))


@primitive("Behavior", "classVariableNames", "classVarNames")
def _class_var_names(it: Interpreter, rcv: Any, args: Args) -> Any:
    owner = rcv.instance_class if rcv.is_meta else rcv
    return new_array(sorted(owner.classvars))


@primitive("Behavior", "category")
def _category(it: Interpreter, rcv: Any, args: Args) -> Any:
    owner = rcv.instance_class if rcv.is_meta else rcv
    return owner.category


@primitive("Behavior", "package", "packageName")
def _package(it: Interpreter, rcv: Any, args: Args) -> Any:
    owner = rcv.instance_class if rcv.is_meta else rcv
    return new_string(owner.category.split("-")[0] if owner.system else owner.category)


@primitive("Behavior", "subclasses")
def _subclasses(it: Interpreter, rcv: Any, args: Args) -> Any:
    found = [c for c in it.classes.values() if c.superclass is rcv]
    if rcv.system:
        found += [c for c in S.values() if c.superclass is rcv]
    return new_array(sorted(found, key=lambda c: c.name))


@primitive("Behavior", "allSuperclasses")
def _all_superclasses(it: Interpreter, rcv: Any, args: Args) -> Any:
    out = []
    cls = rcv.superclass
    while cls is not None:
        out.append(cls)
        cls = cls.superclass
    return new_ordered(out)


@primitive("Behavior", "isClass")
def _is_class(it: Interpreter, rcv: Any, args: Args) -> Any:
    return True


@primitive("Behavior", "comment")
def _comment(it: Interpreter, rcv: Any, args: Args) -> Any:
    return new_string("")


@primitive("Behavior", "comment:")
def _set_comment(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Behavior", "definitionString", "definition")
def _definition(it: Interpreter, rcv: Any, args: Args) -> Any:
    owner = rcv.instance_class if rcv.is_meta else rcv
    if rcv.is_meta:
        return new_string(
            f"{owner.name} class\n\tinstanceVariableNames: '{' '.join(rcv.own_ivars)}'"
        )
    superclass = owner.superclass.name if owner.superclass else "nil"
    return new_string(
        f"{superclass} subclass: #{owner.name}\n"
        f"\tinstanceVariableNames: '{' '.join(owner.own_ivars)}'\n"
        f"\tclassVariableNames: '{' '.join(sorted(owner.classvars))}'\n"
        f"\tpackage: '{owner.category}'"
    )


@primitive("Behavior", "==")
def _identical(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is args[0]


@primitive("Behavior", "=")
def _equal(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv is args[0]


@primitive("Behavior", "hash")
def _hash(it: Interpreter, rcv: Any, args: Args) -> Any:
    return stable_hash(rcv.name)


@primitive("Behavior", "copy", "shallowCopy", "deepCopy")
def _copy(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv


@primitive("Behavior", "instanceCount")
def _instance_count(it: Interpreter, rcv: Any, args: Args) -> Any:
    return 0


# ---------------------------------------------------------------------- compiling


def _owner(cls: StClass) -> StClass:
    return cls.instance_class if cls.is_meta and cls.instance_class is not None else cls


@primitive("Behavior", "compile:", "compile:classified:", "compile:classified:notifying:")
def _compile(it: Interpreter, rcv: Any, args: Args) -> Any:
    source = text_of(args[0])
    if source is None:
        return it.error("Error", "compile: needs a String")
    category = text_of(args[1]) if len(args) > 1 else None
    return compile_method(it, rcv, source, category or "as yet unclassified")


def compile_method(it: Interpreter, cls: StClass, source: str, category: str) -> Any:
    owner = _owner(cls)
    if owner.system:
        return it.error("Error", f"System class {owner.name} cannot be modified in a session")
    try:
        tree = parse_method(source)
        fn = it.compiler.compile_method(tree, cls)
    except SmalltalkSyntaxError as err:
        return it.error(
            "SyntaxErrorNotification",
            f"Syntax error at line {err.line}, column {err.column}: {err.hint}",
        )
    if owner.oid is not None:
        it.touch(owner)
    method = Method(tree.selector, cls, fn=fn, source=source, category=category)
    cls.methods[tree.selector] = method
    it.invalidate_caches()
    return tree.selector


@primitive("Behavior", "removeSelector:")
def _remove_selector(it: Interpreter, rcv: Any, args: Args) -> Any:
    owner = _owner(rcv)
    if owner.system:
        return it.error("Error", f"System class {owner.name} cannot be modified in a session")
    if args[0] in rcv.methods:
        if owner.oid is not None:
            it.touch(owner)
        del rcv.methods[args[0]]
        it.invalidate_caches()
    return rcv


@primitive("Behavior", ">>", "compiledMethodAt:")
def _method_at(it: Interpreter, rcv: Any, args: Args) -> Any:
    method = rcv.methods.get(args[0]) if type(args[0]) is str else None
    if method is None:
        return it.error("KeyNotFound", None, key=args[0])
    return new_string(method.source or f"{args[0]} <primitive>")


@primitive("Behavior", "instanceVariableNames:")
def _set_instance_variable_names(it: Interpreter, rcv: Any, args: Args) -> Any:
    """`Foo class instanceVariableNames: 'count'` (class-side instance variables)."""
    names = (text_of(args[0]) or "").split()
    owner = _owner(rcv)
    if owner.system:
        return it.error("Error", f"System class {owner.name} cannot be modified in a session")
    if not rcv.is_meta:
        return redefine(it, rcv.superclass, rcv.name, names, sorted(rcv.classvars), rcv.category)
    if owner.oid is not None:
        it.touch(owner)
    old = list(rcv.ivars)
    rcv.own_ivars = names
    rcv.ivars = (list(rcv.superclass.ivars) if rcv.superclass else []) + names
    values = dict(zip(old, owner.slots, strict=False))
    owner.slots = [values.get(n) for n in rcv.ivars]
    _recompile_all(it)
    return rcv


# ---------------------------------------------------------------------- subclass definition


def _define(
    it: Interpreter,
    rcv: Any,
    args: Args,
    ivars_at: int | None,
    classvars_at: int | None,
    category_at: int | None,
) -> Any:
    if not isinstance(rcv, StClass) or rcv.is_meta:
        return it.error("Error", "subclass: is understood by classes")
    name = text_of(args[0])
    if name is None or not name[:1].isupper() or not name.replace("_", "a").isalnum():
        return it.error("Error", "Class names must be capitalized identifiers")
    ivars = (text_of(args[ivars_at]) or "").split() if ivars_at is not None else None
    classvars = (text_of(args[classvars_at]) or "").split() if classvars_at is not None else None
    category = (text_of(args[category_at]) or "") if category_at is not None else None
    return redefine(it, rcv, name, ivars, classvars, category)


def redefine(
    it: Interpreter,
    superclass: StClass | None,
    name: str,
    ivars: list[str] | None,
    classvars: list[str] | None,
    category: str | None,
) -> Any:
    if global_named(name) is not None:
        return it.error("Error", f"{name} is a system class and cannot be redefined")
    if superclass is not None and superclass.layout in (
        "none",
        "interval",
        "stream",
        "message",
        "class",
    ):
        return it.error("Error", f"{superclass.name} cannot be subclassed in a session")
    existing = it.classes.get(name)
    if existing is None:
        cls = StClass(
            name,
            superclass,
            ivars or [],
            superclass.layout if superclass else "object",
            system=False,
            category=category or "Unclassified",
        )
        meta_super = superclass.cls if superclass is not None else S["Class"]
        meta = StClass(f"{name} class", meta_super, [], "class", system=False, is_meta=True)
        meta.instance_class = cls
        meta.cls = _METACLASS
        cls.cls = meta
        for var in classvars or []:
            cls.classvars[var] = None
        _check_ivars(it, cls)
        it.classes[name] = cls
        it.workspace_changed = True
        it.invalidate_caches()
        return cls
    cls = existing
    if existing.oid is not None:
        it.touch(existing)
    if superclass is not None and superclass is not cls.superclass:
        if superclass.inherits_from(cls):
            return it.error("Error", "Circular class hierarchy")
        cls.superclass = superclass
        cls.layout = superclass.layout
        cls.cls.superclass = superclass.cls
    if ivars is not None:
        cls.own_ivars = ivars
    if classvars is not None:
        old = cls.classvars
        cls.classvars = {var: old.get(var) for var in classvars}
    if category is not None:
        cls.category = category
    _check_ivars(it, cls)
    _reshape(it)
    return cls


def _check_ivars(it: Interpreter, cls: StClass) -> None:
    names = cls.ivars
    if len(set(names)) != len(names):
        it.error("Error", "Duplicate instance variable names")


def _reshape(it: Interpreter) -> None:
    """After a class changed: recompute every session class's instance-variable list
    (superclasses first), migrate persisted instances by name, recompile methods."""
    old_layouts = {id(c): list(c.ivars) for c in it.classes.values()}
    done: set[int] = set()

    def fix(cls: StClass) -> None:
        if id(cls) in done:
            return
        if cls.superclass is not None and not cls.superclass.system:
            fix(cls.superclass)
        base = list(cls.superclass.ivars) if cls.superclass is not None else []
        cls.ivars = base + [n for n in cls.own_ivars if n not in base]
        meta = cls.cls
        meta_base = list(meta.superclass.ivars) if meta.superclass is not None else []
        meta.ivars = meta_base + meta.own_ivars
        done.add(id(cls))

    for cls in list(it.classes.values()):
        fix(cls)
    changed = {id(c): c for c in it.classes.values() if old_layouts.get(id(c)) != c.ivars}
    if changed:
        for obj in it.instances_of(list(changed.values())):
            old_names = old_layouts[id(obj.cls)]
            values = dict(zip(old_names, obj.slots, strict=False))
            if obj.oid is not None:
                it.touch(obj)
            obj.slots = [values.get(n) for n in obj.cls.ivars]
    _recompile_all(it)


def _recompile_all(it: Interpreter) -> None:
    for cls in it.classes.values():
        for method in list(cls.methods.values()) + list(cls.cls.methods.values()):
            method.fn = None
    it.invalidate_caches()


_SUBCLASS_FORMS: list[tuple[str, int | None, int | None, int | None]] = [
    ("subclass:", None, None, None),
    ("subclass:instanceVariableNames:", 1, None, None),
    ("subclass:instanceVariableNames:classVariableNames:package:", 1, 2, 3),
    ("subclass:instanceVariableNames:classVariableNames:category:", 1, 2, 3),
    ("subclass:instanceVariableNames:classVariableNames:poolDictionaries:category:", 1, 2, 4),
    ("subclass:instanceVariableNames:classVariableNames:poolDictionaries:package:", 1, 2, 4),
    ("subclass:instanceVariableNames:package:", 1, None, 2),
    ("subclass:instanceVariableNames:category:", 1, None, 2),
    ("subclass:package:", None, None, 1),
    ("subclass:category:", None, None, 1),
]


def _subclass_form(ivars_at: int | None, classvars_at: int | None, category_at: int | None) -> Any:
    def prim(it: Interpreter, rcv: Any, args: Args) -> Any:
        return _define(it, rcv, args, ivars_at, classvars_at, category_at)

    return prim


for _selector, _iv, _cv, _cat in _SUBCLASS_FORMS:
    primitive("Class", _selector)(_subclass_form(_iv, _cv, _cat))
    primitive("UndefinedObject", _selector)(_subclass_form(_iv, _cv, _cat))


# ---------------------------------------------------------------------- fluid definition


@primitive("Class", "<<")
def _fluid_subclass(it: Interpreter, rcv: Any, args: Args) -> Any:
    """Pharo 12's fluid form `Object << #Point3D slots: {#x. #y}; package: 'Geo'`:
    `<<` defines (or keeps) the class at once and answers it; the cascade's
    `slots:`, `sharedVariables:`, `package:` and `tag:` then reshape it."""
    name = text_of(args[0])
    if name is None:
        return it.error("Error", "<< needs a class name Symbol")
    existing = it.classes.get(name)
    if existing is not None and existing.superclass is rcv:
        return existing
    return redefine(it, rcv, name, None, None, None)


def _names_of(value: Any) -> list[str] | None:
    text = text_of(value)
    if text is not None:
        return text.split()
    names = [text_of(item) for item in elements(value)]
    if any(n is None for n in names):
        return None
    return [n for n in names if n is not None]


def _session_class(it: Interpreter, rcv: Any) -> StClass | None:
    if not isinstance(rcv, StClass) or rcv.is_meta or rcv.system:
        it.error("Error", "Only session classes can be reshaped")
        return None
    return rcv


@primitive("Class", "slots:", "instanceVariables:")
def _fluid_slots(it: Interpreter, rcv: Any, args: Args) -> Any:
    cls = _session_class(it, rcv)
    names = _names_of(args[0])
    if cls is None or names is None:
        return rcv
    return redefine(it, cls.superclass, cls.name, names, None, None)


@primitive("Class", "sharedVariables:", "classVariables:")
def _fluid_shared(it: Interpreter, rcv: Any, args: Args) -> Any:
    cls = _session_class(it, rcv)
    names = _names_of(args[0])
    if cls is None or names is None:
        return rcv
    return redefine(it, cls.superclass, cls.name, None, names, None)


@primitive("Class", "package:", "category:")
def _fluid_package(it: Interpreter, rcv: Any, args: Args) -> Any:
    cls = _session_class(it, rcv)
    text = text_of(args[0])
    if cls is None or text is None:
        return rcv
    return redefine(it, cls.superclass, cls.name, None, None, text)


@primitive("Class", "tag:", "traits:", "sharedPools:")
def _fluid_ignored(it: Interpreter, rcv: Any, args: Args) -> Any:
    return rcv
