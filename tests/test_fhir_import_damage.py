"""FHIR R4 import, issue 13: identifier systems, decisions, UTC offsets, the ends of the
calendar, and damaged exports of generated records and damaged real-world inputs
(``tests/fhir_examples``), which raise only path-named :class:`~carecoord.FhirImportError` s
(or import as records that export as valid R4), in default and in strict mode."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _budget import examples
from _fhir_checks import bundle_problems
from carecoord import DecisionOutcome, FhirImportError
from carecoord.fhir import (
    CODE_SYSTEM_BASE,
    EXTENSION_BASE,
    PatientRecord,
    export_bundle,
    import_bundle,
)
from test_fhir_export import rich_record
from test_fhir_import import _BUNDLE, _JUNK, PATIENT, TASK, import_error, res
from test_fhir_import_realworld import GRAVITY, example, gravity
from test_fhir_roundtrip import patient_records

Bundle = dict[str, Any]
DECISION = 20  # the declined decision's Consent in the rich record's Bundle


@pytest.fixture
def bundle() -> Bundle:
    return copy.deepcopy(_BUNDLE)


@pytest.mark.parametrize("system", ["MRN 7", "mrn", "urn:oid:1.2.x", "urn:uuid:NOT-LOWER"])
def test_an_identifier_system_that_is_no_absolute_uri_is_rejected_with_its_path(
    bundle: Bundle, system: str
) -> None:
    res(bundle, PATIENT)["identifier"][1]["system"] = system
    error = import_error(bundle)
    assert error.path == "Bundle.entry[0].resource(Patient/patient-1).identifier[1].system"
    assert "Identifier.system must" in str(error)
    assert system not in str(error)


@pytest.mark.parametrize(
    ("outcome", "provision"),
    [("accepted", {"type": "permit"}), ("declined", {"type": "deny"}), ("deferred", None)],
)
def test_a_decision_exported_before_decision_statuses_still_imports(
    bundle: Bundle, outcome: str, provision: dict[str, str] | None
) -> None:
    # the old form: always "active", no policyRule, the outcome in an extension
    consent = res(bundle, DECISION)
    consent["status"] = "active"
    del consent["policyRule"]
    if provision is not None:
        consent["provision"] = provision
    consent["extension"].insert(
        0,
        {
            "url": EXTENSION_BASE + "decision-outcome",
            "valueCoding": {"system": CODE_SYSTEM_BASE + "decision-outcome", "code": outcome},
        },
    )
    decision = import_bundle(bundle).record.decisions[0]
    assert decision == attrs.evolve(rich_record().decisions[0], outcome=DecisionOutcome(outcome))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.__setitem__("status", "draft"),
            ".status: a decision's status is active, rejected or proposed",
        ),
        (
            lambda c: c["extension"].append(
                {
                    "url": EXTENSION_BASE + "decision-outcome",
                    "valueCoding": {
                        "system": CODE_SYSTEM_BASE + "decision-outcome",
                        "code": "accepted",
                    },
                }
            ),
            ".status: consent status contradicts the decision-outcome extension",
        ),
        (
            lambda c: c.__setitem__("provision", {"type": "maybe"}),
            ".provision.type: code not in value set consent-provision-type",
        ),
    ],
)
def test_a_decision_whose_status_says_no_outcome_is_rejected(
    bundle: Bundle, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    change(res(bundle, DECISION))
    assert str(import_error(bundle)) == ("Bundle.entry[20].resource(Consent/decision-1)" + message)


def _enrolled(bundle: Bundle) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = next(
        e["extension"]
        for e in res(bundle, PATIENT)["extension"]
        if e["url"].endswith("enrolled-at")
    )
    return found


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([{"url": "utc-offset", "valueString": "+24:00"}], "expected a UTC offset"),
        ([{"url": "utc-offset", "valueString": "5:00"}], "expected a UTC offset"),
        (
            [
                {"url": "zone", "valueString": "UTC"},
                {"url": "utc-offset", "valueString": "+15:00"},
            ],
            "a datetime has a zone or a UTC offset, not both",
        ),
        (
            [{"url": "utc-offset", "valueString": "+23:59"}],  # 9999-12-31 and a day
            "dateTime out of range",
        ),
    ],
)
def test_a_bad_utc_offset_is_rejected(
    bundle: Bundle, parts: list[dict[str, str]], message: str
) -> None:
    enrolled = _enrolled(bundle)
    enrolled[:] = [{"url": "dateTime", "valueDateTime": "9999-12-31T12:00:00+00:00"}, *parts]
    error = import_error(bundle)
    assert error.path.startswith("Bundle.entry[0].resource(Patient/patient-1).extension[")
    assert message in str(error)


# --------------------------------------------------------- damaged generated records

_EXTREME_DATETIMES = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "1850-06-01T12:00:00-05:00",
    "2026-03-08T02:30:00-05:00",
)
_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12", "Asia/Manila", "America/Chicago", "UTC", "Mars/Base")
_MUTATION_JUNK: st.SearchStrategy[Any] = st.one_of(
    _JUNK,
    st.just(10**400),
    st.sampled_from([" ", "a b", "urn:oid:1.2", "http://a b", "+15:00", *_EXTREME_DATETIMES]),
    st.just({"extension": []}),
)


def _locations(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield prefix, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _locations(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _locations(value, (*prefix, i))


def _pick(data: st.DataObject, places: list[tuple[tuple[Any, ...], Any]]) -> tuple[Any, Any]:
    """The parent and key of one of ``places`` (a modulo, not sampled_from: sizes vary)."""
    path, _ = places[data.draw(st.integers(0, 2**16)) % len(places)]
    return path[:-1], path[-1]


def _mutate(bundle: Bundle, data: st.DataObject) -> None:
    """Drop, replace or retype elements; set datetimes to the ends of the calendar with zones."""
    places = [(p, v) for p, v in _locations(bundle) if p]
    dates = [(p, v) for p, v in places if isinstance(v, str) and _DATETIME_TEXT.match(v)]
    zones = [(p, v) for p, v in places if p[-1] == "valueString" and "zone" in str(p)]
    for kind, where in (("date", dates), ("zone", zones)):
        if where and data.draw(st.booleans(), label=f"change a {kind}"):
            parent, key = _pick(data, where)
            values = _EXTREME_DATETIMES if kind == "date" else _ZONES
            _at(bundle, parent)[key] = data.draw(st.sampled_from(values))
    for _ in range(data.draw(st.integers(0, 3), label="damages")):
        parent, key = _pick(data, places)
        try:
            holder = _at(bundle, parent)
            current = holder[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed this place
        operation = data.draw(st.sampled_from(["drop", "replace", "wrap", "unwrap"]))
        if operation == "drop":
            del holder[key]
        elif operation == "replace":
            holder[key] = copy.deepcopy(data.draw(_MUTATION_JUNK))
        elif operation == "wrap":
            holder[key] = [current]
        elif isinstance(current, list) and current:
            holder[key] = current[0]


def _at(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        root = root[step]
    return root


_DATETIME_TEXT = re.compile(r"\d{4}-\d\d-\d\dT")


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient_records(), st.data())
def test_a_damaged_export_raises_only_fhir_import_errors(
    record: PatientRecord, data: st.DataObject
) -> None:
    bundle = json.loads(json.dumps(export_bundle(record, include_audit=True)))
    _mutate(bundle, data)
    error: FhirImportError | None = None
    try:
        imported = import_bundle(bundle)
    except FhirImportError as exc:  # any other exception fails the test
        error = exc
    if error is not None:
        assert error.path.startswith("Bundle")
        assert str(error).startswith(error.path + ": ")
    else:  # what the import accepts, the export writes back as valid R4
        assert bundle_problems(export_bundle(imported, include_audit=True)) == []


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00Z"]
)
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "America/Chicago"])
@pytest.mark.parametrize("where", ["element", "extension"])
def test_zoned_instants_beyond_the_calendar_are_path_named_errors(
    bundle: Bundle, text: str, zone: str, where: str
) -> None:
    # UTC (or, at 0001-01-01T00:00:00Z, the wall time in these zones: all west of
    # UTC in year 1) falls before year 1 or after 9999
    if where == "element":  # the zone in _authoredOn
        task = res(bundle, TASK)
        task["authoredOn"] = text
        task["_authoredOn"] = {"extension": [{"url": EXTENSION_BASE + "zone", "valueString": zone}]}
        path = "Bundle.entry[12].resource(Task/int-1).authoredOn"
    else:  # a carecoord extension with dateTime and zone parts
        _enrolled(bundle)[:] = [
            {"url": "dateTime", "valueDateTime": text},
            {"url": "zone", "valueString": zone},
        ]
        path = "Bundle.entry[0].resource(Patient/patient-1).extension[2].extension[0].valueDateTime"
    assert str(import_error(bundle)) == (
        f"{path}: dateTime out of range (before year 1 or after 9999 in UTC or its time zone)"
    )


# ------------------------------------------------- damaged real-world inputs

_REAL_WORLD: tuple[Any, ...] = (
    gravity("transaction"),
    example("uscore-patient.json"),
    example("synthea-transaction.json"),
    [example(name) for name in GRAVITY],
)
"""Gravity as a transaction, a standalone US Core Patient, Synthea, a list of resources."""


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(_REAL_WORLD))), st.booleans(), st.data())
def test_damaged_real_world_inputs_raise_only_fhir_import_errors(
    which: int, strict: bool, data: st.DataObject
) -> None:
    damaged = copy.deepcopy(_REAL_WORLD[which])
    _mutate(damaged, data)
    error: FhirImportError | None = None
    try:
        imported = import_bundle(damaged, strict=strict)
    except FhirImportError as exc:  # any other exception fails the test
        error = exc
    if error is not None:
        assert error.path.startswith(("Bundle", "resource", "resources"))
        assert str(error).startswith(error.path + ": ")
        for secret in ("Ortiz", "Windsor", "Kuhn", "1032702", "999-12-3456"):
            assert secret not in str(error)
    else:  # what the import accepts, the export writes back as valid R4
        assert not strict or imported.report.clean
        assert bundle_problems(export_bundle(imported, include_audit=True)) == []
