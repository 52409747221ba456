"""The compiler's second pass: Python source for one compilation unit.

A unit (a method, a doit, or a block recompiled from its persisted source) becomes one
Python module: a function for the method or doit and one per real block, all sharing a
namespace of constants and runtime helpers (see compiler.py). Expressions are flattened
into statements on temporaries (`_t1 = ...`), so inlined control messages become plain
`if`/`while`/`for` and `^` in a method is a plain `return`.

Every activation counts a step and its depth on entry, every inlined loop a step per
iteration (`it.fuel` counts down to the next checkpoint, which enforces the step and time
limits and the interrupt). Sends look the method up in the receiver class's cache.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import ast
from .classes import global_named
from .errors import SmalltalkSyntaxError
from .kernel import SMALL_MAX, SMALL_MIN, class_of, shared_literal
from .objects import Char, HeapObject, ScaledDecimal, StClass
from .primitives._registry import INLINED, USUAL_CASES
from .scopes import BLOCK_MESSAGES, Analysis, Binding, Scope, keywords
from .usual_sends import UsualSends

# (code, stable): a Python expression for a value, and whether later code can change
# what it reads (a variable can be assigned by a later argument; a temporary cannot).
Atom = tuple[str, bool]

_NIL: Atom = ("None", True)
_SELF: Atom = ("self", True)

# SmallInteger operations done without a send when both operands are Python ints.
# (Python operator, extra guard): `*` only for operands below 2**62, so the product
# stays within what the heap limit allows; `//` and `\\` only for a divisor that is not 0.
_INT_OPS = {
    "+": ("+", ""),
    "-": ("-", ""),
    "*": ("*", "mul"),
    "<": ("<", ""),
    ">": (">", ""),
    "<=": ("<=", ""),
    ">=": (">=", ""),
    "=": ("==", ""),
    "~=": ("!=", ""),
    "//": ("//", "div"),
    "\\\\": ("%", "div"),
}
_BIG = 1 << 62

_TICK = ("it.fuel = _f = it.fuel - 1", "if _f < 0: it.checkpoint_now()")
_COMPARISONS = ("<", ">", "<=", ">=", "=", "~=")
_COUNT = ("_r = it.room - 1", "if _r < 0: it.too_deep()", "it.room = _r")
_ENTER = (*_TICK, *_COUNT)


@dataclass
class BlockSpec:
    """A block function of the unit, turned into a BlockCode once the module runs."""

    name: str
    function: str
    nargs: int
    names: tuple[str, ...]
    source: str
    captures: dict[str, tuple[int, int]]


@dataclass
class Module:
    """Generated source and what its namespace needs besides the shared helpers."""

    lines: list[str] = field(default_factory=list)
    constants: dict[str, Any] = field(default_factory=dict)
    blocks: list[BlockSpec] = field(default_factory=list)
    sites: int = 0

    @property
    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


def _is_simple(code: str) -> bool:
    """A name or a number: cheap to evaluate several times."""
    return code.isidentifier() or code.lstrip("(-").rstrip(")").isdigit()


def _tuple(items: list[str]) -> str:
    """Python source of a tuple of `items`."""
    return "(" + "".join(f"{item}, " for item in items).rstrip(" ") + ")"


def _is_simple_int(code: str) -> bool:
    return code.lstrip("(-").rstrip(")").isdigit()


class Generator:
    """Generates the functions of one unit into a Module."""

    def __init__(self, analysis: Analysis, method_class: StClass | None) -> None:
        self.analysis = analysis
        self.method_class = method_class
        self.module = Module()
        self._constant_ids: dict[Any, str] = {}
        self._shared_literals: dict[str, str] = {}

    def inline_cache(self) -> int:
        """A new send site: its globals C<n> (the class's method cache it was filled
        from), M<n> (the method) and P<n> (whether M<n> takes positional arguments)."""
        site = self.module.sites
        self.module.sites += 1
        return site

    def constant(self, value: Any) -> str:
        key: Any = (type(value), value) if type(value) in (int, float, str) else id(value)
        name = self._constant_ids.get(key)
        if name is None:
            name = f"K{len(self._constant_ids)}"
            self._constant_ids[key] = name
            self.module.constants[name] = value
        return name

    def shared_literal(self, text: str) -> str:
        """The constant holding the shared String of the literal `text`
        (`_Function.plain_send`)."""
        name = self._shared_literals.get(text)
        if name is None:
            name = self._shared_literals[text] = self.constant(shared_literal(text))
        return name

    # ------------------------------------------------------------------ units
    def method(self, node: ast.Method) -> str:
        root = self.analysis.root
        assert root is not None
        params = self.analysis.root_decls[: len(node.params)]
        blocks = len(self.module.blocks)
        fn, lines = self.method_body(node, frozenset())
        if fn.int_tested and len(self.module.blocks) == blocks and not (
            root.bears_frame or root.is_home
        ):
            # A copy for int arguments, where their SmallInteger fast paths need no
            # test: chosen once on entry (`fib: n` tests n three times otherwise). Not for
            # a method with real blocks (they would be generated twice) or a frame.
            _int_fn, int_lines = self.method_body(node, frozenset(fn.int_tested))
            assert lines[: len(_TICK)] == int_lines[: len(_TICK)] == ["    " + t for t in _TICK]
            guard = " and ".join(f"type({name}) is int" for name in sorted(fn.int_tested))
            lines = [
                *lines[: len(_TICK)],
                f"    if {guard}:",
                *["    " + line for line in int_lines[len(_TICK) :]],
                *lines[len(_TICK) :],
            ]
        names = [b.local if not b.captured else f"_a{i}" for i, b in enumerate(params)]
        # Two entries: `method(it, self, args)` for Interpreter.send and the primitives,
        # `positional(it, self, *args)` for the inline caches of generated sends.
        self.module.lines += [f"def positional({', '.join(['it', 'self', *names])}):", *lines]
        self.module.lines += [
            "def method(it, self, args):",
            "    return positional(it, self, *args)",
            "method.positional = positional",
        ]
        return "method"

    def method_body(
        self, node: ast.Method, known_int: frozenset[str]
    ) -> tuple[_Function, list[str]]:
        """The body of a method's function (`wrap`ped), its arguments in `known_int`
        taken to be Python ints."""
        root = self.analysis.root
        assert root is not None
        fn = _Function(self, root)
        params = self.analysis.root_decls[: len(node.params)]
        fn.memoize_types(params)
        fn.known_int = known_int
        temps = self.analysis.root_decls[len(node.params) :]
        uncounted = 0

        def generate() -> None:
            # Statement by statement, to know where the last one that sends nothing ends.
            nonlocal uncounted
            for stmt in node.body:
                returned = fn.sequence((stmt,), want=False) is None
                if fn.leaf:
                    uncounted = len(fn.lines)
                if returned:
                    break

        body = fn.body_lines(generate, temps)
        entry: tuple[str, ...] = _TICK if fn.leaf else _ENTER
        if fn.leaf or root.bears_frame or root.is_home:
            uncounted = 0
        return fn, fn.wrap(body, params, tail="return self", entry=entry, uncounted=uncounted)

    def doit(self, node: ast.DoIt) -> str:
        root = self.analysis.root
        assert root is not None
        fn = _Function(self, root)
        body = fn.body_lines(
            lambda: fn.sequence(node.body, want=True), self.analysis.root_decls
        )
        self.module.lines += ["def doit(it):", "    self = None"]
        self.module.lines += fn.wrap(body, [], tail="return None", entry=())
        return "doit"

    def stored_block(self, node: ast.Block) -> str:
        return self.block(node)

    def block(self, node: ast.Block) -> str:
        """Generate the function of a real block; answers its BlockCode's name."""
        scope = self.analysis.scopes[id(node)]
        decls = self.analysis.decls[id(node)]
        params, temps = decls[: len(node.params)], decls[len(node.params) :]
        fn = _Function(self, scope)
        fn.memoize_types(params)

        def generate() -> None:
            value = fn.sequence(node.body, want=True)
            if value is not None:
                fn.emit(f"return {value[0]}")

        body = fn.body_lines(generate, temps)
        index = len(self.module.blocks)
        function = f"block{index}"
        names = [b.local if not b.captured else f"_a{i}" for i, b in enumerate(params)]
        lines = [f"def {function}({', '.join(['blk', *names])}):"]
        lines += fn.wrap(body, params, tail="return None", entry=_TICK if fn.leaf else _ENTER)
        self.module.lines += lines
        spec = BlockSpec(
            name=f"B{index}",
            function=function,
            nargs=len(node.params),
            names=tuple(b.name for b in scope.captured),
            source=node.source,
            captures={name: (scope.hops_to(b), b.slot) for name, b in scope.free.items()},
        )
        self.module.blocks.append(spec)
        return spec.name


class _Function(UsualSends):
    """One generated Python function: a method, a doit or a block."""

    def __init__(self, gen: Generator, scope: Scope) -> None:
        self.gen = gen
        self.scope = scope
        self.lines: list[str] = []
        self.level = 2
        self.temps = 0
        self.outer_depths: set[int] = set()
        self.uses_self = False
        # No send other than the fallback of a SmallInteger fast path: such a block
        # cannot recurse without a counted method activation, so it skips the depth count.
        self.leaf = True
        # id(binding) -> Python local, for the variables of a real block whose body is
        # also written inline here (see `block_message`).
        self.renamed: dict[int, str] = {}
        # Python local of an argument never assigned -> the local holding its type(),
        # read once on entry (`wrap`) when some fast path or send site asks for it.
        self.type_memo: dict[str, str] = {}
        self.types_used: set[str] = set()
        # Arguments a SmallInteger fast path tested for int, and (in a method's copy
        # for int arguments, see `Generator.method`) the ones known to be ints.
        self.int_tested: set[str] = set()
        self.known_int: frozenset[str] = frozenset()

    def memoize_types(self, params: list[Binding]) -> None:
        """The arguments whose type() one read on entry can stand for: Python locals
        (not captured) that nothing assigns, so their value is the same all along."""
        for index, binding in enumerate(params):
            if not binding.captured and not binding.assigned:
                self.type_memo[binding.local] = f"_T{index}"

    def int_test(self, code: str) -> str | None:
        """The test that `code` is a Python int (None: known to be, see
        `Generator.method`), for a SmallInteger fast path."""
        if code in self.known_int:
            return None
        if code in self.type_memo:
            self.int_tested.add(code)
        return f"{self.type_of(code)} is int"

    def static_type(self, code: str) -> type | None:
        """The Python type of `code` when it is a constant (a value's Python type never
        changes), else None."""
        constants = self.gen.module.constants
        if code in constants:
            return type(constants[code])
        if _is_simple_int(code):
            return int
        return {"None": type(None), "True": bool, "False": bool}.get(code)

    def type_of(self, code: str) -> str:
        """A Python expression for `type(code)`."""
        memo = self.type_memo.get(code)
        if memo is None:
            return f"type({code})"
        self.types_used.add(code)
        return memo

    # ------------------------------------------------------------------ layout
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.level + line)

    @contextlib.contextmanager
    def indented(self) -> Iterator[None]:
        self.level += 1
        mark = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == mark:
                self.emit("pass")
            self.level -= 1

    @contextlib.contextmanager
    def captured(self) -> Iterator[list[str]]:
        """Collect the lines emitted inside the `with` instead of emitting them."""
        saved = self.lines
        self.lines = []
        try:
            yield self.lines
        finally:
            self.lines = saved

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def spill(self, atom: Atom) -> str:
        """`atom` as a name that later code cannot change."""
        code, stable = atom
        if stable and _is_simple(code):
            return code
        name = self.temp()
        self.emit(f"{name} = {code}")
        return name

    def name_of(self, atom: Atom) -> str:
        """`atom` as a Python name (tests like `x is None` on a literal would warn)."""
        return atom[0] if atom[0].isidentifier() else self.spill((atom[0], False))

    def body_lines(self, generate: Any, temps: list[Binding]) -> list[str]:
        for binding in temps:
            if not binding.captured:
                self.emit(f"{binding.local} = None")
        generate()
        return self.lines

    def wrap(
        self,
        body: list[str],
        params: list[Binding],
        tail: str,
        entry: tuple[str, ...],
        uncounted: int = 0,
    ) -> list[str]:
        """Entry checks, frame set-up, the body, and the exits around it.

        The first `uncounted` lines of `body` (a method's leading statements that send
        nothing, such as a recursion's base case: `n < 2 ifTrue: [^n]`) run before the
        depth count, so an activation that returns there counts no depth, as a leaf
        block does (whatever recurses goes through a counted activation). Only for a
        method with no frame: those lines must not need one."""
        scope = self.scope
        counted = entry == _ENTER
        needs_try = counted or scope.is_home
        inner: list[str] = []
        if scope.kind == "block":
            if self.uses_self or scope.bears_frame:
                inner.append("self = blk.rcv")
            if self.outer_depths:
                inner.append("_o1 = blk.outer")
                inner.append("O1 = _o1.vars")
                for depth in range(2, max(self.outer_depths) + 1):
                    inner.append(f"_o{depth} = _o{depth - 1}.outer")
                    inner.append(f"O{depth} = _o{depth}.vars")
        if scope.bears_frame:
            initial = {b.slot: f"_a{i}" for i, b in enumerate(params) if b.captured}
            values = ", ".join(initial.get(i, "None") for i in range(len(scope.captured)))
            names = self.gen.constant(tuple(b.name for b in scope.captured))
            if scope.kind == "block":
                inner.append(f"ctx = Frame(CONTEXT, [{values}], self, blk.outer, {names})")
                inner.append("ctx.home = blk.home")
            else:
                inner.append(f"ctx = Frame(CONTEXT, [{values}], self, None, {names})")
            inner.append("F = ctx.vars")
        inner += [f"{self.type_memo[name]} = type({name})" for name in sorted(self.types_used)]
        if uncounted:
            assert counted and not scope.bears_frame and scope.kind == "method"
            out = ["    " + line for line in (*_TICK, *inner)]
            out += [line[4:] for line in body[:uncounted]]  # one level out of the `try`
            out += ["    " + line for line in _COUNT]
            inner, body = [], body[uncounted:]
        else:
            out = ["    " + line for line in entry]
        out.append("    try:" if needs_try else "    if 1:")
        out += ["        " + line for line in inner]
        out += body
        out.append("        " + tail)
        if scope.is_home:
            out.append("    except NonLocalReturn as _e:")
            out.append("        if _e.home is ctx: return _e.value")
            out.append("        raise")
        if needs_try:
            out.append("    finally:")
        if scope.is_home:
            out.append("        ctx.alive = False")
        if counted:
            out.append("        it.room = _r + 1")
        return out

    # ------------------------------------------------------------------ statements
    def sequence(self, stmts: tuple[ast.Stmt, ...], want: bool) -> Atom | None:
        """Emit `stmts`; answers the value of the last one, or None when it returned."""
        value: Atom = _NIL
        for index, stmt in enumerate(stmts):
            if isinstance(stmt, ast.Return):
                self.return_(self.expr(stmt.value))
                return None
            value = self.expr(stmt, want=want and index == len(stmts) - 1)
        return value

    def return_(self, atom: Atom) -> None:
        if self.scope.kind == "block":
            self.emit(f"return it.return_to(blk.home, {atom[0]})")
        else:
            self.emit(f"return {atom[0]}")

    # ------------------------------------------------------------------ expressions
    def expr(self, node: ast.Expr, want: bool = True) -> Atom:
        if isinstance(node, ast.Literal):
            return self.literal(node.value)
        if isinstance(node, ast.Variable):
            return self.variable(node)
        if isinstance(node, ast.Assign):
            return self.assign(node)
        if isinstance(node, ast.Send):
            if id(node) in self.gen.analysis.inlined:
                return self.control(node, want)
            if id(node) in self.gen.analysis.block_messages:
                return self.block_message(node)
            return self.send(node, want)
        if isinstance(node, ast.Cascade):
            return self.cascade(node, want)
        if isinstance(node, ast.Block):
            return self.real_block(node)
        if isinstance(node, ast.BraceArray):
            items = self.operands(list(node.items))
            name = self.temp()
            self.emit(f"{name} = new_array([{', '.join(items)}])")
            return (name, True)
        raise AssertionError(f"unknown node {node!r}")

    def literal(self, value: ast.LiteralValue) -> Atom:
        if value is None or value is True or value is False:
            return (repr(value), True)
        if type(value) is int and -_BIG < value < _BIG:
            return (f"({value})" if value < 0 else str(value), True)
        if isinstance(value, ast.Str):
            name = self.temp()
            self.emit(f"{name} = new_string({self.gen.constant(value.text)})")
            return (name, True)
        if isinstance(value, (ast.LitArray, ast.ByteArr)):
            name = self.temp()
            self.emit(f"{name} = materialize({self.gen.constant(value)})")
            return (name, True)
        if isinstance(value, ast.Char):
            return (self.gen.constant(Char.of(value.code)), True)
        if isinstance(value, ast.Sym):
            return (self.gen.constant(value.name), True)
        # Immutable number literals: LargeIntegers, Floats, Fractions and ScaledDecimals
        # (value objects) are shared constants.
        assert type(value) in (int, float, Fraction, ScaledDecimal)
        return (self.gen.constant(value), True)

    # ------------------------------------------------------------------ variables
    def binding_code(self, binding: Binding) -> str:
        renamed = self.renamed.get(id(binding))
        if renamed is not None:
            return renamed
        if binding.scope is self.scope:
            return f"F[{binding.slot}]" if binding.captured else binding.local
        depth = self.scope.hops_to(binding)
        self.outer_depths.add(depth)
        return f"O{depth}[{binding.slot}]"

    def variable(self, node: ast.Variable) -> Atom:
        name = node.name
        if name in ("self", "super"):
            self.uses_self = True
            return _SELF
        if name == "thisContext":
            return _NIL
        binding = self.gen.analysis.refs.get(id(node))
        if binding is not None:
            return (self.binding_code(binding), False)
        ivar = self.ivar_index(name)
        if ivar is not None:
            self.uses_self = True
            return (f"self.slots[{ivar}]", False)
        holder = self.classvar_holder(name)
        if holder is not None:
            return (f"{self.gen.constant(holder)}.classvars.get({name!r})", False)
        constant = global_named(name)
        if constant is not None:
            return (self.gen.constant(constant), True)
        return (f"(classes.get({name!r}) or workspace.get({name!r}))", False)

    def assign(self, node: ast.Assign) -> Atom:
        value = self.expr(node.value)
        code = value[0]
        name = node.name
        binding = self.gen.analysis.refs.get(id(node))
        if binding is not None:
            target = self.binding_code(binding)
            if binding.scope is not self.scope and id(binding) not in self.renamed:
                depth = self.scope.hops_to(binding)
                self.emit(f"if _o{depth}.oid is not None: touch(_o{depth})")
            self.emit(f"{target} = {code}")
            return value if value[1] else (target, False)
        ivar = self.ivar_index(name)
        if ivar is not None:
            self.uses_self = True
            self.emit("if self.oid is not None: touch(self)")
            self.emit(f"self.slots[{ivar}] = {code}")
            return value if value[1] else (f"self.slots[{ivar}]", False)
        holder = self.classvar_holder(name)
        if holder is not None:
            holder_name = self.gen.constant(holder)
            self.emit(f"if {holder_name}.oid is not None: touch({holder_name})")
            self.emit(f"{holder_name}.classvars[{name!r}] = {code}")
            return value if value[1] else (f"{holder_name}.classvars[{name!r}]", False)
        if global_named(name) is not None:
            pos = node.pos
            raise SmalltalkSyntaxError(pos.line, pos.column, f"cannot store into {name}")
        self.emit(f"workspace[{name!r}] = {code}")
        self.emit("it.workspace_changed = True")
        return value if value[1] else (f"workspace[{name!r}]", False)

    def ivar_index(self, name: str) -> int | None:
        cls = self.gen.method_class
        if cls is None or name not in cls.ivars:
            return None
        return cls.ivars.index(name)

    def classvar_holder(self, name: str) -> StClass | None:
        cls = self.gen.method_class
        if cls is None:
            return None
        if cls.is_meta and cls.instance_class is not None:
            cls = cls.instance_class
        probe: StClass | None = cls
        while probe is not None:
            if name in probe.classvars:
                return probe
            probe = probe.superclass
        return None

    # ------------------------------------------------------------------ sends
    def operands(self, nodes: list[ast.Expr]) -> list[str]:
        """Evaluate `nodes` left to right; answers expressions for their values that
        are still right after all of them ran."""
        atoms: list[Atom] = []
        for node in nodes:
            with self.captured() as lines:
                atom = self.expr(node)
            if lines:
                for index, (code, stable) in enumerate(atoms):
                    if not stable:
                        atoms[index] = (self.spill((code, stable)), True)
                self.lines.extend(lines)
            atoms.append(atom)
        return [self.spill(a) if not _is_simple(a[0]) else a[0] for a in atoms]

    def send(self, node: ast.Send, want: bool = True) -> Atom:
        if self.plain(node):
            chain = self.chain(node)
            if chain is not None:
                return self.fused(chain, want)
            found = self.text_argument(node.selector, node.args[0], want) if (
                len(node.args) == 1) else None
            if found is not None:
                arg = found.arg
                rcv, *arg_operands = self.operands([node.receiver, arg.receiver, *arg.args])
                return self.text_argument_send(rcv, node.selector, found, arg_operands, want)
        selector = node.selector
        is_super = isinstance(node.receiver, ast.Variable) and node.receiver.name == "super"
        rcv, *args = self.operands([node.receiver, *node.args])
        if is_super:
            return self.super_send(selector, args)
        if len(args) == 1 and selector in ("==", "~~"):
            rcv, other = self.name_of((rcv, True)), self.name_of((args[0], True))
            args = [other]
            name = self.temp()
            test = f"({rcv} is {args[0]} or identical({rcv}, {args[0]}))"
            self.emit(f"{name} = {test}" if selector == "==" else f"{name} = not {test}")
            return (name, True)
        if not args and selector in ("isNil", "notNil"):
            rcv = self.name_of((rcv, True))
            name = self.temp()
            self.emit(f"{name} = {rcv} {'is' if selector == 'isNil' else 'is not'} None")
            return (name, True)
        if len(args) == 1 and selector in _INT_OPS:
            return self.int_op(selector, rcv, args[0], node)
        to_self = isinstance(node.receiver, ast.Variable) and node.receiver.name == "self"
        borrowed = self.borrowable(list(node.args), args)
        return self.plain_send(rcv, selector, args, to_self, borrowed, want)

    def plain(self, node: ast.Send) -> bool:
        """A send `send` would write as a `plain_send` to a receiver not `self`."""
        analysis = self.gen.analysis
        return (
            id(node) not in analysis.inlined
            and id(node) not in analysis.block_messages
            and not (isinstance(node.receiver, ast.Variable)
                     and node.receiver.name in ("self", "super"))
            and node.selector not in ("==", "~~", "isNil", "notNil")
            and not (len(node.args) == 1 and node.selector in _INT_OPS)
        )

    def borrowable(self, nodes: list[ast.Expr], args: list[str]) -> list[tuple[int, str, str]]:
        """The String literal arguments among `nodes` (just evaluated into `args`):
        (index, text, the line that made the fresh copy), that line taken back out, for
        `plain_send` to emit only where the send needs a fresh copy."""
        found: list[tuple[int, str, str]] = []
        for index, (node, arg) in enumerate(zip(nodes, args, strict=True)):
            if not (isinstance(node, ast.Literal) and isinstance(node.value, ast.Str)):
                continue
            text = node.value.text
            line = "    " * self.level + f"{arg} = new_string({self.gen.constant(text)})"
            for at in range(len(self.lines) - 1, -1, -1):
                if self.lines[at] == line:
                    del self.lines[at]
                    found.append((index, text, line.strip()))
                    break
        return found

    def plain_send(
        self,
        rcv: str,
        selector: str,
        args: list[str],
        to_self: bool,
        borrowed: list[tuple[int, str, str]] | None = None,
        want: bool = True,
        usual: bool = True,
    ) -> Atom:
        """A send that is not inlined: its usual cases first (unless `usual` is false: a
        chain's way out, see `UsualSends.plain_chain`), then the inline cache."""
        name = self.temp()
        borrowed = borrowed or []
        cases = []
        for case in USUAL_CASES.get(selector, []) if usual and not to_self else []:
            test = self.usual_test(case, rcv, args, borrowed)
            if test is not None:
                cases.append(case)
                self.emit(f"{'elif' if len(cases) > 1 else 'if'} {test}:")
                with self.indented():
                    self.usual_value(case, name, rcv, args, borrowed, want)
        if cases:
            self.emit("else:")
            with self.indented():
                self.looked_up_send(name, rcv, selector, args, to_self, borrowed, want)
        else:
            self.looked_up_send(name, rcv, selector, args, to_self, borrowed, want)
        return (name, True)

    def looked_up_send(
        self,
        name: str,
        rcv: str,
        selector: str,
        args: list[str],
        to_self: bool,
        borrowed: list[tuple[int, str, str]],
        want: bool,
    ) -> None:
        """A send through the site's inline cache (see `look_up`)."""
        site, cls = self.look_up(rcv, to_self)
        packed = _tuple(args)
        positional = ", ".join(["it", rcv, *args])
        send = (
            f"{name} = M{site}({positional}) if _c is C{site} else "
            f"N{site}(it, {rcv}, {packed}) if _c is D{site} else "
            f"send_miss({site}, {cls}, {selector!r}, {rcv}, {packed})"
        )
        if not borrowed:
            self.emit(send)
            return
        # String literal arguments: a primitive that only reads them (L<site>, see
        # `_registry.borrows_strings`) gets a shared String per literal instead of a
        # fresh copy, and a fresh copy replaces it if the primitive answered it (unless
        # the value is not used); any other method (a session's override too) gets
        # fresh copies, as always.
        shared = list(args)
        for index, text, _line in borrowed:
            shared[index] = self.gen.shared_literal(text)
        self.emit(f"if _c is C{site} and L{site}:")
        with self.indented():
            self.emit(f"{name} = M{site}({', '.join(['it', rcv, *shared])})")
            for index, text, _line in borrowed if want else ():
                fresh = f"new_string({self.gen.constant(text)})"
                self.emit(f"if {name} is {shared[index]}: {name} = {fresh}")
        self.emit("else:")
        with self.indented():
            for _index, _text, line in borrowed:
                self.emit(line)
            self.emit(send)

    def look_up(self, rcv: str, to_self: bool) -> tuple[int, str]:
        """Emit what a send site needs to pick its method: the receiver's class's method
        cache in `_c`. Answers the site and an expression for the class. Each site
        caches two methods (Compiler._load): C<n>/M<n> one that takes its arguments
        positionally (a generated method), D<n>/N<n> one that takes a tuple (a
        primitive); C<n> and D<n> are the class caches they were found in."""
        self.leaf = False
        site = self.gen.inline_cache()
        if to_self and self.gen.method_class is not None:
            # Instances of session classes are always heap objects.
            self.emit("_c = self.cls.cache")
            return site, "self.cls"
        if not rcv.isidentifier() or rcv in ("None", "True", "False"):
            known = {"None": None, "True": True, "False": False}
            literal = known[rcv] if rcv in known else int(rcv.strip("()"))
            self.emit(f"_k = {self.gen.constant(class_of(literal))}")
        elif self.constant_class(rcv) is not None:
            self.emit(f"_k = {self.constant_class(rcv)}")
        else:
            kind = self.type_of(rcv)
            if kind == f"type({rcv})":
                self.emit(f"_y = {kind}")  # (one type() call for both tests)
                kind = "_y"
            self.emit(
                f"_k = {rcv}.cls if {kind} in HEAP else SMALL_INTEGER "
                f"if {kind} is int and {SMALL_MIN} <= {rcv} <= {SMALL_MAX} "
                f"else class_of({rcv})"
            )
        self.emit("_c = _k.cache")
        return site, "_k"

    def constant_class(self, code: str) -> str | None:
        """The class of a constant receiver (a Symbol, a Character, a number, a system
        class or global), as a constant: it cannot change."""
        constants = self.gen.module.constants
        if code not in constants:
            return None
        value = constants[code]
        if isinstance(value, HeapObject) and not (isinstance(value, StClass) and value.system):
            return None
        return self.gen.constant(class_of(value))

    def super_send(self, selector: str, args: list[str]) -> Atom:
        self.leaf = False
        self.uses_self = True
        name = self.temp()
        packed = _tuple(args)
        cls = self.gen.method_class
        start = f"{self.gen.constant(cls)}.superclass" if cls is not None else "None"
        self.emit(f"{name} = it.super_send({start}, self, {selector!r}, {packed})")
        return (name, True)

    def int_op(self, selector: str, a: str, b: str, node: ast.Send) -> Atom:
        op, guard = _INT_OPS[selector]
        literal_b = isinstance(node.args[0], ast.Literal) and type(node.args[0].value) is int
        literal_a = isinstance(node.receiver, ast.Literal) and type(node.receiver.value) is int
        tests = [test for x, literal in ((a, literal_a), (b, literal_b))
                 if not literal and (test := self.int_test(x))]
        if guard == "mul":
            tests += [f"-{_BIG} < {x} < {_BIG}" for x, lit in ((a, literal_a), (b, literal_b))
                      if not lit]
        tests = list(dict.fromkeys(tests))  # (`x * x` tests x once)
        if guard == "div" and not (literal_b and b not in ("0", "(0)")):
            tests.append(f"{b} != 0")
        name = self.temp()
        fallback = f"it.send({a}, {selector!r}, ({b},))"
        if not tests:
            self.emit(f"{name} = {a} {op} {b}")
        else:
            self.emit(f"{name} = {a} {op} {b} if {' and '.join(tests)} else {fallback}")
        return (name, True)

    def cascade(self, node: ast.Cascade, want: bool = True) -> Atom:
        is_super = isinstance(node.receiver, ast.Variable) and node.receiver.name == "super"
        rcv = self.spill(self.expr(node.receiver))
        result: Atom = _NIL
        for number, part in enumerate(node.parts):
            target = rcv
            for index, message in enumerate(part):
                # (a part's last message answers the cascade's value, or nothing)
                used = index < len(part) - 1 or (want and number == len(node.parts) - 1)
                found = self.text_argument(message.selector, message.args[0], used) if (
                    len(message.args) == 1 and not (index == 0 and is_super)) else None
                if found is not None:
                    arg_operands = self.operands([found.arg.receiver, *found.arg.args])
                    target = self.text_argument_send(target, message.selector, found,
                                                     arg_operands, used)[0]
                    continue
                args = self.operands(list(message.args))
                if index == 0 and is_super:
                    target = self.super_send(message.selector, args)[0]
                else:
                    borrowed = self.borrowable(list(message.args), args)
                    target = self.plain_send(target, message.selector, args, False,
                                             borrowed, used)[0]
            result = (target, True)
        return result

    def real_block(self, node: ast.Block) -> Atom:
        code = self.gen.block(node)
        scope = self.scope
        if scope.bears_frame:
            outer = "ctx"
        elif scope.kind == "block":
            outer = "blk.outer"
        else:
            outer = "None"
        self.uses_self = True
        name = self.temp()
        self.emit(f"{name} = StBlock(BLOCK, {code}, {outer}, self)")
        return (name, True)

    # ------------------------------------------------------------------ enumerations
    def block_message(self, node: ast.Send) -> Atom:
        """`coll do: [:x | ...]`, `dict at: k ifAbsent: [...]` and the other
        scopes.BLOCK_MESSAGES with a literal block. Which method the receiver runs is
        known only when the send runs: if it is the system primitive
        (primitives._registry.INLINED), what it does runs here with the block's body
        inline (no block object, no activation); otherwise the block is made and the
        message sent. Each activation of a real block has its own variables, so a block
        with a variable that a nested block captures is always sent."""
        kind, index, _nargs = BLOCK_MESSAGES[node.selector]
        block = node.args[index]
        assert isinstance(block, ast.Block)
        scope = self.gen.analysis.scopes[id(block)]
        primitives = [*INLINED.get(kind, [])]
        if kind == "collect":
            primitives += INLINED.get("interval_collect", [])
        if scope.captured or not primitives:
            return self.send(node)
        others = [arg for i, arg in enumerate(node.args) if i != index]
        rcv, *values = self.operands([node.receiver, *others])
        to_self = isinstance(node.receiver, ast.Variable) and node.receiver.name == "self"
        rcv = self.spill((rcv, False))
        site, cls = self.look_up(rcv, to_self)
        method, result = self.temp(), self.temp()
        # (the method that takes a tuple: primitives are of that kind)
        self.emit(
            f"{method} = N{site} if _c is D{site} else miss({site}, {cls}, {node.selector!r})"
        )
        test = " or ".join(f"{method} is {self.gen.constant(fn)}" for fn in primitives)
        self.emit(f"if {test}:")
        with self.indented():
            for binding in scope.bindings:
                self.renamed[id(binding)] = f"{binding.local}{self.temp()}"
            if kind.startswith("at_if_absent"):
                self.at_if_absent(kind, block, rcv, values[0], result)
            else:
                self.enumerate(kind, block, rcv, values, method, result)
        self.emit("else:")
        with self.indented():
            args = list(values)
            args.insert(index, self.real_block(block)[0])
            self.emit(f"{result} = {method}(it, {rcv}, {_tuple(args)})")
        return (result, True)

    def enumerate(
        self, kind: str, block: ast.Block, rcv: str, values: list[str], method: str, result: str
    ) -> None:
        """The loop of one enumeration primitive (collection.py, interval.py), over
        `support.iteration_values` as the primitive iterates; one step per element, as
        the block's activation would take."""
        params = self.gen.analysis.decls[id(block)][: len(block.params)]
        names = [self.binding_code(b) for b in params]
        element = names[-1] if kind in ("do", "collect", "inject") else self.temp()
        items = self.temp()
        if kind == "inject":
            self.emit(f"{items} = {values[0]}")  # the running value
        elif kind in ("collect", "select", "reject"):
            self.emit(f"{items} = []")
        if kind == "collect" and INLINED.get("interval_collect"):
            checked = self.gen.constant(INLINED["interval_collect"][0])
            self.emit(f"if {method} is {checked}: check_collection({rcv}.size())")
        self.emit(f"for {element} in iteration_values({rcv}):")
        with self.indented():
            self.tick()
            if element != names[-1]:
                self.emit(f"{names[-1]} = {element}")
            if kind == "inject":
                self.emit(f"{names[0]} = {items}")
            value = self.inlined_body(block, kind != "do")
            if value is not None:
                self.enumerated(kind, value[0], element, items, result)
        if kind == "detect":
            self.emit("else:")
            with self.indented():
                self.emit(f"{result} = it.send({values[0]}, 'value', ())")
        elif kind == "do":
            self.emit(f"{result} = {rcv}")
        elif kind == "inject":
            self.emit(f"{result} = {items}")
        elif kind == "collect":
            interval = INLINED.get("interval_collect")
            if interval:
                checked = self.gen.constant(interval[0])
                self.emit(f"{result} = new_array({items}) if {method} is {checked} else "
                          f"collect_new(it, {rcv}, {items})")
            else:
                self.emit(f"{result} = collect_new(it, {rcv}, {items})")
        else:
            self.emit(f"{result} = species_new(it, {rcv}, {items})")

    def at_if_absent(self, kind: str, block: ast.Block, rcv: str, key: str, result: str) -> None:
        """Dictionary>>at:ifAbsent: and at:ifAbsentPut: (dictionary.py): the entry of
        `key`, else the block's value (one step, as its activation would take)."""
        entry = self.temp()
        self.emit(f"{entry} = {rcv}.table.get(dict_key(it, {rcv}, {key}))")
        self.emit(f"if {entry} is None:")
        with self.indented():
            self.tick()
            value = self.inlined_body(block, True)
            if value is not None:
                if kind == "at_if_absent_put":
                    self.emit(f"{result} = dict_put(it, {rcv}, {key}, {value[0]})")
                else:
                    self.emit(f"{result} = {value[0]}")
        self.emit("else:")
        with self.indented():
            self.emit(f"{result} = {entry}[1]")

    def enumerated(self, kind: str, value: str, element: str, items: str, result: str) -> None:
        """What one element's block value does to the enumeration's result."""
        if kind == "collect":
            self.emit(f"{items}.append({value})")
            return
        if kind == "inject":
            self.emit(f"{items} = {value}")
            return
        value = self.name_of((value, True))  # (`is` on a literal would warn)
        chosen = f"{value} is True or ({value} is not False and truth(it, {value}))"
        if kind == "select":
            self.emit(f"if {chosen}:")
            with self.indented():
                self.emit(f"{items}.append({element})")
        elif kind == "reject":
            self.emit(f"if {value} is False or ({value} is not True and not truth(it, {value})):")
            with self.indented():
                self.emit(f"{items}.append({element})")
        elif kind == "detect":
            self.emit(f"if {chosen}:")
            with self.indented():
                self.emit(f"{result} = {element}")
                self.emit("break")

    # ------------------------------------------------------------------ inlining
    def inlined_body(self, block: ast.Expr, want: bool, param: str | None = None) -> Atom | None:
        """Emit an inlined literal block; answers its value (None if it returned)."""
        assert isinstance(block, ast.Block)
        decls = self.gen.analysis.decls[id(block)]
        params, temps = decls[: len(block.params)], decls[len(block.params) :]
        if params and param is not None:
            self.emit(f"{self.binding_code(params[0])} = {param}")
        for binding in temps:
            self.emit(f"{self.binding_code(binding)} = None")
        if not block.body:
            return _NIL
        return self.sequence(block.body, want)

    def branch(self, block: ast.Expr | None, result: str | None, param: str | None = None,
               default: str = "None") -> None:
        """One arm of an inlined conditional, assigning its value to `result`."""
        with self.indented():
            if block is None:
                if result is not None:
                    self.emit(f"{result} = {default}")
                return
            value = self.inlined_body(block, result is not None, param)
            if value is not None and result is not None:
                self.emit(f"{result} = {value[0]}")

    def control(self, node: ast.Send, want: bool) -> Atom:
        selector = node.selector
        if selector in ("whileTrue:", "whileFalse:", "whileTrue", "whileFalse", "repeat"):
            return self.while_(node)
        if selector in ("to:do:", "to:by:do:"):
            return self.to_do(node)
        if selector == "timesRepeat:":
            return self.times_repeat(node)
        result = self.temp() if want else None
        fused = None
        if selector in ("ifTrue:", "ifFalse:"):
            fused = self.fused_test(node.receiver, selector == "ifFalse:")
        # Read once: no code runs between the tests on it.
        subject = "" if fused is not None else self.name_of(self.expr(node.receiver))
        parts = dict(zip(keywords(selector), node.args, strict=True))
        if selector in ("and:", "or:"):
            go, stop = ("True", "False") if selector == "and:" else ("False", "True")
            self.emit(f"if {subject} is {go}:")
            self.branch(node.args[0], result)
            self.emit(f"elif {subject} is {stop}:")
            self.branch(None, result, default=stop)
            self.emit("else:")
            with self.indented():
                self.emit(f"{result or '_'} = it.non_boolean({subject})")
        elif selector.startswith(("ifTrue", "ifFalse")):
            if fused is not None:
                if result is not None:
                    self.emit(f"{result} = None")
                self.emit(f"if {fused}:" if selector == "ifTrue:" else f"if not {fused}:")
                self.branch(node.args[0], result)
                return (result, True) if result is not None else _NIL
            self.emit(f"if {subject} is True:")
            self.branch(parts.get("ifTrue:"), result)
            self.emit(f"elif {subject} is False:")
            self.branch(parts.get("ifFalse:"), result)
            self.emit("else:")
            with self.indented():
                self.emit(f"it.non_boolean({subject})")
                if result is not None:
                    self.emit(f"{result} = None")
        else:
            self.emit(f"if {subject} is None:")
            self.branch(parts.get("ifNil:"), result)
            self.emit("else:")
            self.branch(parts.get("ifNotNil:"), result, param=subject, default=subject)
        return (result, True) if result is not None else _NIL

    def fused_test(self, node: ast.Expr, fallback: bool) -> str | None:
        """A SmallInteger comparison as a Python test (true when the receiver is true),
        with no Boolean to look at in between; a non-Boolean answered by a real send
        signals NonBooleanReceiver and counts as `fallback`."""
        if not (
            isinstance(node, ast.Send)
            and node.selector in _COMPARISONS
            and id(node) not in self.gen.analysis.inlined
            and not (isinstance(node.receiver, ast.Variable) and node.receiver.name == "super")
        ):
            return None
        a, b = self.operands([node.receiver, node.args[0]])
        op = _INT_OPS[node.selector][0]
        tests = [test for x in (a, b) if not _is_simple_int(x) and (test := self.int_test(x))]
        tests = list(dict.fromkeys(tests))
        if not tests:
            return f"({a} {op} {b})"
        slow = f"it.as_bool(it.send({a}, {node.selector!r}, ({b},)), {fallback})"
        return f"({a} {op} {b} if {' and '.join(tests)} else {slow})"

    def fused_condition(self, block: ast.Expr, fallback: bool) -> str | None:
        """`fused_test` for a loop's condition block `[a < b]` (one statement, no
        temporaries)."""
        if not (isinstance(block, ast.Block) and not block.temps and len(block.body) == 1):
            return None
        stmt = block.body[0]
        if isinstance(stmt, ast.Return):
            return None
        return self.fused_test(stmt, fallback)

    def tick(self) -> None:
        for line in _TICK:
            self.emit(line)

    def while_(self, node: ast.Send) -> Atom:
        selector = node.selector
        self.emit("while True:")
        with self.indented():
            self.tick()
            if selector == "repeat":
                self.inlined_body(node.receiver, False)
                return _NIL
            whole = selector.startswith("whileTrue")
            fused = self.fused_condition(node.receiver, not whole)
            if fused is not None:
                self.emit(f"if not {fused}: break" if whole else f"if {fused}: break")
                if node.args:
                    self.inlined_body(node.args[0], False)
                return _NIL
            cond_atom = self.inlined_body(node.receiver, True)
            if cond_atom is not None:
                cond = (self.name_of(cond_atom), True)
                want = "True" if selector.startswith("whileTrue") else "False"
                other = "False" if want == "True" else "True"
                self.emit(f"if {cond[0]} is not {want}:")
                with self.indented():
                    self.emit(f"if {cond[0]} is not {other}: it.non_boolean({cond[0]})")
                    self.emit("break")
                if node.args:
                    self.inlined_body(node.args[0], False)
        return _NIL

    def to_do(self, node: ast.Send) -> Atom:
        start = self.spill(self.expr(node.receiver))
        stop = self.spill(self.expr(node.args[0]))
        step: Any = 1
        if node.selector == "to:by:do:":
            literal = node.args[1]
            assert isinstance(literal, ast.Literal)
            step = literal.value
        if type(step) is int:
            end = f"{stop} + 1" if step > 0 else f"{stop} - 1"
            values = (
                f"range({start}, {end}, {step}) if type({start}) is int and type({stop}) is int "
                f"else it.to_do_values({start}, {stop}, {step})"
            )
        else:
            values = f"it.to_do_values({start}, {stop}, {self.gen.constant(step)})"
        block = node.args[-1]
        variable = self.gen.analysis.decls[id(block)][0]
        if variable.captured:
            index = self.temp()
            self.emit(f"for {index} in {values}:")
            with self.indented():
                self.tick()
                self.inlined_body(block, False, param=index)
        else:  # the loop variable is the Python loop's own
            self.emit(f"for {variable.local} in {values}:")
            with self.indented():
                self.tick()
                self.inlined_body(block, False)
        return (start, True)

    def times_repeat(self, node: ast.Send) -> Atom:
        count = self.spill(self.expr(node.receiver))
        self.emit(
            f"for _ in (range({count}) if type({count}) is int "
            f"else it.times_repeat_values({count})):"
        )
        with self.indented():
            self.tick()
            self.inlined_body(node.args[0], False)
        return (count, True)
