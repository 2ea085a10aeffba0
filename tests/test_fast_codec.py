"""The fast stored-record codec: both JSON backends, the precompiled encoders, the trusted decoder.

* ``carecoord._json`` gives the same text, byte for byte, with orjson and with
  the standard library (every test that writes text runs on both backends);
* the precompiled encoders give what cattrs' ``unstructure`` gives;
* the trusted decoder gives what the validated path gives, declines what it
  does not vouch for, and ``decode_record`` still turns bad stored data into
  the same :class:`~carecoord.StorageError` as before.

No timings here: the speed is measured by the benchmarks.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecoord import (
    CarePlan,
    CarePlanId,
    CarePlanStatus,
    ContactChannel,
    HumanName,
    Patient,
    PatientId,
    StaffId,
    StorageError,
    StructureError,
    TaskStatus,
    ValidationError,
    _fastcodec,
    _json,
    from_payload,
    make_converter,
    to_payload,
)
from carecoord._fastcodec._values import (
    DECODED_DATETIMES,
    Declined,
    decode_datetime,
    encode_float,
)
from carecoord.model import _base
from carecoord.model._base import TRANSIENT
from carecoord.model.outbox import Notification, RecipientKind
from carecoord.serialization import dumps, format_datetime, loads, parse_datetime, unstructure
from carecoord.storage import RECORD_TYPES, IndexRow, StoredRecord, index_rows, records
from carecoord.storage._codec import _trusted, decode_record, encode_record
from carecoord.testing import strategies as cs
from test_fuzz import JUNK_NAMES, OPERATIONS, RECORD_STRATEGIES, _junk, _paths, damaged

BACKENDS = ["orjson", "stdlib"]
KINDS = sorted(RECORD_TYPES)
ANY_RECORD = st.one_of(*(RECORD_STRATEGIES[RECORD_TYPES[kind]] for kind in KINDS))
NY = ZoneInfo("America/New_York")


def _some(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test on each JSON backend (orjson only where it is installed)."""
    if request.param == "orjson":
        pytest.importorskip("orjson")
    previous = _json.use_orjson(request.param == "orjson")
    assert _json.backend() == request.param
    yield request.param
    _json.use_orjson(previous)


def _both(call: Any, *args: Any) -> tuple[Any, Any]:
    """``call(*args)`` with orjson and with the standard library."""
    previous = _json.use_orjson(True)
    try:
        fast = call(*args)
        _json.use_orjson(False)
        slow = call(*args)
    finally:
        _json.use_orjson(previous)
    return fast, slow


# ------------------------------------------------------- the two backends

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.sampled_from([1.5e-05, 1e-07, 1e-10, 9.99e-05, 1e-4, 1e16, 1.5e16, 5e-324, -0.0, 1e308])
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)

TRICKY = [
    'é ü ß 漢字 😀 \u2028 \u2029 \x7f \x00 \x1f \t \n " \\ /',
    "\ud800 lone high",
    "lone low \udc00",
    "\ud83d\ude00",  # two surrogates (not one astral character)
    {"é": 1, "e": 2, "😀": 3, "\uffff": 4, "Z": 5, "a": {"b": 1, "A": 2}},
    {"\ud800": "a surrogate key"},
    [1.5e-05, -1.5e-05, 1e-07, 6.589e-09, 1e-10, 0.0001, 0.000123, 1e16, 123456789.125],
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30],
    [math.nan, math.inf, -math.inf],
    {1: "int keys", 2: None},
    (1, 2, [3]),
    [_json.ExactFloat(1.5e-05), _json.ExactFloat(2.5), _json.ExactFloat(math.inf)],
]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_both_backends_write_the_same_text(value: Any) -> None:
    pytest.importorskip("orjson")
    fast, slow = _both(_json.dumps, value)
    assert fast == slow == _json.stdlib_dumps(value)
    prepared = _prepared(value)
    assert _both(_json.dumps_prepared, prepared) == (fast, slow)


def _prepared(value: Any) -> Any:
    """``value`` as the model encoder gives it (what dumps_prepared expects): its floats
    prepared, its dicts' keys in sorted order."""
    if isinstance(value, float):
        return encode_float(value)
    if isinstance(value, dict):
        return {k: _prepared(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_prepared(v) for v in value]
    return value


@_some(150)
@given(JSON_VALUES)
def test_both_backends_write_the_same_text_for_any_json_value(value: Any) -> None:
    pytest.importorskip("orjson")
    fast, slow = _both(_json.dumps, value)
    assert fast == slow == _json.stdlib_dumps(value)


@_some(150)
@given(JSON_VALUES)
def test_prepared_values_give_the_same_text(value: Any) -> None:
    pytest.importorskip("orjson")
    fast, slow = _both(_json.dumps_prepared, _prepared(value))
    assert fast == slow == _json.stdlib_dumps(value)


@_some(300)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_are_written_as_repr(value: float) -> None:
    pytest.importorskip("orjson")
    fast, slow = _both(_json.dumps_prepared, [encode_float(value), {"x": encode_float(value)}])
    assert fast == slow == f'[{value!r},{{"x":{value!r}}}]'
    assert _both(_json.dumps, [value]) == (f"[{value!r}]", f"[{value!r}]")


def test_text_is_utf8_not_ascii_escaped_and_old_escaped_text_reads_the_same(backend: str) -> None:
    value = {"name": "Zoë Ångström 😀", "note": "\u2028"}
    text = _json.dumps(value)
    assert text == '{"name":"Zoë Ångström 😀","note":"\u2028"}'
    assert _json.loads(text) == value
    assert _json.loads(json.dumps(value)) == value  # what earlier versions stored (ASCII)
    assert _json.loads(json.dumps(value).encode()) == value


def test_a_lone_surrogate_is_escaped_so_the_text_stays_storable(backend: str) -> None:
    text = _json.dumps({"a": "x\ud800y"})
    assert text == '{"a":"x\\ud800y"}'
    text.encode("utf-8")
    assert _json.loads(text) == {"a": "x\ud800y"}


@pytest.mark.parametrize(
    "text",
    [
        "[NaN, Infinity, -Infinity]",
        '"\\ud800"',
        '{"a": 1, "a": 2}',
        "18446744073709551615",
        "-0",
        '{"k": [1.0, 2.5e-05, "x\\u00e9"]}',
        "\ufeff{}",
        "[" * 2000 + "]" * 2000,
        "[1,]",
        '{"a" 1}',
        b"\xff\xfe{\x00}\x00",
        b'{"a": "\xc3\xa9"}',
        b"\xff",
    ],
)
def test_both_backends_read_alike(backend: str, text: str | bytes) -> None:
    def outcome(read: Any) -> Any:
        try:
            value = read(text)
        except Exception as exc:
            return type(exc), getattr(exc, "pos", None)
        return json.dumps(value)  # NaN != NaN: compare the text

    assert outcome(_json.loads) == outcome(json.loads)


def test_orjson_reads_integers_beyond_64_bits_as_floats_and_decoders_tell() -> None:
    orjson = pytest.importorskip("orjson")
    big = "18446744073709551616"
    assert isinstance(orjson.loads(big), float)  # why decoders read such text again
    assert _json.stdlib_loads(big) == 2**64
    note = Notification(
        id="n-1",
        event="ReviewDue",
        recipient_kind=RecipientKind.STAFF,
        recipient_id="s-1",
        channel=ContactChannel.SMS,
        subject="Review due",
        body="A review is due",
        created_at=datetime(2026, 3, 9, 9, tzinfo=NY),
        next_attempt_at=datetime(2026, 3, 9, 9, tzinfo=NY),
        attempts=2**70,
    )
    for on in (True, False):
        previous = _json.use_orjson(on)
        try:
            text = dumps(note)
            assert str(2**70) in text
            assert loads(text, Notification).attempts == 2**70
            write = encode_record(note, 0)
            back = decode_record(
                StoredRecord("Notification", "n-1", 1, write.payload), Notification
            )
            assert back.attempts == 2**70 and type(back.attempts) is int
        finally:
            _json.use_orjson(previous)


def test_backend_switch() -> None:
    previous = _json.use_orjson(False)
    assert _json.backend() == "stdlib"
    _json.use_orjson(True)
    installed = importlib.util.find_spec("orjson") is not None
    assert _json.backend() == ("orjson" if installed else "stdlib")
    _json.use_orjson(previous)


# ------------------------------------------------ records: text and parts


def test_every_record_type_has_a_fast_codec() -> None:
    assert [kind for kind in KINDS if not _fastcodec.supports(RECORD_TYPES[kind])] == []


def _same(a: Any, b: Any) -> bool:
    """Equal, and alike where ``==`` does not look: exact types, datetime fold and zone."""
    if type(a) is not type(b):
        return False
    if isinstance(a, datetime):
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.fold == b.fold
            and a.utcoffset() == b.utcoffset()
            and type(a.tzinfo) is type(b.tzinfo)
            and getattr(a.tzinfo, "key", None) == getattr(b.tzinfo, "key", None)
        )
    if attrs.has(type(a)):
        return all(
            _same(getattr(a, f.name), getattr(b, f.name))
            for f in attrs.fields(type(a))
            if not f.metadata.get(TRANSIENT)  # the revision a read sets
        )
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@_some(120)
@given(ANY_RECORD)
def test_records_are_written_and_read_alike_everywhere(record: Any) -> None:
    """Fast encoder == cattrs; same text on both backends; trusted == validated == record."""
    fast = _fastcodec.encode(record)
    assert fast == unstructure(record)
    assert "revision" not in fast
    reference = _json.stdlib_dumps(to_payload(record))  # what cattrs and the stdlib give
    cls = type(record)
    for name in BACKENDS:
        if name == "orjson" and importlib.util.find_spec("orjson") is None:
            continue
        previous = _json.use_orjson(name == "orjson")
        try:
            text = dumps(record)  # what encode_record stores
            assert text == reference
            trusted = _trusted(_json.loads(text), cls)
            assert trusted is not None, "the trusted decoder covers every record carecoord writes"
            validated = from_payload(json.loads(text), cls)
            assert _same(trusted, validated)
            assert trusted == record
            back = decode_record(StoredRecord(cls.__name__, "r-1", 3, text), cls)
            assert _same(back, validated)
            assert getattr(back, "revision", 3) == 3
        finally:
            _json.use_orjson(previous)


# ------------------------------------------------------------ datetimes

OFFSETS = ["+00:00", "-05:00", "-04:00", "+05:30", "+10:30", "+11:00", "+14:00", "-12:00"]
ZONE_NAMES = [*cs.ZONE_NAMES, "America/St_Johns", "Pacific/Chatham"]


@st.composite
def stored_datetimes(draw: st.DrawFn) -> str:
    """What format_datetime writes, and variants: another offset, no zone, fold 1, a DST gap."""
    zone = ZoneInfo(draw(st.sampled_from(ZONE_NAMES)))
    wall = draw(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)))
    if draw(st.booleans()):  # a wall time next to a DST change
        moment = draw(st.sampled_from([datetime(2026, 3, 8, 2), datetime(2026, 11, 1, 1)]))
        wall = moment + timedelta(minutes=draw(st.integers(-90, 90)))
    value = wall.replace(tzinfo=zone, fold=draw(st.integers(0, 1)))
    text = format_datetime(value)
    match draw(st.sampled_from(["as-written", "other-offset", "no-zone", "utc", "z"])):
        case "other-offset":
            wall_text = value.replace(tzinfo=None).isoformat()
            text = f"{wall_text}{draw(st.sampled_from(OFFSETS))}[{zone.key}]"
        case "no-zone":
            text = text.partition("[")[0]
        case "utc":
            text = format_datetime(value.astimezone(UTC))
        case "z":
            text = value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        case _:
            pass
    return text


@_some(500)
@given(stored_datetimes())
def test_datetimes_decode_as_parse_datetime_decodes_them(text: str) -> None:
    DECODED_DATETIMES.clear()
    expected = parse_datetime(text)
    got = decode_datetime(text)
    assert _same(got, expected), (text, got, expected)
    assert DECODED_DATETIMES[text] is got
    assert _same(DECODED_DATETIMES.get(text), expected)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-08T02:30:00-05:00[America/New_York]",  # in the gap, fold 0
        "2026-03-08T02:30:00-04:00[America/New_York]",  # in the gap, fold 1
        "2026-11-01T01:30:00-04:00[America/New_York]",  # ambiguous, first
        "2026-11-01T01:30:00-05:00[America/New_York]",  # ambiguous, second
        "2026-11-01T01:30:00+01:00[America/New_York]",  # an offset the zone never had
        "2026-04-05T01:45:00+11:00[Australia/Lord_Howe]",  # a 30-minute fold
        "2026-04-05T01:45:00+10:30[Australia/Lord_Howe]",
        "2026-03-09T09:00:00+00:00",
        "2026-03-09T09:00:00Z",
        "2026-03-09T09:00:00-00:00",
        "2026-03-09T09:00:00.123456+05:45",
        "2026-03-09T09:00:00+00:00[UTC]",
        "0002-01-01T00:00:00+14:00",
        "9998-12-31T23:59:59-14:00[Pacific/Kiritimati]",
    ],
)
def test_datetime_edge_cases_decode_as_parse_datetime_decodes_them(text: str) -> None:
    assert _same(decode_datetime(text), parse_datetime(text))


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-09T09:00:00",  # naive
        "2026-03-09",
        "0001-01-01T00:00:00+00:00",  # years 1 and 9999: the validated path decides
        "9999-12-31T23:59:59+00:00",
        "2026-03-09T09:00:00+00:00[Mars/Olympus_Mons]",
        "2026-03-09T09:00:00+00:00[America/New_York",
        "2026-03-09T09:00:00+00:00[America/New York]",
        "2026-03-09T09:00:00+00:00[" + "a" * 300 + "]",
        "2026-03-09T09:00:00+00:00[UTC][UTC]",
        "2026-03-09T09:00:00]+00:00[UTC]",
        "not a datetime",
    ],
)
def test_datetimes_the_fast_path_does_not_cover_are_declined(text: str) -> None:
    with pytest.raises((Declined, ValueError)):
        decode_datetime(text)
    assert text not in DECODED_DATETIMES


# --------------------------------------------- damaged data and the guarantee

SHAPE_JUNK = sorted(set(JUNK_NAMES) - {"deep", "empty-text", "long-id"})
"""The fuzz junk, less what only breaks a free-text rule (blank or over-long text), and
the 100,000 nested arrays (slow, and declined like any other array)."""


def _skipped_rule_broken(obj: Any) -> bool:
    """Whether ``obj`` or a part breaks a free-text or uniqueness rule (trusted reads skip them)."""
    if isinstance(obj, tuple):
        return any(_skipped_rule_broken(item) for item in obj)
    if not attrs.has(type(obj)):
        return False
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        validator = field.validator
        parts = getattr(validator, "_validators", None) or (validator,)
        for part in parts:
            name = getattr(part, "__qualname__", "")
            if part is _base.unique_ids or name.split(".")[0] in {"text", "tuple_of", "optional"}:
                try:
                    part(obj, field, value)
                except ValidationError:
                    return True
        if _skipped_rule_broken(value):
            return True
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_data_reads_as_on_the_validated_path(kind: str) -> None:
    cls = RECORD_TYPES[kind]

    @_some(25)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        payload = to_payload(data.draw(RECORD_STRATEGIES[cls], label="record"))
        damage = data.draw(
            st.lists(
                st.tuples(
                    st.sampled_from(_paths(payload["data"])),
                    st.sampled_from(OPERATIONS),
                    st.sampled_from(SHAPE_JUNK),
                ),
                min_size=1,
                max_size=2,
            ),
            label="damage",
        )
        broken = damaged(payload["data"], damage, _junk)
        try:
            expected: Any = _fastcodec.decode_trusted(broken, cls)
        except Declined:
            expected = None
        try:
            validated = from_payload({**payload, "data": broken}, cls)
        except StructureError:
            # Rejected on the validated path: the trusted decoder declines too,
            # unless what is wrong is a rule it does not check again.
            assert expected is None or _skipped_rule_broken(expected)
        else:
            assert expected is None or _same(expected, validated)

    check()


def _stored(payload: Any, kind: str = "Patient") -> StoredRecord:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return StoredRecord(kind=kind, id="p-1", version=2, payload=text)


def _patient_payload() -> dict[str, Any]:
    patient = Patient(
        id=PatientId("p-1"),
        name=HumanName(family="Quux", given=("Zeb",)),
        birth_date=date(1950, 5, 17),
        time_zone="America/New_York",
    )
    return to_payload(patient)


def _with(data: dict[str, Any]) -> dict[str, Any]:
    payload = _patient_payload()
    return {**payload, "data": {**payload["data"], **data}}


BAD = {
    "int-for-a-string": _with({"time_zone": 5}),
    "string-for-a-list": _with({"identifiers": "x"}),
    "unknown-key": _with({"zz": 1}),
    "revision-stored": _with({"revision": 4}),
    "bad-date": _with({"birth_date": "1950-13-01"}),
    "bad-zone": _with({"time_zone": "Nowhere/Zebediah"}),
    "bad-language": _with({"language": "not a tag"}),
    "bad-id": _with({"id": "p 1"}),
    "bad-contact": _with({"contacts": [{"bad": 1}]}),
    "future-version": {**_patient_payload(), "schema_version": 99},
    "wrong-type": {**_patient_payload(), "type": "Note"},
    "not-an-object": [1, 2],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_stored_data_raises_the_storage_error_of_the_validated_path(
    backend: str, name: str
) -> None:
    payload = BAD[name]
    assert _trusted(payload, Patient) is None
    with pytest.raises(StorageError) as caught:
        decode_record(_stored(payload), Patient)
    with pytest.raises(StorageError) as reference:
        decode_record(_stored(payload), Patient, converter=make_converter())
    assert str(caught.value) == str(reference.value)
    assert str(caught.value.__cause__) == str(reference.value.__cause__)
    assert "Zebediah" not in str(caught.value)


def test_a_payload_without_its_defaulted_fields_reads_alike(backend: str) -> None:
    payload = _patient_payload()
    for key in ("language", "identifiers", "telecom", "preferences", "contacts", "enrolled_at"):
        del payload["data"][key]
    trusted = _trusted(payload, Patient)
    assert trusted is not None
    assert _same(trusted, from_payload(payload, Patient))
    assert _same(decode_record(_stored(payload), Patient), trusted)


def test_a_host_converter_keeps_the_validated_path(backend: str) -> None:
    converter = make_converter()
    seen: list[object] = []
    inner = converter.get_structure_hook(HumanName)

    def spy(raw: object, cls: type) -> HumanName:
        seen.append(raw)
        return inner(raw, cls)  # type: ignore[no-any-return]

    converter.register_structure_hook(HumanName, spy)
    payload = _patient_payload()
    back = decode_record(_stored(payload), Patient, converter=converter)
    assert seen and back == decode_record(_stored(payload), Patient)
    write = encode_record(back, 2, converter=converter)
    assert write.payload == encode_record(back, 2).payload


def test_a_record_with_an_unsupported_value_falls_back_to_cattrs() -> None:
    plan = CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PatientId("p-1"),
        author_id=StaffId("s-1"),
        created_at=datetime(2026, 3, 9, 9, tzinfo=NY),
    )
    object.__setattr__(plan, "created_at", datetime(2026, 3, 9, 9))  # naive: cattrs rejects
    with pytest.raises(ValidationError):
        encode_record(plan, 0)


def test_times_dates_and_fixed_offsets_round_trip(backend: str) -> None:
    assert _fastcodec.decoder(time)("09:30:15") == time(9, 30, 15)
    assert _fastcodec.decoder(date)("2026-03-09") == date(2026, 3, 9)
    for bad in ("09:30+01:00", 930, "2026-3-9"):
        with pytest.raises((Declined, ValueError)):
            _fastcodec.decoder(time if bad != "2026-3-9" else date)(bad)
    fixed = datetime(2026, 3, 9, 9, tzinfo=timezone(timedelta(hours=-3)))
    assert _fastcodec.encoder(datetime)(fixed) == format_datetime(fixed)
    assert _same(decode_datetime(format_datetime(fixed)), fixed)


def test_without_orjson_the_standard_library_writes_and_reads() -> None:
    code = (
        "import sys; sys.modules['orjson'] = None\n"
        "from carecoord import _json\n"
        "assert _json.backend() == 'stdlib' and not _json.use_orjson(True)\n"
        "assert _json.backend() == 'stdlib'\n"
        "print(_json.dumps({'b': [1.5e-05, 'é'], 'a': None}), _json.loads('[1]'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == '{"a":null,"b":[1.5e-05,"é"]} [1]'


# ------------------------------------------------------------ builders


@attrs.frozen
class _Sample:
    """Every kind of field a builder handles."""

    count: int = attrs.field(validator=attrs.validators.lt(100))
    _hidden: str = "h"
    items: list[int] = attrs.field(factory=list, hash=False)
    scale: float = attrs.field(default=1, converter=float)
    note: str = attrs.field(default="", kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.count < 0:
            raise ValidationError("count must not be negative", field="count")


@attrs.frozen(slots=False)
class _Unslotted:
    """A class without slots: no twin, built through ``object.__setattr__``."""

    count: int
    items: tuple[int, ...] = ()


def test_a_builder_makes_what_init_makes_without_the_validators() -> None:
    build = _fastcodec.builder(_Sample)
    assert _fastcodec.builder(_Sample) is build
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((3,), {}),
        ((3, "x", [1], 2), {"note": "n"}),
        ((), {"count": 0, "hidden": "y", "scale": 5, "note": "m"}),
    ]
    for args, kwargs in cases:
        made, expected = build(*args, **kwargs), _Sample(*args, **kwargs)
        assert type(made) is _Sample and made == expected
        assert hash(made) == hash(expected)
        assert isinstance(made.scale, float)  # the converter ran
    assert build(1).items is not build(1).items  # a new list from the factory each time
    with pytest.raises(ValidationError):  # __attrs_post_init__ runs
        build(-1)
    assert build(500).count == 500  # validators do not
    with pytest.raises(ValueError, match="must be < 100"):
        _Sample(500)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        build(1).count = 2
    plain = _fastcodec.builder(_Unslotted)(2, items=(1,))
    assert type(plain) is _Unslotted and plain == _Unslotted(2, (1,))
    with pytest.raises(_fastcodec.Unsupported):
        _fastcodec.builder(int)


def _plan_rows_with_init(plan: CarePlan) -> tuple[IndexRow, ...]:
    """A plan's worklist rows as built before builders: ``IndexRow(...)`` and the model's
    own properties (``is_open``, ``rank``, ``due_at``, ``due``)."""
    active = plan.status is CarePlanStatus.ACTIVE
    rows = [
        IndexRow(
            "review",
            str(plan.id),
            str(plan.patient_id),
            str(plan.author_id),
            plan.status.value,
            active and plan.next_review_at is not None,
            due_at=plan.next_review_at,
        )
    ]
    for item in plan.interventions:
        rows.append(
            IndexRow(
                "intervention",
                str(item.id),
                str(plan.patient_id),
                None if item.assignee_id is None else str(item.assignee_id),
                item.status.value,
                active and item.is_open,
                item.priority.rank,
                item.due_at,
                item.history[-1].at if item.history else item.created_at,
                item.kind.value,
            )
        )
    for goal in plan.goals:
        rows.append(
            IndexRow(
                "goal",
                str(goal.id),
                str(plan.patient_id),
                str(plan.author_id),
                goal.lifecycle_status.value,
                active and goal.lifecycle_status in records._OPEN_GOAL,
                records._GOAL_RANK[goal.priority],
                None if goal.due is None else records._day_end(goal.due),
                goal.readings[-1].at if goal.readings else None,
                None if goal.achievement_status is None else goal.achievement_status.value,
            )
        )
    return tuple(rows)


@_some(80)
@given(
    RECORD_STRATEGIES[CarePlan],
    st.sampled_from([CarePlanStatus.ACTIVE, *CarePlanStatus]),
    st.lists(st.sampled_from(TaskStatus), min_size=1),
)
def test_plan_rows_built_without_init_are_the_rows_init_builds(
    plan: CarePlan, status: CarePlanStatus, statuses: list[TaskStatus]
) -> None:
    items = tuple(
        attrs.evolve(item, status=statuses[n % len(statuses)])
        for n, item in enumerate(plan.interventions)
    )
    plan = attrs.evolve(plan, status=status, interventions=items)
    rows = [r for r in index_rows(plan) if r.category in {"review", "intervention", "goal"}]
    assert rows == list(_plan_rows_with_init(plan))
    assert all(type(r) is IndexRow for r in rows)
