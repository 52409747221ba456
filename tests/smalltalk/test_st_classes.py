"""Session classes: definition, compile:, super, class side, class variables,
class-side instance variables, redefinition, reflection."""

from __future__ import annotations

import pytest
from st_support import ps

from nodes.smalltalk import Image


@pytest.fixture
def image() -> Image:
    image = Image.new()
    ps(
        "Object subclass: #Account instanceVariableNames: 'balance' "
        "classVariableNames: 'Count' package: 'Demo'",
        image,
    )
    ps("Account compile: 'initialize balance := 0'", image)
    ps("Account compile: 'deposit: x balance := balance + x'", image)
    ps("Account compile: 'balance ^balance'", image)
    return image


def test_instances_start_initialized_and_methods_run(image: Image) -> None:
    assert ps("a := Account new. a deposit: 10; deposit: 5. a balance", image) == "15"
    assert ps("a", image) == "an Account"
    assert ps("Account new balance", image) == "0"


def test_basic_new_skips_initialize(image: Image) -> None:
    assert ps("Account basicNew balance", image) == "nil"


def test_compile_answers_selector_and_source_is_kept(image: Image) -> None:
    assert ps("Account compile: 'double balance := balance * 2'", image) == "#double"
    assert ps("Account sourceCodeAt: #deposit:", image) == "'deposit: x balance := balance + x'"
    assert ps("Account selectors", image) == "#(#balance #deposit: #double #initialize)"


def test_compile_syntax_error_is_a_smalltalk_error(image: Image) -> None:
    outcome = image.evaluate("Account compile: 'broken ^('")
    assert outcome.has_error and outcome.error_class == "SyntaxErrorNotification"
    assert "line 1" in (outcome.error_message or "")


def test_super_and_inheritance(image: Image) -> None:
    ps(
        "Account subclass: #Savings instanceVariableNames: 'rate' classVariableNames: '' "
        "package: 'Demo'",
        image,
    )
    ps("Savings compile: 'initialize super initialize. rate := 5'", image)
    ps("Savings compile: 'deposit: x super deposit: x + rate'", image)
    assert ps("Savings new deposit: 10; balance", image) == "15"
    assert ps("Savings superclass", image) == "Account"
    assert ps("Savings new isKindOf: Account", image) == "true"
    assert ps("Savings new isMemberOf: Account", image) == "false"
    assert ps("Savings new respondsTo: #balance", image) == "true"
    assert ps("Savings new respondsTo: #fly", image) == "false"
    assert ps("Savings instanceVariableNames", image) == "#(#rate)"
    assert ps("Savings allInstVarNames", image) == "#(#balance #rate)"


def test_class_side_methods_and_super_new(image: Image) -> None:
    ps("Account class compile: 'new ^super new deposit: 100; yourself'", image)
    assert ps("Account new balance", image) == "100"
    ps("Account class compile: 'named: n ^self new deposit: n; yourself'", image)
    assert ps("(Account named: 1) balance", image) == "101"
    assert ps("Account class", image) == "Account class"
    assert ps("Account class class", image) == "Metaclass"
    assert ps("Account class superclass", image) == "Object class"


def test_class_variables_are_shared(image: Image) -> None:
    ps("Account class compile: 'bump Count := (Count ifNil: [0]) + 1. ^Count'", image)
    ps("Account compile: 'count ^Count'", image)
    ps("Account bump. Account bump", image)
    assert ps("Account new count", image) == "2"


def test_class_side_instance_variables(image: Image) -> None:
    ps("Account class instanceVariableNames: 'made'", image)
    ps("Account class compile: 'make made := (made ifNil: [0]) + 1. ^made'", image)
    assert ps("Account make. Account make", image) == "2"


def test_print_on_override_and_display(image: Image) -> None:
    ps(
        "Account compile: 'printOn: aStream super printOn: aStream. "
        "aStream nextPutAll: '' $''; print: balance'",
        image,
    )
    assert ps("Account new deposit: 3; yourself", image) == "an Account $3"
    assert ps("(Account new deposit: 3; yourself) displayString", image) == "'an Account $3'"


def test_redefinition_migrates_instances_by_name(image: Image) -> None:
    ps("acct := Account new deposit: 7; yourself", image)
    ps(
        "Object subclass: #Account instanceVariableNames: 'owner balance' "
        "classVariableNames: 'Count' package: 'Demo'",
        image,
    )
    assert ps("acct balance", image) == "7"
    ps("Account compile: 'owner ^owner'", image)
    assert ps("acct owner", image) == "nil"


def test_reflection(image: Image) -> None:
    assert ps("Account name", image) == "#Account"
    assert ps("Account category", image) == "#Demo"
    assert ps("Account new class name", image) == "#Account"
    assert ps("Account canUnderstand: #deposit:", image) == "true"
    assert ps("Account includesSelector: #printString", image) == "false"
    assert ps("Smalltalk at: #Account", image) == "Account"
    assert ps("3 class", image) == "SmallInteger"
    assert ps("(2 raisedTo: 100) class", image) == "LargePositiveInteger"
    assert ps("1.5 class", image) == "SmallFloat64"


def test_error_subclass_definition_forms(image: Image) -> None:
    assert ps("Error subclass: #Oops", image) == "Oops"
    assert ps("Oops superclass", image) == "Error"
    assert (
        ps(
            "Object subclass: #Thing instanceVariableNames: 'a' classVariableNames: '' "
            "category: 'Cat'",
            image,
        )
        == "Thing"
    )
    assert ps("Thing category", image) == "#Cat"


def test_system_classes_cannot_be_modified(image: Image) -> None:
    outcome = image.evaluate("Integer compile: 'double ^self * 2'")
    assert outcome.has_error
    outcome = image.evaluate("Object subclass: #Object")
    assert outcome.has_error


def test_does_not_understand_override(image: Image) -> None:
    ps("Account compile: 'doesNotUnderstand: aMessage ^aMessage selector'", image)
    assert ps("Account new fly", image) == "#fly"


def test_equality_override_used_by_collections(image: Image) -> None:
    ps(
        "Object subclass: #Key instanceVariableNames: 'k' classVariableNames: '' package: 'X'",
        image,
    )
    ps("Key compile: 'k: x k := x'. Key compile: 'k ^k'", image)
    ps("Key compile: '= other ^(other isKindOf: Key) and: [k = other k]'", image)
    ps("Key compile: 'hash ^k hash'", image)
    assert ps("(Set new add: (Key new k: 1); add: (Key new k: 1); yourself) size", image) == "1"
    assert ps(
        "d := Dictionary new. d at: (Key new k: 2) put: #two. d at: (Key new k: 2)", image
    ) == ("#two")


def test_fluid_class_definition(image: Image) -> None:
    assert ps("Object << #Point3D slots: {#x. #y. #z}; package: 'Geo'", image) == "Point3D"
    assert ps("Point3D instanceVariableNames", image) == "#(#x #y #z)"
    assert ps("Point3D category", image) == "#Geo"
    ps("Point3D compile: 'x: a x := a'. p := Point3D new x: 3; yourself", image)
    ps("Object << #Point3D slots: {#w. #x}; sharedVariables: {#Origin}; package: 'Geo'", image)
    assert ps("p instVarNamed: #x", image) == "3"
    assert ps("Point3D classVariableNames", image) == "#(#Origin)"
