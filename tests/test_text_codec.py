"""The text encoder of the standard-library backend (carecoord._fastcodec._text).

Its text must be, byte for byte, what the standard library writes for what the
cattrs converter gives; whatever it does not expect must leave the record to
the usual path (same text, same error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import Enum, StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord import CarePlan, CarePlanId, PatientId, StaffId, ValidationError, _json
from carecoord._fastcodec import Unsupported
from carecoord._fastcodec._text import encode_text, text_encoder
from carecoord.serialization import dumps, to_payload, unstructure
from carecoord.storage import RECORD_TYPES
from test_fuzz import RECORD_STRATEGIES

NY = ZoneInfo("America/New_York")
ANY_RECORD = st.one_of(*(RECORD_STRATEGIES[RECORD_TYPES[kind]] for kind in sorted(RECORD_TYPES)))


@pytest.fixture
def stdlib() -> Iterator[None]:
    """The standard-library backend (the one that uses the text encoder)."""
    previous = _json.use_orjson(False)
    yield
    _json.use_orjson(previous)


def _reference(obj: Any) -> str:
    """What the standard library writes for what cattrs gives."""
    return _json.stdlib_dumps(unstructure(obj))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ANY_RECORD)
def test_every_record_is_written_as_the_standard_library_writes_it(record: Any) -> None:
    assert _json.escape_surrogates(encode_text(record)) == _reference(record)
    previous = _json.use_orjson(False)
    try:
        assert dumps(record) == _json.stdlib_dumps(to_payload(record))
    finally:
        _json.use_orjson(previous)


class _Colour(StrEnum):
    RED = "red"
    QUOTE = 'say "hi"'


class _Number(Enum):
    ONE = 1


@attrs.frozen
class _Leaf:
    name: str
    at: datetime


@attrs.frozen
class _Every:
    """Every kind of field the text encoder writes."""

    text: str
    number: int
    flag: bool
    ratio: float
    colour: _Colour
    numbered: _Number
    day: date
    clock: time
    at: datetime
    maybe: float | None
    maybe_leaf: _Leaf | None
    names: tuple[str, ...]
    colours: tuple[_Colour, ...]
    leaves: tuple[_Leaf, ...]
    times: tuple[datetime, ...]


def _every(**changes: Any) -> _Every:
    at = datetime(2026, 3, 9, 9, 30, tzinfo=NY)
    values: dict[str, Any] = {
        "text": 'é "quoted" \\ \n\t\x00\u2028 😀',
        "number": -(2**70),
        "flag": False,
        "ratio": 1.5e-05,
        "colour": _Colour.QUOTE,
        "numbered": _Number.ONE,
        "day": date(2026, 3, 9),
        "clock": time(9, 30, 15, 120),
        "at": at,
        "maybe": None,
        "maybe_leaf": _Leaf("x", at),
        "names": ("a",),
        "colours": (_Colour.RED, _Colour.QUOTE),
        "leaves": (),
        "times": (at, at.astimezone(UTC), at.astimezone(timezone(timedelta(hours=5, minutes=30)))),
    }
    values.update(changes)
    return _Every(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"ratio": 1e16, "maybe": -0.0, "number": 0, "flag": True},
        {"ratio": 5e-324, "maybe": 123456.789},
        {"ratio": float("nan"), "maybe": float("-inf")},  # as json writes them
        {"names": (), "colours": (), "times": ()},
        {"names": ("a", 'b"', "\ud800"), "leaves": (_Leaf("", datetime(1, 1, 2, tzinfo=UTC)),)},
        {"leaves": (_Leaf("a", datetime(2026, 1, 1, tzinfo=UTC)), _Leaf("b", datetime.now(UTC)))},
        {"maybe_leaf": None, "at": datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)},
        {"number": True, "ratio": 3},  # wrong types the JSON encoder still writes
    ],
)
def test_every_kind_of_field_is_written_as_the_standard_library_writes_it(
    changes: dict[str, Any],
) -> None:
    value = _every(**changes)
    assert _json.escape_surrogates(encode_text(value)) == _reference(value)
    json.loads(_reference(value))  # the reference is JSON (a sanity check of the sample)


@pytest.mark.parametrize(
    "changes",
    [
        {"text": 5},  # not a string
        {"colour": "not a colour"},
        {"names": None},
        {"at": datetime(2026, 3, 9, 9)},  # naive
        {"maybe_leaf": "x"},
    ],
)
def test_an_unexpected_value_raises_so_the_usual_path_decides(changes: dict[str, Any]) -> None:
    # any error will do: the caller then writes the record the usual way
    with pytest.raises((TypeError, KeyError, ValueError, AttributeError)):
        encode_text(_every(**changes))


def _plan() -> CarePlan:
    return CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PatientId("p-1"),
        author_id=StaffId("s-1"),
        created_at=datetime(2026, 3, 9, 9, tzinfo=NY),
    )


def test_a_wrong_value_is_written_as_the_usual_path_writes_it(stdlib: None) -> None:
    plan = _plan()
    object.__setattr__(plan, "title", 5)  # the JSON encoder writes it; the text encoder cannot
    with pytest.raises(TypeError):
        encode_text(plan)
    assert dumps(plan) == _json.stdlib_dumps(to_payload(plan))
    assert '"title":5' in dumps(plan)


def test_a_naive_datetime_still_raises_what_cattrs_raises(stdlib: None) -> None:
    plan = _plan()
    object.__setattr__(plan, "created_at", datetime(2026, 3, 9, 9))
    with pytest.raises(ValidationError):
        dumps(plan)


def test_a_lone_surrogate_is_escaped_in_the_stored_text(stdlib: None) -> None:
    plan = attrs.evolve(_plan(), title="a \ud800 b")
    text = dumps(plan)
    assert "\\ud800" in text
    assert text == _json.stdlib_dumps(to_payload(plan))
    text.encode("utf-8")  # storable


def test_types_it_cannot_write_are_unsupported() -> None:
    @attrs.frozen
    class Node:
        children: tuple[Node, ...]

    @attrs.frozen
    class Mapping:
        items: dict[str, int]

    for cls in (Node, Mapping):
        with pytest.raises(Unsupported):
            text_encoder(cls)
    with pytest.raises(Unsupported):
        encode_text(Mapping({}))
