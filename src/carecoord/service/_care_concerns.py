"""Health concerns and patients' own goals on the :class:`~carecoord.CareCoordinator` facade.

A base of :class:`~._care.CareRecordMethods`: each method runs one handler of
:mod:`.concerns` through the operation runner.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..model import (
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalRevisionReason,
    HealthConcern,
    HealthConcernId,
    PatientGoal,
    PatientId,
    ProgressReading,
    StaffId,
    Target,
)
from . import concerns
from .runner import OperationRunner

__all__ = ["ConcernMethods"]


class ConcernMethods:
    """Health concerns and goals outside any care plan (mixed into the facade)."""

    _runner: OperationRunner

    # ------------------------------------------------------- health concerns
    def record_health_concern(self, concern: HealthConcern, *, actor: StaffId) -> HealthConcern:
        """Record a health concern (problem, diagnosis, SDOH concern) of a patient.

        Needs ``record-assessment``; the needs and barriers it links must be the patient's.
        """
        return self._runner.run(concerns.record_health_concern, actor, concern)

    def set_health_concern_status(
        self,
        concern_id: HealthConcernId,
        clinical_status: ConditionClinicalStatus | str | None,
        *,
        actor: StaffId,
        verification_status: ConditionVerificationStatus | str | None = None,
        abated_at: datetime | None = None,
    ) -> HealthConcern:
        """Change a concern's clinical status, and its verification status when given.

        ``abated_at`` says when an inactive, remitted or resolved concern
        abated. Needs ``record-assessment``.
        """
        return self._runner.run(
            concerns.set_health_concern_status,
            actor,
            concern_id,
            clinical_status,
            verification_status,
            abated_at,
        )

    def health_concerns_of(self, patient_id: PatientId, *, actor: StaffId) -> list[HealthConcern]:
        """Every health concern of a patient, active ones first."""
        return self._runner.run(concerns.health_concerns_of, actor, patient_id)

    # ---------------------------------------------------------- patient goals
    def record_patient_goal(self, goal: PatientGoal, *, actor: StaffId) -> PatientGoal:
        """Record a goal of the patient outside any care plan (needs ``edit-goals``).

        The needs and health concerns it addresses must be the patient's.
        """
        return self._runner.run(concerns.record_patient_goal, actor, goal)

    def set_patient_goal_status(
        self,
        goal_id: GoalId,
        status: GoalLifecycleStatus | str,
        *,
        actor: StaffId,
        reason: str | None = None,
    ) -> PatientGoal:
        """Move a patient's goal to lifecycle ``status`` (FHIR goal-status)."""
        return self._runner.run(concerns.set_patient_goal_status, actor, goal_id, status, reason)

    def record_patient_goal_progress(
        self, goal_id: GoalId, reading: ProgressReading, *, actor: StaffId
    ) -> PatientGoal:
        """Record a reading towards a patient's goal; its achievement status is re-derived."""
        return self._runner.run(concerns.record_patient_goal_progress, actor, goal_id, reading)

    def revise_patient_goal(
        self,
        goal_id: GoalId,
        *,
        actor: StaffId,
        reason: GoalRevisionReason | str,
        description: str | None = None,
        targets: Iterable[Target] | None = None,
        reason_text: str | None = None,
    ) -> PatientGoal:
        """Revise a patient's goal's description and/or targets, keeping the earlier ones.

        As :meth:`~carecoord.CareCoordinator.revise_goal`, for a goal outside any
        care plan (needs ``edit-goals``).
        """
        return self._runner.run(
            concerns.revise_patient_goal,
            actor,
            goal_id,
            reason=reason,
            description=description,
            targets=targets,
            reason_text=reason_text,
        )

    def patient_goals_of(self, patient_id: PatientId, *, actor: StaffId) -> list[PatientGoal]:
        """Every goal of a patient outside the care plans."""
        return self._runner.run(concerns.patient_goals_of, actor, patient_id)
