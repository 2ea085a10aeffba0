"""FHIR R4 Coverage export and import, DocumentReference export of form documents.

Every resource is checked by the independent checker (tests/_fhir_checks.py) and by the
``fhir.resources`` R4B models. The checker knows only the elements carecoord's patient
export writes; the R4 (4.0.1) elements of Coverage, DocumentReference, Attachment and
``Identifier.type`` are added here for these tests, from the R4 definitions. Coverage
round trips are lossless for the model's own strategy; a damaged Coverage raises only
:class:`~carecoord.FhirImportError`, naming the element and never its value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import _fhir_schema
from _fhir_checks import bundle_problems
from _fhir_schema import Element
from carecoord import FhirImportError, HumanName, Patient
from carecoord.fhir import PatientRecord, export_bundle
from carecoord.fhir._export_admin import (
    COVERAGE_CLASS,
    IDENTIFIER_TYPE,
    SUBSCRIBER_RELATIONSHIP,
    coverage_resource,
    document_reference,
)
from carecoord.fhir._import_admin import coverage_from_resource
from carecoord.model import PatientId, Period, StaffId
from carecoord.model.administration import (
    Coverage,
    CoverageId,
    CoverageStatus,
    SubscriberRelationship,
)
from carecoord.model.paperwork import (
    DocumentAttachment,
    FormId,
    FormStatus,
    FormType,
    PatientForm,
)
from carecoord.serialization import unstructure
from carecoord.testing.strategies import ENTITY_STRATEGIES

Json = dict[str, Any]
CHICAGO = ZoneInfo("America/Chicago")
T0 = datetime(2026, 1, 1, 9, tzinfo=CHICAGO)
SECRET = "Zq9-Secret-Value"
_PEOPLE = ("Patient", "Practitioner", "PractitionerRole", "RelatedPerson")
R4_SCHEMA: dict[str, dict[str, Element]] = {
    "Identifier": {**_fhir_schema.SCHEMA["Identifier"], "type": Element("CodeableConcept")},
    "Coverage": {
        "id": Element("id"),
        "extension": Element("Extension", many=True),
        "identifier": Element("Identifier", many=True),
        "status": Element("code", required=True, binding="fm-status"),
        "type": Element("CodeableConcept"),
        "policyHolder": Element("Reference", targets=("Patient", "RelatedPerson", "Organization")),
        "subscriber": Element("Reference", targets=("Patient", "RelatedPerson")),
        "subscriberId": Element("string"),
        "beneficiary": Element("Reference", required=True, targets=("Patient",)),
        "dependent": Element("string"),
        "relationship": Element("CodeableConcept"),
        "period": Element("Period"),
        "payor": Element(
            "Reference",
            many=True,
            required=True,
            targets=("Organization", "Patient", "RelatedPerson"),
        ),
        "class": Element("Coverage.class", many=True),
        "order": Element("positiveInt"),
        "network": Element("string"),
    },
    "Coverage.class": {
        "type": Element("CodeableConcept", required=True),
        "value": Element("string", required=True),
        "name": Element("string"),
    },
    "DocumentReference": {
        "id": Element("id"),
        "identifier": Element("Identifier", many=True),
        "status": Element("code", required=True, binding="document-reference-status"),
        "docStatus": Element("code", binding="composition-status"),
        "type": Element("CodeableConcept"),
        "subject": Element("Reference", targets=("Patient", "Practitioner", "Group", "Device")),
        "date": Element("instant"),
        "author": Element("Reference", many=True, targets=(*_PEOPLE, "Organization", "Device")),
        "description": Element("string"),
        "content": Element("DocumentReference.content", many=True, required=True),
    },
    "DocumentReference.content": {
        "attachment": Element("Attachment", required=True),
        "format": Element("Coding"),
    },
    # Attachment.url is an R4 ``url``: the same format (\S*) as ``uri``, checked as one.
    "Attachment": {
        "contentType": Element("code"),
        "url": Element("uri"),
        "title": Element("string"),
    },
}
R4_VALUE_SETS = {
    "fm-status": (
        "http://hl7.org/fhir/fm-status",
        frozenset(["active", "cancelled", "draft", "entered-in-error"]),
    ),
    "document-reference-status": (
        "http://hl7.org/fhir/document-reference-status",
        frozenset(["current", "superseded", "entered-in-error"]),
    ),
    "composition-status": (
        "http://hl7.org/fhir/composition-status",
        frozenset(["preliminary", "final", "amended", "entered-in-error"]),
    ),
}
COVERAGES = ENTITY_STRATEGIES[Coverage]
FORMS = ENTITY_STRATEGIES[PatientForm]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def admin_elements(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, fields in R4_SCHEMA.items():
        monkeypatch.setitem(_fhir_schema.SCHEMA, name, fields)
    for name, value_set in R4_VALUE_SETS.items():
        monkeypatch.setitem(_fhir_schema.REQUIRED_VALUE_SETS, name, value_set)


def problems(resource: Json) -> list[str]:
    """The checker's problems with ``resource`` in a collection Bundle (as JSON text)."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:7d3f1b52-3b0c-4a59-9c59-4d3c0f6f8a10", "resource": resource}
        ],
    }
    return bundle_problems(json.loads(json.dumps(bundle)))


def validate_r4b(resource: Json) -> None:
    from fhir.resources.R4B.coverage import Coverage as FhirCoverage
    from fhir.resources.R4B.documentreference import DocumentReference as FhirDocumentReference

    model = FhirCoverage if resource["resourceType"] == "Coverage" else FhirDocumentReference
    model.model_validate(copy.deepcopy(resource))


def exact(coverage: Coverage) -> str:
    """Coverage as carecoord JSON: offsets and zones written, so fold differences show."""
    return json.dumps(unstructure(coverage), sort_keys=True)


def sample(**changes: Any) -> Coverage:
    made = Coverage(
        id=CoverageId("cov-1"),
        patient_id=PatientId("rosa"),
        payer=SECRET,
        member_id="M-0001",
        period=Period(T0, T0 + timedelta(days=365)),
        recorded_at=T0,
        recorded_by=StaffId("cc"),
        plan_name="Gold plan",
    )
    return attrs.evolve(made, **changes)


# -------------------------------------------------------------------- Coverage


@FAST
@given(coverage=COVERAGES)
def test_every_coverage_is_valid_r4_and_round_trips_exactly(coverage: Coverage) -> None:
    resource = coverage_resource(coverage)
    assert problems(resource) == []
    validate_r4b(resource)
    back = coverage_from_resource(json.loads(json.dumps(resource)), patient_id=coverage.patient_id)
    assert back == coverage
    assert exact(back) == exact(coverage)


def test_a_coverage_says_what_r4_readers_look_for() -> None:
    dependent = sample(
        patient_id=PatientId("rosa_g"),  # not a FHIR id: the export_bundle Patient id stands in
        relationship=SubscriberRelationship.CHILD,
        subscriber_id="S-77",
        status=CoverageStatus.CANCELLED,
        order=2,
    )
    r = coverage_resource(dependent)
    assert r["identifier"][0] == {
        "system": "https://carecoord.dev/fhir/id/coverage",
        "value": "cov-1",
    }
    assert r["identifier"][1] == {
        "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MB"}]},
        "value": "M-0001",
    }
    assert r["status"] == "cancelled" and r["order"] == 2 and r["subscriberId"] == "S-77"
    assert r["relationship"] == {"coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": "child"}]}
    assert "subscriber" not in r  # the subscriber is someone else, not known as a resource
    assert r["payor"] == [{"display": SECRET}]
    assert r["class"] == [
        {
            "type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]},
            "value": "Gold plan",
            "name": "Gold plan",
        }
    ]
    assert r["period"]["start"] == "2026-01-01T09:00:00-06:00"
    patient = Patient(
        id=PatientId("rosa_g"),
        name=HumanName(family="Garcia"),
        birth_date=date(1950, 1, 2),
        time_zone="America/Chicago",
    )
    bundle = export_bundle(PatientRecord(patient=patient))
    ids = [
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert r["beneficiary"]["reference"] == f"Patient/{ids[0]}"
    assert r["beneficiary"]["identifier"]["value"] == "rosa_g"
    own = coverage_resource(sample())
    assert (
        own["subscriber"]
        == own["beneficiary"]
        == {
            "reference": "Patient/rosa",
            "type": "Patient",
            "identifier": {"system": "https://carecoord.dev/fhir/id/patient", "value": "rosa"},
        }
    )
    assert "subscriberId" not in own and "class" not in coverage_resource(sample(plan_name=None))


def us_core_coverage() -> Json:
    """A Coverage as another system writes it (US Core style), without carecoord extensions."""
    return {
        "resourceType": "Coverage",
        "id": "coverage-42",
        "identifier": [
            {"system": "http://example.org/mrn", "value": "other"},
            {
                "type": {
                    "coding": [
                        {"system": IDENTIFIER_TYPE, "code": "MB", "display": "Member Number"}
                    ]
                },
                "system": "https://payer.example.org/member",
                "value": "MB-123",
            },
        ],
        "status": "active",
        "type": {"coding": [{"system": "urn:oid:2.16.840.1.113883.3.221.5", "code": "1"}]},
        "policyHolder": {"reference": "RelatedPerson/mother"},
        "subscriberId": "SUB-9",
        "beneficiary": {"reference": "Patient/example"},
        "dependent": "01",
        "relationship": {
            "coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": "child", "display": "Child"}],
            "text": "Child",
        },
        "period": {"start": "2025-01-01T00:00:00Z", "end": "2025-12-31T23:59:59Z"},
        "payor": [{"reference": "Organization/acme", "display": "Acme Health"}],
        "class": [
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "group"}]},
                "value": "G-1",
                "name": "Employer group",
            },
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]},
                "value": "P-7",
                "name": "Silver PPO",
            },
        ],
        "order": 2,
        "network": "Premier",
    }


def test_a_coverage_from_another_system_is_read() -> None:
    found = coverage_from_resource(
        us_core_coverage(), patient_id=PatientId("rosa"), recorded_at=T0, recorded_by=StaffId("cc")
    )
    assert found == Coverage(
        id=CoverageId("coverage-42"),
        patient_id=PatientId("rosa"),
        payer="Acme Health",
        member_id="MB-123",
        period=Period(
            datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)
        ),
        recorded_at=T0,
        recorded_by=StaffId("cc"),
        plan_name="Silver PPO",
        relationship=SubscriberRelationship.CHILD,
        subscriber_id="SUB-9",
        order=2,
    )


def test_a_minimal_coverage_of_a_subscriber_is_read() -> None:
    minimal: Json = {
        "resourceType": "Coverage",
        "status": "draft",
        "subscriberId": "W-1",
        "beneficiary": {"reference": "Patient/x"},
        "period": {"start": "2025-03-01T08:00:00-05:00"},
        "payor": [{"display": "State Medicaid"}],
        "class": [{"type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]}, "value": "P"}],
        "extension": [{"url": "http://example.org/unknown", "valueString": "kept out"}],
    }
    found = coverage_from_resource(
        minimal, patient_id=PatientId("rosa"), recorded_at=T0, recorded_by=StaffId("cc")
    )
    assert (found.member_id, found.subscriber_id, found.relationship) == (
        "W-1",
        None,
        SubscriberRelationship.SELF,
    )
    assert (found.order, found.plan_name, found.status) == (1, "P", CoverageStatus.DRAFT)
    again = coverage_from_resource(
        minimal, patient_id=PatientId("rosa"), recorded_at=T0, recorded_by=StaffId("cc")
    )
    assert found.id == again.id  # a stable id when the input has none
    assert len(found.id) == 36
    by_reference = {
        **minimal,
        "extension": [
            {
                "url": "https://carecoord.dev/fhir/StructureDefinition/recorded-by",
                "valueReference": {"reference": "Practitioner/rn"},
            }
        ],
    }
    found = coverage_from_resource(by_reference, patient_id=PatientId("rosa"), recorded_at=T0)
    assert found.recorded_by == StaffId("rn")


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Json], None]:
    def change(r: Json) -> None:
        node: Any = r
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _drop(key: str) -> Callable[[Json], None]:
    return lambda r: r.pop(key)


DAMAGE: list[tuple[Callable[[Json], None], str]] = [
    (_set(("resourceType",), "Patient"), "Coverage.resourceType"),
    (_drop("status"), "Coverage.status"),
    (_set(("status",), "on-hold"), "Coverage.status"),
    (_set(("relationship", "coding", 0, "code"), "cousin"), "Coverage.relationship.coding[0].code"),
    (_set(("relationship", "coding", 0, "system"), "http://x.org"), "Coverage.relationship"),
    (_drop("period"), "Coverage.period"),
    (_set(("period", "start"), "2026-01-01"), "Coverage.period.start"),
    (_set(("period", "start"), "2026-13-01T00:00:00Z"), "Coverage.period.start"),
    (_set(("period", "end"), "2020-01-01T00:00:00Z"), "Coverage.period"),
    (_drop("payor"), "Coverage.payor"),
    (_set(("payor", 0), {"reference": "Organization/o"}), "Coverage.payor[0].display"),
    (_set(("payor", 0, "display"), " "), "Coverage.payor[0].display"),
    (_set(("payor", 0, "display"), SECRET * 20), "Coverage.payor[0].display"),
    (_set(("order",), 0), "Coverage.order"),
    (_set(("order",), "1"), "Coverage.order"),
    (_set(("identifier", 0, "value"), "not/an id"), "Coverage.identifier[0].value"),
    (_set(("identifier", 1, "value"), SECRET * 20), "Coverage.identifier"),
    (_set(("identifier",), {"value": SECRET}), "Coverage.identifier"),
    (_set(("class", 0, "name"), ""), "Coverage.class[0].name"),
    (_set(("subscriberId",), 5), "Coverage.subscriberId"),
    (_set(("beneficiary", "identifier", "value"), "bob"), "Coverage.beneficiary.identifier.value"),
    (_set(("extension", 0, "extension", 0, "valueDateTime"), SECRET), "Coverage.extension[0]"),
    (_set(("extension", 1, "valueReference"), {"display": SECRET}), "Coverage.extension[1]"),
    (
        _set(("extension", 1, "valueReference", "identifier", "value"), "a b"),
        "Coverage.extension[1]",
    ),
    (lambda r: r.pop("extension"), "Coverage.extension"),
    (lambda r: r["identifier"].pop(1), "Coverage.identifier"),
]


@pytest.mark.parametrize(("damage", "where"), DAMAGE)
def test_a_damaged_coverage_raises_a_path_named_error(
    damage: Callable[[Json], None], where: str
) -> None:
    resource = coverage_resource(
        sample(relationship=SubscriberRelationship.SPOUSE, subscriber_id=SECRET)
    )
    damage(resource)
    with pytest.raises(FhirImportError) as caught:
        coverage_from_resource(resource, patient_id=PatientId("rosa"))
    assert caught.value.path.startswith(where)
    assert SECRET not in str(caught.value)


def test_a_coverage_without_who_recorded_it_needs_the_callers_word() -> None:
    with pytest.raises(FhirImportError) as caught:
        coverage_from_resource(us_core_coverage(), patient_id=PatientId("rosa"), recorded_at=T0)
    assert caught.value.path == "Coverage.extension" and "recorded-by" in str(caught.value)
    with pytest.raises(FhirImportError) as caught:
        coverage_from_resource(
            us_core_coverage(), patient_id=PatientId("rosa"), recorded_by=StaffId("cc")
        )
    assert "recorded-at" in str(caught.value)
    with pytest.raises(FhirImportError) as caught:
        coverage_from_resource([], patient_id=PatientId("rosa"), path="Bundle.entry[3].resource")  # type: ignore[arg-type]
    assert caught.value.path == "Bundle.entry[3].resource"


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.text(max_size=3),
    st.sampled_from([[], {}, [{}], {"coding": [{}]}]).map(copy.deepcopy),  # fresh each time
)


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``node`` (keys and indexes)."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _nodes(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _nodes(value, (*path, i))
    return found


@FAST
@given(coverage=COVERAGES, data=st.data())
def test_any_damage_raises_only_fhir_import_error(coverage: Coverage, data: st.DataObject) -> None:
    coverage = attrs.evolve(coverage, payer=SECRET, member_id=SECRET)
    resource = coverage_resource(coverage)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _nodes(resource)
        where = data.draw(st.sampled_from(paths))
        _set(where, data.draw(_JUNK))(resource)
    failure: FhirImportError | None = None
    try:
        found = coverage_from_resource(resource, patient_id=coverage.patient_id)
    except FhirImportError as exc:  # anything else fails the test
        failure = exc
    else:
        assert found.patient_id == coverage.patient_id
        return
    assert failure.path.startswith("Coverage")
    assert SECRET not in str(failure)


def test_the_checker_sees_a_broken_coverage() -> None:
    resource = coverage_resource(sample())
    assert problems(resource) == []
    resource["status"] = "on-hold"
    resource["order"] = 0
    del resource["beneficiary"]
    found = problems(resource)
    assert any("binding:fm-status" in p for p in found)
    assert any("format:positiveInt" in p for p in found)
    assert any("beneficiary: cardinality" in p for p in found)


# ----------------------------------------------------------- DocumentReference


def form(status: FormStatus = FormStatus.NEEDED, **document: Any) -> PatientForm:
    made = PatientForm(
        id=FormId("f-1"),
        patient_id=PatientId("rosa"),
        form_type=FormType.ADVANCE_DIRECTIVE,
        purpose="Living will",
        created_at=T0,
        created_by=StaffId("cc"),
    )
    attached = made.attach(
        DocumentAttachment(
            **{
                "reference": "https://docs.example.org/forms/f-1.pdf",
                "content_type": "application/pdf",
                "attached_at": T0 + timedelta(hours=1),
                "attached_by": StaffId("rn"),
                "title": "Living will (signed)",
                **document,
            }
        )
    )
    return attrs.evolve(attached, status=status)


def test_a_form_without_a_document_has_no_document_reference() -> None:
    bare = attrs.evolve(form(), document=None)
    assert document_reference(bare) is None


def test_a_form_document_is_a_document_reference() -> None:
    r = document_reference(form(FormStatus.SUBMITTED))
    assert r is not None
    assert problems(r) == []
    validate_r4b(r)
    assert r["identifier"] == [{"system": "https://carecoord.dev/fhir/id/form", "value": "f-1"}]
    assert (r["id"], r["status"], r["docStatus"]) == ("f-1", "current", "final")
    assert r["type"] == {
        "coding": [
            {"system": "http://loinc.org", "code": "42348-3", "display": "Advance directives"}
        ],
        "text": "Advance directive",
    }
    assert r["subject"]["reference"] == "Patient/rosa"
    assert r["date"] == "2026-01-01T10:00:00-06:00"
    assert r["author"] == [
        {
            "type": "Practitioner",
            "identifier": {"system": "https://carecoord.dev/fhir/id/staff", "value": "rn"},
        }
    ]
    assert r["content"] == [
        {
            "attachment": {
                "contentType": "application/pdf",
                "url": "https://docs.example.org/forms/f-1.pdf",
                "title": "Living will (signed)",
            }
        }
    ]


@pytest.mark.parametrize(
    ("status", "doc_status"),
    [
        (FormStatus.NEEDED, "preliminary"),
        (FormStatus.IN_PROGRESS, "preliminary"),
        (FormStatus.SUBMITTED, "final"),
        (FormStatus.ACCEPTED, "final"),
        (FormStatus.REJECTED, None),
        (FormStatus.CANCELLED, None),
        (FormStatus.ENTERED_IN_ERROR, "entered-in-error"),
    ],
)
def test_the_doc_status_follows_the_form(status: FormStatus, doc_status: str | None) -> None:
    r = document_reference(form(status))
    assert r is not None and r.get("docStatus") == doc_status
    in_error = status is FormStatus.ENTERED_IN_ERROR
    assert r["status"] == ("entered-in-error" if in_error else "current")


def test_a_host_key_and_a_form_type_without_a_code() -> None:
    keyed = attrs.evolve(
        form(reference="cabinet 4/drawer\t2", content_type=" text/plain ", title=None),
        form_type=FormType.HOUSING_APPLICATION,
        patient_id=PatientId("rosa_g"),
    )
    r = document_reference(keyed)
    assert r is not None
    assert problems(r) == []
    validate_r4b(r)
    assert r["type"] == {"text": "Housing application"}
    assert r["content"][0]["attachment"] == {
        "contentType": "text/plain",
        "url": "cabinet%204/drawer%092",
    }
    assert r["subject"]["reference"] != "Patient/rosa_g"  # not a FHIR id: the stable UUID


@FAST
@given(patient_form=FORMS)
def test_every_form_document_is_valid_r4(patient_form: PatientForm) -> None:
    r = document_reference(patient_form)
    if patient_form.document is None:
        assert r is None
        return
    assert r is not None
    assert problems(r) == []
    validate_r4b(r)


def test_the_checker_sees_a_broken_document_reference() -> None:
    r = document_reference(form())
    assert r is not None
    r["docStatus"] = "draft"
    r["content"] = [{"attachment": {"url": "has space"}}]
    found = problems(r)
    assert any("binding:composition-status" in p for p in found)
    assert any("format:uri" in p for p in found)
