"""White-box tests of the lark grammar and the tree it builds: every syntax form,
and the line/column/hint of syntax errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from nodes.smalltalk import Image, SmalltalkSyntaxError, ast
from nodes.smalltalk.parser import parse_doit, parse_method, parse_number


def only(code: str) -> ast.Stmt:
    tree = parse_doit(code)
    assert len(tree.body) == 1
    return tree.body[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-5", -5),
        ("16r1F", 31),
        ("2r1010", 10),
        ("-16r1F", -31),
        ("36rZZ", 1295),
        ("1e10", 10_000_000_000),
        ("1e-2", Fraction(1, 100)),
        ("2.5", 2.5),
        ("1.5e3", 1500.0),
        ("2.5e-3", 0.0025),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_number_literals(text: str, value: object) -> None:
    assert parse_number(text) == value
    assert type(parse_number(text)) is type(value)


def test_huge_integer_literal_beyond_cpython_digit_guard() -> None:
    digits = "7" * 5000
    assert parse_number(digits) == int("7" * 4000) * 10**1000 + int("7" * 1000)


def test_literals_of_every_kind() -> None:
    node = only("#(1 $a 'x' #y (2 3) true nil foo at:put: + #[1 2] -2)")
    assert isinstance(node, ast.Literal)
    items = node.value.items  # type: ignore[union-attr]
    assert items == (
        1,
        ast.Char(ord("a")),
        ast.Str("x"),
        ast.Sym("y"),
        ast.LitArray((2, 3)),
        True,
        None,
        ast.Sym("foo"),
        ast.Sym("at:put:"),
        ast.Sym("+"),
        ast.ByteArr((1, 2)),
        -2,
    )


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("$a", ast.Char(97)),
        ("$ ", ast.Char(32)),
        ("$'", ast.Char(39)),
        ("'it''s'", ast.Str("it's")),
        ("#foo", ast.Sym("foo")),
        ("#at:put:", ast.Sym("at:put:")),
        ("#+", ast.Sym("+")),
        ("#'with space'", ast.Sym("with space")),
        ("#[1 2 255]", ast.ByteArr((1, 2, 255))),
        ("true", True),
        ("nil", None),
    ],
)
def test_scalar_literals(code: str, value: object) -> None:
    node = only(code)
    assert isinstance(node, ast.Literal) and node.value == value


def test_precedence_unary_binary_keyword() -> None:
    node = only("a foo: b bar + c baz: d")
    assert isinstance(node, ast.Send) and node.selector == "foo:baz:"
    first, second = node.args
    assert isinstance(first, ast.Send) and first.selector == "+"
    assert isinstance(first.receiver, ast.Send) and first.receiver.selector == "bar"
    assert isinstance(second, ast.Variable)


def test_binary_minus_versus_negative_literal() -> None:
    for code in ("3-5", "3 - 5", "3 -5"):
        node = only(code)
        assert isinstance(node, ast.Send) and node.selector == "-", code
    node = only("3 - -5")
    assert isinstance(node, ast.Send) and node.args == (ast.Literal(-5, node.args[0].pos),)
    assign = only("x := -5")
    assert isinstance(assign, ast.Assign) and assign.value.value == -5  # type: ignore[union-attr]


def test_cascade_parts_share_the_receiver() -> None:
    node = only("Transcript show: 'a'; cr; show: 3 printString")
    assert isinstance(node, ast.Cascade)
    assert isinstance(node.receiver, ast.Variable) and node.receiver.name == "Transcript"
    assert [[m.selector for m in part] for part in node.parts] == [["show:"], ["cr"], ["show:"]]


def test_cascade_part_may_chain_messages() -> None:
    node = only("x foo; bar baz")
    assert isinstance(node, ast.Cascade)
    assert [m.selector for m in node.parts[1]] == ["bar", "baz"]


def test_blocks_with_arguments_and_temporaries_keep_their_source() -> None:
    node = only("[:x :y | | t | t := x + y. ^t]")
    assert isinstance(node, ast.Block)
    assert node.params == ("x", "y") and node.temps == ("t",)
    assert isinstance(node.body[-1], ast.Return)
    assert node.source == "[:x :y | | t | t := x + y. ^t]"
    assert only("[:x]").params == ("x",)  # type: ignore[union-attr]
    assert only("[]").body == ()  # type: ignore[union-attr]


def test_temporaries_statements_comments_and_braces() -> None:
    tree = parse_doit('| a b | "comment" a := 1. b := 2.. a + b.')
    assert tree.temps == ("a", "b")
    assert len(tree.body) == 3
    brace = only("{1+1. 2}")
    assert isinstance(brace, ast.BraceArray) and len(brace.items) == 2


def test_method_patterns() -> None:
    assert parse_method("foo ^1").selector == "foo"
    binary = parse_method("+ other ^self")
    assert binary.selector == "+" and binary.params == ("other",)
    keyword = parse_method("at: i put: v | old | old := i. ^v")
    assert keyword.selector == "at:put:" and keyword.params == ("i", "v")
    assert keyword.temps == ("old",)


@pytest.mark.parametrize(
    ("code", "line", "column", "hint"),
    [
        ("3 +", 1, 4, "expected an expression"),
        ("[1", 1, 3, "expected ']'"),
        ("(1", 1, 3, "expected ')'"),
        ("#(1", 1, 4, "expected ')'"),
        ("{1. 2", 1, 6, "expected '}'"),
        ("'abc", 1, 1, "unterminated string"),
        ('"abc', 1, 1, "unterminated comment"),
        ("1 2", 1, 3, "expected '.' or a message"),
        ("x := 1.\ny := ]", 2, 6, "unmatched ']'"),
        ("a\n  foo: ]", 2, 8, "unmatched ']'"),
        ("self := 3", 1, 1, "cannot store into self"),
        ("| a a | a", 1, 1, "duplicate"),
    ],
)
def test_syntax_errors_report_line_column_and_hint(
    code: str, line: int, column: int, hint: str
) -> None:
    with pytest.raises(SmalltalkSyntaxError) as caught:
        parse_doit(code)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert hint in caught.value.hint


def test_syntax_error_leaves_image_untouched() -> None:
    image = Image.new()
    image.evaluate("x := 1")
    before = image.dump_workspace()
    with pytest.raises(SmalltalkSyntaxError):
        image.evaluate("x := 2. y := (")
    assert image.dump_workspace() == before


def test_assigning_a_system_global_is_a_compile_error() -> None:
    with pytest.raises(SmalltalkSyntaxError, match="Object"):
        Image.new().evaluate("Object := 3")
