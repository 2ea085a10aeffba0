"""The export for Gravity (HL7 SDOH Clinical Care) and US Core readers, read back losslessly.

Referral targets as shared Organization / PractitionerRole resources, SDOH
categories and the conditions a referral addresses, the outcome and appointments
as ``Task.output``, goal readings as Observations, ``Goal.statusDate`` and
category, the care plan's US Core category and narrative, a note's sender and
recipients by direction, an audit event's agent type, entities and numeric
sequence. Each exported Bundle passes the independent R4 checks and imports
strictly (nothing defaulted or dropped) to the same record; a derived element
that says something else is reported, never believed; a Bundle of the previous
export still imports.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from _fhir_checks import bundle_problems
from _fhir_legacy import legacy_record
from carecoord import (
    AssessmentDomain,
    AuditAction,
    AuditEntry,
    BarrierKind,
    ContactChannel,
    ContactId,
    FhirImportError,
    Note,
    NoteId,
    Referral,
    ReferralId,
    ReferralTargetKind,
)
from carecoord.fhir import PatientRecord, export_bundle, import_bundle
from carecoord.fhir._derived import (
    SDOH_BY_BARRIER,
    SDOH_BY_DOMAIN,
    SDOH_BY_TARGET,
    SDOH_SYSTEM,
)
from carecoord.fhir.valuesets import check_bundle
from carecoord.model import AuditOutcome, Direction, InteractionParty
from test_fhir_export import COORD, NURSE, PID, T0, ZONE_EXT, full_url, one, resources, rich_record
from test_fhir_roundtrip import exact, validate_r4

Bundle = dict[str, Any]
EXAMPLES = Path(__file__).parent / "fhir_examples"
CATEGORY = "https://carecoord.dev/fhir/CodeSystem/record-category"
US_CORE_CAREPLAN = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
RICH = export_bundle(rich_record(), include_audit=True)


def round_trip(record: PatientRecord) -> Bundle:
    """``record``'s Bundle, checked valid and read back strictly to the same record."""
    bundle: Bundle = json.loads(json.dumps(export_bundle(record, include_audit=True)))
    validate_r4(bundle)
    assert check_bundle(bundle) == ()
    assert bundle_problems(bundle) == []
    back = import_bundle(bundle, strict=True)
    assert back.record == record
    assert exact(back.record) == exact(record)
    return bundle


def sdoh(code: str) -> dict[str, Any]:
    return {"coding": [{"system": SDOH_SYSTEM, "code": code}]}


# ---------------------------------------------------------------- referrals


def _referral(rid: str, kind: ReferralTargetKind, name: str) -> Referral:
    return Referral(
        id=ReferralId(rid),
        patient_id=PID,
        requested_by=COORD,
        created_at=T0,
        target_kind=kind,
        target_name=name,
        service="Help",
    )


def test_referral_targets_are_shared_organizations_or_practitioner_roles() -> None:
    record = rich_record()
    more = (
        _referral("ref-2", ReferralTargetKind.COMMUNITY_RESOURCE, "Food bank"),
        _referral("ref-3", ReferralTargetKind.SPECIALIST, "Dr. Who"),
        _referral("ref-4", ReferralTargetKind.FINANCIAL_AID, "Rent relief fund"),
    )
    record = attrs.evolve(record, referrals=(*record.referrals, *more))
    bundle = round_trip(record)
    food_bank, fund = resources(bundle, "Organization")  # two referrals, one Food bank
    assert {k: v for k, v in food_bank.items() if k != "id"} == {
        "resourceType": "Organization",
        "type": [
            {
                "coding": [
                    {
                        "system": "https://carecoord.dev/fhir/CodeSystem/referral-target-kind",
                        "code": "community-resource",
                    }
                ]
            }
        ],
        "name": "Food bank",
    }
    assert fund["name"] == "Rent relief fund"
    [doctor] = [r for r in resources(bundle, "PractitionerRole") if "identifier" not in r]
    assert doctor["practitioner"] == {"display": "Dr. Who"}
    for rid, target in (("ref-1", food_bank), ("ref-2", food_bank), ("ref-3", doctor)):
        sr, task = one(bundle, "ServiceRequest", rid), one(bundle, "Task", rid)
        assert sr["performer"][0]["reference"] == full_url(bundle, target)
        assert task["owner"] == sr["performer"][0]
    # a financial-aid target implies the SDOH category of its kind
    assert one(bundle, "ServiceRequest", "ref-4")["category"][1] == sdoh("financial-insecurity")
    # the same record gives the same resource ids, in every Bundle
    assert export_bundle(record, include_audit=True) == bundle


def test_a_referral_names_its_sdoh_categories_and_the_conditions_it_addresses() -> None:
    sr = one(RICH, "ServiceRequest", "ref-1")
    # goal-1 addresses need-1 (medical: no SDOH category); int-1 addresses barrier-1 (transport)
    assert sr["category"] == [
        {"coding": [{"system": CATEGORY, "code": "referral"}]},
        sdoh("transportation-insecurity"),
    ]
    assert [r["reference"] for r in sr["reasonReference"]] == [
        full_url(RICH, one(RICH, "Condition", "need-1")),
        full_url(RICH, one(RICH, "Condition", "barrier-1")),
    ]
    assert one(RICH, "Condition", "barrier-1")["category"][1] == sdoh("transportation-insecurity")


def test_the_outcome_is_a_resulting_activity_with_the_appointments_it_led_to() -> None:
    task = one(RICH, "Task", "ref-1")
    text, appointment = task["output"]
    assert text == {
        "type": {
            "coding": [
                {"system": SDOH_SYSTEM, "code": "resulting-activity"},
                {"system": CATEGORY, "code": "referral-outcome"},
            ]
        },
        "valueString": "Enrolled in weekly pantry",
    }
    assert appointment["type"] == sdoh("resulting-activity")
    assert appointment["valueReference"]["reference"] == full_url(
        RICH, one(RICH, "Appointment", "appt-1")
    )


# ------------------------------------------------------------ goals, plans


def test_goal_readings_are_final_observations_of_the_target_measure() -> None:
    goal = one(RICH, "Goal", "goal-1")
    first, second = resources(RICH, "Observation")
    assert [r["reference"] for r in goal["outcomeReference"]] == [
        full_url(RICH, first),
        full_url(RICH, second),
    ]
    patient = full_url(RICH, one(RICH, "Patient", "patient-1"))
    staff = full_url(RICH, one(RICH, "Practitioner", "staff-1"))
    assert first["status"] == "final"
    assert first["code"] == {"text": "hba1c"}
    assert first["subject"]["reference"] == patient
    assert first["effectiveDateTime"] == "2026-11-02T09:00:00-06:00"
    assert first["_effectiveDateTime"] == ZONE_EXT
    assert first["performer"][0]["reference"] == staff
    assert first["valueQuantity"] == {"value": 8.4, "unit": "%"}
    assert second["valueQuantity"]["value"] == 7.6
    assert "identifier" not in first  # a reading has no carecoord id
    assert goal["statusDate"] == "2026-11-02"  # the day it became active
    assert "expressedBy" not in goal  # carecoord does not record who expressed a goal
    assert "category" not in goal  # a medical need has no SDOH category


def test_a_goal_for_a_social_need_carries_its_sdoh_category() -> None:
    record = rich_record()
    [assessment] = record.assessments
    social = attrs.evolve(assessment.needs[0], domain=AssessmentDomain.SUPPORT_NETWORK)
    record = attrs.evolve(record, assessments=(attrs.evolve(assessment, needs=(social,)),))
    bundle = round_trip(record)
    assert one(bundle, "Goal", "goal-1")["category"] == [sdoh("social-connection")]
    assert one(bundle, "Condition", "need-1")["category"][-1] == sdoh("social-connection")
    assert one(bundle, "ServiceRequest", "ref-1")["category"][1:] == [
        sdoh("social-connection"),
        sdoh("transportation-insecurity"),
    ]


def test_a_care_plan_has_the_us_core_category_and_a_structured_narrative() -> None:
    plan = one(RICH, "CarePlan", "plan-1")
    assert plan["category"] == [{"coding": [{"system": US_CORE_CAREPLAN, "code": "assess-plan"}]}]
    assert plan["text"] == {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Care plan</p><ul>'
        "<li>Status: active; intent: plan</li>"
        "<li>Goals: 1 (active 1)</li>"
        "<li>Tasks: 2 (ready 1, in-progress 1)</li>"
        "<li>Needs addressed: 1</li></ul></div>",
    }
    assert "Diabetes" not in plan["text"]["div"]  # no free text, not even the title


# -------------------------------------------------------------------- notes

_NOTE_CASES = [
    # direction, party, contact -> sender type, recipient types
    (Direction.OUTBOUND, InteractionParty.PATIENT, False, "Practitioner", ["Patient", "P"]),
    (Direction.INBOUND, InteractionParty.PATIENT, False, "Patient", ["Practitioner", "P"]),
    (Direction.INBOUND, InteractionParty.FAMILY, True, "RelatedPerson", ["Practitioner", "P"]),
    (Direction.OUTBOUND, InteractionParty.FAMILY, True, "Practitioner", ["RelatedPerson", "P"]),
    (Direction.INBOUND, InteractionParty.PAYER, False, None, ["Practitioner", "P"]),
    (Direction.INTERNAL, InteractionParty.CARE_TEAM, False, "Practitioner", ["P"]),
]


def test_a_note_has_its_sender_and_recipients_by_direction() -> None:
    notes = tuple(
        Note(
            id=NoteId(f"note-{n}"),
            patient_id=PID,
            at=T0,
            author_id=COORD,
            channel=ContactChannel.PHONE,
            direction=direction,
            party=party,
            summary="Call",
            contact_id=ContactId("contact-1") if contact else None,
            staff_ids=(NURSE, COORD),  # the author among the others, too
        )
        for n, (direction, party, contact, _, _) in enumerate(_NOTE_CASES)
    )
    bundle = round_trip(attrs.evolve(rich_record(), notes=notes))
    for n, (_, _, _, sender, recipients) in enumerate(_NOTE_CASES):
        found = one(bundle, "Communication", f"note-{n}")
        assert found.get("sender", {}).get("type") == sender
        names = [r["type"] if r["type"] != "Practitioner" else "P" for r in found["recipient"]]
        expected = [t if t != "Practitioner" else "P" for t in recipients] + ["P"]
        assert names == expected
        if sender == "Practitioner":
            assert found["sender"]["identifier"]["value"] == COORD


# -------------------------------------------------------------------- audit


def test_an_audit_event_types_its_agent_names_what_it_touched_and_counts_its_sequence() -> None:
    sealed, unsealed = resources(RICH, "AuditEvent")
    assert sealed["agent"][0]["type"]["coding"][0]["code"] == "IRCP"  # a read
    assert unsealed["agent"][0]["type"]["coding"][0]["code"] == "AUT"  # an update
    patient = full_url(RICH, one(RICH, "Patient", "patient-1"))
    who, touched = sealed["entity"]  # the patient, and the record touched (the patient too)
    assert (who["what"]["reference"], who["role"]["code"], who["type"]["code"]) == (
        patient,
        "1",
        "1",
    )
    assert (touched["what"]["reference"], touched["role"]["code"]) == (patient, "4")
    assert [e["role"]["code"] for e in unsealed["entity"]] == ["1"]  # no record named
    record = rich_record()
    far = AuditEntry.create(
        at=T0,
        actor=str(COORD),
        action=AuditAction.EXECUTE,
        operation="get_care_plan",
        outcome=AuditOutcome.SUCCESS,
        patient_id=str(PID),
        entity="CarePlan/plan-1",
    ).seal(2**31, "0" * 64, sealed_at=T0 + timedelta(minutes=9))
    bundle = round_trip(attrs.evolve(record, audit_entries=(*record.audit_entries, far)))
    event = resources(bundle, "AuditEvent")[2]
    assert event["agent"][0]["type"]["coding"][0]["code"] == "PRF"  # work performed
    sequence = next(e for e in event["extension"] if e["url"].endswith("/audit-sequence"))
    assert sequence["valueString"] == str(2**31)  # beyond positiveInt: its decimal text
    assert event["entity"][1]["what"]["reference"] == full_url(
        bundle, one(bundle, "CarePlan", "plan-1")
    )


# ------------------------------------------- derived elements are not believed


def _sr(b: Bundle) -> Any:
    return one(b, "ServiceRequest", "ref-1")


def _set(getter: Callable[[Bundle], Any], key: str, value: Any) -> Callable[[Bundle], None]:
    return lambda b: getter(b).__setitem__(key, value)


CHANGED: list[tuple[str, Callable[[Bundle], None], str]] = [
    (
        "ServiceRequest/ref-1).category[1]",
        lambda b: _sr(b)["category"][1]["coding"][0].update(code="food-insecurity"),
        "an SDOH category carecoord derives",
    ),
    (
        "ServiceRequest/ref-1).reasonReference[0]",
        lambda b: _sr(b)["reasonReference"].pop(),
        "carecoord derives the conditions",
    ),
    (
        "Task/ref-1).output[1]",
        lambda b: one(b, "Task", "ref-1")["output"][1].update(
            valueReference=_sr(b)["reasonReference"][0]
        ),
        "carecoord keeps a referral's outcome as text",
    ),
    (
        "Goal/goal-1).statusDate",
        _set(lambda b: one(b, "Goal", "goal-1"), "statusDate", "2026-11-03"),
        "the status date follows from the last status change",
    ),
    (
        "CarePlan/plan-1).text",
        lambda b: one(b, "CarePlan", "plan-1")["text"].update(div="<div>edited</div>"),
        "narrative",
    ),
    (
        "Communication/note-1).sender",
        lambda b: one(b, "Communication", "note-1").__setitem__(
            "sender", one(b, "Communication", "note-1")["recipient"][1]
        ),
        "the sender of a note to others is its author",
    ),
]


@pytest.mark.parametrize(("where", "change", "why"), CHANGED, ids=[c[0] for c in CHANGED])
def test_a_changed_derived_element_is_reported_and_the_record_keeps_its_own(
    where: str, change: Callable[[Bundle], None], why: str
) -> None:
    bundle = copy.deepcopy(RICH)
    change(bundle)
    imported = import_bundle(bundle)
    assert imported.record == rich_record()
    found = [d for d in imported.report.dropped if where in d.path]
    assert found and all(why in d.reason for d in found), imported.report.dropped
    with pytest.raises(FhirImportError, match="strict import"):
        import_bundle(bundle, strict=True)


def test_a_changed_audit_entity_or_agent_type_is_reported() -> None:
    bundle = copy.deepcopy(RICH)
    sealed = resources(bundle, "AuditEvent")[0]
    sealed["agent"][0]["type"]["coding"][0]["code"] = "AUT"  # the entry is a read
    plan = one(bundle, "CarePlan", "plan-1")
    sealed["entity"][1]["what"] = {"reference": full_url(bundle, plan), "type": "CarePlan"}
    imported = import_bundle(bundle)
    assert imported.record == rich_record()
    assert {d.path.rsplit(")", 1)[1]: d.reason for d in imported.report.dropped} == {
        ".agent[0].type": "element carecoord does not map",
        ".entity[1]": "the record an audit entry touched follows from its audit-entity extension",
    }


def test_an_audit_sequence_written_as_text_still_imports() -> None:
    bundle = copy.deepcopy(RICH)
    sealed = resources(bundle, "AuditEvent")[0]
    sequence = next(e for e in sealed["extension"] if e["url"].endswith("/audit-sequence"))
    sequence["valueString"] = str(sequence.pop("valuePositiveInt"))
    assert import_bundle(bundle, strict=True).record == rich_record()


# ------------------------------------------------------- the previous export


def test_a_bundle_of_the_previous_export_still_imports_strictly() -> None:
    old = json.loads((EXAMPLES / "carecoord-previous-dialect.json").read_text(encoding="utf-8"))
    goal = next(e["resource"] for e in old["entry"] if e["resource"]["resourceType"] == "Goal")
    assert any(x["url"].endswith("/progress-reading") for x in goal["extension"])
    imported = import_bundle(old, strict=True)
    assert imported.report.dropped == ()
    assert imported.report.defaulted == ()
    assert imported.record == legacy_record()
    assert exact(imported.record) == exact(legacy_record())
    # and exports in the current form, which reads back the same
    assert import_bundle(export_bundle(imported, include_audit=True), strict=True).record == (
        legacy_record()
    )


# ------------------------------------------------------------ foreign input


def test_a_foreign_organization_target_gives_the_referral_its_name() -> None:
    bundle = copy.deepcopy(RICH)
    [org] = resources(bundle, "Organization")
    org.clear()
    org.update(
        resourceType="Organization",
        id="org-1",
        name="Community Pantry",
        address=[{"city": "Mounds"}],
    )
    del _sr(bundle)["performerType"]
    imported = import_bundle(bundle)
    [referral] = imported.record.referrals
    assert (referral.target_name, referral.target_kind) == ("Community Pantry", "other")
    report = imported.report
    assert [d.path.rsplit(")", 1)[1] for d in report.dropped] == [".address"]
    assert [d.path.rsplit(")", 1)[1] for d in report.defaulted] == [".performerType"]
    assert ("Organization", "Referral", "ref-1") in {
        (m.resource_type, m.record_type, m.record_id) for m in report.mapped
    }


# ------------------------------------------------------------- the mapping


_DOCS = Path(__file__).resolve().parents[1] / "docs" / "fhir.md"
_ROW = re.compile(
    r"^\| (?P<what>[a-z ]+) `(?P<code>[a-z-]+)` \| (`(?P<sdoh>[a-z-]+)`|(?P<none>none)) \|", re.M
)


def test_the_docs_show_the_sdoh_mapping_the_code_uses() -> None:
    text = _DOCS.read_text(encoding="utf-8")
    table = {(m["what"].strip(), m["code"]): m["sdoh"] or "none" for m in _ROW.finditer(text)}
    assert table == {
        **{("need domain", d.value): SDOH_BY_DOMAIN.get(d, "none") for d in AssessmentDomain},
        **{("barrier kind", k.value): SDOH_BY_BARRIER.get(k, "none") for k in BarrierKind},
        **{("referral target", k.value): SDOH_BY_TARGET.get(k, "none") for k in ReferralTargetKind},
    }
