"""Smalltalk source -> Python functions, compiled once and cached.

Parsing gives a syntax tree; `scopes.py` decides where each variable lives and which
control messages are inlined; `codegen.py` writes Python source for the unit (a method,
a doit, or a block recompiled from its persisted source); `compile()` turns it into code
objects once. Methods are compiled on first send and kept on their `Method` (a recompile
or a class change clears them, see `Interpreter.invalidate_caches`); doits are cached by
source text, stored blocks by source, capture map and method class.

The generated functions call back into the Interpreter for everything they do not do
themselves (sends that miss the class cache, `signal`, limits); their namespace holds the
interpreter as `it`, so they are bound to the image whose compiler made them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import ast
from .classes import SYSTEM_CLASSES as S
from .codegen import Generator, Module
from .errors import NonLocalReturn, SmalltalkSyntaxError
from .kernel import (
    HEAP_TYPES,
    class_of,
    identical,
    new_array,
    new_byte_string,
    new_bytes,
    new_string,
)
from .limits import check_collection
from .objects import BlockCode, Char, Frame, Method, StBlock, StClass
from .parser import parse_doit, parse_method
from .primitives.streams import write_text
from .primitives.support import (
    collect_new,
    dict_key,
    dict_put,
    iteration_values,
    species_new,
    truth,
)
from .runtime import Interpreter
from .scopes import Analyzer

MethodFn = Callable[[Interpreter, Any, tuple[Any, ...]], Any]

# Per image, and a node may hold 1,000 images: a few recent snippets (a doit compiles in
# 0.2-6 ms, most of it parsing), not a history.
_DOIT_CACHE_SIZE = 16
# A send site whose receiver's class changed this often stops caching one of them.
_REFILLS = 8


class DoItCode:
    """A compiled workspace snippet: `run(interp)` answers its value."""

    __slots__ = ("run", "source")

    def __init__(self, run: Callable[[Interpreter], Any], source: str) -> None:
        self.run = run
        self.source = source


def materialize(value: ast.LiteralValue) -> Any:
    """Literal -> runtime value (fresh heap objects for arrays and strings)."""
    if isinstance(value, ast.Char):
        return Char.of(value.code)
    if isinstance(value, ast.Sym):
        return value.name
    if isinstance(value, ast.Str):
        return new_string(value.text)
    if isinstance(value, ast.LitArray):
        return new_array([materialize(v) for v in value.items])
    if isinstance(value, ast.ByteArr):
        return new_bytes(bytearray(value.values))
    return value


class Compiler:
    def __init__(self, interp: Interpreter) -> None:
        self.interp = interp
        # What every generated module sees besides its own constants.
        self.helpers: dict[str, Any] = {
            "it": interp,
            "HEAP": HEAP_TYPES,
            "SMALL_INTEGER": S["SmallInteger"],
            "class_of": class_of,
            "identical": identical,
            "lookup": interp.lookup_fn,
            "touch": interp.touch,
            "classes": interp.classes,
            "workspace": interp.workspace,
            "Frame": Frame,
            "CONTEXT": S["Context"],
            "StBlock": StBlock,
            "BLOCK": S["FullBlockClosure"],
            "NonLocalReturn": NonLocalReturn,
            "new_array": new_array,
            "new_string": new_string,
            "new_byte_string": new_byte_string,
            "write_text": write_text,  # (a usual case's `text_arg`: nextPutAll:)
            "materialize": materialize,
            # what primitives run with a block written inline (codegen `block_message`)
            "iteration_values": iteration_values,
            "check_collection": check_collection,
            "collect_new": collect_new,
            "species_new": species_new,
            "truth": truth,
            "dict_key": dict_key,
            "dict_put": dict_put,
        }
        self._doits: OrderedDict[str, DoItCode] = OrderedDict()
        self._blocks: dict[tuple[Any, ...], BlockCode] = {}

    # ------------------------------------------------------------------ entry points
    def compile_doit(self, source: str) -> DoItCode:
        """Raises SmalltalkSyntaxError."""
        cached = self._doits.get(source)
        if cached is not None:
            self._doits.move_to_end(source)
            return cached
        tree = parse_doit(source)
        body = list(tree.body)
        if body and not isinstance(body[-1], ast.Return):
            body[-1] = ast.Return(body[-1], getattr(body[-1], "pos", ast.NO_POS))
        tree = ast.DoIt(tree.temps, tuple(body), tree.source)
        analysis = Analyzer().unit("doit", tree.temps, tree.body)
        gen = Generator(analysis, None)
        entry = gen.doit(tree)
        namespace = self._load(gen.module, "doit", None)
        code = DoItCode(namespace[entry], source)
        self._doits[source] = code
        if len(self._doits) > _DOIT_CACHE_SIZE:
            self._doits.popitem(last=False)
        return code

    def compile_method_source(self, method: Method) -> MethodFn:
        assert method.source is not None
        return self.compile_method(parse_method(method.source), method.owner)

    def compile_method(self, tree: ast.Method, cls: StClass) -> MethodFn:
        """Raises SmalltalkSyntaxError."""
        analysis = Analyzer().unit("method", (*tree.params, *tree.temps), tree.body)
        gen = Generator(analysis, cls)
        entry = gen.method(tree)
        namespace = self._load(gen.module, f"{cls.name}>>{tree.selector}", cls)
        fn: MethodFn = namespace[entry]
        return fn

    def compile_block_source(
        self,
        source: str,
        captures: dict[str, tuple[int, int]],
        method_class: StClass | None,
    ) -> BlockCode:
        """Recompile a persisted block: its outer variables are read through the
        capture map recorded when it was first compiled."""
        key = (source, tuple(sorted(captures.items())), id(method_class))
        cached = self._blocks.get(key)
        if cached is not None and cached.method_class is method_class:
            return cached
        tree = parse_doit(source)
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Block):
            raise SmalltalkSyntaxError(1, 1, "stored block source is not a block")
        block = tree.body[0]
        analysis = Analyzer().stored_block(block, dict(captures))
        gen = Generator(analysis, method_class)
        entry = gen.stored_block(block)
        namespace = self._load(gen.module, "stored block", method_class)
        code: BlockCode = namespace[entry]
        self._blocks[key] = code
        return code

    def forget(self) -> None:
        """Drop cached stored blocks (a class changed: instance variables may have
        moved). Doits do not depend on classes: names they do not declare are looked up
        when they run."""
        self._blocks.clear()

    # ------------------------------------------------------------------ loading
    def _load(self, module: Module, label: str, method_class: StClass | None) -> dict[str, Any]:
        namespace = dict(self.helpers)
        namespace.update(module.constants)
        try:
            code = compile(module.source, f"<smalltalk {label}>", "exec")
        except (SyntaxError, RecursionError, MemoryError):
            raise SmalltalkSyntaxError(1, 1, "the code is nested too deeply to compile") from None
        for site in range(module.sites):
            namespace.update({f"C{site}": None, f"M{site}": None, f"D{site}": None,
                              f"N{site}": None, f"L{site}": False})

        switches = [0] * module.sites  # times a site's receiver class changed
        last: list[StClass | None] = [None] * module.sites
        interp = self.interp
        lookup = interp.lookup_fn

        def miss(site: int, cls: StClass, selector: str) -> MethodFn:
            """The method of `cls` for the send at `site` (as fn(it, rcv, args)), kept
            in the site's inline cache unless the site has seen too many classes."""
            if cls is not last[site]:  # (the same class again: its methods changed)
                last[site] = cls
                switches[site] += 1
            if switches[site] <= _REFILLS:
                return interp.fill_inline_cache(namespace, site, cls, selector)
            # Megamorphic: stop refilling; the site always asks the class's cache.
            namespace[f"C{site}"] = namespace[f"D{site}"] = None
            return cls.cache.get(selector) or lookup(cls, selector)

        def send_miss(site: int, cls: StClass, selector: str, rcv: Any, args: Any) -> Any:
            return miss(site, cls, selector)(interp, rcv, args)

        namespace["miss"] = miss
        namespace["send_miss"] = send_miss
        exec(code, namespace)
        for spec in module.blocks:
            block = BlockCode(spec.nargs, spec.names, None, spec.source, spec.captures,
                              method_class)
            block.fn = namespace[spec.function]
            namespace[spec.name] = block
        return namespace


__all__ = ["Compiler", "DoItCode", "MethodFn", "materialize"]
