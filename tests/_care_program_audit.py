"""The care-program operations of the audit table (tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carecoord import PatientId
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    Criterion,
    Eligibility,
    ProgramEnrolment,
)
from carecoord.service import CareCoordinator
from world import COORD, NURSE, OUTSIDER, PATIENT

__all__ = ["CARE_PROGRAM_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
PROGRAM_ID = CareProgramId("audit-dm")
PROGRAM = CareProgram(
    id=PROGRAM_ID,
    name="Audit diabetes programme",
    owner_id=COORD,
    eligibility=Eligibility(all_of=(Criterion.fact("payer", "medicaid"),)),
)
ENROLMENT = ProgramEnrolment.id_for(PROGRAM_ID, PATIENT, 1)
ELSEWHERE = PatientId("p-elsewhere")
"""A patient nobody in the table may read (the outsider's emergency grant is for PATIENT)."""

CARE_PROGRAM_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "save_care_program": (
        lambda s, a: s.save_care_program(PROGRAM, actor=a),
        lambda s, a: s.save_care_program(PROGRAM, actor=NURSE),
    ),
    "care_program": (lambda s, a: s.care_program(PROGRAM_ID, actor=a), None),
    "record_patient_fact": (
        lambda s, a: s.record_patient_fact(PATIENT, "payer", "medicaid", actor=a),
        lambda s, a: s.record_patient_fact(PATIENT, "payer", "medicaid", actor=OUTSIDER),
    ),
    "program_eligibility": (
        lambda s, a: s.program_eligibility(PROGRAM_ID, PATIENT, actor=a),
        lambda s, a: s.program_eligibility(PROGRAM_ID, ELSEWHERE, actor=OUTSIDER),
    ),
    "eligible_not_enrolled": (
        lambda s, a: s.eligible_not_enrolled(PROGRAM_ID, actor=a),
        lambda s, a: s.eligible_not_enrolled(PROGRAM_ID, actor=NURSE),
    ),
    "enrol": (
        lambda s, a: s.enrol(PROGRAM_ID, PATIENT, actor=a),
        lambda s, a: s.enrol(PROGRAM_ID, PATIENT, actor=OUTSIDER),
    ),
    "enrolments_of": (
        lambda s, a: s.enrolments_of(PATIENT, actor=a),
        lambda s, a: s.enrolments_of(ELSEWHERE, actor=OUTSIDER),
    ),
    "program_enrolments": (
        lambda s, a: s.program_enrolments(PROGRAM_ID, actor=a),
        lambda s, a: s.program_enrolments(PROGRAM_ID, actor=NURSE),
    ),
    "program_worklist": (
        lambda s, a: s.program_worklist(PROGRAM_ID, actor=a),
        lambda s, a: s.program_worklist(PROGRAM_ID, actor=NURSE),
    ),
    "disenrol": (
        lambda s, a: s.disenrol(ENROLMENT, "goal-met", actor=a),
        lambda s, a: s.disenrol(ENROLMENT, "goal-met", actor=OUTSIDER),
    ),
}
