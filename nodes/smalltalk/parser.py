"""Source text -> syntax tree, through the lark grammar in `grammar.lark`.

One LALR parser (built once, shared by every thread: lark parsers keep no state
between calls) with two entry points: `parse_doit` for workspace snippets and
`parse_method` for `compile:`. Every lark error is turned into SmalltalkSyntaxError
with a 1-based line and column and a short hint.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from . import ast
from .errors import SmalltalkSyntaxError
from .objects import ScaledDecimal

_GRAMMAR = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")

_PARSER = Lark(
    _GRAMMAR,
    parser="lalr",
    lexer="contextual",
    start=["doit", "method"],
    propagate_positions=True,
    maybe_placeholders=False,
)


def parse_doit(source: str) -> ast.DoIt:
    """Parse a workspace snippet. Raises SmalltalkSyntaxError."""
    tree = _parse(source, "doit")
    seq = _Builder(source).transform(tree)
    assert isinstance(seq, ast.DoIt)
    return seq


def parse_method(source: str) -> ast.Method:
    """Parse a method definition (`pattern temporaries statements`).
    Raises SmalltalkSyntaxError."""
    tree = _parse(source, "method")
    method = _Builder(source).transform(tree)
    assert isinstance(method, ast.Method)
    return method


def _parse(source: str, start: str) -> Tree[Token]:
    try:
        return _PARSER.parse(source, start=start)
    except UnexpectedInput as err:
        raise _syntax_error(source, err) from None


def _end_position(source: str) -> tuple[int, int]:
    line = source.count("\n") + 1
    column = len(source) - (source.rfind("\n") + 1) + 1
    return line, column


def _syntax_error(source: str, err: UnexpectedInput) -> SmalltalkSyntaxError:
    if isinstance(err, UnexpectedCharacters):
        at = err.pos_in_stream or 0
        char = source[at] if at < len(source) else ""
        if char == "'":
            hint = "unterminated string literal"
        elif char == '"':
            hint = "unterminated comment"
        elif char == "$":
            hint = "character literal needs a character after '$'"
        elif char == "#":
            hint = "invalid literal after '#'"
        else:
            hint = f"unexpected character {char!r}"
        return SmalltalkSyntaxError(err.line, err.column, hint)
    expected = set(getattr(err, "expected", None) or ())
    if isinstance(err, UnexpectedEOF) or (
        isinstance(err, UnexpectedToken) and err.token.type == "$END"
    ):
        line, column = _end_position(source)
        closer = _unclosed(source)
        if closer:
            hint = f"unexpected end of input, expected {closer!r}"
        elif expected & _OPERAND_STARTS:
            hint = "unexpected end of input, expected an expression"
        else:
            hint = "unexpected end of input"
        return SmalltalkSyntaxError(line, column, hint)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        text = str(tok)
        if tok.type in ("RPAREN", "RBRACKET", "RBRACE") and tok.type not in expected:
            hint = f"unmatched {text!r}"
        elif expected & _OPERAND_STARTS and "PERIOD" not in expected:
            hint = f"unexpected {text!r}, expected an expression"
        elif "PERIOD" in expected:
            hint = f"unexpected {text!r}, expected '.' or a message"
        else:
            hint = f"unexpected {text!r}"
        return SmalltalkSyntaxError(tok.line or 1, tok.column or 1, hint)
    return SmalltalkSyntaxError(getattr(err, "line", 1), getattr(err, "column", 1), str(err))


_OPERAND_STARTS = {"IDENT", "NUMBER", "STRING", "LPAREN", "LBRACKET", "CHAR", "SYMBOL"}
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _unclosed(source: str) -> str:
    """The closer the innermost still-open bracket needs at the end of `source`, or ''."""
    stack: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c in "'\"":
            end = source.find(c, i + 1)
            while c == "'" and end != -1 and end + 1 < n and source[end + 1] == "'":
                end = source.find(c, end + 2)
            if end == -1:
                return ""
            i = end + 1
            continue
        if c == "$":
            i += 2
            continue
        if c in _CLOSERS:
            stack.append(_CLOSERS[c])
        elif c in ")]}" and stack and stack[-1] == c:
            stack.pop()
        i += 1
    return stack[-1] if stack else ""


# ---------------------------------------------------------------------------- literals


def parse_number(text: str) -> int | float | Fraction | ScaledDecimal:
    """Pharo number literal -> value: `16r1F`, `-5`, `2.5`, `1e10` (an Integer),
    `1e-2` (a Fraction), `1.5e3` (a Float), `3.14s2` (a ScaledDecimal)."""
    if "s" in text:
        return _parse_scaled(text)
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    radix = 10
    if "r" in text:
        radix_text, text = text.split("r", 1)
        radix = int(radix_text)
        if text.startswith("-"):
            negative = not negative
            text = text[1:]
        if not 2 <= radix <= 36:
            raise ValueError(f"radix {radix} out of range")
    exponent = 0
    if "e" in text:
        text, exp_text = text.split("e", 1)
        exponent = int(exp_text)
    if "." in text:
        whole, frac = text.split(".", 1)
        mantissa = Fraction(_digits(whole + frac, radix), radix ** len(frac))
        value_f = float(mantissa * Fraction(radix) ** exponent)
        if radix == 10 and exponent == 0:
            value_f = float(whole + "." + frac)
        return -value_f if negative else value_f
    value = _digits(text, radix)
    result: int | Fraction = (
        value * radix**exponent if exponent >= 0 else Fraction(value, radix**-exponent)
    )
    if isinstance(result, Fraction) and result.denominator == 1:
        result = result.numerator
    return -result if negative else result


def _parse_scaled(text: str) -> ScaledDecimal:
    """`3.14s2`; without digits after `s` the scale is the number of fraction digits."""
    mantissa, scale_text = text.split("s", 1)
    whole, _, frac = mantissa.partition(".")
    value = Fraction(int(whole + frac), 10 ** len(frac))
    return ScaledDecimal(value, int(scale_text) if scale_text else len(frac))


def _digits(text: str, radix: int) -> int:
    """int(text, radix) without CPython's 4300-digit guard (literals may be long)."""
    if len(text) <= 4000:
        value = int(text, radix)
        return value
    value = 0
    for i in range(0, len(text), 4000):
        chunk = text[i : i + 4000]
        value = value * radix ** len(chunk) + int(chunk, radix)
    return value


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _symbol_name(text: str) -> str:
    body = text[1:]
    if body.startswith("'"):
        return _unquote(body)
    return body


def _pos(meta: Any) -> ast.Pos:
    if getattr(meta, "empty", True):
        return ast.NO_POS
    return ast.Pos(meta.line, meta.column, meta.start_pos, meta.end_pos)


def _tok_pos(tok: Token) -> ast.Pos:
    return ast.Pos(tok.line or 0, tok.column or 0, tok.start_pos or 0, tok.end_pos or 0)


_PSEUDO_LITERALS: dict[str, ast.LiteralValue] = {"true": True, "false": False, "nil": None}


def _fail(pos: ast.Pos, hint: str) -> SmalltalkSyntaxError:
    return SmalltalkSyntaxError(pos.line, pos.column, hint)


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Lark tree -> ast nodes."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def transform(self, tree: Tree[Token]) -> Any:
        try:
            return super().transform(tree)
        except VisitError as err:
            if isinstance(err.orig_exc, SmalltalkSyntaxError):
                raise err.orig_exc from None
            raise

    # -- top level
    def doit(self, meta: Any, children: list[Any]) -> ast.DoIt:
        temps, body = children[0]
        return ast.DoIt(temps, body, self.source)

    def method(self, meta: Any, children: list[Any]) -> ast.Method:
        (selector, params), (temps, body) = children
        _check_unique(params + temps, _pos(meta))
        return ast.Method(selector, params, temps, body, self.source, _pos(meta))

    def unary_pattern(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return str(children[0]), ()

    def binary_pattern(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        return children[0], (str(children[1]),)

    def keyword_pattern(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        keywords = [str(c) for c in children[0::2]]
        params = tuple(str(c) for c in children[1::2])
        return "".join(keywords), params

    def sequence(self, meta: Any, children: list[Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        temps: tuple[str, ...] = ()
        body: tuple[Any, ...] = ()
        for child in children:
            if isinstance(child, _Temps):
                temps = child.names
            else:
                body = child
        _check_unique(temps, _pos(meta))
        return temps, body

    def temporaries(self, meta: Any, children: list[Any]) -> _Temps:
        return _Temps(tuple(str(c) for c in children if c.type == "IDENT"))

    def statements(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        for child in children:
            if isinstance(child, list):
                return tuple(child)
        return ()

    def stmt_list(self, meta: Any, children: list[Any]) -> list[Any]:
        out: list[Any] = []
        for child in children:
            if isinstance(child, list):
                out.extend(child)
            elif isinstance(child, Token) and child.type == "PERIOD":
                continue
            else:
                out.append(child)
        return out

    def return_stmt(self, meta: Any, children: list[Any]) -> ast.Return:
        return ast.Return(children[1], _pos(meta))

    # -- expressions
    def assignment(self, meta: Any, children: list[Any]) -> ast.Assign:
        name = str(children[0])
        if name in ("self", "super", "true", "false", "nil", "thisContext"):
            raise _fail(_tok_pos(children[0]), f"cannot store into {name}")
        return ast.Assign(name, children[2], _pos(meta))

    def cascade(self, meta: Any, children: list[Any]) -> ast.Cascade:
        first = children[0]
        if not isinstance(first, ast.Send):
            raise _fail(_pos(meta), "a cascade needs a message send before ';'")
        parts: list[tuple[ast.Message, ...]] = [
            (ast.Message(first.selector, first.args, first.pos),)
        ]
        for child in children[1:]:
            if isinstance(child, Token):
                continue
            parts.append(child)
        return ast.Cascade(first.receiver, tuple(parts), _pos(meta))

    def cascade_part(self, meta: Any, children: list[Any]) -> tuple[ast.Message, ...]:
        if not children:
            raise _fail(
                _pos(meta) if not meta.empty else ast.Pos(1, 1), "message expected after ';'"
            )
        return tuple(children)

    def unary_tail(self, meta: Any, children: list[Any]) -> ast.Message:
        return ast.Message(str(children[0]), (), _pos(meta))

    def binary_tail(self, meta: Any, children: list[Any]) -> ast.Message:
        return ast.Message(children[0], (children[1],), _pos(meta))

    def keyword_tail(self, meta: Any, children: list[Any]) -> ast.Message:
        selector = "".join(str(c) for c in children[0::2])
        return ast.Message(selector, tuple(children[1::2]), _pos(meta))

    def keyword_send(self, meta: Any, children: list[Any]) -> ast.Send:
        receiver = children[0]
        rest = children[1:]
        selector = "".join(str(c) for c in rest[0::2])
        return ast.Send(receiver, selector, tuple(rest[1::2]), _pos(meta))

    def binary_send(self, meta: Any, children: list[Any]) -> ast.Send:
        return ast.Send(children[0], children[1], (children[2],), _pos(meta))

    def unary_send(self, meta: Any, children: list[Any]) -> ast.Send:
        return ast.Send(children[0], str(children[1]), (), _pos(meta))

    def binop(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def variable(self, meta: Any, children: list[Any]) -> ast.Expr:
        name = str(children[0])
        if name in _PSEUDO_LITERALS:
            return ast.Literal(_PSEUDO_LITERALS[name], _pos(meta))
        return ast.Variable(name, _pos(meta))

    def paren(self, meta: Any, children: list[Any]) -> Any:
        return children[1]

    def brace_array(self, meta: Any, children: list[Any]) -> ast.BraceArray:
        items = children[1]
        for item in items:
            if isinstance(item, ast.Return):
                raise _fail(item.pos, "'^' is not allowed inside a brace array")
        return ast.BraceArray(tuple(items), _pos(meta))

    # -- blocks
    def block_with_args(self, meta: Any, children: list[Any]) -> ast.Block:
        params = tuple(
            _block_arg(c) for c in children if isinstance(c, Token) and c.type == "BLOCK_ARG"
        )
        temps, body = next(c for c in children if isinstance(c, tuple))
        return self._block(meta, params, temps, body)

    def block_args_only(self, meta: Any, children: list[Any]) -> ast.Block:
        params = tuple(
            _block_arg(c) for c in children if isinstance(c, Token) and c.type == "BLOCK_ARG"
        )
        return self._block(meta, params, (), ())

    def block_plain(self, meta: Any, children: list[Any]) -> ast.Block:
        temps, body = children[1]
        return self._block(meta, (), temps, body)

    def _block(
        self, meta: Any, params: tuple[str, ...], temps: tuple[str, ...], body: tuple[Any, ...]
    ) -> ast.Block:
        pos = _pos(meta)
        _check_unique(params + temps, pos)
        return ast.Block(params, temps, body, self.source[pos.start : pos.end], pos)

    # -- literals
    def number(self, meta: Any, children: list[Any]) -> ast.Literal:
        tok = children[0]
        try:
            value = parse_number(str(tok))
        except ValueError as err:
            raise _fail(_tok_pos(tok), f"malformed number: {err}") from None
        return ast.Literal(value, _tok_pos(tok))

    def char(self, meta: Any, children: list[Any]) -> ast.Literal:
        tok = children[0]
        return ast.Literal(ast.Char(ord(str(tok)[1])), _tok_pos(tok))

    def string(self, meta: Any, children: list[Any]) -> ast.Literal:
        tok = children[0]
        return ast.Literal(ast.Str(_unquote(str(tok))), _tok_pos(tok))

    def symbol(self, meta: Any, children: list[Any]) -> ast.Literal:
        tok = children[0]
        return ast.Literal(ast.Sym(_symbol_name(str(tok))), _tok_pos(tok))

    def lit_word(self, meta: Any, children: list[Any]) -> ast.Literal:
        word = str(children[0])
        if word in _PSEUDO_LITERALS:
            return ast.Literal(_PSEUDO_LITERALS[word], _tok_pos(children[0]))
        return ast.Literal(ast.Sym(word), _tok_pos(children[0]))

    def lit_binop(self, meta: Any, children: list[Any]) -> ast.Literal:
        return ast.Literal(ast.Sym(children[0]), _pos(meta))

    def literal_array(self, meta: Any, children: list[Any]) -> ast.Literal:
        items = tuple(c.value for c in children[1:-1])
        return ast.Literal(ast.LitArray(items), _pos(meta))

    def nested_array(self, meta: Any, children: list[Any]) -> ast.Literal:
        return self.literal_array(meta, children)

    def byte_array(self, meta: Any, children: list[Any]) -> ast.Literal:
        values: list[int] = []
        for tok in children[1:-1]:
            value = parse_number(str(tok))
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise _fail(_tok_pos(tok), "byte array elements must be integers 0..255")
            values.append(value)
        return ast.Literal(ast.ByteArr(tuple(values)), _pos(meta))


class _Temps:
    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names


def _block_arg(tok: Token) -> str:
    return str(tok)[1:].strip()


def _check_unique(names: tuple[str, ...], pos: ast.Pos) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _fail(pos, f"duplicate variable name {name!r}")
        if name in ("self", "super", "true", "false", "nil", "thisContext"):
            raise _fail(pos, f"{name!r} cannot be used as a variable name")
        seen.add(name)
