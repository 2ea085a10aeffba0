"""What is recorded about the patient outside any care plan: health concerns and own goals.

A :class:`HealthConcern` is a problem, diagnosis or health concern of the
patient (a FHIR ``Condition``), often one of the social determinants of
health (food insecurity, housing instability, ...), as a clinician or
another system recorded it. A :class:`PatientGoal` is a goal set with or by
the patient that no care plan holds (a FHIR ``Goal`` no ``CarePlan`` lists).
Both belong to the patient directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    BarrierId,
    EntityId,
    GoalId,
    NeedId,
    PatientId,
    StaffId,
    aware,
    instant,
    of_type,
    optional,
    text,
    tuple_of,
)
from ._errors import ValidationError
from ._external import Coding, ExternalRef, external_refs_of
from .codes import GoalLifecycleStatus
from .goals import Goal, GoalRevisionReason, ProgressReading, Target
from .people import Identifier

__all__ = [
    "ConcernCategory",
    "ConditionClinicalStatus",
    "ConditionVerificationStatus",
    "HealthConcern",
    "HealthConcernId",
    "PatientGoal",
]


class HealthConcernId(EntityId):
    """Identifier of a :class:`HealthConcern`."""

    __slots__ = ()


class ConcernCategory(StrEnum):
    """What kind of condition record it is (US Core Condition categories)."""

    PROBLEM_LIST_ITEM = "problem-list-item"
    ENCOUNTER_DIAGNOSIS = "encounter-diagnosis"
    HEALTH_CONCERN = "health-concern"


class ConditionClinicalStatus(StrEnum):
    """FHIR condition-clinical (Condition.clinicalStatus)."""

    ACTIVE = "active"
    RECURRENCE = "recurrence"
    RELAPSE = "relapse"
    INACTIVE = "inactive"
    REMISSION = "remission"
    RESOLVED = "resolved"

    @property
    def is_active(self) -> bool:
        """Whether the condition is going on (active, recurred or relapsed)."""
        return self in (self.ACTIVE, self.RECURRENCE, self.RELAPSE)


class ConditionVerificationStatus(StrEnum):
    """FHIR condition-ver-status (Condition.verificationStatus)."""

    UNCONFIRMED = "unconfirmed"
    PROVISIONAL = "provisional"
    DIFFERENTIAL = "differential"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    ENTERED_IN_ERROR = "entered-in-error"


_SDOH_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_PEOPLE = ("PractitionerRole", "RelatedPerson")
"""Who another system says recorded or asserted a concern (a Practitioner is a staff member)."""


def _sdoh_codes(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    for code in value:
        if len(code) > 64 or not _SDOH_CODE.fullmatch(code):
            raise ValidationError(
                f"{type(inst).__name__}.{attr.name} holds codes such as food-insecurity "
                "(lowercase letters, digits and single hyphens)",
                field=attr.name,
            )


_KEEP: Any = object()


@attrs.frozen
class HealthConcern:
    """A problem, diagnosis or health concern of the patient (FHIR ``Condition``).

    ``codings`` code the concern (a SNOMED CT and an ICD-10 code, say) and
    ``text`` says it in words (free text, PHI, never in ``repr``); at least
    one of them is given. ``categories`` are the US Core Condition categories
    (problem-list item, encounter diagnosis, health concern) and
    ``sdoh_categories`` the Gravity Project SDOH category codes
    (``food-insecurity``, ...). ``clinical_status`` and
    ``verification_status`` follow the FHIR value sets and rules: no clinical
    status when entered in error, one for a problem-list item otherwise, and
    an abated concern is inactive, in remission or resolved. ``onset`` and
    ``abatement`` are when it began and ended. Who recorded and who asserted
    it is a staff member (``recorded_by``, ``asserted_by``) or someone
    another system holds (``recorder``, ``asserter``: a ``PractitionerRole``
    or ``RelatedPerson`` there), never both.
    ``need_ids`` and ``barrier_ids`` link the needs and barriers of the
    record it relates to; ``identifiers`` are the source system's.
    """

    id: HealthConcernId = attrs.field(validator=of_type(HealthConcernId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    codings: tuple[Coding, ...] = attrs.field(default=(), validator=tuple_of(Coding, unique=True))
    text: str | None = attrs.field(default=None, validator=optional(text(max_len=2000)), repr=False)
    categories: tuple[ConcernCategory, ...] = attrs.field(
        default=(), validator=tuple_of(ConcernCategory, unique=True)
    )
    sdoh_categories: tuple[str, ...] = attrs.field(
        default=(), validator=[tuple_of(str, unique=True), _sdoh_codes]
    )
    clinical_status: ConditionClinicalStatus | None = attrs.field(
        default=ConditionClinicalStatus.ACTIVE,
        validator=optional(of_type(ConditionClinicalStatus)),
    )
    verification_status: ConditionVerificationStatus | None = attrs.field(
        default=None, validator=optional(of_type(ConditionVerificationStatus))
    )
    onset: datetime | None = attrs.field(default=None, validator=optional(aware))
    abatement: datetime | None = attrs.field(default=None, validator=optional(aware))
    recorded_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    recorded_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    recorder: ExternalRef | None = attrs.field(
        default=None, validator=optional(external_refs_of(*_PEOPLE))
    )
    asserted_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    asserter: ExternalRef | None = attrs.field(
        default=None, validator=optional(external_refs_of(*_PEOPLE))
    )
    need_ids: tuple[NeedId, ...] = attrs.field(default=(), validator=tuple_of(NeedId, unique=True))
    barrier_ids: tuple[BarrierId, ...] = attrs.field(
        default=(), validator=tuple_of(BarrierId, unique=True)
    )
    identifiers: tuple[Identifier, ...] = attrs.field(
        default=(), validator=tuple_of(Identifier), repr=False
    )

    def __attrs_post_init__(self) -> None:
        if not self.codings and self.text is None:
            raise ValidationError("HealthConcern.codings or text is needed", field="codings")
        in_error = self.verification_status is ConditionVerificationStatus.ENTERED_IN_ERROR
        if in_error and self.clinical_status is not None:
            raise ValidationError(
                "HealthConcern.clinical_status: none for a concern entered in error",
                field="clinical_status",
            )
        if (
            not in_error
            and ConcernCategory.PROBLEM_LIST_ITEM in self.categories
            and self.clinical_status is None
        ):
            raise ValidationError(
                "HealthConcern.clinical_status is needed for a problem-list item",
                field="clinical_status",
            )
        if self.abatement is not None and (
            self.clinical_status is None or self.clinical_status.is_active
        ):
            raise ValidationError(
                "HealthConcern.abatement: an abated concern is inactive, in remission or resolved",
                field="abatement",
            )
        if (
            self.abatement is not None
            and self.onset is not None
            and instant(self.abatement) < instant(self.onset)
        ):
            raise ValidationError(
                "HealthConcern.abatement must not be before its onset", field="abatement"
            )
        if self.recorded_by is not None and self.recorder is not None:
            raise ValidationError(
                "HealthConcern.recorder or recorded_by, not both", field="recorder"
            )
        if self.asserted_by is not None and self.asserter is not None:
            raise ValidationError(
                "HealthConcern.asserter or asserted_by, not both", field="asserter"
            )

    @property
    def is_active(self) -> bool:
        """Whether the concern is going on and not refuted or entered in error."""
        return (
            self.clinical_status is not None
            and self.clinical_status.is_active
            and self.verification_status
            not in (
                ConditionVerificationStatus.REFUTED,
                ConditionVerificationStatus.ENTERED_IN_ERROR,
            )
        )

    def with_status(
        self,
        clinical_status: ConditionClinicalStatus | str | None,
        *,
        verification_status: ConditionVerificationStatus | str | None = _KEEP,
        abated_at: datetime | None = None,
    ) -> Self:
        """A copy with new statuses (the FHIR rules checked).

        ``verification_status`` stays as it is unless given. An abatement
        stays while the concern stays abated (inactive, in remission,
        resolved); ``abated_at`` sets it; one that is going on again
        (active, recurrence, relapse) has none.
        """
        clinical = (
            None if clinical_status is None else _code(ConditionClinicalStatus, clinical_status)
        )
        verification = (
            self.verification_status
            if verification_status is _KEEP
            else None
            if verification_status is None
            else _code(ConditionVerificationStatus, verification_status)
        )
        abatement = abated_at
        if abatement is None and clinical is not None and not clinical.is_active:
            abatement = self.abatement
        return attrs.evolve(
            self,
            clinical_status=clinical,
            verification_status=verification,
            abatement=abatement,
        )


def _code(enum: type[Any], value: object) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ValidationError(f"unknown {enum.__name__} code") from None


@attrs.frozen
class PatientGoal:
    """A goal of the patient that no care plan holds (FHIR ``Goal`` outside any ``CarePlan``).

    It wraps a :class:`Goal` (targets, readings, lifecycle and achievement
    status: everything a plan's goal has) and attaches it to the patient.
    Its id is the goal's. ``goal.addresses`` names needs of the patient's
    assessments; ``concern_ids`` names health concerns it addresses.
    ``expressed_by_patient`` says the patient set it (FHIR
    ``Goal.expressedBy``); ``identifiers`` are the source system's.
    """

    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    goal: Goal = attrs.field(validator=of_type(Goal))
    concern_ids: tuple[HealthConcernId, ...] = attrs.field(
        default=(), validator=tuple_of(HealthConcernId, unique=True)
    )
    expressed_by_patient: bool = attrs.field(default=False, validator=of_type(bool))
    identifiers: tuple[Identifier, ...] = attrs.field(
        default=(), validator=tuple_of(Identifier), repr=False
    )

    @property
    def id(self) -> GoalId:
        """The goal's id: the record's id."""
        return self.goal.id

    def with_reading(self, reading: ProgressReading) -> Self:
        """A copy with ``reading`` recorded (see :meth:`Goal.with_reading`)."""
        return attrs.evolve(self, goal=self.goal.with_reading(reading))

    def transition(
        self,
        to: GoalLifecycleStatus | str,
        *,
        by: StaffId,
        at: datetime,
        reason: str | None = None,
    ) -> Self:
        """A copy moved to lifecycle status ``to`` (see :meth:`Goal.transition`)."""
        return attrs.evolve(self, goal=self.goal.transition(to, by=by, at=at, reason=reason))

    def revise(
        self,
        *,
        by: StaffId,
        at: datetime,
        reason: GoalRevisionReason | str,
        description: str | None = None,
        targets: Iterable[Target] | None = None,
        reason_text: str | None = None,
    ) -> Self:
        """A copy with the goal's description and/or targets revised (see :meth:`Goal.revise`)."""
        goal = self.goal.revise(
            by=by,
            at=at,
            reason=reason,
            description=description,
            targets=targets,
            reason_text=reason_text,
        )
        return attrs.evolve(self, goal=goal)
