"""Every FHIR export is valid R4, checked by the independent checker of ``_fhir_checks``.

``fhir.resources`` (R4B) checks structure only; ``_fhir_checks`` adds the R4
primitive formats, invariants (ppc-1..5, app-1..4, gol-1, con-3..5, cpl-3,
txt-1, txt-2, org-1, obs-6, sev-1, ele-1, ext-1, per-1, rng-2, ...), required
bindings and references inside the Bundle (each resolves; none names by
identifier alone a resource the Bundle holds). It runs over exports of the
rich record and of the demo data here, of generated records in
``test_fhir_roundtrip`` and of whatever a damaged Bundle imports as in
``test_fhir_import_damage``; and each check is shown to catch
the problem it names, so an empty result means something.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from _fhir_checks import bundle_problems
from _fhir_formats import instant_key, primitive_problem
from carecoord import (
    DecisionId,
    DecisionOutcome,
    HumanName,
    Patient,
    PatientDecision,
    PatientId,
    StaffId,
)
from carecoord.demo import build_demo_data, load_demo
from carecoord.fhir import PatientRecord, export_bundle, import_bundle
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore
from carecoord.testing import FixedClock
from test_fhir_export import rich_record
from test_fhir_roundtrip import exact, validate_r4

Bundle = dict[str, Any]


def valid(bundle: Bundle) -> None:
    """``bundle`` passes fhir.resources R4B and every check of ``_fhir_checks`` (as JSON text)."""
    validate_r4(bundle)
    assert bundle_problems(json.loads(json.dumps(bundle))) == []


# ------------------------------------------------------------------- exports


def test_the_rich_record_passes_the_r4_checks() -> None:
    valid(export_bundle(rich_record(), include_audit=True))


def demo_records() -> list[PatientRecord]:
    """The demo's patients as a service stores them (with their sealed audit entries)."""
    data = build_demo_data()
    store = MemoryStore()
    service = CareCoordinator(store=store, clock=FixedClock(data.now))
    load_demo(service, data)
    service.seal_audit()
    return [
        PatientRecord.from_store(store, str(patient.id), include_audit=True)
        for patient in data.patients
    ]


def test_the_demo_data_passes_the_r4_checks() -> None:
    records = demo_records()
    assert len(records) == 3
    for record in records:
        assert record.plans and record.audit_entries
        bundle = export_bundle(record, include_audit=True)
        valid(bundle)
        assert import_bundle(bundle).record == record


PID = PatientId("p-1")
AT = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _decision(outcome: DecisionOutcome) -> PatientDecision:
    return PatientDecision(
        id=DecisionId(f"decision-{outcome.value}"),
        patient_id=PID,
        at=AT,
        recorded_by=StaffId("staff-1"),
        recommendation="Join the walking group",
        outcome=outcome,
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (DecisionOutcome.ACCEPTED, "active"),
        (DecisionOutcome.DECLINED, "rejected"),
        (DecisionOutcome.DEFERRED, "proposed"),
    ],
)
def test_a_decision_is_a_treatment_consent_with_a_policy_rule(
    outcome: DecisionOutcome, status: str
) -> None:
    patient = Patient(
        id=PID, name=HumanName(family="Doe"), birth_date=date(1950, 1, 2), time_zone="UTC"
    )
    record = PatientRecord(patient=patient, decisions=(_decision(outcome),))
    bundle = export_bundle(record)
    valid(bundle)
    consent = bundle["entry"][1]["resource"]
    assert consent["resourceType"] == "Consent"
    assert consent["status"] == status
    assert consent["scope"]["coding"][0]["code"] == "treatment"
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"  # ppc-1
    assert "provision" not in consent
    back = import_bundle(bundle).record
    assert back == record
    assert exact(back) == exact(record)


# ------------------------------------------------------- the checker catches

_BASE = export_bundle(rich_record(), include_audit=True)
UUID_ZERO = "00000000-0000-0000-0000-000000000000"


def _first(bundle: Bundle, rtype: str, pick: Callable[[dict[str, Any]], bool] = bool) -> Any:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == rtype and pick(e["resource"])
    )


def _decision_consent(b: Bundle) -> Any:
    return _first(b, "Consent", lambda r: r["scope"]["coding"][0]["code"] == "treatment")


def _set(getter: Callable[[Bundle], Any], key: str, value: Any) -> Callable[[Bundle], None]:
    def change(bundle: Bundle) -> None:
        getter(bundle)[key] = value

    return change


def _drop(getter: Callable[[Bundle], Any], *keys: str) -> Callable[[Bundle], None]:
    def change(bundle: Bundle) -> None:
        for key in keys:
            del getter(bundle)[key]

    return change


def _task_reference(b: Bundle) -> dict[str, str]:
    url = next(e["fullUrl"] for e in b["entry"] if e["resource"]["resourceType"] == "Task")
    return {"reference": url, "type": "Task"}


def _task(b: Bundle) -> Any:
    return _first(b, "Task", lambda r: r["intent"] == "plan")


_XHTML_DIV = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'


def _narrative(b: Bundle) -> Any:
    return _first(b, "CarePlan")["text"]


def _goal_target(b: Bundle) -> Any:
    return _first(b, "Goal", lambda r: "target" in r)["target"][0]


def _range_target(b: Bundle) -> Any:
    goal = _first(b, "Goal", lambda r: any("detailRange" in t for t in r.get("target", ())))
    return next(t for t in goal["target"] if "detailRange" in t)


CAUGHT: list[tuple[str, Callable[[Bundle], None]]] = [
    ("ppc-1", _drop(_decision_consent, "policyRule")),
    ("ppc-5", _drop(_decision_consent, "patient")),
    ("ppc-2", _drop(lambda b: _first(b, "Consent", lambda r: "provision" in r), "patient")),
    ("binding:consent-state-codes", _set(_decision_consent, "status", "accepted")),
    ("app-2", _drop(lambda b: _first(b, "Appointment"), "end")),
    ("app-3", _drop(lambda b: _first(b, "Appointment"), "start", "end")),
    ("app-4", _set(lambda b: _first(b, "Appointment"), "cancelationReason", {"text": "x"})),
    ("app-1", _set(lambda b: _first(b, "Appointment"), "participant", [{"status": "accepted"}])),
    ("gol-1", _drop(_goal_target, "measure")),
    ("rng-2", lambda b: _range_target(b)["detailRange"]["low"].update(value=10**6)),
    ("sqty-1", lambda b: _range_target(b)["detailRange"]["low"].update(comparator="<")),
    ("con-4", _set(lambda b: _first(b, "Condition"), "abatementDateTime", "2026-01-01")),
    (
        "con-5",
        _set(
            lambda b: _first(b, "Condition"),
            "verificationStatus",
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "entered-in-error",
                    }
                ]
            },
        ),
    ),
    ("con-3", _drop(lambda b: _first(b, "Condition"), "clinicalStatus")),
    ("binding:condition-clinical", _set(lambda b: _first(b, "Condition"), "clinicalStatus", {})),
    (
        "cpl-3",
        lambda b: _first(b, "CarePlan")["activity"][0].update(detail={"id": "d"}),
    ),
    ("per-1", lambda b: _first(b, "CarePlan")["period"].update(end="1999-01-01T00:00:00Z")),
    ("ele-1", _set(lambda b: _first(b, "Patient"), "telecom", [])),
    ("ext-1", lambda b: _first(b, "Patient")["extension"][0].update(extension=[])),
    ("format:dateTime", _set(_task, "authoredOn", "2026-11-02T09:00:00")),
    ("format:dateTime", _set(_task, "authoredOn", "2026-11-02T09:00:00-05:50:36")),
    ("format:dateTime", _set(_task, "authoredOn", "0000-01-01T00:00:00Z")),
    ("format:instant", _set(lambda b: _first(b, "AuditEvent"), "recorded", "2026-11-02")),
    ("format:date", _set(lambda b: _first(b, "Patient"), "birthDate", "1950-02-30")),
    ("format:uri", lambda b: _first(b, "Patient")["identifier"][1].update(system="urn:a b")),
    ("uri-absolute", lambda b: _first(b, "Patient")["identifier"][1].update(system="mrn")),
    ("format:uri", lambda b: b["entry"][0].update(fullUrl="urn:uuid:NOT-A-UUID")),
    ("format:id", _set(lambda b: _first(b, "Patient"), "id", "p_1")),
    ("format:code", _set(_task, "status", "in  progress")),
    ("binding:task-status", _set(_task, "status", "bogus")),
    ("binding:request-priority", _set(_task, "priority", "high")),
    ("format:decimal", lambda b: _goal_target(b)["detailQuantity"].update(value=float("nan"))),
    ("format:decimal", lambda b: _goal_target(b)["detailQuantity"].update(value="7")),
    ("format:string", _set(_task, "description", "")),
    ("format:string", _set(_task, "description", "bell\x07")),
    ("format:boolean", _set(lambda b: _first(b, "Practitioner"), "active", "true")),
    ("cardinality", _drop(_task, "status")),
    ("cardinality", _set(_task, "basedOn", _task(_BASE)["basedOn"][0])),
    ("structure", _set(_task, "colour", "blue")),
    (
        "ref-resolve",
        lambda b: _task(b)["for"].update(
            reference="urn:uuid:" + "0" * 8 + "-0000-0000-0000-" + "0" * 12
        ),
    ),
    ("ref-type", lambda b: _task(b)["for"].update(type="Group")),
    ("ref-target", lambda b: _first(b, "CarePlan")["goal"][0].update(_task_reference(b))),
    ("ref-1", lambda b: _task(b)["for"].update(reference="#p")),
    ("bdl-7", lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"])),
    ("bdl-5", _drop(lambda b: b["entry"][1], "resource")),
    ("ref-logical", lambda b: _task(b)["for"].pop("reference")),
    ("ref-logical", lambda b: _first(b, "ServiceRequest")["reasonReference"][1].pop("reference")),
    ("txt-1", lambda b: _narrative(b).update(div="<div>no namespace</div>")),
    ("txt-1", lambda b: _narrative(b).update(div=_XHTML_DIV.format("<script>x</script>"))),
    ("txt-1", lambda b: _narrative(b).update(div=_XHTML_DIV.format('<p onclick="x">x</p>'))),
    ("txt-1", lambda b: _narrative(b).update(div=_XHTML_DIV.format("<p>unclosed"))),
    ("txt-2", lambda b: _narrative(b).update(div=_XHTML_DIV.format("<p> </p>"))),
    ("binding:narrative-status", lambda b: _narrative(b).update(status="auto")),
    ("org-1", _drop(lambda b: _first(b, "Organization"), "name")),
    ("obs-6", _set(lambda b: _first(b, "Observation"), "dataAbsentReason", {"text": "x"})),
    ("binding:observation-status", _set(lambda b: _first(b, "Observation"), "status", "done")),
    (
        "sev-1",
        lambda b: _first(b, "AuditEvent")["entity"][0].update(name="x", query="eA=="),
    ),
]


@pytest.mark.parametrize(
    ("check", "change"), CAUGHT, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CAUGHT)]
)
def test_each_check_catches_what_it_names(check: str, change: Callable[[Bundle], None]) -> None:
    bundle = copy.deepcopy(_BASE)
    assert bundle_problems(bundle) == []
    change(bundle)
    found = bundle_problems(bundle)
    assert any(f": {check}: " in problem for problem in found), found


def test_primitive_formats_follow_the_r4_regexes() -> None:
    assert primitive_problem("dateTime", "2026") is None  # partial dateTimes are R4 dateTimes
    assert primitive_problem("dateTime", "2026-11-02T09:00:00+14:00") is None
    assert primitive_problem("dateTime", "2026-11-02T09:00:00+14:01") is not None
    assert primitive_problem("dateTime", "2026-11-02T09:00:00-15:00") is not None
    assert primitive_problem("instant", "2026-11-02T09:00:00Z") is None
    assert primitive_problem("instant", "2026-11-02T09:00Z") is not None
    assert primitive_problem("time", "24:00:00") is not None
    assert primitive_problem("positiveInt", 0) is not None
    assert primitive_problem("positiveInt", 2**31) is not None
    assert primitive_problem("decimal", 1e-07) is None
    assert primitive_problem("uri", "urn:oid:1.2.3") is None
    assert primitive_problem("uri", "urn:oid:1.02") is not None
    assert primitive_problem("code", " x") is not None
    # instants compare across offsets, exactly, even at the ends of the calendar
    early, late = "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00"
    assert (key_early := instant_key(early)) is not None
    assert (key_late := instant_key(late)) is not None
    assert key_early < key_late
    assert instant_key("2026-11-02T09:00:00Z") == instant_key("2026-11-02T04:00:00-05:00")


def test_a_resource_type_carecoord_does_not_write_is_reported() -> None:
    bundle = copy.deepcopy(_BASE)
    encounter = {"resourceType": "Encounter", "status": "finished"}
    bundle["entry"].append({"fullUrl": "urn:uuid:" + UUID_ZERO, "resource": encounter})
    assert bundle_problems(bundle) == [
        f"Bundle.entry[{len(_BASE['entry'])}].resource.resourceType: structure: "
        "not a resource type carecoord writes"
    ]
