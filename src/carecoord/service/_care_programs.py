"""The care-programs part of the :class:`~carecoord.CareCoordinator` facade
(:mod:`.care_programs`). Each method runs one handler through the operation runner,
like every other facade method."""

from __future__ import annotations

from datetime import datetime

from ..caseload import WorklistItem
from ..model import ConsentId, PatientId, StaffId
from ..model.programs import (
    CareProgram,
    CareProgramId,
    PatientFact,
    ProgramEnrolment,
    ProgramEnrolmentId,
)
from ..programs import EligibilityResult
from . import care_programs
from .runner import OperationRunner

__all__ = ["CareProgramMethods"]


class CareProgramMethods:
    """Care program use cases (mixed into :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    def save_care_program(self, program: CareProgram, *, actor: StaffId) -> CareProgram:
        """Create or replace a care program (``manage-staff``); returns the stored copy
        with its new ``revision`` (a stale copy raises ConflictError)."""
        return self._runner.run(care_programs.save_care_program, actor, program)

    def care_program(self, program_id: CareProgramId, *, actor: StaffId) -> CareProgram:
        """Read a care program (shared with every active staff member)."""
        return self._runner.run(care_programs.care_program, actor, program_id)

    def record_patient_fact(
        self, patient_id: PatientId, key: str, value: str, *, actor: StaffId
    ) -> PatientFact:
        """Record or replace the fact ``key`` = ``value`` (codes) about a patient, for
        program eligibility (``edit-patient``)."""
        return self._runner.run(care_programs.record_patient_fact, actor, patient_id, key, value)

    def eligible_not_enrolled(
        self,
        program_id: CareProgramId,
        *,
        actor: StaffId,
        at: datetime | None = None,
        after: PatientId | None = None,
        limit: int | None = 50,
    ) -> list[EligibilityResult]:
        """The program's eligible patients who are not enrolled, with the reasons, in
        patient-id order, paged by ``after`` and ``limit`` (owner, team or
        ``view-caseloads``; index rows only)."""
        return self._runner.run(
            care_programs.eligible_not_enrolled,
            actor,
            program_id,
            at=at,
            after=after,
            limit=limit,
        )

    def program_eligibility(
        self,
        program_id: CareProgramId,
        patient_id: PatientId,
        *,
        actor: StaffId,
        at: datetime | None = None,
    ) -> EligibilityResult:
        """Whether one patient is eligible for the program, and why (``read``)."""
        return self._runner.run(
            care_programs.program_eligibility, actor, program_id, patient_id, at=at
        )

    def enrol(
        self,
        program_id: CareProgramId,
        patient_id: PatientId,
        *,
        actor: StaffId,
        reason: str | None = None,
        consent_id: ConsentId | None = None,
    ) -> ProgramEnrolment:
        """Enrol a patient in a program (``edit-plan``; idempotent while enrolled)."""
        return self._runner.run(
            care_programs.enrol, actor, program_id, patient_id, reason=reason, consent_id=consent_id
        )

    def disenrol(
        self, enrolment_id: ProgramEnrolmentId, reason: str, *, actor: StaffId
    ) -> ProgramEnrolment:
        """End an enrolment with a reason code (``edit-plan``; idempotent once ended)."""
        return self._runner.run(care_programs.disenrol, actor, enrolment_id, reason)

    def enrolments_of(self, patient_id: PatientId, *, actor: StaffId) -> list[ProgramEnrolment]:
        """Every enrolment period of a patient, oldest first (``read``)."""
        return self._runner.run(care_programs.enrolments_of, actor, patient_id)

    def program_enrolments(
        self, program_id: CareProgramId, *, actor: StaffId, open_only: bool = True
    ) -> list[ProgramEnrolment]:
        """The program's enrolments (open, or every period) of patients the actor may read."""
        return self._runner.run(
            care_programs.program_enrolments, actor, program_id, open_only=open_only
        )

    def program_worklist(
        self, program_id: CareProgramId, *, actor: StaffId, limit: int | None = None
    ) -> list[WorklistItem]:
        """The open work of the program's enrolled patients, earliest due first."""
        return self._runner.run(care_programs.program_worklist, actor, program_id, limit=limit)
