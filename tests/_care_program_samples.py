"""One sample of every care-program record kind, for the PHI walk (tests/test_phi.py),
and the plain ``str`` fields of those records that are not PHI (codes, not free text)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from carecoord import CareTeamRole, ConsentId, PatientId, StaffId
from carecoord.model.eligibility import EligibilityFact
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    Criterion,
    CriterionKind,
    Eligibility,
    PatientFact,
    ProgramEnrolment,
)

__all__ = ["CARE_PROGRAM_NOT_PHI", "CARE_PROGRAM_SAMPLES"]

T = datetime(2026, 1, 5, 9, tzinfo=UTC)
PATIENT = PatientId("p-1")
PROGRAM = CareProgramId("dm")


def _program() -> CareProgram:
    return CareProgram(
        id=PROGRAM,
        name="Diabetes management",
        owner_id=StaffId("coord"),
        eligibility=Eligibility(
            all_of=(Criterion.condition("E11", system="http://hl7.org/fhir/sid/icd-10-cm"),),
            any_of=(Criterion.age(18, 75), Criterion.fact("payer", "medicaid")),
            none_of=(Criterion.need("hospice"),),
        ),
        description="Adults with type 2 diabetes",
        team=(StaffId("nurse"),),
        team_roles=(CareTeamRole.NURSE,),
        requires_consent=True,
    )


def _fact() -> PatientFact:
    return PatientFact(
        id=PatientFact.id_for(PATIENT, "payer"),
        patient_id=PATIENT,
        key="payer",
        value="medicaid",
        recorded_at=T,
        recorded_by=StaffId("coord"),
    )


def _enrolment() -> ProgramEnrolment:
    return ProgramEnrolment(
        id=ProgramEnrolment.id_for(PROGRAM, PATIENT, 1),
        program_id=PROGRAM,
        patient_id=PATIENT,
        enrolled_at=T,
        enrolled_by=StaffId("coord"),
        reason="eligible",
        consent_id=ConsentId("consent-1"),
    ).disenrol(by=StaffId("coord"), at=T, reason="goal-met")


CARE_PROGRAM_SAMPLES: dict[str, Callable[[], Any]] = {
    "CareProgram": _program,
    "PatientFact": _fact,
    "ProgramEnrolment": _enrolment,
    "EligibilityFact": lambda: EligibilityFact(CriterionKind.FACT, "payer", "medicaid"),
}
"""A sample of every care-program record kind, by kind."""

_CODE = "a code (condition, need, domain, fact key or reason), never free text"
CARE_PROGRAM_NOT_PHI: dict[str, str] = {
    "Criterion.codes": _CODE,
    "Criterion.system": "a code system URI",
    "Criterion.key": _CODE,
    "PatientFact.key": _CODE,
    "ProgramEnrolment.reason": _CODE,
    "ProgramEnrolment.disenrolment_reason": _CODE,
    "EligibilityFact.code": _CODE,
}
"""``str`` fields of the care-program records that are not PHI."""
