"""Round trips through the serialization edge, and how it rejects bad payloads."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import cattrs
import pytest
from hypothesis import HealthCheck, given, settings

from carecoord import (
    SCHEMA_VERSION,
    Appointment,
    AppointmentId,
    Cadence,
    CareCoordError,
    CarePlan,
    CarePlanId,
    Consent,
    ConsentId,
    ContactId,
    Goal,
    GoalId,
    Intervention,
    InterventionId,
    InterventionKind,
    NaiveDatetimeError,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    StaffId,
    StructureError,
    Target,
    ValidationError,
    dumps,
    from_payload,
    loads,
    make_converter,
    to_payload,
)
from carecoord.serialization import format_datetime, parse_datetime, structure, unstructure
from carecoord.testing.strategies import ENTITY_STRATEGIES

MARKER = "ZZSECRET42"
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
STAFF = StaffId("staff-1")

ENTITY_TYPES = list(ENTITY_STRATEGIES)


def _zones(value: Any) -> list[str]:
    """The zone keys of every datetime inside an attrs object, in field order."""
    found: list[str] = []
    if isinstance(value, datetime):
        assert isinstance(value.tzinfo, ZoneInfo)
        found.append(value.tzinfo.key)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            found.extend(_zones(getattr(value, field.name)))
    elif isinstance(value, tuple):
        for item in value:
            found.extend(_zones(item))
    return found


# ------------------------------------------------------------- round trips


@pytest.mark.parametrize("cls", ENTITY_TYPES, ids=lambda c: c.__name__)
def test_payload_and_json_round_trip(cls: type) -> None:
    """Every record kind survives the payload dict and the stored JSON text (one property,
    both edges, so each generated record is checked on both)."""

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ENTITY_STRATEGIES[cls])
    def check(obj: Any) -> None:
        assert type(obj) is cls
        payload = to_payload(obj)
        assert payload["type"] == cls.__name__
        assert payload["schema_version"] == SCHEMA_VERSION
        assert set(payload) == {"type", "schema_version", "data"}
        back = from_payload(payload, cls)
        assert back == obj
        assert type(back) is cls
        assert _zones(back) == _zones(obj)
        text = dumps(obj)
        raw = json.loads(text)
        assert raw["type"] == cls.__name__
        assert raw["schema_version"] == SCHEMA_VERSION
        read: Any = loads(text, cls)
        assert read == obj and type(read) is cls
        assert _zones(read) == _zones(obj)
        assert dumps(read) == text

    check()


def test_datetime_written_with_offset_and_zone() -> None:
    assert format_datetime(T0) == "2025-03-03T09:00:00-05:00[America/New_York]"
    summer = datetime(2025, 7, 1, 9, 0, tzinfo=NY)
    assert format_datetime(summer) == "2025-07-01T09:00:00-04:00[America/New_York]"
    back = parse_datetime(format_datetime(summer))
    assert back == summer
    assert isinstance(back.tzinfo, ZoneInfo)
    assert back.tzinfo.key == "America/New_York"
    assert back.utcoffset() == timedelta(hours=-4)


def test_lord_howe_half_hour_dst_round_trip() -> None:
    zone = ZoneInfo("Australia/Lord_Howe")
    winter = datetime(2025, 7, 1, 12, 0, tzinfo=zone)  # +10:30
    summer = datetime(2025, 1, 1, 12, 0, tzinfo=zone)  # +11:00
    assert format_datetime(winter).startswith("2025-07-01T12:00:00+10:30")
    assert format_datetime(summer).startswith("2025-01-01T12:00:00+11:00")
    for value in (winter, summer):
        back = parse_datetime(format_datetime(value))
        assert back == value
        assert back.utcoffset() == value.utcoffset()


def test_ambiguous_wall_time_keeps_fold() -> None:
    # 01:30 happens twice in New York on 2025-11-02; fold=1 is the second (EST) one.
    second = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=NY)
    first = second.replace(fold=0)
    assert first.utcoffset() != second.utcoffset()
    for value in (first, second):
        back = parse_datetime(format_datetime(value))
        assert back.fold == value.fold
        assert back.utcoffset() == value.utcoffset()
        assert back.replace(tzinfo=None) == value.replace(tzinfo=None)


def test_gap_wall_time_survives_round_trip() -> None:
    # 02:30 does not exist in New York on 2025-03-09; the model accepts it and
    # a round trip must give back what was stored, not a shifted wall time.
    gap = datetime(2025, 3, 9, 2, 30, tzinfo=NY)
    appt = Appointment(
        id=AppointmentId("a1"),
        patient_id=PatientId("p1"),
        start=gap,
        end=datetime(2025, 3, 9, 4, 0, tzinfo=NY),
        provider="clinic",
        location="room 1",
    )
    back = loads(dumps(appt), Appointment)
    assert back == appt
    assert back.start.replace(tzinfo=None) == datetime(2025, 3, 9, 2, 30)


def test_offset_that_contradicts_zone_keeps_the_instant() -> None:
    # Hand-written: a +01:00 offset with a New York zone. The instant wins.
    back = parse_datetime("2025-01-15T09:00:00+01:00[America/New_York]")
    assert back == datetime(2025, 1, 15, 8, 0, tzinfo=ZoneInfo("UTC"))
    assert isinstance(back.tzinfo, ZoneInfo)
    assert back.tzinfo.key == "America/New_York"
    assert back.hour == 3


def test_plain_offset_without_zone_is_accepted_as_fixed_offset() -> None:
    back = parse_datetime("2025-01-15T09:00:00+05:30")
    assert back.utcoffset() == timedelta(hours=5, minutes=30)
    assert not isinstance(back.tzinfo, ZoneInfo)


def test_naive_datetime_is_not_written() -> None:
    with pytest.raises(NaiveDatetimeError):
        format_datetime(datetime(2025, 1, 1, 9, 0))


def test_naive_datetime_is_not_read() -> None:
    with pytest.raises(NaiveDatetimeError):
        parse_datetime("2025-01-01T09:00:00")


# ---------------------------------------------------------- error handling


def _plan() -> CarePlan:
    goal = Goal(
        id=GoalId("g1"),
        description="walk more",
        targets=(Target(measure="steps", quantity=Quantity(5000.0, "1"), due=date(2025, 6, 1)),),
        readings=(
            ProgressReading(measure="steps", value=3000.0, unit="1", at=T0, recorded_by=STAFF),
        ),
    )
    intervention = Intervention(
        id=InterventionId("i1"),
        kind=InterventionKind.EDUCATION,
        description="explain",
        created_at=T0,
        window=Period(start=T0, end=T0 + timedelta(days=7)),
        goal_ids=(goal.id,),
    )
    plan = CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PatientId("p1"),
        author_id=STAFF,
        created_at=T0,
        goals=(goal,),
        interventions=(intervention,),
        review_cadence=Cadence.months(1, T0),
    )
    return plan.transition("active", by=STAFF, at=T0)


def _payload() -> dict[str, Any]:
    return json.loads(dumps(_plan()))  # type: ignore[no-any-return]


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _delete(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


def _read_broken(edit: Callable[[dict[str, Any]], None]) -> StructureError:
    payload = _payload()
    edit(payload["data"])
    with pytest.raises(StructureError) as info:
        from_payload(payload, CarePlan)
    return info.value


def test_sample_plan_round_trips() -> None:
    assert from_payload(_payload(), CarePlan) == _plan()


NAIVE = "2025-01-01T09:00:00"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("created_at",), "$.created_at"),
        (("next_review_at",), "$.next_review_at"),
        (("goals", 0, "readings", 0, "at"), "$.goals[0].readings[0].at"),
        (("goals", 0, "targets", 0, "due"), "$.goals[0].targets[0].due"),
        (("interventions", 0, "created_at"), "$.interventions[0].created_at"),
        (("interventions", 0, "window", "start"), "$.interventions[0].window.start"),
        (("review_cadence", "anchor"), "$.review_cadence.anchor"),
        (("history", 0, "at"), "$.history[0].at"),
    ],
)
def test_naive_datetime_deep_inside_plan(path: tuple[str | int, ...], expected: str) -> None:
    error = _read_broken(_set(path, NAIVE))
    assert isinstance(error, CareCoordError)
    assert isinstance(error, ValidationError)
    assert error.paths == (expected,)
    assert expected in str(error)
    assert NAIVE not in str(error)


def test_naive_datetime_message_says_naive() -> None:
    error = _read_broken(_set(("created_at",), NAIVE))
    assert "naive" in str(error)
    assert str(error).startswith("invalid CarePlan payload")


@pytest.mark.parametrize(
    ("path", "value", "expected", "words"),
    [
        (("title",), 1, "$.title", "expected a string"),
        (("goals", 0, "description"), 7, "$.goals[0].description", "expected a string"),
        (("status",), MARKER, "$.status", "not a CarePlanStatus code"),
        (("intent",), MARKER, "$.intent", "not a CarePlanIntent code"),
        (("goals", 0, "priority"), MARKER, "$.goals[0].priority", "not a GoalPriority code"),
        (("history", 0, "to_status"), MARKER, "$.history[0].to_status", "CarePlanStatus"),
        (("interventions", 0, "kind"), MARKER, "$.interventions[0].kind", "InterventionKind"),
        (("review_cadence", "unit"), MARKER, "$.review_cadence.unit", "CadenceUnit"),
        (("review_cadence", "every"), "3", "$.review_cadence.every", "expected an integer"),
        (("review_cadence", "every"), True, "$.review_cadence.every", "expected an integer"),
        (("goals", 0, "readings", 0, "value"), "1.5", "$.goals[0].readings[0].value", "finite"),
        (("goals", 0, "readings", 0, "value"), False, "$.goals[0].readings[0].value", "finite"),
        (("created_at",), MARKER, "$.created_at", "ISO 8601"),
        (("created_at",), 1_700_000_000, "$.created_at", "ISO 8601"),
        (("created_at",), f"2025-01-01T09:00:00+01:00[{MARKER}]", "$.created_at", "zone"),
        (("goals", 0, "targets", 0, "due"), MARKER, "$.goals[0].targets[0].due", "date"),
        (("patient_id",), f"{MARKER} x", "$.patient_id", "PatientId"),
        (("patient_id",), 42, "$.patient_id", "PatientId"),
        (("interventions", 0, "goal_ids", 0), f"{MARKER} x", "$.interventions[0].goal_ids[0]", ""),
        (("addresses",), MARKER, "$.addresses", "expected an array"),
        (("goals",), {MARKER: 1}, "$.goals", "expected an array"),
        (("goals", 0, "readings"), MARKER, "$.goals[0].readings", "expected an array"),
        (("period",), MARKER, "$.period", ""),
    ],
)
def test_bad_value_is_located_and_not_echoed(
    path: tuple[str | int, ...], value: Any, expected: str, words: str
) -> None:
    error = _read_broken(_set(path, value))
    assert expected in error.paths
    assert expected in str(error)
    assert words in str(error)
    assert MARKER not in str(error)
    assert MARKER not in repr(error)


def test_every_offending_path_is_listed() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["title"] = 3
        data["goals"][0]["priority"] = MARKER
        data["interventions"][0]["due"] = NAIVE

    error = _read_broken(edit)
    assert set(error.paths) == {"$.title", "$.goals[0].priority", "$.interventions[0].due"}


@pytest.mark.parametrize(
    ("where", "expected"),
    [((), "$"), (("goals", 0), "$.goals[0]"), (("review_cadence",), "$.review_cadence")],
)
def test_unknown_key_is_rejected(where: tuple[str | int, ...], expected: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in where:
            target = target[step]
        target["bogus_field"] = MARKER

    error = _read_broken(edit)
    assert error.paths == (expected,)
    assert "bogus_field" in str(error)
    assert MARKER not in str(error)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("patient_id",), "$.patient_id"),
        (("created_at",), "$.created_at"),
        (("goals", 0, "id"), "$.goals[0].id"),
        (("goals", 0, "targets", 0, "measure"), "$.goals[0].targets[0].measure"),
        (("history", 0, "by"), "$.history[0].by"),
    ],
)
def test_missing_required_key(path: tuple[str | int, ...], expected: str) -> None:
    error = _read_broken(_delete(path))
    assert error.paths == (expected,)
    assert "required field missing" in str(error)


def test_optional_key_may_be_missing() -> None:
    payload = _payload()
    del payload["data"]["title"]
    del payload["data"]["period"]
    plan = from_payload(payload, CarePlan)
    assert plan.title == "Care plan"
    assert plan.period is None


def test_model_rule_violated_in_payload_is_structure_error() -> None:
    error = _read_broken(_set(("goals", 0, "addresses"), [MARKER]))
    assert error.paths == ("$",)
    assert "address needs" in str(error)
    assert MARKER not in str(error)


def test_blank_text_in_payload_names_the_field() -> None:
    error = _read_broken(_set(("goals", 0, "description"), "   "))
    assert "$.goals[0]" in error.paths
    assert "Goal.description must not be blank" in str(error)


def test_string_is_not_a_list_of_ids() -> None:
    # cattrs would otherwise read "c1" as the two contacts ("c", "1").
    consent = Consent(
        id=ConsentId("consent-1"),
        patient_id=PatientId("p1"),
        recorded_at=T0,
        recorded_by=STAFF,
        contact_ids=(ContactId("c1"),),
        categories=("appointments",),
    )
    for key, raw in (("contact_ids", "c1"), ("categories", "appointments")):
        payload = to_payload(consent)
        payload["data"][key] = raw
        with pytest.raises(StructureError) as info:
            from_payload(payload, Consent)
        assert info.value.paths == (f"$.{key}",)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("type", "Goal"),
        ("type", MARKER),
        ("type", None),
        ("schema_version", 0),
        ("schema_version", 99),
        ("schema_version", SCHEMA_VERSION + 1),
        ("schema_version", "1"),
        ("schema_version", True),
        ("schema_version", 1.0),
        ("schema_version", None),
    ],
)
def test_bad_envelope(key: str, value: Any) -> None:
    payload = _payload()
    payload[key] = value
    with pytest.raises(StructureError) as info:
        from_payload(payload, CarePlan)
    assert info.value.paths == (f"$.{key}",)
    assert f"$.{key}" in str(info.value)
    assert MARKER not in str(info.value)


@pytest.mark.parametrize("key", ["type", "schema_version"])
def test_envelope_key_missing(key: str) -> None:
    payload = _payload()
    del payload[key]
    with pytest.raises(StructureError) as info:
        from_payload(payload, CarePlan)
    assert info.value.paths == (f"$.{key}",)


def test_missing_data_is_structure_error() -> None:
    payload = _payload()
    del payload["data"]
    with pytest.raises(StructureError):
        from_payload(payload, CarePlan)


@pytest.mark.parametrize("payload", [[], MARKER, 5, None])
def test_payload_that_is_not_an_object(payload: Any) -> None:
    with pytest.raises(StructureError) as info:
        from_payload(payload, CarePlan)
    assert info.value.paths == ("$",)
    assert MARKER not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [f"{MARKER}", f'{{"type": "CarePlan", "data": {MARKER}}}', "", "{", "[1,", "NaN-ish"],
)
def test_loads_rejects_non_json(text: str) -> None:
    with pytest.raises(StructureError) as info:
        loads(text, CarePlan)
    assert info.value.paths == ("$",)
    assert "not JSON" in str(info.value)
    assert MARKER not in str(info.value)


def test_loads_rejects_json_that_is_not_an_object() -> None:
    with pytest.raises(StructureError):
        loads(json.dumps([MARKER]), CarePlan)


def test_loads_rejects_wrong_type() -> None:
    with pytest.raises(StructureError) as info:
        loads(dumps(_plan()), Consent)
    assert info.value.paths == ("$.type",)


def test_structure_error_is_in_the_tree() -> None:
    assert issubclass(StructureError, ValidationError)
    assert issubclass(StructureError, CareCoordError)
    assert issubclass(StructureError, ValueError)


# -------------------------------------------------------------- converter


def test_make_converter_returns_a_new_converter_each_call() -> None:
    first, second = make_converter(), make_converter()
    assert isinstance(first, cattrs.Converter)
    assert first is not second
    first.register_structure_hook(Quantity, lambda raw, _: Quantity(0.0, "x"))
    raw = unstructure(Quantity(1.5, "kg"))
    assert second.structure(raw, Quantity) == Quantity(1.5, "kg")
    assert first.structure(raw, Quantity) == Quantity(0.0, "x")


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        (1, str),
        (None, str),
        ("1", int),
        (True, int),
        (1.0, int),
        ("1.0", float),
        (True, float),
        (float("nan"), float),
        (float("inf"), float),
        (1, bool),
        ("true", bool),
        ("2025-01-01T00:00:00Z", date),
        (20250101, date),
        (1, PatientId),
    ],
)
def test_converter_is_strict(raw: Any, cls: type) -> None:
    converter = make_converter()
    with pytest.raises(ValidationError):
        converter.structure(raw, cls)


def test_converter_accepts_the_right_scalars() -> None:
    converter = make_converter()
    assert converter.structure("x", str) == "x"
    assert converter.structure(3, int) == 3
    assert converter.structure(3, float) == 3.0
    assert isinstance(converter.structure(3, float), float)
    assert converter.structure(False, bool) is False
    assert converter.structure("2025-02-03", date) == date(2025, 2, 3)
    pid = converter.structure("p-1", PatientId)
    assert type(pid) is PatientId


def test_structure_wraps_converter_errors() -> None:
    with pytest.raises(StructureError) as info:
        structure(1, str)
    assert info.value.paths == ("$",)


def test_explicit_converter_is_used() -> None:
    converter = make_converter()
    converter.register_structure_hook(CarePlan, lambda raw, _: _plan())
    payload = _payload()
    payload["data"] = {}
    assert from_payload(payload, CarePlan, converter=converter) == _plan()
    with pytest.raises(StructureError):
        from_payload(payload, CarePlan)


def test_payload_is_plain_json() -> None:
    payload = to_payload(_plan())
    text = json.dumps(payload)
    assert json.loads(text) == json.loads(dumps(_plan()))
    data = payload["data"]
    assert data["created_at"] == "2025-03-03T09:00:00-05:00[America/New_York]"
    assert data["status"] == "active"
    assert data["goals"][0]["targets"][0]["due"] == "2025-06-01"


def test_payload_data_is_a_copy() -> None:
    plan = _plan()
    payload = to_payload(plan)
    mutated = copy.deepcopy(payload)
    mutated["data"]["title"] = "changed"
    assert from_payload(payload, CarePlan) == plan
    assert from_payload(mutated, CarePlan).title == "changed"


def test_berlin_zone_survives_json() -> None:
    plan = attrs.evolve(_plan(), created_at=datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=BERLIN))
    back = loads(dumps(plan), CarePlan)
    assert isinstance(back.created_at.tzinfo, ZoneInfo)
    assert back.created_at.tzinfo.key == "Europe/Berlin"
    assert back.created_at.fold == 1
    assert back.created_at.utcoffset() == timedelta(hours=1)
