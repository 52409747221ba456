"""Syntax tree -> Python closures.

Every expression node becomes a function `f(frame) -> value`. Variables are resolved
at compile time to (frame depth, slot index), instance-variable slots, class-variable
holders or constants; only workspace bindings and session-class names are looked up
at run time (they may appear later in the session).

As Pharo's compiler does, control messages whose arguments are literal blocks
(ifTrue:, and:, whileTrue:, to:do:, ifNil: ...) are inlined: their blocks share the
enclosing frame and no BlockClosure is created. SmallInteger arithmetic and
comparisons have a fast path that sends no message.

`^` is compiled two ways. In statement position of a method body (including inside
inlined blocks there) a statement answers the NORET sentinel or the returned value,
so the common `cond ifTrue: [^x]` costs no exception. Anywhere else (inside a real
block, or an inlined block used as a value) it raises NonLocalReturn to the home
activation.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import ast
from .classes import SYSTEM_CLASSES as S
from .classes import global_named
from .errors import NonLocalReturn, SmalltalkSyntaxError
from .kernel import SMALL_MAX, SMALL_MIN, class_of, identical, new_array, new_bytes, new_string
from .objects import Char, Frame, LightFrame, Method, StBlock, StClass
from .parser import parse_doit, parse_method
from .runtime import HEAP_TYPES

if TYPE_CHECKING:
    from .runtime import Interpreter

# A compiled node: takes the activation (Frame or LightFrame) and answers a value.
Fn = Callable[[Any], Any]
MethodFn = Callable[["Interpreter", Any, tuple[Any, ...]], Any]


class _NoReturn:
    def __repr__(self) -> str:
        return "NORET"


NORET: Any = _NoReturn()

_CONTEXT = S["Context"]
_BLOCK_CLASS = S["FullBlockClosure"]
_PSEUDO = ("self", "super", "thisContext")


def _SELF(f: Any) -> Any:
    return f.rcv


_BIG = 1 << 62


class BlockCode:
    """What a BlockClosure runs: compiled body, frame layout, and what persisting the
    block needs (its source, the outer variables it captures, its method class)."""

    __slots__ = (
        "body",
        "captures",
        "light",
        "method_class",
        "names",
        "nargs",
        "ntemps",
        "source",
        "temps_init",
    )

    def __init__(
        self,
        nargs: int,
        names: tuple[str, ...],
        body: Fn,
        source: str,
        captures: dict[str, tuple[int, int]],
        method_class: StClass | None,
    ) -> None:
        self.nargs = nargs
        self.names = names
        self.ntemps = len(names) - nargs
        self.temps_init = (None,) * self.ntemps
        self.body = body
        self.source = source
        self.captures = captures
        self.method_class = method_class
        # True when no block or `^` inside refers to the block's own activation,
        # so a LightFrame will do.
        self.light = False


class DoItCode:
    __slots__ = ("body", "names")

    def __init__(self, body: Fn, names: tuple[str, ...]) -> None:
        self.body = body
        self.names = names


class _Scope:
    """A real activation (method, doit or block): the slots of its frame."""

    __slots__ = ("captures", "is_block", "names", "parent")

    def __init__(self, parent: _Scope | None, is_block: bool) -> None:
        self.names: list[str] = []
        self.parent = parent
        self.is_block = is_block
        self.captures: dict[str, tuple[int, int]] = {}

    def add(self, name: str) -> int:
        self.names.append(name)
        return len(self.names) - 1


class _Env:
    """Name bindings of one lexical level; inlined blocks get a child _Env on the
    same _Scope, real blocks a child _Env on a new _Scope."""

    __slots__ = ("bindings", "captured", "parent", "scope")

    def __init__(
        self,
        scope: _Scope,
        parent: _Env | None,
        captured: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self.scope = scope
        self.parent = parent
        self.bindings: dict[str, int] = {}
        self.captured = captured

    def bind(self, name: str) -> int:
        index = self.scope.add(name)
        self.bindings[name] = index
        return index

    def resolve(self, name: str) -> tuple[int, int] | None:
        env: _Env | None = self
        hops = 0
        crossed: list[tuple[_Scope, int]] = []
        while env is not None:
            if name in env.bindings:
                result = (hops, env.bindings[name])
                break
            if env.captured is not None and name in env.captured:
                depth, index = env.captured[name]
                result = (hops - 1 + depth, index)
                break
            parent = env.parent
            if parent is not None and parent.scope is not env.scope:
                crossed.append((env.scope, hops))
                hops += 1
            elif parent is None and env.captured is None:
                return None
            env = parent
        else:
            return None
        depth, index = result
        for scope, at in crossed:
            if depth - at >= 1:
                scope.captures[name] = (depth - at, index)
        return result


class _Unit:
    """Per-compilation context: the class whose method is compiled (None for a doit),
    and whether the activation may be referred to after it returns or be the target
    of a NonLocalReturn (`needs_home`: it contains a real block or a `^` compiled as
    an exception)."""

    __slots__ = ("is_doit", "method_class", "needs_home")

    def __init__(self, method_class: StClass | None, is_doit: bool) -> None:
        self.method_class = method_class
        self.is_doit = is_doit
        self.needs_home = False


class Compiler:
    def __init__(self, interp: Interpreter) -> None:
        self.interp = interp

    # ------------------------------------------------------------------ entry points
    def compile_doit(self, source: str) -> DoItCode:
        """Raises SmalltalkSyntaxError."""
        tree = parse_doit(source)
        unit = _Unit(None, True)
        scope = _Scope(None, False)
        env = _Env(scope, None)
        for name in tree.temps:
            env.bind(name)
        body = list(tree.body)
        if body and not isinstance(body[-1], ast.Return):
            body[-1] = ast.Return(body[-1], getattr(body[-1], "pos", ast.NO_POS))
        run = self._sequence(unit, body, env, ret=True)
        return DoItCode(run, tuple(scope.names))

    def compile_method_source(self, method: Method) -> MethodFn:
        assert method.source is not None
        tree = parse_method(method.source)
        return self.compile_method(tree, method.owner)

    def compile_method(self, tree: ast.Method, cls: StClass) -> MethodFn:
        unit = _Unit(cls, False)
        scope = _Scope(None, False)
        env = _Env(scope, None)
        for name in tree.params:
            env.bind(name)
        for name in tree.temps:
            env.bind(name)
        run = self._sequence(unit, list(tree.body), env, ret=True)
        nargs = len(tree.params)
        names = tuple(scope.names)
        temps_init = (None,) * (len(names) - nargs)
        interp = self.interp
        from .errors import LimitExceeded

        if not unit.needs_home:
            # No real block and no ^ outside statement position: nothing can refer
            # to this activation once it returns, and no NonLocalReturn targets it.
            # (Handlers and ensure: restore the depth counter when they unwind.)
            def invoke_simple(it: Interpreter, rcv: Any, args: tuple[Any, ...]) -> Any:
                depth = interp.depth + 1
                if depth > interp.max_depth:
                    raise LimitExceeded(
                        "depth", f"ResourceLimit: more than {interp.max_depth} nested activations"
                    )
                interp.depth = depth
                frame = LightFrame()
                frame.vars = [*args, *temps_init] if temps_init else list(args)
                frame.rcv = rcv
                result = run(frame)
                interp.depth = depth - 1
                return rcv if result is NORET else result

            return invoke_simple

        def invoke(it: Interpreter, rcv: Any, args: tuple[Any, ...]) -> Any:
            depth = interp.depth + 1
            if depth > interp.max_depth:
                raise LimitExceeded(
                    "depth", f"ResourceLimit: more than {interp.max_depth} nested activations"
                )
            interp.depth = depth
            frame = Frame(_CONTEXT, [*args, *temps_init], rcv, None, names)
            try:
                result = run(frame)
                return rcv if result is NORET else result
            except NonLocalReturn as nlr:
                if nlr.home is frame:
                    return nlr.value
                raise
            finally:
                frame.alive = False
                interp.depth = depth - 1

        return invoke

    def compile_block_source(
        self,
        source: str,
        captures: dict[str, tuple[int, int]],
        method_class: StClass | None,
    ) -> BlockCode:
        """Recompile a persisted block: its outer variables resolve through the
        capture map recorded when it was first compiled."""
        tree = parse_doit(source)
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Block):
            raise SmalltalkSyntaxError(1, 1, "stored block source is not a block")
        unit = _Unit(method_class, method_class is None)
        outer_scope = _Scope(None, False)
        env = _Env(outer_scope, None, captured=dict(captures))
        return self._block_code(unit, tree.body[0], env)

    # ------------------------------------------------------------------ sequences
    def _sequence(self, unit: _Unit, stmts: list[ast.Stmt], env: _Env, ret: bool) -> Fn:
        if ret:
            return self._sequence_ret(unit, stmts, env)
        return self._sequence_value(unit, stmts, env)

    def _sequence_value(self, unit: _Unit, stmts: list[ast.Stmt], env: _Env) -> Fn:
        fns = [self._stmt_value(unit, s, env) for s in stmts]
        if not fns:
            return lambda f: None
        if len(fns) == 1:
            return fns[0]
        if len(fns) == 2:
            a, b = fns

            def seq2(f: Frame) -> Any:
                a(f)
                return b(f)

            return seq2
        init = tuple(fns[:-1])
        last = fns[-1]

        def seq(f: Frame) -> Any:
            for fn in init:
                fn(f)
            return last(f)

        return seq

    def _sequence_ret(self, unit: _Unit, stmts: list[ast.Stmt], env: _Env) -> Fn:
        items: list[tuple[Fn, bool]] = []
        for stmt in stmts:
            if isinstance(stmt, ast.Return):
                items.append((self._expr(unit, stmt.value, env), True))
                break  # statements after a return are dead code
            if _returns_inside(stmt):
                items.append((self._control_ret(unit, stmt, env), True))
            else:
                items.append((self._expr(unit, stmt, env), False))
        if not items:
            return lambda f: NORET
        if all(not cap for _, cap in items[:-1]) and items[-1][1]:
            plain = tuple(fn for fn, _ in items[:-1])
            last = items[-1][0]
            if not plain:
                return last

            def seq_then_return(f: Frame) -> Any:
                for fn in plain:
                    fn(f)
                return last(f)

            return seq_then_return
        if len(items) == 2 and items[0][1] and items[1][1]:
            a, b = items[0][0], items[1][0]

            def two(f: Frame) -> Any:
                r = a(f)
                if r is not NORET:
                    return r
                return b(f)

            return two
        entries = tuple(items)

        def seq(f: Frame) -> Any:
            for fn, capable in entries:
                if capable:
                    r = fn(f)
                    if r is not NORET:
                        return r
                else:
                    fn(f)
            return NORET

        return seq

    def _stmt_value(self, unit: _Unit, stmt: ast.Stmt, env: _Env) -> Fn:
        if isinstance(stmt, ast.Return):
            unit.needs_home = True
            value = self._expr(unit, stmt.value, env)
            interp = self.interp

            def nonlocal_return(f: Frame) -> Any:
                return interp.non_local_return(f, value(f))

            return nonlocal_return
        return self._expr(unit, stmt, env)

    def _control_ret(self, unit: _Unit, stmt: ast.Stmt, env: _Env) -> Fn:
        """A statement whose inlined blocks contain `^`, compiled to answer NORET or
        the returned value."""
        assert isinstance(stmt, ast.Send)
        fn = self._inline(unit, stmt, env, ret=True)
        assert fn is not None
        return fn

    # ------------------------------------------------------------------ expressions
    def _expr(self, unit: _Unit, node: ast.Expr, env: _Env) -> Fn:
        if isinstance(node, ast.Literal):
            return self._literal(node.value)
        if isinstance(node, ast.Variable):
            return self._variable(unit, node, env)
        if isinstance(node, ast.Assign):
            return self._assign(unit, node, env)
        if isinstance(node, ast.Send):
            return self._send(unit, node, env)
        if isinstance(node, ast.Cascade):
            return self._cascade(unit, node, env)
        if isinstance(node, ast.Block):
            return self._block(unit, node, env)
        if isinstance(node, ast.BraceArray):
            items = [self._expr(unit, item, env) for item in node.items]
            return lambda f: new_array([item(f) for item in items])
        raise AssertionError(f"unknown node {node!r}")

    def _literal(self, value: ast.LiteralValue) -> Fn:
        if isinstance(value, ast.Str):
            text = value.text
            return lambda f: new_string(text)
        if isinstance(value, (ast.LitArray, ast.ByteArr)):
            return lambda f: _materialize(value)
        constant = _materialize(value)
        return lambda f: constant

    # ------------------------------------------------------------------ variables
    def _variable(self, unit: _Unit, node: ast.Variable, env: _Env) -> Fn:
        name = node.name
        if name in ("self", "super"):
            return lambda f: f.rcv
        if name == "thisContext":
            return lambda f: None
        found = env.resolve(name)
        if found is not None:
            depth, index = found
            if depth == 0:
                return lambda f: f.vars[index]
            if depth == 1:
                return lambda f: f.outer.vars[index]
            if depth == 2:
                return lambda f: f.outer.outer.vars[index]

            def deep(f: Frame) -> Any:
                frame: Any = f
                for _ in range(depth):
                    frame = frame.outer
                return frame.vars[index]

            return deep
        ivar = self._ivar_index(unit, name)
        if ivar is not None:
            return lambda f: f.rcv.slots[ivar]
        holder = self._classvar_holder(unit, name)
        if holder is not None:
            return lambda f: holder.classvars.get(name)
        constant = global_named(name)
        if constant is not None:
            return lambda f: constant
        classes = self.interp.classes
        workspace = self.interp.workspace

        def dynamic(f: Frame) -> Any:
            cls = classes.get(name)
            if cls is not None:
                return cls
            return workspace.get(name)

        return dynamic

    def _ivar_index(self, unit: _Unit, name: str) -> int | None:
        cls = unit.method_class
        if cls is None or name not in cls.ivars:
            return None
        return cls.ivars.index(name)

    def _classvar_holder(self, unit: _Unit, name: str) -> StClass | None:
        cls = unit.method_class
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

    def _assign(self, unit: _Unit, node: ast.Assign, env: _Env) -> Fn:
        name = node.name
        value = self._expr(unit, node.value, env)
        interp = self.interp
        touch = interp.touch
        found = env.resolve(name)
        if found is not None:
            depth, index = found
            if depth == 0:
                # The running frame is alive, and only dead frames (kept by blocks
                # that outlived them) are persisted: no write barrier needed.
                def set_local(f: Frame) -> Any:
                    v = value(f)
                    f.vars[index] = v
                    return v

                return set_local

            def set_outer(f: Frame) -> Any:
                v = value(f)
                frame: Any = f
                for _ in range(depth):
                    frame = frame.outer
                if frame.oid is not None:
                    touch(frame)
                frame.vars[index] = v
                return v

            return set_outer
        ivar = self._ivar_index(unit, name)
        if ivar is not None:

            def set_ivar(f: Frame) -> Any:
                v = value(f)
                rcv = f.rcv
                if rcv.oid is not None:
                    touch(rcv)
                rcv.slots[ivar] = v
                return v

            return set_ivar
        holder = self._classvar_holder(unit, name)
        if holder is not None:

            def set_classvar(f: Frame) -> Any:
                v = value(f)
                assert holder is not None
                if holder.oid is not None:
                    touch(holder)
                holder.classvars[name] = v
                return v

            return set_classvar
        if global_named(name) is not None:
            pos = node.pos
            raise SmalltalkSyntaxError(pos.line, pos.column, f"cannot store into {name}")
        workspace = interp.workspace

        def set_workspace(f: Frame) -> Any:
            v = value(f)
            workspace[name] = v
            interp.workspace_changed = True
            return v

        return set_workspace

    # ------------------------------------------------------------------ blocks
    def _block(self, unit: _Unit, node: ast.Block, env: _Env) -> Fn:
        code = self._block_code(unit, node, env)
        block_class = _BLOCK_CLASS
        return lambda f: StBlock(block_class, code, f, f.rcv)

    def _block_code(self, unit: _Unit, node: ast.Block, env: _Env) -> BlockCode:
        scope = _Scope(env.scope, True)
        block_env = _Env(scope, env)
        for name in node.params:
            block_env.bind(name)
        for name in node.temps:
            block_env.bind(name)
        unit.needs_home = False
        body = self._sequence_value(unit, list(node.body), block_env)
        light = not unit.needs_home
        unit.needs_home = True
        code = BlockCode(
            len(node.params),
            tuple(scope.names),
            body,
            node.source,
            scope.captures,
            unit.method_class,
        )
        code.light = light
        return code

    # ------------------------------------------------------------------ sends
    def _cascade(self, unit: _Unit, node: ast.Cascade, env: _Env) -> Fn:
        receiver = self._expr(unit, node.receiver, env)
        is_super = isinstance(node.receiver, ast.Variable) and node.receiver.name == "super"
        parts: list[list[tuple[str, list[Fn]]]] = []
        for part in node.parts:
            parts.append([(m.selector, [self._expr(unit, a, env) for a in m.args]) for m in part])
        interp = self.interp
        send = interp.send
        method_class = unit.method_class

        def cascade(f: Frame) -> Any:
            rcv = receiver(f)
            result = None
            for part in parts:
                target = rcv
                first = True
                for selector, arg_fns in part:
                    args = tuple(a(f) for a in arg_fns)
                    if first and is_super:
                        start = method_class.superclass if method_class else None
                        target = interp.super_send(start, rcv, selector, args)
                    else:
                        target = send(target, selector, args)
                    first = False
                result = target
            return result

        return cascade

    def _send(self, unit: _Unit, node: ast.Send, env: _Env) -> Fn:
        inlined = self._inline(unit, node, env, ret=False)
        if inlined is not None:
            return inlined
        selector = node.selector
        receiver = self._expr(unit, node.receiver, env)
        args = [self._expr(unit, a, env) for a in node.args]
        interp = self.interp
        if isinstance(node.receiver, ast.Variable) and node.receiver.name == "super":
            method_class = unit.method_class

            def super_send(f: Frame) -> Any:
                start = method_class.superclass if method_class is not None else None
                return interp.super_send(start, f.rcv, selector, tuple(a(f) for a in args))

            return super_send
        if len(args) == 1 and selector in ("==", "~~"):
            other = args[0]
            if selector == "==":
                return lambda f: identical(receiver(f), other(f))
            return lambda f: not identical(receiver(f), other(f))
        if len(args) == 1 and selector in _FAST_BINARY:
            return _binary_fast_path(
                selector,
                receiver,
                args[0],
                self._operand(node.receiver, env),
                self._operand(node.args[0], env),
                interp,
            )
        if len(args) == 0 and selector in ("isNil", "notNil"):
            if selector == "isNil":
                return lambda f: receiver(f) is None
            return lambda f: receiver(f) is not None
        send = interp.send
        to_self = isinstance(node.receiver, ast.Variable) and node.receiver.name == "self"
        if to_self:
            receiver = _SELF
        # The common sends do the work of Interpreter.send inline (one Python call
        # less per message): count the step, find the class, look up the cache.
        heap_types = HEAP_TYPES
        if not args:

            def send0(f: Any) -> Any:
                rcv = receiver(f)
                steps = interp.steps + 1
                interp.steps = steps
                if steps >= interp.next_check:
                    interp.checkpoint_now()
                cls = rcv.cls if type(rcv) in heap_types else class_of(rcv)
                fn = cls.cache.get(selector)
                if fn is None:
                    fn = interp.lookup_fn(cls, selector)
                return fn(interp, rcv, ())

            return send0
        if len(args) == 1:
            arg = args[0]

            def send1(f: Any) -> Any:
                rcv = receiver(f)
                value = arg(f)
                steps = interp.steps + 1
                interp.steps = steps
                if steps >= interp.next_check:
                    interp.checkpoint_now()
                cls = rcv.cls if type(rcv) in heap_types else class_of(rcv)
                fn = cls.cache.get(selector)
                if fn is None:
                    fn = interp.lookup_fn(cls, selector)
                return fn(interp, rcv, (value,))

            return send1
        if len(args) == 2:
            a0, a1 = args

            def send2(f: Any) -> Any:
                return send(receiver(f), selector, (a0(f), a1(f)))

            return send2
        return lambda f: send(receiver(f), selector, tuple(a(f) for a in args))

    def _operand(self, node: ast.Expr, env: _Env) -> tuple[str, Any] | None:
        """('local', slot) for a variable of the running frame, ('const', value) for
        a number literal: lets arithmetic read its operands without a call."""
        if isinstance(node, ast.Literal) and type(node.value) in (int, float):
            return ("const", node.value)
        if isinstance(node, ast.Variable) and node.name not in _PSEUDO:
            found = env.resolve(node.name)
            if found is not None and found[0] == 0:
                return ("local", found[1])
        return None

    # ------------------------------------------------------------------ inlining
    def _inline(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn | None:
        selector = node.selector
        args = node.args
        rcv_node = node.receiver
        if selector in ("ifTrue:", "ifFalse:") and _is_block(args[0], 0):
            return self._if(unit, node, env, ret)
        if selector in ("ifTrue:ifFalse:", "ifFalse:ifTrue:") and all(
            _is_block(a, 0) for a in args
        ):
            return self._if(unit, node, env, ret)
        if selector in ("and:", "or:") and _is_block(args[0], 0) and not ret:
            return self._and_or(unit, node, env)
        if selector in ("ifNil:", "ifNotNil:", "ifNil:ifNotNil:", "ifNotNil:ifNil:") and all(
            _is_block(a, 0) or (_is_block(a, 1) and kw == "ifNotNil:")
            for a, kw in zip(args, _keywords(selector), strict=True)
        ):
            return self._if_nil(unit, node, env, ret)
        if (
            selector in ("whileTrue:", "whileFalse:")
            and _is_block(rcv_node, 0)
            and _is_block(args[0], 0)
        ) or (selector in ("whileTrue", "whileFalse", "repeat") and _is_block(rcv_node, 0)):
            return self._while(unit, node, env, ret)
        if selector == "to:do:" and _is_block(args[1], 1):
            return self._to_do(unit, node, env, ret)
        if (
            selector == "to:by:do:"
            and _is_block(args[2], 1)
            and isinstance(args[1], ast.Literal)
            and type(args[1].value) in (int, float, Fraction)
            and args[1].value != 0
        ):
            return self._to_do(unit, node, env, ret)
        if selector == "timesRepeat:" and _is_block(args[0], 0):
            return self._times_repeat(unit, node, env, ret)
        if ret:
            raise AssertionError("statement with ^ is not an inlinable control message")
        return None

    def _inlined_body(
        self, unit: _Unit, block: ast.Expr, env: _Env, ret: bool, bind: bool = False
    ) -> tuple[Fn, int | None]:
        """Compile an inlined literal block in a child env sharing the frame. Answers
        the body and, when `bind`, the slot of its single parameter."""
        assert isinstance(block, ast.Block)
        child = _Env(env.scope, env)
        param_slot = None
        for name in block.params:
            param_slot = child.bind(name)
        temp_slots = [child.bind(name) for name in block.temps]
        body = self._sequence(unit, list(block.body), child, ret)
        if temp_slots:
            inner = body
            slots = tuple(temp_slots)

            def with_temps(f: Frame) -> Any:
                vars_ = f.vars
                for slot in slots:
                    vars_[slot] = None
                return inner(f)

            body = with_temps
        return body, param_slot

    def _if(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn:
        cond = self._expr(unit, node.receiver, env)
        interp = self.interp
        empty = NORET if ret else None
        keywords = _keywords(node.selector)
        bodies = [self._inlined_body(unit, a, env, ret)[0] for a in node.args]
        if len(bodies) == 1:
            body = bodies[0]
            want = keywords[0] == "ifTrue:"

            def if_one(f: Frame) -> Any:
                c = cond(f)
                if c is want:
                    return body(f)
                if c is (not want):
                    return empty
                interp.non_boolean(c)
                return empty

            return if_one
        if keywords[0] == "ifTrue:":
            on_true, on_false = bodies
        else:
            on_false, on_true = bodies

        def if_two(f: Frame) -> Any:
            c = cond(f)
            if c is True:
                return on_true(f)
            if c is False:
                return on_false(f)
            interp.non_boolean(c)
            return empty

        return if_two

    def _and_or(self, unit: _Unit, node: ast.Send, env: _Env) -> Fn:
        left = self._expr(unit, node.receiver, env)
        right = self._inlined_body(unit, node.args[0], env, False)[0]
        interp = self.interp
        if node.selector == "and:":

            def and_(f: Frame) -> Any:
                c = left(f)
                if c is True:
                    return right(f)
                if c is False:
                    return False
                return interp.non_boolean(c)

            return and_

        def or_(f: Frame) -> Any:
            c = left(f)
            if c is False:
                return right(f)
            if c is True:
                return True
            return interp.non_boolean(c)

        return or_

    def _if_nil(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn:
        value = self._expr(unit, node.receiver, env)
        keywords = _keywords(node.selector)
        nil_body: Fn | None = None
        some_body: Fn | None = None
        some_slot: int | None = None
        for kw, arg in zip(keywords, node.args, strict=True):
            body, slot = self._inlined_body(unit, arg, env, ret)
            if kw == "ifNil:":
                nil_body = body
            else:
                some_body, some_slot = body, slot
        empty = NORET

        def if_nil(f: Frame) -> Any:
            v = value(f)
            if v is None:
                if nil_body is not None:
                    return nil_body(f)
                return empty if ret else None
            if some_body is not None:
                if some_slot is not None:
                    f.vars[some_slot] = v
                return some_body(f)
            return empty if ret else v

        return if_nil

    def _while(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn:
        cond = self._inlined_body(unit, node.receiver, env, False)[0]
        selector = node.selector
        body: Fn | None = None
        if node.args:
            body = self._inlined_body(unit, node.args[0], env, ret)[0]
        interp = self.interp
        want = selector.startswith("whileTrue")
        repeat = selector == "repeat"
        empty = NORET if ret else None

        def loop(f: Frame) -> Any:
            while True:
                steps = interp.steps + 1
                interp.steps = steps
                if steps >= interp.next_check:
                    interp.checkpoint_now()
                c = cond(f)
                if repeat:
                    continue
                if c is not want:
                    if c is (not want):
                        return empty
                    interp.non_boolean(c)
                    return empty
                if body is not None:
                    r = body(f)
                    if ret and r is not NORET:
                        return r

        return loop

    def _to_do(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn:
        start_fn = self._expr(unit, node.receiver, env)
        stop_fn = self._expr(unit, node.args[0], env)
        step_value: Any = 1
        if node.selector == "to:by:do:":
            literal = node.args[1]
            assert isinstance(literal, ast.Literal)
            step_value = literal.value
        body, slot = self._inlined_body(unit, node.args[-1], env, ret)
        assert slot is not None
        interp = self.interp
        step = step_value

        def to_do(f: Frame) -> Any:
            start = start_fn(f)
            stop = stop_fn(f)
            if not (_is_num(start) and _is_num(stop)):
                interp.send(
                    stop if _is_num(start) else start, "adaptToNumber:andSend:", (start, "<=")
                )
                return NORET if ret else start
            vars_ = f.vars
            i = start
            while (i <= stop) if step > 0 else (i >= stop):
                steps = interp.steps + 1
                interp.steps = steps
                if steps >= interp.next_check:
                    interp.checkpoint_now()
                vars_[slot] = i
                r = body(f)
                if ret and r is not NORET:
                    return r
                i = i + step
            return NORET if ret else start

        return to_do

    def _times_repeat(self, unit: _Unit, node: ast.Send, env: _Env, ret: bool) -> Fn:
        count_fn = self._expr(unit, node.receiver, env)
        body = self._inlined_body(unit, node.args[0], env, ret)[0]
        interp = self.interp

        def times(f: Frame) -> Any:
            count = count_fn(f)
            if type(count) is not int:
                return interp.send(count, "timesRepeat:", (None,))
            for _ in range(count):
                steps = interp.steps + 1
                interp.steps = steps
                if steps >= interp.next_check:
                    interp.checkpoint_now()
                r = body(f)
                if ret and r is not NORET:
                    return r
            return NORET if ret else count

        return times


# ---------------------------------------------------------------------- helpers


def _is_num(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Fraction


def _is_block(node: ast.Expr, nargs: int) -> bool:
    return isinstance(node, ast.Block) and len(node.params) == nargs


def _keywords(selector: str) -> list[str]:
    return [part + ":" for part in selector.split(":")[:-1]]


_CONTROL = {
    "ifTrue:",
    "ifFalse:",
    "ifTrue:ifFalse:",
    "ifFalse:ifTrue:",
    "ifNil:",
    "ifNotNil:",
    "ifNil:ifNotNil:",
    "ifNotNil:ifNil:",
    "whileTrue:",
    "whileFalse:",
    "whileTrue",
    "whileFalse",
    "repeat",
    "to:do:",
    "to:by:do:",
    "timesRepeat:",
}


def _returns_inside(stmt: ast.Stmt) -> bool:
    """Is `stmt` an inlinable control message with a `^` in its inlined blocks?"""
    if not isinstance(stmt, ast.Send) or stmt.selector not in _CONTROL:
        return False
    if not _inlinable(stmt):
        return False
    # Only argument blocks: a ^ in a loop's condition block is a non-local return.
    blocks = [a for a in stmt.args if isinstance(a, ast.Block)]
    return any(_block_returns(b) for b in blocks)


def _inlinable(stmt: ast.Send) -> bool:
    sel = stmt.selector
    args = stmt.args
    if sel in ("ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:", "timesRepeat:"):
        return all(_is_block(a, 0) for a in args)
    if sel in ("ifNil:", "ifNotNil:", "ifNil:ifNotNil:", "ifNotNil:ifNil:"):
        return all(
            _is_block(a, 0) or (_is_block(a, 1) and kw == "ifNotNil:")
            for a, kw in zip(args, _keywords(sel), strict=True)
        )
    if sel in ("whileTrue:", "whileFalse:"):
        return _is_block(stmt.receiver, 0) and _is_block(args[0], 0)
    if sel in ("whileTrue", "whileFalse", "repeat"):
        return _is_block(stmt.receiver, 0)
    if sel == "to:do:":
        return _is_block(args[1], 1)
    if sel == "to:by:do:":
        return (
            _is_block(args[2], 1)
            and isinstance(args[1], ast.Literal)
            and type(args[1].value) in (int, float, Fraction)
            and args[1].value != 0
        )
    return False


def _block_returns(block: ast.Block) -> bool:
    for stmt in block.body:
        if isinstance(stmt, ast.Return):
            return True
        if _returns_inside(stmt):
            return True
    return False


def _materialize(value: ast.LiteralValue) -> Any:
    """Literal -> runtime value (fresh heap objects for arrays and strings)."""
    if isinstance(value, ast.Char):
        return Char.of(value.code)
    if isinstance(value, ast.Sym):
        return value.name
    if isinstance(value, ast.Str):
        return new_string(value.text)
    if isinstance(value, ast.LitArray):
        return new_array([_materialize(v) for v in value.items])
    if isinstance(value, ast.ByteArr):
        return new_bytes(bytearray(value.values))
    return value


_FAST_BINARY = {
    "+": ("+", ""),
    "-": ("-", ""),
    "*": ("*", " and -_BIG < a < _BIG and -_BIG < b < _BIG"),
    "<": ("<", ""),
    ">": (">", ""),
    "<=": ("<=", ""),
    ">=": (">=", ""),
    "=": ("==", ""),
    "~=": ("!=", ""),
    "\\\\": ("%", " and b != 0"),
    "//": ("//", " and b != 0"),
}

_TEMPLATE = """
def make(left, right, send, slot_a, slot_b, const_b, _BIG):
    def fast(f):
        a = {a}
        b = {b}
        if type(a) is int and type(b) is int{extra}:
            return a {op} b
        return send(a, {selector!r}, (b,))
    return fast
"""

_FACTORIES: dict[tuple[str, str, str], Any] = {}


def _factory(selector: str, left_kind: str, right_kind: str) -> Any:
    key = (selector, left_kind, right_kind)
    factory = _FACTORIES.get(key)
    if factory is None:
        op, extra = _FAST_BINARY[selector]
        a = {"local": "f.vars[slot_a]", "any": "left(f)"}[left_kind]
        b = {"local": "f.vars[slot_b]", "const": "const_b", "any": "right(f)"}[right_kind]
        source = _TEMPLATE.format(a=a, b=b, op=op, extra=extra, selector=selector)
        namespace: dict[str, Any] = {}
        exec(compile(source, f"<fast {selector}>", "exec"), namespace)
        factory = _FACTORIES[key] = namespace["make"]
    return factory


def _binary_fast_path(
    selector: str,
    left: Fn,
    right: Fn,
    left_operand: tuple[str, Any] | None,
    right_operand: tuple[str, Any] | None,
    interp: Interpreter,
) -> Fn:
    """SmallInteger arithmetic and comparison without a send (as Pharo's VM does),
    falling back to a real send for any other receiver. The closure is generated
    per operand shape so a frame variable or a literal is read without a call."""
    left_kind = "local" if left_operand and left_operand[0] == "local" else "any"
    right_kind = right_operand[0] if right_operand else "any"
    make = _factory(selector, left_kind, right_kind)
    fn: Fn = make(
        left,
        right,
        interp.send,
        left_operand[1] if left_kind == "local" and left_operand else 0,
        right_operand[1] if right_kind == "local" and right_operand else 0,
        right_operand[1] if right_kind == "const" and right_operand else None,
        _BIG,
    )
    return fn


__all__ = ["NORET", "SMALL_MAX", "SMALL_MIN", "BlockCode", "Compiler", "DoItCode"]
