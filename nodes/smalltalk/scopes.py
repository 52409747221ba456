"""The compiler's first pass: which variable each name means, and where it lives.

A *scope* is a real activation: a method, a doit or a block that is not inlined. Inlined
blocks (the literal blocks of ifTrue:, whileTrue:, to:do: ...) declare their variables in
the enclosing scope, as Pharo's compiler does. A variable that a nested real block
refers to is *captured*: it lives in a slot of its scope's Frame (a heap object a block
can outlive, persisted as a "context" record); every other variable is a Python local of
the generated function.

A scope *bears a frame* when it has captured variables, or when it is a method or doit
that a `^` inside one of its blocks returns to (the frame is then the `home` that the
NonLocalReturn names). Blocks reach outer variables through the chain of frames
(`blk.outer`, `blk.outer.outer` ...), counting only scopes that bear one.
"""

from __future__ import annotations

from . import ast

# Python refuses more than 20 statically nested blocks; each inlined control message
# costs at most two levels (e.g. `while` + `if`). Past this depth, control messages are
# compiled as real sends with real blocks (same meaning, slower).
MAX_INLINE_NESTING = 7

_IF = ("ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:")
_IF_NIL = ("ifNil:", "ifNotNil:", "ifNil:ifNotNil:", "ifNotNil:ifNil:")


def keywords(selector: str) -> list[str]:
    return [part + ":" for part in selector.split(":")[:-1]]


def _is_block(node: ast.Expr, nargs: int) -> bool:
    return isinstance(node, ast.Block) and len(node.params) == nargs


def control_kind(node: ast.Send) -> str | None:
    """The control message `node` is, when its blocks are literal and can be inlined:
    if, and_or, if_nil, while, to_do, times; None for an ordinary send."""
    selector, args, rcv = node.selector, node.args, node.receiver
    if selector in _IF and all(_is_block(a, 0) for a in args):
        return "if"
    if selector in ("and:", "or:") and _is_block(args[0], 0):
        return "and_or"
    if selector in _IF_NIL and all(
        _is_block(a, 0) or (_is_block(a, 1) and kw == "ifNotNil:")
        for a, kw in zip(args, keywords(selector), strict=True)
    ):
        return "if_nil"
    if selector in ("whileTrue:", "whileFalse:") and _is_block(rcv, 0) and _is_block(args[0], 0):
        return "while"
    if selector in ("whileTrue", "whileFalse", "repeat") and _is_block(rcv, 0):
        return "while"
    if selector == "to:do:" and _is_block(args[1], 1):
        return "to_do"
    if (
        selector == "to:by:do:"
        and _is_block(args[2], 1)
        and isinstance(args[1], ast.Literal)
        and type(args[1].value) in (int, float)
        and args[1].value != 0
    ):
        return "to_do"
    if selector == "timesRepeat:" and _is_block(args[0], 0):
        return "times"
    return None


# Messages whose literal block the code generator also writes inline (enumerations as a
# loop, Dictionary lookups as an `if`), run when the receiver's method turns out to be
# the system primitive (see codegen `_Function.block_message`):
# selector -> (kind, index of the block argument, its number of parameters).
BLOCK_MESSAGES = {
    "do:": ("do", 0, 1),
    "collect:": ("collect", 0, 1),
    "select:": ("select", 0, 1),
    "reject:": ("reject", 0, 1),
    "detect:ifNone:": ("detect", 0, 1),
    "inject:into:": ("inject", 1, 2),
    "at:ifAbsent:": ("at_if_absent", 1, 0),
    "at:ifAbsentPut:": ("at_if_absent_put", 1, 0),
}


def message_block(node: ast.Send) -> ast.Block | None:
    """The literal block of a BLOCK_MESSAGES send that may run inline, or None."""
    spec = BLOCK_MESSAGES.get(node.selector)
    if spec is None:
        return None
    if isinstance(node.receiver, ast.Variable) and node.receiver.name == "super":
        return None
    block = node.args[spec[1]]
    return block if isinstance(block, ast.Block) and len(block.params) == spec[2] else None


def inlined_blocks(node: ast.Send) -> list[ast.Block]:
    """The literal blocks of a control message that are inlined."""
    blocks = [node.receiver] if isinstance(node.receiver, ast.Block) else []
    blocks += [a for a in node.args if isinstance(a, ast.Block)]
    return [b for b in blocks if isinstance(b, ast.Block)]


class Binding:
    """One declared variable. `fixed` is (depth, slot) for the outer variables of a
    block recompiled from its persisted source (they live in its stored frames)."""

    __slots__ = ("assigned", "captured", "fixed", "local", "name", "scope", "slot")

    def __init__(self, name: str, scope: Scope, fixed: tuple[int, int] | None = None) -> None:
        self.name = name
        self.scope = scope
        self.assigned = False  # some `name := ...` stores into it
        self.captured = fixed is not None
        self.fixed = fixed
        self.slot = fixed[1] if fixed is not None else -1
        self.local = ""


class Scope:
    """A real activation: what it declares, which of that its blocks capture, and the
    outer variables its body (or its nested blocks) refer to."""

    __slots__ = ("bindings", "block", "captured", "free", "is_home", "kind", "parent")

    def __init__(self, kind: str, parent: Scope | None, block: ast.Block | None = None) -> None:
        self.kind = kind  # "method", "doit", "block" or "stored" (a stored block's outside)
        self.parent = parent
        self.block = block
        self.bindings: list[Binding] = []
        self.captured: list[Binding] = []
        self.free: dict[str, Binding] = {}
        self.is_home = False

    @property
    def bears_frame(self) -> bool:
        return bool(self.captured) or self.is_home

    def root(self) -> Scope:
        scope = self
        while scope.parent is not None and scope.parent.kind != "stored":
            scope = scope.parent
        return scope

    def hops_to(self, binding: Binding) -> int:
        """How many frames up from this activation `binding` lives (1 = `blk.outer`)."""
        hops = 0
        scope = self.parent
        while scope is not None:
            if scope is binding.scope:
                if binding.fixed is not None:
                    return hops + binding.fixed[0]
                return hops + 1
            if scope.bears_frame:
                hops += 1
            scope = scope.parent
        raise AssertionError(f"{binding.name} is not declared around this scope")


class _Env:
    """Names visible at one lexical level (inlined blocks share their scope)."""

    __slots__ = ("names", "parent", "scope")

    def __init__(self, scope: Scope, parent: _Env | None) -> None:
        self.scope = scope
        self.parent = parent
        self.names: dict[str, Binding] = {}

    def declare(self, name: str) -> Binding:
        binding = Binding(name, self.scope)
        self.scope.bindings.append(binding)
        self.names[name] = binding
        return binding

    def resolve(self, name: str) -> Binding | None:
        env: _Env | None = self
        while env is not None:
            found = env.names.get(name)
            if found is not None:
                return found
            env = env.parent
        return None


class Analysis:
    """What the code generator needs to know about one compilation unit."""

    def __init__(self) -> None:
        self.refs: dict[int, Binding] = {}  # id(Variable or Assign node) -> binding
        self.decls: dict[int, list[Binding]] = {}  # id(Block node) -> params + temps
        self.scopes: dict[int, Scope] = {}  # id(real Block node) -> its scope
        self.inlined: set[int] = set()  # id(Send node) of inlined control messages
        # id(Send node) of BLOCK_MESSAGES whose (real) block may also run inline
        self.block_messages: set[int] = set()
        self.root: Scope | None = None
        self.root_decls: list[Binding] = []


class Analyzer:
    def __init__(self) -> None:
        self.result = Analysis()

    def unit(
        self,
        kind: str,
        names: tuple[str, ...],
        body: tuple[ast.Stmt, ...] | list[ast.Stmt],
    ) -> Analysis:
        """A method (params + temps in `names`) or a doit (its temps)."""
        scope = Scope(kind, None)
        env = _Env(scope, None)
        self.result.root = scope
        self.result.root_decls = [env.declare(n) for n in names]
        self._body(body, env, 0)
        self._finish(scope)
        return self.result

    def stored_block(self, block: ast.Block, captures: dict[str, tuple[int, int]]) -> Analysis:
        """A persisted block: its outer variables are the stored frames' slots."""
        outside = Scope("stored", None)
        env = _Env(outside, None)
        for name, at in captures.items():
            binding = Binding(name, outside, fixed=at)
            env.names[name] = binding
        self.result.root = outside
        self._real_block(block, env)
        self._finish(outside)
        return self.result

    # ------------------------------------------------------------------ walking
    def _body(self, stmts: tuple[ast.Stmt, ...] | list[ast.Stmt], env: _Env, nest: int) -> None:
        for stmt in stmts:
            if isinstance(stmt, ast.Return):
                root = env.scope.root()
                if env.scope.kind == "block" and root.kind != "block":
                    root.is_home = True  # (a stored block's `^` has no home to return to)
                self._expr(stmt.value, env, nest)
                break  # statements after a return are never run
            self._expr(stmt, env, nest)

    def _expr(self, node: ast.Expr, env: _Env, nest: int) -> None:
        if isinstance(node, ast.Variable):
            self._use(node, node.name, env)
        elif isinstance(node, ast.Assign):
            self._expr(node.value, env, nest)
            self._use(node, node.name, env)
        elif isinstance(node, ast.Send):
            if nest < MAX_INLINE_NESTING and control_kind(node) is not None:
                self.result.inlined.add(id(node))
                inlined = {id(b) for b in inlined_blocks(node)}
                for part in (node.receiver, *node.args):
                    if id(part) in inlined:
                        assert isinstance(part, ast.Block)
                        self._inlined_block(part, env, nest + 1)
                    else:
                        self._expr(part, env, nest)
            elif nest < MAX_INLINE_NESTING and message_block(node) is not None:
                # The block stays a real block (the send may need it); its inline copy is
                # one loop deeper in the enclosing function, so its own inlining counts on.
                self.result.block_messages.add(id(node))
                block = message_block(node)
                self._expr(node.receiver, env, nest)
                for arg in node.args:
                    if arg is block:
                        assert isinstance(arg, ast.Block)
                        self._real_block(arg, env, inner=nest + 1)
                    else:
                        self._expr(arg, env, nest)
            else:
                self._expr(node.receiver, env, nest)
                for arg in node.args:
                    self._expr(arg, env, nest)
        elif isinstance(node, ast.Cascade):
            self._expr(node.receiver, env, nest)
            for cascade_part in node.parts:
                for message in cascade_part:
                    for arg in message.args:
                        self._expr(arg, env, nest)
        elif isinstance(node, ast.Block):
            self._real_block(node, env)
        elif isinstance(node, ast.BraceArray):
            for item in node.items:
                self._expr(item, env, nest)

    def _inlined_block(self, block: ast.Block, env: _Env, nest: int) -> None:
        child = _Env(env.scope, env)
        self.result.decls[id(block)] = [child.declare(n) for n in (*block.params, *block.temps)]
        self._body(block.body, child, nest)

    def _real_block(self, block: ast.Block, env: _Env, inner: int = 0) -> None:
        """`inner`: the nesting its body starts at (0: a real block is a new Python
        function; more for the block of an enumeration whose copy is also inline)."""
        scope = Scope("block", env.scope, block)
        self.result.scopes[id(block)] = scope
        child = _Env(scope, env)
        self.result.decls[id(block)] = [child.declare(n) for n in (*block.params, *block.temps)]
        self._body(block.body, child, inner)

    def _use(self, node: ast.Variable | ast.Assign, name: str, env: _Env) -> None:
        binding = env.resolve(name)
        if binding is None:
            return
        self.result.refs[id(node)] = binding
        if isinstance(node, ast.Assign):
            binding.assigned = True
        scope: Scope | None = env.scope
        if scope is binding.scope:
            return
        binding.captured = True
        while scope is not None and scope is not binding.scope:
            scope.free.setdefault(name, binding)
            scope = scope.parent

    # ------------------------------------------------------------------ layout
    def _finish(self, root: Scope) -> None:
        scopes = [root, *self.result.scopes.values()]
        for scope in scopes:
            used: dict[str, int] = {}
            for binding in scope.bindings:
                if binding.captured:
                    binding.slot = len(scope.captured)
                    scope.captured.append(binding)
                else:
                    count = used.get(binding.name, 0) + 1
                    used[binding.name] = count
                    binding.local = f"{binding.name}_{count}"
