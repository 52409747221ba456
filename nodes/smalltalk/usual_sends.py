"""Usual cases and unboxed String temporaries: the send sites of the code generator
that answer without a send.

A usual case (`primitives/_registry.UsualCase`) is a system primitive's common case as a
Python expression; a send site tests for it (`usual_test`) before its inline cache. A
chain of such sends, each String answered seen only by the next send, keeps the Strings
in between as Python strs (`fused`). Split from codegen.py, whose `_Function` this mixin
is part of: everything here writes lines into that function.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import ast
from .classes import SYSTEM_CLASSES
from .primitives._registry import ARGUMENTS, RECEIVERS, USUAL_CASES, UsualCase

if TYPE_CHECKING:
    from .codegen import Atom, Generator

# A send's String literal arguments: (index, text, the line that made the fresh copy).
Borrowed = list[tuple[int, str, str]]


def _same_level() -> AbstractContextManager[None]:
    """In place of `indented()` where a branch has no `if` above it."""
    return nullcontext()


@dataclass
class TextArgument:
    """A send whose String argument can stay a str (`UsualSends.text_argument`): the
    send's usual case, what it does with the argument's text (its `value` reading
    `{a0}.chars`, or its `text_arg`), and the argument: a send and its usual case."""

    case: UsualCase
    template: str
    inner: UsualCase
    arg: ast.Send


@dataclass
class Link:
    """One send of a chain (`UsualSends.fused`): its receiver, or the Python str standing
    for it (`text`: the str's name and whether it is known to be byte text), and its
    arguments, evaluated (`borrowed`: its String literals, see `borrowable`)."""

    rcv: str
    text: tuple[str, bool] | None
    args: list[str]
    borrowed: Borrowed


def _usual_code(
    template: str,
    names: dict[str, str],
    text: tuple[str, bool] | None = None,
    arg_text: str | None = None,
) -> str:
    """A usual case's test, value or `text_arg` for these operands; with `text`, for a
    receiver that is that Python str, with `arg_text` for an argument that is that str
    (the case reads them only as `{r}.chars`, `{a0}.chars`; a `text_arg` names the
    argument's text `{text}`)."""
    if text is not None:
        template = template.replace("{r}.chars", text[0])
    if arg_text is not None:
        template = template.replace("{a0}.chars", arg_text).replace("{text}", arg_text)
    return template.format(**names)


def _reads_only_chars(template: str, operand: str) -> bool:
    """Whether `template` reads `operand` (`{r}`, `{a0}`) only as its characters
    (`{r}.chars`): a Python str can then stand in for that String."""
    return template.count(operand) == template.count(operand + ".chars")


def _made(text: tuple[str, bool]) -> str:
    """The String of a Python str standing for one (`text`: its name and whether it is
    known to be byte text), made as the send that answered it would have (the inverse
    of `_text_form`)."""
    return f"{'new_byte_string' if text[1] else 'new_string'}({text[0]})"


def _text_form(value: str) -> tuple[str, bool] | None:
    """A usual case's answer `new_string(<text>)` or `new_byte_string(<text>)`: the text
    and whether it is known to be byte text; None for any other answer."""
    for maker, byte in (("new_string(", False), ("new_byte_string(", True)):
        if value.startswith(maker) and value.endswith(")"):
            return value[len(maker):-1], byte
    return None


def _reads_text_case(selector: str) -> UsualCase | None:
    """The selector's ByteString usual case, if it reads its receiver only as text
    (`{r}.chars`): one a Python str can stand in for."""
    for case in USUAL_CASES.get(selector, ()):
        if (case.receiver == "ByteString" and case.value
                and _reads_only_chars(case.test + case.value, "{r}")):
            return case
    return None


def _text_case(selector: str) -> UsualCase | None:
    """`_reads_text_case` if it also answers a new String (whose text can stay a str)."""
    case = _reads_text_case(selector)
    return case if case is not None and _text_form(case.value) is not None else None


class UsualSends:
    """The usual-case and chain part of codegen's `_Function`."""

    if TYPE_CHECKING:
        gen: Generator

        def emit(self, line: str) -> None: ...
        def indented(self) -> AbstractContextManager[None]: ...
        def temp(self) -> str: ...
        def type_of(self, code: str) -> str: ...
        def static_type(self, code: str) -> type | None: ...
        def operands(self, nodes: list[ast.Expr]) -> list[str]: ...
        def borrowable(self, nodes: list[ast.Expr], args: list[str]) -> Borrowed: ...
        def plain(self, node: ast.Send) -> bool: ...
        def plain_send(self, rcv: str, selector: str, args: list[str], to_self: bool,
                       borrowed: Borrowed | None = None, want: bool = True,
                       usual: bool = True) -> Atom: ...

    def chain(self, node: ast.Send) -> list[ast.Send] | None:
        """`node` and the sends it is a chain of, innermost first, when each answers a
        String that only the next one sees and all have usual cases that read it as
        text: `(w copyReplaceAll: 'a' with: 'b') reversed asUppercase`. None if not."""
        sends = [node]
        while True:
            inner = sends[-1].receiver
            if not (isinstance(inner, ast.Send) and _text_case(inner.selector)
                    and self.plain(inner)):
                break
            sends.append(inner)
        outer = sends[:-1]
        if not outer or not all(
            _reads_text_case(s.selector)
            and all(isinstance(a, ast.Literal) for a in s.args) for s in outer
        ):
            return None
        return sends[::-1]

    def fused(self, sends: list[ast.Send], want: bool) -> Atom:
        """A chain (see `chain`) whose Strings in between stay Python strs while every
        send takes its usual case: they are never made, so nothing can tell. Where one
        does not, its receiver is made then (what the send before would have answered)
        and the rest are plain sends."""
        first = sends[0]
        rcv, *args = self.operands([first.receiver, *first.args])
        borrowed = self.borrowable(list(first.args), args)
        name = self.temp()
        self.fused_step(sends, Link(rcv, None, args, borrowed), name, want)
        return (name, True)

    def fused_step(self, sends: list[ast.Send], link: Link, name: str, want: bool) -> None:
        """Emit `sends[0]` (and after it the rest) for `link`."""
        send, rest = sends[0], sends[1:]
        rcv, text, args, borrowed = link.rcv, link.text, link.args, link.borrowed
        case = _text_case(send.selector) if rest else _reads_text_case(send.selector)
        assert case is not None
        test = self.usual_test(case, rcv, args, borrowed, text)
        names = self.usual_names(rcv, args, borrowed)
        if test is None:  # (a literal argument of the wrong type: never the usual case)
            self.plain_chain(sends, link, name, want)
            return
        self.emit(f"if {test}:")
        with self.indented():
            value = _usual_code(case.value, names, text)
            if not rest:
                self.emit(f"{name} = {value}")
            else:
                form = _text_form(value)
                assert form is not None
                chars = self.temp()
                self.emit(f"{chars} = {form[0]}")
                next_args = self.operands(list(rest[0].args))
                next_borrowed = self.borrowable(list(rest[0].args), next_args)
                link = Link(rcv, (chars, form[1]), next_args, next_borrowed)
                self.fused_step(rest, link, name, want)
        self.emit("else:")
        with self.indented():
            self.plain_chain(sends, Link(rcv, text, args, borrowed), name, want)

    def plain_chain(self, sends: list[ast.Send], link: Link, name: str, want: bool) -> None:
        """`sends` as sends through their inline caches, the first to the link's
        receiver (made of its text). The way out of a chain, taken rarely, so without
        the usual cases: each link has one, holding the sends after it, and this keeps
        those small (a chain of n links writes n(n+1)/2 sends on its ways out)."""
        rcv, text, args, borrowed = link.rcv, link.text, link.args, link.borrowed
        if text is not None:
            rcv = self.temp()
            self.emit(f"{rcv} = {_made(text)}")
        value = self.plain_send(rcv, sends[0].selector, args, False, borrowed,
                                want or len(sends) > 1, usual=False)[0]
        for index, send in enumerate(sends[1:], 2):
            send_args = self.operands(list(send.args))
            send_borrowed = self.borrowable(list(send.args), send_args)
            value = self.plain_send(value, send.selector, send_args, False, send_borrowed,
                                    want or index < len(sends), usual=False)[0]
        self.emit(f"{name} = {value}")

    def usual_test(
        self,
        case: UsualCase,
        rcv: str,
        args: list[str],
        borrowed: Borrowed,
        text: tuple[str, bool] | None = None,
        text_arg: bool = False,
    ) -> str | None:
        """The test that a send is the primitive's usual case (receiver and argument
        types, the receiver's class, the case's own test), or None when it never is.
        With `text` the receiver is the Python str `text[0]` (see `fused_step`): a
        ByteString when it is byte text (`text[1]`: known to be; else ASCII is what is
        tested for, anything else takes the plain path). With `text_arg` the one argument
        is a Python str standing for a String (see `text_argument`)."""
        names = self.usual_names(rcv, args, borrowed)
        py_type, class_name, _classes = RECEIVERS[case.receiver]
        wanted: list[tuple[str, type | None]] = [] if text is not None else [(rcv, py_type)]
        if not text_arg:
            wanted += [(names[f"a{index}"], ARGUMENTS[kind])
                       for index, kind in enumerate(case.args)]
        tests = [] if text is None or text[1] else [f"{text[0]}.isascii()"]
        for code, wanted_type in wanted:
            known = self.static_type(code)
            if wanted_type is None or known is wanted_type:
                continue
            if known is not None:
                return None
            tests.append(f"{self.type_of(code)} is {self.gen.constant(wanted_type)}")
        if class_name is not None and text is None:
            tests.append(f"{rcv}.cls is {self.gen.constant(SYSTEM_CLASSES[class_name])}")
        if case.test:
            tests.append(_usual_code(case.test, names, text, args[0] if text_arg else None))
        return " and ".join(tests) or "True"

    def usual_names(
        self, rcv: str, args: list[str], borrowed: Borrowed
    ) -> dict[str, str]:
        """What `{r}`, `{a0}`... stand for in a usual case: a String literal argument
        is its shared String (a usual case only reads it)."""
        names = {"r": rcv} | {f"a{index}": arg for index, arg in enumerate(args)}
        for index, text, _line in borrowed:
            names[f"a{index}"] = self.gen.shared_literal(text)
        return names

    def usual_value(
        self,
        case: UsualCase,
        name: str,
        rcv: str,
        args: list[str],
        borrowed: Borrowed,
        want: bool,
    ) -> None:
        if case.value:
            names = self.usual_names(rcv, args, borrowed)
            self.emit(f"{name} = {_usual_code(case.value, names, None)}")
            return
        # The primitive, called directly: String literals as `plain_send` passes them.
        fn = self.gen.constant(case.fn)
        if getattr(case.fn, "borrows_strings", False):
            names = self.usual_names(rcv, args, borrowed)
            self.emit(f"{name} = {fn}({', '.join(['it', rcv, *list(names.values())[1:]])})")
            for index, text, _line in borrowed if want else ():
                fresh = f"new_string({self.gen.constant(text)})"
                self.emit(f"if {name} is {names[f'a{index}']}: {name} = {fresh}")
            return
        for _index, _text, line in borrowed:
            self.emit(line)
        self.emit(f"{name} = {fn}({', '.join(['it', rcv, *args])})")

    # ------------------------------------------------------------------ text arguments
    def text_argument(self, selector: str, arg: ast.Expr, want: bool) -> TextArgument | None:
        """For a one-argument send whose argument is a send answering a new String by
        its usual case (`ws nextPutAll: i printString`, `'n = ' , n printString`): the
        two usual cases and what the send does with the argument's text. None when not
        so: the argument String is made as usual."""
        if not (isinstance(arg, ast.Send) and self.plain(arg)):
            return None
        inner = next((case for case in USUAL_CASES.get(arg.selector, ())
                      if case.value and _text_form(case.value) is not None), None)
        if inner is None:
            return None
        for case in USUAL_CASES.get(selector, ()):
            if len(case.args) != 1 or not _reads_only_chars(case.test, "{a0}"):
                continue
            if case.value and _reads_only_chars(case.value, "{a0}"):
                return TextArgument(case, case.value, inner, arg)
            if case.text_arg and not want:
                return TextArgument(case, case.text_arg, inner, arg)
        return None

    def text_argument_send(
        self, rcv: str, selector: str, found: TextArgument, arg_operands: list[str], want: bool
    ) -> Atom:
        """`rcv selector arg` (see `text_argument`), `rcv` and the argument send's
        operands already evaluated: while both sends take their usual cases, the
        argument's String is never made; where one does not, it is made then (what the
        argument send would have answered) and the send goes through the inline cache."""
        case, inner, arg = found.case, found.inner, found.arg
        arg_rcv, *arg_args = arg_operands
        arg_borrowed = self.borrowable(list(arg.args), arg_args)
        name = self.temp()
        test = self.usual_test(inner, arg_rcv, arg_args, arg_borrowed)
        if test is not None:
            form = _text_form(_usual_code(
                inner.value, self.usual_names(arg_rcv, arg_args, arg_borrowed)))
            assert form is not None
            self.emit(f"if {test}:")
            with self.indented():
                chars = self.temp()
                self.emit(f"{chars} = {form[0]}")
                outer = self.usual_test(case, rcv, [chars], [], text_arg=True)
                if outer is not None:
                    self.emit(f"if {outer}:")
                    with self.indented():
                        value = _usual_code(found.template, {"r": rcv}, arg_text=chars)
                        self.emit(f"{name} = {value}")
                    self.emit("else:")
                with self.indented() if outer is not None else _same_level():
                    made = self.temp()
                    self.emit(f"{made} = {_made((chars, form[1]))}")
                    value = self.plain_send(rcv, selector, [made], False, None, want,
                                            usual=False)[0]
                    self.emit(f"{name} = {value}")
            self.emit("else:")
        with self.indented() if test is not None else _same_level():
            made = self.plain_send(arg_rcv, arg.selector, arg_args, False, arg_borrowed,
                                   usual=False)[0]
            value = self.plain_send(rcv, selector, [made], False, None, want, usual=False)[0]
            self.emit(f"{name} = {value}")
        return (name, True)
