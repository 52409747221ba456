"""The syntax tree the parser produces and the compiler consumes.

Nodes are plain frozen dataclasses: the compiler walks them once and turns them into
Python closures, so they carry only what compilation and error messages need
(a source position, and for blocks and methods their source text, which is what a
persisted block or method is stored as).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .objects import ScaledDecimal


@dataclass(frozen=True, slots=True)
class Pos:
    """1-based line and column of a node's first character, and its character span."""

    line: int
    column: int
    start: int = 0
    end: int = 0


NO_POS = Pos(0, 0)


@dataclass(frozen=True, slots=True)
class Char:
    """A Character literal before it becomes a runtime Character."""

    code: int


@dataclass(frozen=True, slots=True)
class Sym:
    """A Symbol literal (kept apart from String literals until run time)."""

    name: str


@dataclass(frozen=True, slots=True)
class Str:
    """A String literal; each evaluation creates a fresh mutable String from it."""

    text: str


@dataclass(frozen=True, slots=True)
class ByteArr:
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LitArray:
    items: tuple[LiteralValue, ...]


LiteralValue = (
    int | float | Fraction | ScaledDecimal | bool | None | Char | Sym | Str | ByteArr | LitArray
)


@dataclass(frozen=True, slots=True)
class Literal:
    value: LiteralValue
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Assign:
    name: str
    value: Expr
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Message:
    selector: str
    args: tuple[Expr, ...]
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Send:
    receiver: Expr
    selector: str
    args: tuple[Expr, ...]
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Cascade:
    """`receiver m1; m2 n2; ...`: every part's first message goes to `receiver`,
    the part's further messages go to the previous result (`; foo bar` = `(r foo) bar`)."""

    receiver: Expr
    parts: tuple[tuple[Message, ...], ...]
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Block:
    params: tuple[str, ...]
    temps: tuple[str, ...]
    body: tuple[Stmt, ...]
    source: str
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class BraceArray:
    items: tuple[Expr, ...]
    pos: Pos = NO_POS


@dataclass(frozen=True, slots=True)
class Return:
    value: Expr
    pos: Pos = NO_POS


Expr = Literal | Variable | Assign | Send | Cascade | Block | BraceArray
Stmt = Expr | Return


@dataclass(frozen=True, slots=True)
class DoIt:
    """A workspace snippet: compiled like a method whose receiver is nil."""

    temps: tuple[str, ...]
    body: tuple[Stmt, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Method:
    selector: str
    params: tuple[str, ...]
    temps: tuple[str, ...]
    body: tuple[Stmt, ...]
    source: str
    pos: Pos = field(default=NO_POS)
