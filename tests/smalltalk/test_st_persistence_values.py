"""Persistence of the value objects (ScaledDecimal, Duration, Time, Date, DateAndTime):
they are encoded inline like Fractions (one tag, one string), never get an object id,
survive a JSON round trip of the whole image with equal values and printStrings, work
as keys of persisted hashed collections, and a corrupt payload is a CorruptRecord."""

from __future__ import annotations

from typing import Any

import pytest
from st_support import ps, reload

from nodes.smalltalk import CorruptRecord, Image

VALUES = {
    "sd": ("3.14s2", {"scaled": "157/50s2"}),
    "third": ("(1/3) asScaledDecimal: 4", {"scaled": "1/3s4"}),
    "dur": ("Duration days: 1 hours: 2 minutes: 3 seconds: 4", {"duration": "93784000000000"}),
    "neg": ("1.5 seconds negated", {"duration": "-1500000000"}),
    "tm": ("Time hour: 14 minute: 5 second: 7", {"time": "50707000000000"}),
    "dt": ("Date year: 2024 month: 3 day: 1", {"date": "2460371"}),
    "stamp": (
        "DateAndTime fromString: '2024-03-01T10:20:30.25+02:00'",
        {"dateAndTime": "212576084430250000000 7200"},
    ),
}




def _bound_image() -> Image:
    image = Image.new()
    for name, (code, _encoded) in VALUES.items():
        ps(f"{name} := {code}", image)
    return image


@pytest.mark.parametrize("name", sorted(VALUES))
def test_value_objects_are_encoded_inline(name: str) -> None:
    image = _bound_image()
    code, encoded = VALUES[name]
    assert image.dump_workspace()["bindings"][name] == encoded
    outcome = image.evaluate(code)
    assert outcome.result == encoded
    assert image.encode(image.decode(outcome.result)) == encoded


def test_value_objects_never_get_object_ids() -> None:
    image = Image.new()
    outcome = image.evaluate("x := {3.14s2. 1 day. Time noon. Date today. DateAndTime now}")
    assert not outcome.has_error
    assert len(outcome.changed) == 1  # only the Array
    (record,) = outcome.changed.values()
    assert [next(iter(item)) for item in record["items"]] == [
        "scaled",
        "duration",
        "time",
        "date",
        "dateAndTime",
    ]


def test_value_objects_survive_a_round_trip() -> None:
    image = _bound_image()
    loaded = reload(image)
    for name in VALUES:
        assert ps(name, loaded) == ps(name, image), name
        assert ps(f"{name} class", loaded) == ps(f"{name} class", image)
    assert ps("stamp offset", loaded) == "0:02:00:00"
    assert ps("stamp = (DateAndTime fromString: '2024-03-01T08:20:30.25Z')", loaded) == "true"
    assert ps("sd + 1", loaded) == "4.14s2"
    assert ps("dt addDays: 1", loaded) == "2 March 2024"
    assert ps("tm print24", loaded) == "'14:05:07'"


def test_value_objects_as_keys_of_persisted_hashed_collections() -> None:
    image = Image.new()
    ps(
        "d := Dictionary new. d at: (Date year: 2024 month: 3 day: 1) put: #leap; "
        "at: 1 hour put: #hour; at: 1.50s2 put: #scaled. "
        "s := Set new. s add: (Time hour: 1 minute: 0 second: 0); add: 3.14s2",
        image,
    )
    loaded = reload(image)
    assert ps("d at: (Date newDay: 1 month: 3 year: 2024)", loaded) == "#leap"
    assert ps("d at: 60 minutes", loaded) == "#hour"
    assert ps("d at: (3/2)", loaded) == "#scaled"
    assert ps("s includes: (Time fromSeconds: 3600)", loaded) == "true"
    assert ps("s includes: 3.14s2", loaded) == "true"
    assert ps("s size", loaded) == "2"


@pytest.mark.parametrize(
    "payload",
    [{"scaled": "1/3"}, {"duration": "1.5"}, {"date": "x"}, {"dateAndTime": "12"}],
)
def test_corrupt_value_payloads_are_reported(payload: dict[str, Any]) -> None:
    image = Image.new()
    ps("holder := Array new: 1", image)
    records = {oid: image.dump_object(oid) for oid in image.object_ids()}
    (oid,) = records
    records[oid] = {**records[oid], "items": [payload]}
    with pytest.raises(CorruptRecord):
        Image.load(records, image.dump_workspace())
